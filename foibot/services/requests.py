"""Reading requests with their status and clocks, and correcting them by hand.

``list_requests`` answers with a fixed number of SQL queries whatever the number of
requests (one per table it reads: requests with campaign and authority, events, their
references, messages), then derives each request's state in memory with
``foibot.domain.lifecycle.derive_state``. Nothing derived is stored.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from foibot.domain import references
from foibot.domain.lifecycle import (
    EventKind,
    EventRecord,
    Outcome,
    RequestState,
    Status,
    derive_state,
    working_days_late,
)
from foibot.domain.regimes import Regime
from foibot.errors import NotFoundError, UserInputError
from foibot.store.db import Database, utcnow
from foibot.store.models import Authority, Campaign, Event, Message, Request, TheirReference
from foibot.timezone import local_date


@dataclass(frozen=True)
class MessageLine:
    id: int
    message_id: str | None
    direction: str
    kind: str | None
    date: datetime | None
    subject: str | None
    from_addr: str | None
    outcome: str | None
    send_state: str | None
    purpose: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "message_id": self.message_id,
            "direction": self.direction,
            "kind": self.kind if self.direction == "in" else (self.purpose or "request"),
            "date": self.date.isoformat() if self.date else None,
            "subject": self.subject,
            "from": self.from_addr,
            "outcome": self.outcome,
            "send_state": self.send_state,
        }


@dataclass(frozen=True)
class RequestView:
    id: int
    reference: str
    campaign: str
    authority: str
    authority_email: str
    regime: Regime
    state: RequestState
    their_references: tuple[str, ...]
    messages: tuple[MessageLine, ...]
    events: tuple[EventRecord, ...]
    today: date
    review_address: str | None

    @property
    def days_late(self) -> int:
        if self.state.due is None or not self.state.overdue:
            return 0
        return working_days_late(self.regime, self.state.due, self.today)

    def as_json(self, *, with_events: bool = False) -> dict[str, Any]:
        s = self.state

        def iso(d: date | None) -> str | None:
            return d.isoformat() if d else None

        data: dict[str, Any] = {
            "reference": self.reference,
            "campaign": self.campaign,
            "authority": self.authority,
            "authority_email": self.authority_email,
            "regime": self.regime.value,
            "status": s.status.value,
            "outcome": s.outcome.value if s.outcome else None,
            "overdue": s.overdue,
            "days_late": self.days_late,
            "their_references": list(self.their_references),
            "received": iso(s.received),
            "due": iso(s.due),
            "original_due": iso(s.original_due),
            "extended": s.extended,
            "clock_paused_since": iso(s.clock_paused_since),
            "responded": iso(s.responded_on),
            "on_time": s.on_time,
            "sections": list(s.sections),
            "review_request_deadline": iso(s.review_request_deadline),
            "review_requested": iso(s.review_requested_on),
            "review_response_due": iso(s.review_response_due),
            "review_overdue": s.review_overdue,
            "review_responded": iso(s.review_responded_on),
            "review_outcome": s.review_outcome.value if s.review_outcome else None,
            "regulator_deadline": iso(s.regulator_deadline),
            "review_address": self.review_address,
            "notes": list(s.notes),
            "messages": [m.as_json() for m in self.messages],
        }
        if with_events:
            data["events"] = [
                {
                    "kind": e.kind.value,
                    "on": e.on.isoformat(),
                    "source": e.source,
                    "data": dict(e.data),
                }
                for e in self.events
            ]
        return data


def _records(rows: Iterable[Any]) -> list[EventRecord]:
    """EventRecords from (id, kind, occurred_on, data, source) rows."""
    out = []
    for event_id, kind_value, occurred_on, data, source in rows:
        if (data or {}).get("superseded"):
            continue  # replaced by a user's reclassification of its message
        try:
            kind = EventKind(kind_value)
        except ValueError:
            continue  # a notice, or an event kind from a newer foibot: not a state change
        out.append(EventRecord(kind, occurred_on, dict(data or {}), source, event_id))
    return out


def _load(
    session: Session,
    today: date,
    *,
    request_ids: Sequence[int] | None = None,
    campaign: str | None = None,
) -> list[RequestView]:
    query = (
        select(
            Request.id,
            Request.reference,
            Request.regime,
            Campaign.name,
            Authority.name,
            Authority.email,
        )
        .join(Campaign, Request.campaign_id == Campaign.id)
        .join(Authority, Request.authority_id == Authority.id)
        .order_by(Campaign.name, Authority.name)
    )
    if campaign is not None:
        query = query.where(Campaign.name == campaign)
    if request_ids is not None:
        query = query.where(Request.id.in_(request_ids))
    rows = session.execute(query).all()
    if not rows:
        return []
    ids = [r[0] for r in rows]
    scope = Request.id.in_(ids) if request_ids is not None or len(ids) < 500 else None

    def scoped(stmt: Any, column: Any) -> Any:
        if scope is not None:
            return stmt.where(column.in_(ids))
        if campaign is not None:
            sub = select(Request.id).join(Campaign).where(Campaign.name == campaign)
            return stmt.where(column.in_(sub))
        return stmt

    events: dict[int, list[Any]] = defaultdict(list)
    event_cols = (
        Event.request_id,
        Event.id,
        Event.kind,
        Event.occurred_on,
        Event.data,
        Event.source,
    )
    for row in session.execute(scoped(select(*event_cols).order_by(Event.id), Event.request_id)):
        events[row[0]].append(row[1:])
    theirs: dict[int, list[str]] = defaultdict(list)
    for t in session.scalars(
        scoped(select(TheirReference).order_by(TheirReference.id), TheirReference.request_id)
    ):
        theirs[t.request_id].append(t.display)
    messages: dict[int, list[MessageLine]] = defaultdict(list)
    review_addresses: dict[int, str] = {}
    cols = (
        Message.id,
        Message.request_id,
        Message.message_id,
        Message.direction,
        Message.kind,
        Message.date,
        Message.subject,
        Message.from_addr,
        Message.outcome,
        Message.send_state,
        Message.purpose,
        Message.sent_at,
        Message.created_at,
        Message.classification,
    )
    for m in session.execute(scoped(select(*cols).order_by(Message.id), Message.request_id)):
        when = m.date or m.sent_at or m.created_at
        messages[m.request_id].append(
            MessageLine(
                m.id,
                m.message_id,
                m.direction,
                m.kind,
                when,
                m.subject,
                m.from_addr,
                m.outcome,
                m.send_state,
                m.purpose,
            )
        )
        address = (m.classification or {}).get("review_address")
        if m.direction == "in" and m.kind == "response" and address:
            review_addresses[m.request_id] = address
    views = []
    for rid, ref, regime_value, campaign_name, authority_name, email in rows:
        regime = Regime(regime_value)
        records = _records(events[rid])
        views.append(
            RequestView(
                id=rid,
                reference=ref,
                campaign=campaign_name,
                authority=authority_name,
                authority_email=email,
                regime=regime,
                state=derive_state(regime, records, today),
                their_references=tuple(theirs[rid]),
                messages=tuple(sorted(messages[rid], key=_message_order)),
                events=tuple(records),
                today=today,
                review_address=review_addresses.get(rid),
            )
        )
    return views


def _message_order(m: MessageLine) -> tuple[datetime, int]:
    return (m.date or datetime.min.replace(tzinfo=utcnow().tzinfo), m.id)


def list_requests(
    db: Database,
    *,
    today: date | None = None,
    campaign: str | None = None,
    status: str | None = None,
    overdue: bool = False,
    due_within: int | None = None,
) -> list[RequestView]:
    """Requests with their derived state, filtered. ``due_within`` N: open requests whose
    response is due in the next N calendar days (or already overdue)."""
    day = today or local_date(utcnow())
    if status is not None:
        parse_status(status)
    with db.transaction() as session:
        if (
            campaign is not None
            and session.scalar(select(Campaign.id).where(Campaign.name == campaign)) is None
        ):
            raise NotFoundError(f"no campaign named {campaign!r} (see `foibot campaign list`)")
        views = _load(session, day, campaign=campaign)
    if status is not None:
        views = [v for v in views if v.state.status.value == status]
    if overdue:
        views = [v for v in views if v.state.overdue or v.state.review_overdue]
    if due_within is not None:
        views = [
            v
            for v in views
            if v.state.status in (Status.AWAITING_RESPONSE,)
            and v.state.due is not None
            and (v.state.due - day).days <= due_within
        ]
    return views


def parse_status(value: str) -> Status:
    """A status typed by the user; one clear error naming the choices."""
    try:
        return Status(value)
    except ValueError:
        names = ", ".join(s.value for s in Status)
        raise UserInputError(f"unknown status {value!r} (expected one of: {names})") from None


def parse_outcome(value: str) -> Outcome:
    """An outcome typed by the user; one clear error naming the choices."""
    try:
        return Outcome(value)
    except ValueError:
        names = ", ".join(o.value for o in Outcome)
        raise UserInputError(f"unknown outcome {value!r} (expected one of: {names})") from None


def find_request(session: Session, reference: str) -> Request:
    canonical = references.normalise(reference)
    if canonical is None:
        raise UserInputError(f"{reference!r} is not a foibot reference (like FB-7K3M9Q5)")
    request = session.scalar(select(Request).where(Request.reference == canonical))
    if request is None:
        raise NotFoundError(f"no request with reference {canonical}")
    return request


def show_request(db: Database, reference: str, *, today: date | None = None) -> RequestView:
    day = today or local_date(utcnow())
    with db.transaction() as session:
        request = find_request(session, reference)
        return _load(session, day, request_ids=[request.id])[0]


def set_request(
    db: Database,
    reference: str,
    *,
    status: str | None = None,
    outcome: str | None = None,
    note: str | None = None,
    today: date | None = None,
) -> RequestView:
    """Records a user's correction as an event (``status_set`` / ``outcome_set``)."""
    if status is None and outcome is None:
        raise UserInputError("nothing to set: give --status and/or --outcome")
    day = today or local_date(utcnow())
    events: list[tuple[EventKind, dict[str, Any]]] = []
    if status is not None:
        parse_status(status)
        events.append((EventKind.STATUS_SET, {"status": status}))
    if outcome is not None:
        parse_outcome(outcome)
        events.append((EventKind.OUTCOME_SET, {"outcome": outcome}))
    if note:
        for _kind, data in events:
            data["note"] = note
    return _add_user_events(db, reference, day, events)


def _add_user_events(
    db: Database, reference: str, day: date, events: list[tuple[EventKind, dict[str, Any]]]
) -> RequestView:
    """Records the user's events on ``day`` (one transaction) and returns the request as
    it stands after them."""
    with db.transaction() as session:
        request = find_request(session, reference)
        for kind, data in events:
            session.add(
                Event(
                    request_id=request.id,
                    kind=kind.value,
                    occurred_on=day,
                    source="user",
                    data=data,
                    recorded_at=utcnow(),
                )
            )
        request_id = request.id
    with db.transaction() as session:
        return _load(session, day, request_ids=[request_id])[0]


# Events a user records for what happened outside foibot's mail: a clarification sent
# from another mailbox, a fee paid, a review asked for by post, a request withdrawn.
RECORDABLE = (
    EventKind.CLARIFICATION_SENT,
    EventKind.FEE_PAID,
    EventKind.REVIEW_REQUESTED,
    EventKind.WITHDRAWN,
    EventKind.CLOSED,
    EventKind.SENT,
    EventKind.ACKNOWLEDGED,
    EventKind.RESPONSE,
    EventKind.REVIEW_RESPONSE,
    EventKind.EXTENSION_NOTICE,
)


def record_event(
    db: Database,
    reference: str,
    kind: str,
    *,
    on: date | None = None,
    outcome: str | None = None,
    new_due: date | None = None,
    note: str | None = None,
) -> RequestView:
    """Records an event by hand (``source = "user"``), e.g. ``clarification_sent``."""
    allowed = ", ".join(k.value for k in RECORDABLE)
    try:
        event_kind = EventKind(kind)
    except ValueError:
        raise UserInputError(f"unknown event {kind!r} (expected one of: {allowed})") from None
    if event_kind not in RECORDABLE:
        raise UserInputError(f"{kind!r} cannot be recorded by hand (expected one of: {allowed})")
    day = on or local_date(utcnow())
    data: dict[str, Any] = {}
    if outcome is not None:
        data["outcome"] = parse_outcome(outcome).value
    if new_due is not None:
        data["new_due"] = new_due.isoformat()
    if note:
        data["note"] = note
    return _add_user_events(db, reference, day, [(event_kind, data)])
