"""The outbox against a real SMTP server: pacing, window, retries, failures, uncertain
sends, recovery after a dead sender, and concurrent senders. Time is a fake clock."""

from __future__ import annotations

import itertools
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from foibot.config import Settings
from foibot.mail.smtp import SmtpAuthError, SmtpUnreachableError
from foibot.services import campaigns
from foibot.services.outbox import (
    Backoff,
    DrainReport,
    OutboxEvent,
    Scope,
    Worker,
    claim_next,
    drain_outbox,
    mark_final,
    recover_abandoned,
    release_held,
)
from foibot.store.db import Database
from foibot.store.models import Event, Message, Request
from tests.campaign.conftest import Setup, make_setup
from tests.campaign.factories import FakeClock
from tests.servers.smtp import DROP, SmtpServer, smtp_server

LONDON = ZoneInfo("Europe/London")
# A Tuesday morning in term time, UK.
TUESDAY_10AM = datetime(2024, 6, 4, 9, 0, tzinfo=UTC)


def created(setup: Setup, **fields: object) -> tuple[Database, Settings, Scope]:
    db = setup.database()
    settings = setup.settings
    campaigns.create_campaign(db, settings, setup.campaign(**fields))
    scope, _title = campaigns.campaign_scope(db, "parking-2024")
    assert release_held(db, scope) == len(setup.authorities)
    return db, settings, scope


def states(db: Database) -> dict[str, str]:
    """send state by recipient"""
    with db.transaction() as session:
        return {m.to_addrs[0]: m.send_state or "" for m in session.scalars(select(Message))}


def messages(db: Database) -> dict[str, Message]:
    with db.transaction() as session:
        return {m.to_addrs[0]: m for m in session.scalars(select(Message))}


def drain(
    db: Database, settings: Settings, scope: Scope, clock: FakeClock, **kw: object
) -> DrainReport:
    return drain_outbox(db, settings, scope=scope, clock=clock, **kw)  # type: ignore[arg-type]


def test_pacing_spaces_the_sends(setup: Setup) -> None:
    setup.configure(rate_per_minute=6)
    db, settings, scope = created(setup)
    clock = FakeClock(TUESDAY_10AM)
    events: list[OutboxEvent] = []
    report = drain(db, settings, scope, clock, listener=events.append)
    assert len(report.sent) == 12 and report.stopped is None
    assert clock.sleeps == [10.0] * 11  # 6 a minute: one every 10 s, no wait before the first
    assert [e.reason for e in events if e.kind == "waiting"] == ["pacing"] * 11
    sent_at = sorted(m.sent_at for m in messages(db).values() if m.sent_at)
    assert [(b - a).total_seconds() for a, b in itertools.pairwise(sent_at)] == [10.0] * 11
    assert len(setup.server.messages) == 12


def test_the_window_closing_stops_the_run_and_says_when_it_opens(setup: Setup) -> None:
    setup.configure(rate_per_minute=6, window="Mon-Fri 08:00-18:00 Europe/London")
    db, settings, scope = created(setup)
    friday_1759_30 = datetime(2024, 6, 7, 17, 59, 30, tzinfo=LONDON)
    clock = FakeClock(friday_1759_30)
    report = drain(db, settings, scope, clock)
    assert len(report.sent) == 3  # 17:59:30, :40, :50; at 18:00:00 the window is shut
    assert report.stopped == "window"
    assert report.window_opens_at == datetime(2024, 6, 10, 8, 0, tzinfo=LONDON)  # Monday
    assert len(setup.server.messages) == 3
    # outside the window nothing goes at all; --ignore-window sends anyway
    saturday = FakeClock(datetime(2024, 6, 8, 12, 0, tzinfo=LONDON))
    assert drain(db, settings, scope, saturday).sent == []
    assert len(drain(db, settings, scope, saturday, ignore_window=True, limit=2).sent) == 2
    assert len(setup.server.messages) == 5


def test_transient_errors_retry_with_backoff_then_succeed(setup: Setup) -> None:
    victim = setup.authorities[3].email
    busy = "451 4.3.0 Mailbox temporarily busy"
    setup.server.recorder.rcpt_replies[victim] = [busy, busy, "250 OK"]
    db, settings, scope = created(setup)
    clock = FakeClock(TUESDAY_10AM)
    events: list[OutboxEvent] = []
    report = drain(db, settings, scope, clock, listener=events.append, backoff=Backoff(60, 3600))
    assert len(report.sent) == 12 and report.retries == 2 and report.failed == []
    assert [e.seconds for e in events if e.kind == "retry"] == [60.0, 120.0]
    assert setup.server.recorder.received_by()[victim] == 1
    message = messages(db)[victim]
    assert message.send_state == "sent" and message.attempts == 3
    assert "451 4.3.0 Mailbox temporarily busy" not in (message.last_error or "")
    # the run waited for the backoff instead of giving up
    assert sum(clock.sleeps) >= 180


def test_transient_errors_give_up_after_max_attempts(setup: Setup) -> None:
    setup.configure(max_attempts=3)
    victim = setup.authorities[0].email
    setup.server.recorder.rcpt_replies[victim] = ["452 4.2.2 Mailbox full"]
    db, settings, scope = created(setup)
    report = drain(db, settings, scope, FakeClock(TUESDAY_10AM), backoff=Backoff(1, 10))
    assert len(report.sent) == 11 and len(report.failed) == 1
    message = messages(db)[victim]
    assert message.send_state == "delivery_failed" and message.attempts == 3
    assert message.last_error is not None
    assert message.last_error.startswith("gave up after 3 attempts; last:")
    assert "452 4.2.2 Mailbox full" in message.last_error


def test_a_permanent_rejection_fails_that_request_and_the_campaign_goes_on(setup: Setup) -> None:
    rejected = setup.authorities[1].email
    bounced_at_data = setup.authorities[5].email
    setup.server.recorder.rcpt_replies[rejected] = [
        f"550 5.1.1 <{rejected}>: Recipient address rejected"
    ]
    setup.server.recorder.data_replies[bounced_at_data] = ["554 5.7.1 Message rejected as spam"]
    db, settings, scope = created(setup)
    report = drain(db, settings, scope, FakeClock(TUESDAY_10AM))
    assert len(report.sent) == 10
    assert {i.to for i in report.failed} == {rejected, bounced_at_data}
    assert set(setup.server.recorder.received_by()) == {a.email for a in setup.authorities} - {
        rejected,
        bounced_at_data,
    }
    with db.transaction() as session:
        failed = {
            e.request_id: e
            for e in session.scalars(select(Event).where(Event.kind == "delivery_failed"))
        }
        by_email = {r.authority.email: r for r in session.scalars(select(Request))}
        event = failed[by_email[rejected].id]
        assert event.data["code"] == 550 and event.data["permanent"] is True
        assert "Recipient address rejected" in event.data["reply"]
        assert (
            failed[by_email[bounced_at_data].id].data["reply"] == "5.7.1 Message rejected as spam"
        )
    status = campaigns.campaign_status(db, "parking-2024")
    assert status.counts["delivery_failed"] == 2 and status.counts["awaiting_response"] == 10


def test_no_reply_after_the_message_makes_it_uncertain_and_it_is_never_resent_by_itself(
    setup: Setup,
) -> None:
    victim = setup.authorities[2].email
    setup.server.recorder.data_replies[victim] = [DROP]
    db, settings, scope = created(setup)
    report = drain(db, settings, scope, FakeClock(TUESDAY_10AM))
    assert [i.to for i in report.uncertain] == [victim]
    assert "may or may not have been accepted" in (report.uncertain[0].detail or "")
    assert len(report.sent) == 11  # the connection was re-opened for the rest
    assert states(db)[victim] == "uncertain"
    # a second run does not touch it
    again = drain(db, settings, scope, FakeClock(TUESDAY_10AM))
    assert again.sent == [] and again.uncertain == []
    assert victim not in setup.server.recorder.received_by()
    # the user checked: it did not arrive; resend it explicitly
    setup.server.recorder.data_replies.clear()
    summary = campaigns.send_campaign(
        db, settings, "parking-2024", resend_uncertain=True, clock=FakeClock(TUESDAY_10AM)
    )
    assert summary.resent_uncertain == [summary.report.sent[0].reference]
    assert setup.server.recorder.received_by()[victim] == 1
    # same Message-ID as recorded before the uncertain attempt
    received = next(m for m in setup.server.messages if m.rcpt_tos == (victim,))
    assert received.message["Message-ID"] == f"<{messages(db)[victim].message_id}>"


def finished_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    proc = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(proc.stdout)


def test_claims_of_a_dead_sender_are_recovered_safely(setup: Setup) -> None:
    db, settings, scope = created(setup)
    dead = Worker(Worker.current().host, finished_pid(), "12345")
    now = datetime.now(UTC)
    in_data = claim_next(db, scope, dead.token(), now)  # died during DATA
    after_dot = claim_next(db, scope, dead.token(), now)  # died waiting for the reply
    assert in_data is not None and after_dot is not None
    assert mark_final(db, after_dot.id, after_dot.token)
    assert states(db)[in_data.recipients[0]] == "sending"
    recovery = recover_abandoned(db, now=now, me=Worker.current())
    assert [i.id for i in recovery.requeued] == [in_data.id]
    assert [i.id for i in recovery.uncertain] == [after_dot.id]
    report = drain(db, settings, scope, FakeClock(TUESDAY_10AM))
    assert len(report.sent) == 11
    got = setup.server.recorder.received_by()
    assert got[in_data.recipients[0]] == 1
    assert after_dot.recipients[0] not in got  # uncertain: not resent without the user
    assert states(db)[after_dot.recipients[0]] == "uncertain"


def test_claims_of_a_live_sender_are_left_alone_until_stale(setup: Setup) -> None:
    db, _settings, scope = created(setup)
    me = Worker.current()
    now = datetime.now(UTC)
    claimed = claim_next(db, scope, me.token(), now)  # e.g. another thread of this process
    assert claimed is not None
    other = Worker(me.host, me.pid + 0, me.started)
    assert recover_abandoned(db, now=now, me=other).requeued == []
    later = now + timedelta(minutes=16)
    assert [i.id for i in recover_abandoned(db, now=later, me=other).requeued] == [claimed.id]
    # the original holder has lost its claim: it may not complete the message
    assert not mark_final(db, claimed.id, claimed.token)


def test_a_withdrawn_claim_abandons_the_data_and_nothing_is_delivered(setup: Setup) -> None:
    from foibot.mail.smtp import SmtpAbortedError, SmtpTransport

    db, settings, scope = created(setup)
    claimed = claim_next(db, scope, Worker.current().token(), datetime.now(UTC))
    assert claimed is not None
    with SmtpTransport(settings.smtp) as transport:
        with pytest.raises(SmtpAbortedError):
            transport.send(
                claimed.envelope_from, claimed.recipients, claimed.raw, before_final=lambda: False
            )
        # the next message on a new connection is fine
        transport.send(claimed.envelope_from, claimed.recipients, claimed.raw)
    assert len(setup.server.messages) == 1


def test_an_unreachable_server_stops_the_run_and_leaves_everything_queued(setup: Setup) -> None:
    from tests.servers import free_port

    setup.configure(smtp={"port": free_port()})  # nothing listens there
    db, settings, scope = created(setup)
    assert settings.smtp.port != setup.server.port
    report = drain(db, settings, scope, FakeClock(TUESDAY_10AM))
    assert isinstance(report.error, SmtpUnreachableError)
    assert "is unreachable" in str(report.error)
    assert set(states(db).values()) == {"queued"}
    assert {m.attempts for m in messages(db).values()} == {0}


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_login_required_wrong_and_right_passwords(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with smtp_server(users={"research@example.org": "correct horse"}) as server:
        setup = make_setup(tmp_path, server, 4, f"sqlite:///{tmp_path / 'f.db'}")
        db, settings, scope = created(setup)
        # no login configured: the server wants one
        report = drain(db, settings, scope, FakeClock(TUESDAY_10AM))
        assert isinstance(report.error, SmtpAuthError) and "wants a login" in str(report.error)
        setup.configure(smtp={"username": "research@example.org", "password_env": "SMTP_PW"})
        monkeypatch.setenv("SMTP_PW", "wrong")
        report = drain(db, setup.settings, scope, FakeClock(TUESDAY_10AM))
        assert isinstance(report.error, SmtpAuthError)
        assert "refused the login for 'research@example.org': 535" in str(report.error)
        assert "wrong" not in str(report.error)
        monkeypatch.setenv("SMTP_PW", "correct horse")
        report = drain(db, setup.settings, scope, FakeClock(TUESDAY_10AM))
        assert report.error is None and len(report.sent) == 4
        assert len(server.messages) == 4


def concurrent_senders(url: str, setup: Setup, senders: int = 3) -> None:
    db = Database(url)
    settings = setup.settings
    campaigns.create_campaign(db, settings, setup.campaign())
    scope, _ = campaigns.campaign_scope(db, "parking-2024")
    release_held(db, scope)
    db.dispose()
    reports: list[DrainReport] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(senders)

    def run() -> None:
        own = Database(url)  # each sender its own engine, like separate processes
        try:
            barrier.wait()
            reports.append(drain_outbox(own, settings, scope=scope, clock=FakeClock(TUESDAY_10AM)))
        except BaseException as exc:
            errors.append(exc)
        finally:
            own.dispose()

    threads = [threading.Thread(target=run) for _ in range(senders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    assert sum(len(r.sent) for r in reports) == len(setup.authorities)
    counts = setup.server.recorder.received_by()
    assert counts == {a.email: 1 for a in setup.authorities}


def test_concurrent_senders_on_sqlite_never_send_twice(tmp_path, smtp: SmtpServer) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    setup = make_setup(tmp_path, smtp, 30, url)
    concurrent_senders(url, setup)


@pytest.mark.postgres
def test_concurrent_senders_on_postgresql_never_send_twice(
    tmp_path, smtp: SmtpServer, pg_url: str
) -> None:
    setup = make_setup(tmp_path, smtp, 30, pg_url)
    concurrent_senders(pg_url, setup)


def test_created_requests_are_held_until_send_releases_them(setup: Setup) -> None:
    """A daemon draining the outbox must not send a campaign nobody released."""
    db = setup.database()
    settings = setup.settings
    campaigns.create_campaign(db, settings, setup.campaign())
    daemon_like = drain_outbox(db, settings, clock=FakeClock(TUESDAY_10AM))  # every campaign
    assert daemon_like.sent == [] and setup.server.messages == []
    assert set(states(db).values()) == {"held"}
    assert campaigns.campaign_status(db, "parking-2024").counts["queued"] == 12
    # `campaign send --limit 4` releases four; the daemon may then help, but no more go
    summary = campaigns.send_campaign(
        db, settings, "parking-2024", limit=4, clock=FakeClock(TUESDAY_10AM)
    )
    assert len(summary.report.sent) == 4
    assert drain_outbox(db, settings, clock=FakeClock(TUESDAY_10AM)).sent == []
    assert sorted(states(db).values()).count("held") == 8
    assert len(setup.server.messages) == 4
