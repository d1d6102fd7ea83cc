"""Exactly once across kill -9: `foibot campaign send` in a subprocess is killed with
SIGKILL at 20 points over a 60-authority campaign and restarted each time.

Kill points: at RCPT (the message is incomplete: it must be sent again), right after
the server has the whole message but before it answers 250 (the outcome is unknown to
the client: it must be reported uncertain and NOT resent), and at random moments a few
milliseconds after a send started (anywhere in the client's commits). At the end the
SMTP server's log is the truth: every authority got its request exactly once.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from foibot.services import campaigns
from tests.campaign.conftest import Setup, make_setup
from tests.servers.smtp import SmtpServer

pytestmark = pytest.mark.slow

AUTHORITIES = 60
KILLS = 20
MODES = ("rcpt", "data", "timed", "data", "rcpt", "timed", "timed")  # cycled


@dataclass
class Killer:
    """Kills the current client from inside the SMTP server, at the chosen point."""

    mode: str = "none"
    after: int = 1  # kill at the n-th RCPT / DATA of this run
    pid: int | None = None
    seen_rcpt: int = 0
    seen_data: int = 0
    killed_at: list[tuple[str, str]] = field(default_factory=list)  # (mode, recipient)
    first_send: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def arm(self, mode: str, after: int, pid: int) -> None:
        with self.lock:
            self.mode, self.after, self.pid = mode, after, pid
            self.seen_rcpt = self.seen_data = 0
            self.first_send.clear()

    def _kill(self, recipient: str) -> None:
        if self.pid is not None:
            os.kill(self.pid, signal.SIGKILL)
            self.killed_at.append((self.mode, recipient))
            self.pid = None

    def on_rcpt(self, address: str) -> None:
        with self.lock:
            self.seen_rcpt += 1
            self.first_send.set()
            if self.mode == "rcpt" and self.seen_rcpt == self.after:
                self._kill(address.lower())

    def on_data(self, envelope: object) -> None:
        with self.lock:
            self.seen_data += 1
            if self.mode == "data" and self.seen_data == self.after:
                rcpts = getattr(envelope, "rcpt_tos", [])
                self._kill(rcpts[0].lower() if rcpts else "")


def start_send(setup: Setup) -> subprocess.Popen[str]:
    env = {**os.environ, **setup.env, "COLUMNS": "200"}
    return subprocess.Popen(
        [sys.executable, "-m", "foibot", "campaign", "send", "parking-2024", "--yes"],
        cwd=setup.tmp,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def status(setup: Setup) -> dict[str, dict[str, object]]:
    db = setup.database()
    try:
        data = campaigns.campaign_status(db, "parking-2024").as_json()
    finally:
        db.dispose()
    return {str(r["reference"]): r for r in data["requests"]}


def test_kill_9_at_twenty_points_never_sends_twice_nor_loses_one(
    tmp_path: Path, smtp: SmtpServer
) -> None:
    setup = make_setup(tmp_path, smtp, AUTHORITIES, f"sqlite:///{tmp_path / 'foibot.db'}")
    setup.create()
    killer = Killer()
    smtp.recorder.on_rcpt = killer.on_rcpt
    smtp.recorder.on_data = killer.on_data
    rng = random.Random(20240604)
    outputs: list[str] = []

    kills = 0
    while kills < KILLS:
        mode = MODES[kills % len(MODES)]
        proc = start_send(setup)
        killer.arm(mode, rng.randint(1, 3), proc.pid)
        # timed: somewhere in the middle of the client's work, a few ms after a send began
        if mode == "timed" and killer.first_send.wait(30):
            time.sleep(rng.uniform(0.0, 0.03))
            with killer.lock:
                killer._kill("")
        out, err = proc.communicate(timeout=60)
        outputs.append(out)
        if proc.returncode == -signal.SIGKILL:
            kills += 1
            assert max(smtp.recorder.received_by().values(), default=0) <= 1, "sent twice"
            continue
        # the run finished before the kill point: the campaign is done early
        assert proc.returncode == 0, err
        break
    assert kills == KILLS, f"only {kills} kills before the campaign finished"

    final = start_send(setup)
    out, err = final.communicate(timeout=60)
    assert final.returncode == 0, err
    outputs.append(out)

    received = smtp.recorder.received_by()
    assert max(received.values()) == 1, "an authority got its request twice"
    by_ref = status(setup)
    uncertain = {ref for ref, r in by_ref.items() if r["status"] == "uncertain"}
    emails = {ref: str(r["authority_email"]) for ref, r in by_ref.items()}

    # every kill between "the server has it" and its 250 left an uncertain request that
    # was delivered once and not resent; the tool says so in the final run's summary
    killed_after_data = {to for mode, to in killer.killed_at if mode == "data"}
    assert killed_after_data, "no kill landed after the data"
    assert killed_after_data <= {emails[ref] for ref in uncertain}
    assert all(
        received.get(emails[ref]) == 1 for ref in uncertain if emails[ref] in killed_after_data
    )
    for ref in uncertain:
        assert ref in out, f"uncertain {ref} not reported"
    assert "Uncertain, NOT resent" in out

    # kills at RCPT left incomplete messages: the next run retried them and said so
    killed_in_rcpt = [to for mode, to in killer.killed_at if mode == "rcpt"]
    assert killed_in_rcpt
    lines = "\n".join(outputs).splitlines()
    for to in killed_in_rcpt:
        assert any(
            line.startswith("retried after interruption: ") and line.endswith(f"<{to}>")
            for line in lines
        ), f"{to}: retry after interruption not reported"

    # everything else is sent, and nothing is queued any more
    assert {r["status"] for ref, r in by_ref.items() if ref not in uncertain} == {
        "awaiting_response"
    }
    for ref, row in by_ref.items():
        if ref not in uncertain:
            assert received[emails[ref]] == 1
            assert row["message_id"]

    # the user checks each uncertain one against what the server got (their Sent
    # folder) and settles it; then every authority has exactly one request
    for ref in sorted(uncertain):
        verdict = "--delivered" if received.get(emails[ref]) == 1 else "--resend"
        assert setup.cli("campaign", "resolve", "parking-2024", ref, verdict).code == 0
    last = setup.cli("campaign", "send", "parking-2024", "--yes")
    assert last.code == 0, last.err
    assert smtp.recorder.received_by() == {a.email: 1 for a in setup.authorities}
    assert {r["status"] for r in status(setup).values()} == {"awaiting_response"}
    json.dumps(by_ref)  # the status is plain JSON data
