"""Rows for tests that need requests in a database without sending anything.

Each helper writes what the real pipeline would have written (authority, campaign,
request, the outgoing request message, events), so the read side can be tested alone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from random import Random
from typing import Any

from sqlalchemy.orm import Session

from foibot.domain.references import new_reference
from foibot.domain.regimes import Nation, default_regime, request_regime
from foibot.store.models import Authority, AuthorityDomain, Campaign, Event, Message, Request

_rng = Random(20261121)
NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


def authority(session: Session, name: str, email: str, nation: str = "England") -> Authority:
    regime = default_regime(Nation.parse(nation))
    a = Authority(
        name=name, email=email, nation=nation, regime=regime.value, created_at=NOW, updated_at=NOW
    )
    a.domains = [AuthorityDomain(domain=email.rpartition("@")[2], source="email", created_at=NOW)]
    session.add(a)
    session.flush()
    return a


def campaign(
    session: Session,
    name: str = "test-campaign",
    title: str = "A test campaign",
    body: str = "1. How many?",
    environmental: bool = False,
) -> Campaign:
    c = Campaign(
        name=name,
        title=title,
        environmental=environmental,
        subject_template="FOI: {{ campaign.title }}",
        body_template="{{ body }}",
        template_name="test",
        body=body,
        created_at=NOW,
    )
    session.add(c)
    session.flush()
    return c


def request(
    session: Session,
    camp: Campaign,
    auth: Authority,
    *,
    sent_on: date | None = None,
    subject: str | None = None,
    reference: str | None = None,
) -> Request:
    from foibot.domain.regimes import Regime

    regime = request_regime(Regime(auth.regime), camp.environmental)
    r = Request(
        campaign_id=camp.id,
        authority_id=auth.id,
        reference=reference or new_reference(_rng),
        regime=regime.value,
        created_at=NOW,
    )
    session.add(r)
    session.flush()
    sent_at = datetime.combine(sent_on, time(10, 0), tzinfo=UTC) if sent_on else None
    session.add(
        Message(
            direction="out",
            request_id=r.id,
            purpose="request",
            message_id=f"{r.reference.lower()}.test@example.org",
            from_addr="research@example.org",
            to_addrs=[auth.email],
            subject=subject or f"Freedom of Information request {r.reference}",
            send_state="sent" if sent_on else "queued",
            sent_at=sent_at,
            created_at=NOW,
        )
    )
    if sent_on:
        event(session, r, "sent", sent_on)
    return r


def event(session: Session, req: Request, kind: str, on: date, **data: Any) -> Event:
    e = Event(request_id=req.id, kind=kind, occurred_on=on, data=data, recorded_at=NOW)
    session.add(e)
    session.flush()
    return e


def incoming(
    session: Session,
    req: Request | None,
    *,
    kind: str,
    on: date,
    subject: str,
    from_addr: str,
    outcome: str | None = None,
    body: str = "",
    classification: dict[str, Any] | None = None,
) -> Message:
    m = Message(
        direction="in",
        request_id=req.id if req else None,
        kind=kind,
        outcome=outcome,
        subject=subject,
        from_addr=from_addr,
        body_text=body,
        date=datetime.combine(on, time(11, 0), tzinfo=UTC),
        classification=classification or {},
        created_at=NOW,
        message_id=f"in-{_rng.getrandbits(48):x}@council.example",
    )
    session.add(m)
    session.flush()
    return m
