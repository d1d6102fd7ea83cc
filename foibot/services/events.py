"""Turning filed messages into request events, and correcting them by hand.

An incoming message filed under a request adds the event its kind implies
(``foibot.domain.lifecycle.MESSAGE_KIND_EVENTS``): an acknowledgement adds
``acknowledged``, a response adds ``response`` with its outcome and sections, an
auto-reply adds nothing. A user's reclassification supersedes the automatic events of
that message and records its own (``source = "user"``), so the history stays visible.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from foibot.domain.classify import KINDS as MESSAGE_KINDS
from foibot.domain.lifecycle import MESSAGE_KIND_EVENTS, EventKind
from foibot.domain.stated_dates import extension_date
from foibot.errors import NotFoundError, UserInputError
from foibot.services.requests import parse_outcome
from foibot.store.db import Database, utcnow
from foibot.store.models import Event, Message
from foibot.timezone import local_date

# What an event is worked out from: a stored message's columns (``FACTS``), read from a
# ``Message`` row, or from the values a batch of new messages is inserted with.
FACTS = ("id", "direction", "request_id", "kind", "outcome", "classification", "body_text",
         "date", "created_at")  # fmt: skip


def _event_data(message: Mapping[str, Any], kind: EventKind) -> dict[str, Any]:
    evidence = message["classification"] or {}
    data: dict[str, Any] = {}
    if kind in (EventKind.RESPONSE, EventKind.REVIEW_RESPONSE) and message["outcome"]:
        data["outcome"] = message["outcome"]
    if kind is EventKind.RESPONSE:
        sections = evidence.get("sections") or []
        if sections:
            data["sections"] = list(sections)
    if kind is EventKind.EXTENSION_NOTICE:
        stated = evidence.get("new_due") or extension_date(
            message["body_text"] or "",
            not_before=local_date(message["date"] or message["created_at"]),
        )
        if stated:
            data["new_due"] = str(stated)
    if evidence.get("received_on"):
        data["their_received_date"] = str(evidence["received_on"])
    return data


def message_day(message: Message) -> date:
    """The legal date of a message: the UK date it was sent (its Date header), else when
    we stored it."""
    return local_date(message.date or message.created_at)


def message_event_values(
    message: Mapping[str, Any], *, source: str = "auto", now: datetime | None = None
) -> dict[str, Any] | None:
    """The event (as column values) a filed incoming message implies, from its
    ``FACTS``; None for auto-replies, 'other', or an unfiled message."""
    if message["direction"] != "in" or message["request_id"] is None or not message["kind"]:
        return None
    kind = MESSAGE_KIND_EVENTS.get(message["kind"])
    if kind is None:
        return None
    return {
        "request_id": message["request_id"],
        "kind": kind.value,
        "occurred_on": local_date(message["date"] or message["created_at"]),
        "occurred_at": message["date"],
        "message_id": message["id"],
        "source": source,
        "data": _event_data(message, kind),
        "recorded_at": now or utcnow(),
    }


def record_message_events(
    session: Session, message: Message, *, source: str = "auto"
) -> list[Event]:
    """Adds the events a filed incoming message implies (none for auto-replies, 'other',
    or an unfiled message)."""
    values = message_event_values({f: getattr(message, f) for f in FACTS}, source=source)
    if values is None:
        return []
    event = Event(**values)
    session.add(event)
    return [event]


def _find_message(session: Session, ident: str) -> Message:
    ident = ident.strip()
    message: Message | None = None
    if ident.isdigit():
        message = session.get(Message, int(ident))
    if message is None:
        message = session.scalar(
            select(Message).where(
                Message.message_id == ident.strip("<>"), Message.direction == "in"
            )
        )
    if message is None:
        raise NotFoundError(f"no message {ident!r} (give its number or its Message-ID)")
    return message


def reclassify_message(
    db: Database,
    ident: str,
    *,
    kind: str,
    outcome: str | None = None,
) -> Message:
    """Corrects a message's kind (and outcome); its automatic events are superseded and
    replaced by the user's."""
    if kind not in MESSAGE_KINDS:
        raise UserInputError(f"unknown kind {kind!r} (expected one of: {', '.join(MESSAGE_KINDS)})")
    if outcome is not None:
        parse_outcome(outcome)
        if kind not in ("response", "review_response"):
            raise UserInputError("--outcome only goes with --kind response or review_response")
    with db.transaction() as session:
        message = _find_message(session, ident)
        if message.direction != "in":
            raise UserInputError(f"message {ident} is one we sent; only replies are classified")
        previous = {"kind": message.kind, "outcome": message.outcome}
        message.kind = kind
        message.outcome = outcome if kind in ("response", "review_response") else None
        evidence = dict(message.classification or {})
        evidence["corrected_by_user"] = {"was": previous, "at": utcnow().isoformat()}
        message.classification = evidence
        for old in session.scalars(select(Event).where(Event.message_id == message.id)):
            data = dict(old.data or {})
            data["superseded"] = True
            old.data = data
        session.flush()
        record_message_events(session, message, source="user")
        return message
