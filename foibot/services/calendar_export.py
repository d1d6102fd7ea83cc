"""Every open clock as an iCalendar file, for the user's own calendar.

Three clocks (DESIGN.md §1), each an all-day event on the day it falls due:

- ``response-due``: the authority's answer is due (FOIA/EIR/FOISA 20 working days,
  moved by clarification, fees and extensions: ``foibot.domain.lifecycle``);
- ``review-window``: the last day on which we may ask for an internal review (40
  working days from the response; under FOISA with no response, from the due date);
- ``review-response-due``: the authority's review answer is due.

Each event's UID is ``{reference}-{clock}@foibot``, the same in every export, and its
SEQUENCE grows with the export time, so importing a newer file updates the events
instead of adding copies. A clock that has closed since (the response came, the review
was asked for) is exported as a cancelled event with the same UID while its request is
still followed, so a re-import takes it off the calendar rather than leaving it behind.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from icalendar import Calendar, Event

from foibot.domain.lifecycle import Status
from foibot.services.requests import RequestView, list_requests
from foibot.store.db import Database, utcnow
from foibot.timezone import local_date

PRODID = "-//foibot//foibot deadlines//EN"
UID_DOMAIN = "foibot"
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)  # SEQUENCE: minutes since then

CLOCKS = {
    "response-due": "FOI response due",
    "review-window": "Last day to ask for a review",
    "review-response-due": "Review answer due",
}
_FINISHED = (Status.WITHDRAWN, Status.CLOSED)


@dataclass(frozen=True)
class Clock:
    reference: str
    clock: str  # a key of CLOCKS
    due: date
    open: bool  # False: closed since, exported as cancelled
    view: RequestView

    @property
    def uid(self) -> str:
        return f"{self.reference}-{self.clock}@{UID_DOMAIN}"


def clocks_of(view: RequestView, today: date) -> list[Clock]:
    """The clocks of one request: the open ones, and the ones that closed because
    something happened (the response came, a review was asked for, the request was
    withdrawn). A clock that is stopped (clarification asked, fee unpaid) or that simply
    ran out is left out: a re-import leaves the event as it was."""
    s = view.state
    out: list[Clock] = []
    finished = s.status in _FINISHED
    if s.status is Status.AWAITING_RESPONSE and s.due is not None:
        out.append(Clock(view.reference, "response-due", s.due, True, view))
    elif (s.responded_on is not None or finished) and (s.due or s.original_due):
        due = s.due or s.original_due
        assert due is not None
        out.append(Clock(view.reference, "response-due", due, False, view))
    deadline = s.review_request_deadline
    if deadline is not None:
        if s.review_requested_on is not None or finished:
            out.append(Clock(view.reference, "review-window", deadline, False, view))
        elif deadline >= today:
            out.append(Clock(view.reference, "review-window", deadline, True, view))
    if s.review_response_due is not None:
        is_open = s.status is Status.REVIEW_REQUESTED
        if is_open or s.review_responded_on is not None or finished:
            out.append(
                Clock(view.reference, "review-response-due", s.review_response_due, is_open, view)
            )
    return out


def _description(c: Clock) -> str:
    v, s = c.view, c.view.state
    lines = [
        f"{CLOCKS[c.clock]}: {c.due.isoformat()}",
        f"Authority: {v.authority} <{v.authority_email}>",
        f"Request: {v.reference} (campaign {v.campaign})",
    ]
    if v.their_references:
        lines.append(f"Their reference: {', '.join(v.their_references)}")
    lines.append(f"Law: {v.regime.short_name}")
    if s.received:
        lines.append(f"Sent (received by them): {s.received.isoformat()}")
    if c.clock == "response-due" and s.extended:
        lines.append(f"Extended; originally due {s.original_due}")
    if s.responded_on:
        lines.append(f"Responded: {s.responded_on.isoformat()}")
    if c.clock == "review-window" and v.review_address:
        lines.append(f"Ask for a review at: {v.review_address}")
    if s.review_requested_on:
        lines.append(f"Review asked for: {s.review_requested_on.isoformat()}")
    lines.append(f"Status: {s.status.value}")
    if not c.open:
        lines.append("This deadline no longer applies.")
    lines.append(f"foibot requests show {v.reference}")
    return "\n".join(lines)


def build_calendar(
    views: Sequence[RequestView], *, today: date, now: datetime, name: str
) -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    sequence = max(0, int((now - _EPOCH).total_seconds() // 60))
    for view in views:
        for c in clocks_of(view, today):
            event = Event()
            event.add("uid", c.uid)
            event.add("dtstamp", now)
            event.add("last-modified", now)
            event.add("sequence", sequence)
            event.add("dtstart", c.due)  # a date: an all-day event
            event.add("dtend", c.due + timedelta(days=1))
            late = c.open and c.clock == "response-due" and view.state.overdue
            prefix = "OVERDUE: " if late else ""
            event.add("summary", f"{prefix}{CLOCKS[c.clock]}: {view.authority} ({view.reference})")
            event.add("description", _description(c))
            event.add("status", "CONFIRMED" if c.open else "CANCELLED")
            event.add("transp", "TRANSPARENT")
            event.add("categories", ["foibot", view.campaign])
            cal.add_component(event)
    return cal


@dataclass(frozen=True)
class CalendarExport:
    data: bytes
    open: int  # open clocks exported
    cancelled: int  # closed clocks exported as cancelled
    requests: int


def export_calendar(
    db: Database,
    *,
    campaign: str | None = None,
    today: date | None = None,
    now: datetime | None = None,
) -> CalendarExport:
    """The iCalendar file of every open clock (of one campaign, or of all)."""
    moment = now or utcnow()
    day = today or local_date(moment)
    views = list_requests(db, campaign=campaign, today=day)
    name = f"foibot: {campaign}" if campaign else "foibot deadlines"
    cal = build_calendar(views, today=day, now=moment, name=name)
    clocks = [c for v in views for c in clocks_of(v, day)]
    return CalendarExport(
        cal.to_ical(),
        sum(1 for c in clocks if c.open),
        sum(1 for c in clocks if not c.open),
        len(views),
    )
