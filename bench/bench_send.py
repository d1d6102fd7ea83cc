"""Time sending a 400-authority campaign through foibot's outbox against a bare smtplib
loop over the same messages, both to a local SMTP sink (aiosmtpd in its own process).

Run with ``python bench/bench_send.py [N]``. Pacing is off. Prints figures only;
nothing is asserted. The outbox's cost per message is what exactly-once needs: a claim
(and a Date restamp), a durable "final" marker before the terminating dot (SQLite
synchronous=FULL, one fsync), and the "sent" commit with its event.
"""

from __future__ import annotations

import multiprocessing
import os
import smtplib
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # for tests.campaign.factories (realistic councils)

from sqlalchemy import select  # noqa: E402

from foibot.config import parse_settings  # noqa: E402
from foibot.services import authorities, campaigns  # noqa: E402
from foibot.services.outbox import Scope, drain_outbox, release_held  # noqa: E402
from foibot.store import migrate  # noqa: E402
from foibot.store.db import Database  # noqa: E402
from foibot.store.models import Message  # noqa: E402
from tests.campaign.factories import councils, write_authorities, write_campaign  # noqa: E402


def _sink(port: int, ready: Any, count: Any) -> None:
    from aiosmtpd.controller import Controller

    class Sink:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            with count.get_lock():
                count.value += 1
            return "250 OK"

    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    while True:
        time.sleep(3600)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 400
    port = _free_port()
    ready, count = multiprocessing.Event(), multiprocessing.Value("i", 0)
    sink = multiprocessing.Process(target=_sink, args=(port, ready, count), daemon=True)
    sink.start()
    if not ready.wait(30):
        raise SystemExit("the SMTP sink did not start")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            run(Path(tmp), port, n, count)
    finally:
        sink.terminate()


def run(tmp: Path, port: int, n: int, count: Any) -> None:
    db = Database(f"sqlite:///{tmp / 'bench.db'}")
    migrate.upgrade(db)
    settings = parse_settings(
        {
            "database_url": str(db.url),
            "sender": {"name": "A. Researcher", "address": "research@example.org"},
            "smtp": {"host": "127.0.0.1", "port": port, "security": "none"},
            "sending": {"rate_per_minute": 0},
        },
        None,
    )
    authorities.import_authorities(db, write_authorities(tmp / "a.csv", councils(n)))

    t0 = time.perf_counter()
    report = campaigns.create_campaign(db, settings, write_campaign(tmp / "c.toml"))
    create_s = time.perf_counter() - t0
    print(f"create: rendered and queued {report.requests} requests in {create_s:.3f} s")

    with db.transaction() as session:
        outgoing = [
            (m.from_addr or "", list(m.to_addrs), m.raw.data if m.raw else b"")
            for m in session.scalars(select(Message).order_by(Message.id))
        ]

    # baseline: the same messages, one connection, smtplib.sendmail in a loop
    t0 = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        for sender, rcpts, raw in outgoing:
            smtp.sendmail(sender, rcpts, raw)
    bare_s = time.perf_counter() - t0
    bare_count = count.value

    # what `campaign send` does: release the held requests, then drain the outbox
    t0 = time.perf_counter()
    release_held(db, Scope())
    drained = drain_outbox(db, settings)
    foibot_s = time.perf_counter() - t0
    sent = len(drained.sent)
    if drained.error is not None or sent != len(outgoing):
        raise SystemExit(f"the outbox sent {sent} of {len(outgoing)}: {drained.error}")
    db.dispose()

    bare_rate, foibot_rate = len(outgoing) / bare_s, sent / foibot_s
    print(f"bare smtplib loop: {len(outgoing)} messages in {bare_s:.3f} s = {bare_rate:,.0f} msg/s")
    print(f"foibot outbox:     {sent} messages in {foibot_s:.3f} s = {foibot_rate:,.0f} msg/s")
    print(f"ratio foibot/bare: {foibot_rate / bare_rate:.2f} (1.00 = as fast as the bare loop)")
    print(
        f"per message: bare {1000 * bare_s / len(outgoing):.2f} ms, "
        f"foibot {1000 * foibot_s / sent:.2f} ms "
        f"(+{1000 * (foibot_s / sent - bare_s / len(outgoing)):.2f} ms for the outbox)"
    )
    print(f"sink received {count.value} messages ({bare_count} from the bare loop)")
    print(
        f"for scale: one fsync on this disk takes {1000 * fsync_cost(tmp):.2f} ms; the outbox "
        "makes one per message (the durable 'final' marker before the terminating dot)"
    )


def fsync_cost(folder: Path, rounds: int = 50) -> float:
    path = folder / "fsync-probe"
    with path.open("wb") as f:
        t0 = time.perf_counter()
        for _ in range(rounds):
            f.write(b"x" * 4096)
            f.flush()
            os.fsync(f.fileno())
        return (time.perf_counter() - t0) / rounds


if __name__ == "__main__":
    main()
