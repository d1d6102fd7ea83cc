"""The scale-out path: two `foibot run` processes on one PostgreSQL database, one SMTP
server and one IMAP mailbox. Claims are made in the database (row locks with SKIP
LOCKED, unique keys), so between them they send each request once, store each reply
once and send one digest."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from tests.daemon.conftest import Bot, acknowledgement, response, wait_until
from tests.servers.dovecot import DovecotServer

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.dovecot]

COUNCILS = 36


def test_two_daemons_on_one_postgresql_do_everything_once(
    make_bot: Callable[..., Bot], dovecot: DovecotServer, pg_url: str
) -> None:
    # paced (each daemon sends one message every 0.2 s), so that the campaign outlasts
    # the 1 s between outbox runs by far and both daemons are sending at once
    bot = make_bot(COUNCILS, database_url=pg_url, dovecot=dovecot, rate_per_minute=300)
    # both start together, so both go for the start-up digest at the same moment
    one = bot.start_daemon(wait=False)
    two = bot.start_daemon(wait=False)
    for daemon in (one, two):
        daemon.wait_for_log("foibot daemon")
        daemon.wait_for_log("digest for ")

    assert bot.release() == COUNCILS  # both daemons' outbox jobs pick them up
    wait_until(
        "every council's request",
        lambda: len(bot.requests_received()) == COUNCILS,
        timeout=60,
    )
    # both took part, and between them each council got one request
    for daemon in (one, two):
        daemon.wait_for_log("outbox: sent ")
    assert bot.requests_received() == {a.email: 1 for a in bot.authorities}
    assert {r["status"] for r in bot.status().values()} == {"awaiting_response"}

    # every council answers twice (acknowledgement, then response) into the mailbox
    # that both daemons watch with IDLE
    sent_ids = bot.sent_message_ids()
    refs = bot.references()
    expected: dict[str, tuple[str, str]] = {}
    mail: list[bytes] = []
    for n, authority in enumerate(bot.authorities):
        for k, make in enumerate((acknowledgement, response)):
            message_id, raw = make(authority.email, sent_ids[authority.email], 2 * n + k)
            expected[message_id] = (refs[authority.email], make.__name__)
            mail.append(raw)
    bot.deliver(mail)
    wait_until("every reply stored", lambda: bot.count_incoming() >= len(expected), timeout=60)
    stored = bot.incoming()
    assert len(stored) == len(expected)
    assert {m: (r, k) for m, r, k in stored} == expected

    assert [d.terminate() for d in (one, two)] == [0, 0]
    assert bot.digests_received() == 1
    [(_period, worker, sent_at)] = bot.digest_runs()
    assert sent_at is not None and worker is not None
    logs = one.log + two.log
    # what the two polls report as new adds up to the replies: none was taken twice
    new = [int(n) for n in re.findall(r"read \d+ message\(s\): (\d+) new", logs)]
    assert sum(new) == len(expected)
    assert logs.count(" sent to digest@example.org") == 1
    assert "Traceback" not in logs
