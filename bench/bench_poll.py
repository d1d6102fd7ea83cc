"""Time a poll that finds no new mail: in a folder of 20,000 old messages vs an empty one.

Run with ``python bench/bench_poll.py [--messages N] [--rounds R]`` (needs Dovecot, from
the Debian package ``dovecot-imapd``; the script starts its own on a loopback port).
Prints figures only; nothing is asserted.

Incremental polling asks the server only for UIDs above the last one committed (and
skips even that when SELECT's UIDNEXT says nothing is new), so an idle poll should cost
about the same however big the folder is: the ratio printed should be close to 1. For
contrast the script also times what a non-incremental poll must do at least: list every
UID in the folder (``UID SEARCH ALL``).

The big folder is filled by writing the messages straight into the Maildir that
Dovecot serves (much faster than APPEND), and the poll state is set to the last UID
directly, so no message is ingested: the benchmark measures the poll itself.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from foibot.config import ImapSettings, Secret, parse_settings
from foibot.mail.imap import ImapMailbox
from foibot.services.poll import poll_once, save_state
from foibot.store import migrate
from foibot.store.db import Database
from tests.mailbox.messages import council_reply
from tests.servers.dovecot import PASSWORD, dovecot_server


def timed(fn: Callable[[], object], rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="foibot-bench-poll-"))
    secret_file = work / "password"
    secret_file.write_text(PASSWORD)
    settings = parse_settings({"database_url": f"sqlite:///{work / 'foibot.db'}"}, None)
    db = Database(settings.database_url)
    migrate.upgrade(db)

    with dovecot_server() as server:
        empty_user, full_user = server.new_user(), server.new_user()
        templates = [council_reply(n) for n in range(50)]
        t0 = time.perf_counter()
        server.deliver_files(
            full_user,
            [templates[n % 50] + f"X-Seq: {n}\r\n".encode() for n in range(args.messages)],
        )
        fill = time.perf_counter() - t0

        boxes = {}
        for label, user in (("empty", empty_user), ("full", full_user)):
            imap = ImapSettings(
                host="127.0.0.1",
                port=server.port,
                security="none",
                username=user,
                password=Secret("[imap] password_file", "bench", file=secret_file),
            )
            boxes[label] = imap
            # Files written behind Dovecot's back are indexed at the next read-write
            # SELECT (a delivery through Dovecot keeps the index current): do that first.
            t0 = time.perf_counter()
            client = server.client(user)
            client.select_folder("INBOX")
            client.logout()
            if label == "full":
                print(
                    f"filled a folder with {args.messages:,} messages in {fill:.1f} s; "
                    f"Dovecot indexed it in {time.perf_counter() - t0:.1f} s"
                )
            # then mark everything as committed, as after the poll that ingested it
            with ImapMailbox(imap) as box:
                info = box._ensure_selected()
                save_state(db, box.account, box.folder, box._uidvalidity, info[b"UIDNEXT"] - 1)

        def fresh_poll(imap: ImapSettings) -> Callable[[], object]:
            # what `foibot inbox poll` does: connect, log in, select, look, log out
            def run() -> None:
                with ImapMailbox(imap) as box:
                    report = poll_once(db, settings, box)
                    assert report.read == 0 and report.error is None, report.summary()

            return run

        kept: dict[str, ImapMailbox] = {k: ImapMailbox(v) for k, v in boxes.items()}

        def kept_poll(label: str) -> Callable[[], object]:
            # what the daemon does: one connection, a poll every few minutes
            def run() -> None:
                report = poll_once(db, settings, kept[label])
                assert report.read == 0 and report.error is None, report.summary()

            return run

        def search_all(label: str) -> Callable[[], object]:
            box = kept[label]

            def run() -> None:
                box._ensure_selected()
                assert box._client is not None
                box._client.search(["UID", "1:*"])

            return run

        results: dict[str, dict[str, float]] = {}
        for kind, make in (
            ("poll, new connection", lambda label: fresh_poll(boxes[label])),
            ("poll, kept connection", kept_poll),
            ("non-incremental floor: UID SEARCH ALL", search_all),
        ):
            runs = {label: make(label) for label in ("empty", "full")}
            times: dict[str, list[float]] = {"empty": [], "full": []}
            for run in runs.values():
                run()  # warm up
            for _ in range(args.rounds):  # alternate, so that load from elsewhere hits both
                for label, run in runs.items():
                    times[label] += timed(run, 1)
            results[kind] = {label: statistics.median(t) for label, t in times.items()}
        for box in kept.values():
            box.close()

    print(f"median of {args.rounds} rounds; folder sizes: empty = 0, full = {args.messages:,}")
    for kind, r in results.items():
        ratio = r["full"] / r["empty"]
        print(
            f"{kind:40s} empty {r['empty'] * 1000:7.2f} ms   full {r['full'] * 1000:7.2f} ms   "
            f"full/empty = {ratio:.2f}x"
        )
    db.dispose()
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
