"""`foibot campaign send` against a real SMTP server (aiosmtpd on loopback): what the
server received, what was recorded, and that nothing goes twice."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from foibot.domain.references import find_references, is_valid
from foibot.store.models import Event, Message, RawMessage, Request
from tests.campaign.conftest import Setup


def status(setup: Setup, name: str = "parking-2024") -> dict[str, object]:
    result = setup.cli("campaign", "status", name, "--json")
    assert result.code == 0, result.err
    data: dict[str, object] = json.loads(result.out)
    return data


def requests_by_email(setup: Setup) -> dict[str, dict[str, object]]:
    data = status(setup)
    rows = data["requests"]
    assert isinstance(rows, list)
    return {str(r["authority_email"]): r for r in rows}


def test_send_delivers_one_request_per_authority_with_reference_and_message_id(
    setup: Setup,
) -> None:
    setup.create()
    before = datetime.now(UTC)
    result = setup.cli("campaign", "send", "parking-2024", "--yes")
    assert result.code == 0, result.err
    assert "sent 12, failed 0, uncertain 0, skipped 0 (already sent), remaining 0" in result.out

    received = setup.server.messages
    assert sorted(m.rcpt_tos[0] for m in received) == sorted(a.email for a in setup.authorities)
    rows = requests_by_email(setup)
    names = {a.email: a.name for a in setup.authorities}
    for m in received:
        to = m.rcpt_tos[0]
        row = rows[to]
        msg = m.message
        reference = str(row["reference"])
        assert is_valid(reference)
        assert m.mail_from == "research@example.org"
        assert msg["From"].addresses[0].addr_spec == "research@example.org"
        assert msg["From"].addresses[0].display_name == "A. Researcher"
        assert msg["To"].addresses[0].addr_spec == to
        assert msg["To"].addresses[0].display_name == names[to]
        assert str(msg["Reply-To"]) == f"research+{reference}@example.org"
        assert find_references(str(msg["Subject"])) == [reference]
        assert reference in find_references(m.body)
        assert f"Dear {names[to]}," in m.body
        # the Message-ID recorded is the one the server got, from our domain
        assert msg["Message-ID"] == f"<{row['message_id']}>"
        assert str(row["message_id"]).endswith(f".{reference}@example.org")
        # the Date is the moment of sending, not of creation
        sent_date = parsedate_to_datetime(str(msg["Date"]))
        assert before - timedelta(seconds=1) <= sent_date <= datetime.now(UTC)
        assert row["status"] == "awaiting_response"
    # what is stored is exactly what went over the wire
    db = setup.database()
    with db.transaction() as session:
        stored = {m.to_addrs[0]: m.raw.data for m in session.scalars(select(Message)) if m.raw}
        raws = session.scalar(select(func.count()).select_from(RawMessage))
    db.dispose()
    assert {m.rcpt_tos[0]: m.data for m in received} == stored
    assert raws == 12  # the pre-send versions (older Date) are not kept
    data = status(setup)
    assert data["counts"] == {
        "queued": 0,
        "awaiting_response": 12,
        "delivery_failed": 0,
        "uncertain": 0,
    }


def test_sent_events_carry_the_uk_date_of_sending(setup: Setup) -> None:
    setup.create()
    assert setup.cli("campaign", "send", "parking-2024", "--yes").code == 0
    db = setup.database()
    with db.transaction() as session:
        events = session.scalars(select(Event).where(Event.kind == "sent")).all()
        messages = {m.id: m for m in session.scalars(select(Message))}
        assert len(events) == 12
        for event in events:
            message = messages[event.message_id or 0]
            assert message.sent_at is not None
            assert event.occurred_at == message.sent_at
            uk_day = message.sent_at.astimezone(ZoneInfo("Europe/London")).date()
            assert event.occurred_on == uk_day
            assert event.data["message_id"] == message.message_id
            assert str(event.data["smtp_reply"]).startswith("250")
            assert message.send_state == "sent"
            assert message.request_id == event.request_id
        requests = session.scalars(select(Request)).all()
        assert {r.id for r in requests} == {e.request_id for e in events}
    db.dispose()


def test_a_second_send_sends_nothing_again(setup: Setup) -> None:
    setup.create()
    assert setup.cli("campaign", "send", "parking-2024", "--yes").code == 0
    again = setup.cli("campaign", "send", "parking-2024", "--yes")
    assert again.code == 0, again.err
    assert "Nothing to send" in again.out
    assert "12 already sent" in again.out
    assert len(setup.server.messages) == 12
