"""`foibot run` end to end, against a real aiosmtpd and a real Dovecot: a user sends a
campaign while the daemon runs, the councils' replies arrive in the IMAP INBOX and are
filed without a restart (IMAP IDLE), the digest goes out once, SIGTERM stops it with 0.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable

import pytest

from tests.daemon.conftest import (
    CAMPAIGN,
    DIGEST_TO,
    Bot,
    acknowledgement,
    out_of_office,
    response,
    wait_until,
)
from tests.servers.dovecot import DovecotServer

pytestmark = pytest.mark.slow

COUNCILS = 12


@pytest.mark.dovecot
def test_daemon_sends_files_replies_without_restart_and_stops_on_sigterm(
    make_bot: Callable[..., Bot], dovecot: DovecotServer
) -> None:
    bot = make_bot(COUNCILS, dovecot=dovecot)
    daemon = bot.start_daemon("--log-level", "debug")
    # the start-up catch-up: last slot's digest had not been sent, so it goes now
    daemon.wait_for_log("digest for ")
    wait_until("the start-up digest", bot.digests_received, timeout=30)
    assert bot.requests_received() == {}, "a created (held) campaign was sent unasked"

    # the user sends the campaign from the CLI while the daemon runs
    sent = bot.cli("campaign", "send", CAMPAIGN, "--yes")
    assert sent.returncode == 0, sent.stderr
    wait_until(
        "every council's request",
        lambda: len(bot.requests_received()) == COUNCILS,
        timeout=30,
    )
    assert bot.requests_received() == {a.email: 1 for a in bot.authorities}

    # the councils answer: an acknowledgement, an out-of-office or a response each,
    # threaded on the request's Message-ID as their mail systems do
    sent_ids = bot.sent_message_ids()
    refs = bot.references()
    kinds = (acknowledgement, out_of_office, response)
    expected: dict[str, tuple[str, str]] = {}
    batch: list[bytes] = []
    for n, authority in enumerate(bot.authorities):
        make = kinds[n % len(kinds)]
        message_id, raw = make(authority.email, sent_ids[authority.email], n)
        expected[message_id] = (
            refs[authority.email],
            make.__name__.replace("out_of_office", "auto_reply"),
        )
        batch.append(raw)
    bot.deliver(batch[:6])
    # IDLE: the first replies are filed while the daemon keeps running
    wait_until("the first six replies filed", lambda: bot.count_incoming() >= 6, timeout=60)
    bot.deliver(batch[6:])
    wait_until("every reply filed", lambda: bot.count_incoming() >= len(expected), timeout=60)
    assert daemon.process.poll() is None, "the daemon was restarted or died"
    assert "inbox: new mail may be there" in daemon.log  # IDLE announced it

    stored = bot.incoming()
    assert len(stored) == len(expected)
    got = {message_id: (ref, kind) for message_id, ref, kind in stored}
    assert got == expected

    assert daemon.terminate() == 0
    assert "received SIGTERM" in daemon.log
    assert daemon.log.rstrip().endswith("stopped")
    assert "Traceback" not in daemon.log

    # the digest went out once; a daemon started again does not send it twice
    assert bot.digests_received() == 1
    [(period, _worker, sent_at)] = bot.digest_runs()
    assert sent_at is not None
    again = bot.start_daemon()
    again.wait_for_log(f"digest for {period} not sent: already sent")
    # and it has nothing to send or file again; Ctrl-C stops it as cleanly
    assert again.terminate(sig=signal.SIGINT) == 0
    assert "received SIGINT" in again.log
    assert bot.digests_received() == 1
    assert bot.requests_received() == {a.email: 1 for a in bot.authorities}
    assert len(bot.incoming()) == len(expected)


def test_a_digest_whose_daemon_was_killed_mid_send_goes_out_after_the_restart(
    make_bot: Callable[..., Bot],
) -> None:
    """A daemon killed after claiming the week's digest, before the server took it: the
    claim is taken back by the next daemon (its owner is gone), and the digest goes."""
    bot = make_bot(3)
    victim: list[int] = []

    def kill_at_digest(address: str) -> None:
        # the daemon has claimed the week's digest and is handing it to the server
        if address.lower() == DIGEST_TO and victim:
            os.kill(victim.pop(), signal.SIGKILL)

    bot.smtp.recorder.on_rcpt = kill_at_digest
    first = bot.start_daemon(wait=False)
    victim.append(first.pid)
    assert first.process.wait(timeout=30) == -signal.SIGKILL
    assert bot.digests_received() == 0

    second = bot.start_daemon()
    second.wait_for_log("digest for ")  # logged once the start-up digest is settled
    assert "not sent: being sent by" not in second.log
    assert bot.digests_received() == 1
    assert second.terminate() == 0
    assert bot.digests_received() == 1
