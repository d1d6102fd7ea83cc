"""A request's status, outcome and clocks, derived from its event log.

Nothing here is stored: the service reads the events and the calendar and calls
``derive_state`` every time, so a correction (a user's event) or a holiday-data update
changes every answer at once (DESIGN.md §1). ``today`` is always passed in.

The law behind each step (DESIGN.md §1):

- response due: 20 working days after receipt (FOIA s.10(1), EIR reg 5(2), FOISA
  s.10(1), EISR reg 5(2)); receipt is the day we sent the request by email.
- clarification (FOIA s.1(3), EIR reg 9, FOISA s.1(3)): the clock stops when the
  authority asks; a full 20 working days restart from receipt of the clarification.
- fees notice (FOIA s.9 and s.10(2), FOISA s.9 and s.10(2)): the working days between
  the notice and the payment are not counted.
- extension: FOIA s.10(3) public-interest, "reasonable": the authority's own stated
  date if it gave one, else the ICO's ceiling of 40 working days in total; EIR/EISR
  reg 7(1): 40 working days in total; FOISA has none (an extension notice changes
  nothing, and the state says so).
- review window: 40 working days from the response (Code of Practice; EIR reg 11(2);
  FOISA s.20(5), EISR reg 16(2)); under FOISA/EISR with no response, 40 working days
  from the day the response was due.
- review answer: FOIA 20 WD (Code; 40 at most), EIR 40 WD (reg 11(4)), FOISA 20 WD
  (s.21(1)), EISR 20 WD (reg 16(4)).
- regulator: ICO within 6 weeks of the review outcome; SIC within 6 months (s.47(4)).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from foibot.domain.calendar import calendar_for
from foibot.domain.clocks import ClockKind, deadline
from foibot.domain.regimes import Regime


class EventKind(StrEnum):
    SENT = "sent"
    DELIVERY_FAILED = "delivery_failed"
    ACKNOWLEDGED = "acknowledged"
    CLARIFICATION_REQUESTED = "clarification_requested"
    CLARIFICATION_SENT = "clarification_sent"
    FEE_NOTICE = "fee_notice"
    FEE_PAID = "fee_paid"
    EXTENSION_NOTICE = "extension_notice"
    RESPONSE = "response"
    REVIEW_REQUESTED = "review_requested"
    REVIEW_ACKNOWLEDGED = "review_acknowledged"
    REVIEW_RESPONSE = "review_response"
    WITHDRAWN = "withdrawn"
    CLOSED = "closed"
    # corrections by the user: data {"status": ...} / {"outcome": ...}
    STATUS_SET = "status_set"
    OUTCOME_SET = "outcome_set"


class Status(StrEnum):
    QUEUED = "queued"
    AWAITING_RESPONSE = "awaiting_response"
    AWAITING_CLARIFICATION = "awaiting_clarification"
    DELIVERY_FAILED = "delivery_failed"
    RESPONDED = "responded"
    REVIEW_REQUESTED = "review_requested"
    REVIEW_RESPONDED = "review_responded"
    WITHDRAWN = "withdrawn"
    CLOSED = "closed"


class Outcome(StrEnum):
    SUCCESSFUL = "successful"
    PARTIALLY_SUCCESSFUL = "partially_successful"
    NOT_HELD = "not_held"
    REFUSED = "refused"


# What each kind of incoming message adds to the log (an auto-reply adds nothing).
MESSAGE_KIND_EVENTS: Mapping[str, EventKind] = {
    "acknowledgement": EventKind.ACKNOWLEDGED,
    "clarification_request": EventKind.CLARIFICATION_REQUESTED,
    "extension_notice": EventKind.EXTENSION_NOTICE,
    "fee_notice": EventKind.FEE_NOTICE,
    "response": EventKind.RESPONSE,
    "review_acknowledgement": EventKind.REVIEW_ACKNOWLEDGED,
    "review_response": EventKind.REVIEW_RESPONSE,
    "bounce": EventKind.DELIVERY_FAILED,
}


@dataclass(frozen=True)
class EventRecord:
    kind: EventKind
    on: date
    data: Mapping[str, Any] = field(default_factory=dict)
    source: str = "auto"  # "auto" | "user"
    seq: int = 0  # tie-breaker: the order events were recorded


@dataclass(frozen=True)
class RequestState:
    status: Status
    outcome: Outcome | None
    overdue: bool
    received: date | None  # day 0 of the response clock (the day we sent it)
    due: date | None  # response due date after clarifications, pauses, extensions
    original_due: date | None
    extended: bool
    clock_paused_since: date | None  # fees notice not yet paid
    responded_on: date | None
    on_time: bool | None
    sections: tuple[str, ...]
    review_request_deadline: date | None
    review_requested_on: date | None
    review_response_due: date | None
    review_overdue: bool
    review_responded_on: date | None
    review_outcome: Outcome | None
    regulator_deadline: date | None
    notes: tuple[str, ...]  # why a step had no effect, e.g. an extension under FOISA


def _add(regime: Regime, start: date, days: int) -> date:
    return calendar_for(regime).add_working_days(start, days)


def _iso(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def derive_state(regime: Regime, events: Iterable[EventRecord], today: date) -> RequestState:
    """Folds the event log (in date order, then recording order) into the request's
    status and clocks as they stand on ``today``."""
    log: Sequence[EventRecord] = sorted(events, key=lambda e: (e.on, e.seq))
    cal = calendar_for(regime)
    status = Status.QUEUED
    outcome: Outcome | None = None
    received = due = original_due = paused_since = responded_on = None
    extended = False
    sections: tuple[str, ...] = ()
    review_requested_on = review_response_due = review_responded_on = None
    review_outcome: Outcome | None = None
    notes: list[str] = []
    forced_status: Status | None = None
    forced_outcome: Outcome | None = None

    for ev in log:
        k = ev.kind
        if k is EventKind.SENT:
            if received is None or status is Status.DELIVERY_FAILED:
                received = ev.on
                due = original_due = _add(regime, ev.on, 20)
                status = Status.AWAITING_RESPONSE
        elif k is EventKind.DELIVERY_FAILED:
            if status in (Status.QUEUED, Status.AWAITING_RESPONSE) and responded_on is None:
                status = Status.DELIVERY_FAILED
        elif k is EventKind.ACKNOWLEDGED:
            pass  # never changes the clock or closes anything
        elif k is EventKind.CLARIFICATION_REQUESTED:
            if responded_on is None:
                status = Status.AWAITING_CLARIFICATION
        elif k is EventKind.CLARIFICATION_SENT:
            if responded_on is None:
                # s.1(3): the 20 working days run afresh from receipt of the clarification
                due = _add(regime, ev.on, 20)
                extended = False
                status = Status.AWAITING_RESPONSE
        elif k is EventKind.FEE_NOTICE:
            if regime.is_environmental:
                notes.append(f"{ev.on}: a charge under {regime.short_name} does not stop the clock")
            elif responded_on is None and paused_since is None:
                paused_since = ev.on
        elif k is EventKind.FEE_PAID:
            if paused_since is not None and due is not None:
                # s.10(2): days between the fees notice and payment are not counted
                due = _add(regime, due, cal.working_days_between(paused_since, ev.on))
                paused_since = None
        elif k is EventKind.EXTENSION_NOTICE:
            if responded_on is not None or received is None:
                continue
            if regime is Regime.FOISA:
                notes.append(f"{ev.on}: FOISA has no extension; the 20-day deadline stands")
                continue
            stated = _iso(ev.data.get("new_due"))
            ceiling = deadline(received, regime, ClockKind.EXTENSION).due
            if regime is Regime.FOIA and stated is not None:
                due = stated
                if stated > ceiling:
                    notes.append(
                        f"{ev.on}: the authority's date {stated} is beyond the ICO's "
                        f"40-working-day ceiling ({ceiling})"
                    )
            else:
                due = ceiling
            extended = True
        elif k is EventKind.RESPONSE:
            if responded_on is None:
                responded_on = ev.on
                paused_since = None
            outcome = _outcome(ev.data.get("outcome")) or outcome
            sections = tuple(ev.data.get("sections", ())) or sections
            if status not in (Status.REVIEW_REQUESTED, Status.REVIEW_RESPONDED):
                status = Status.RESPONDED
        elif k is EventKind.REVIEW_REQUESTED:
            review_requested_on = ev.on
            review_response_due = deadline(ev.on, regime, ClockKind.REVIEW_RESPONSE).due
            review_responded_on = None
            status = Status.REVIEW_REQUESTED
        elif k is EventKind.REVIEW_ACKNOWLEDGED:
            pass
        elif k is EventKind.REVIEW_RESPONSE:
            review_responded_on = ev.on
            review_outcome = _outcome(ev.data.get("outcome"))
            status = Status.REVIEW_RESPONDED
        elif k is EventKind.WITHDRAWN:
            forced_status = Status.WITHDRAWN
        elif k is EventKind.CLOSED:
            forced_status = Status.CLOSED
        elif k is EventKind.STATUS_SET:
            forced_status = Status(ev.data["status"])
        elif k is EventKind.OUTCOME_SET:
            forced_outcome = _outcome(ev.data.get("outcome"))

    if forced_outcome is not None:
        outcome = forced_outcome
    if forced_status is not None:
        status = forced_status

    on_time = None if responded_on is None or due is None else responded_on <= due
    review_deadline: date | None = None
    if responded_on is not None:
        review_deadline = deadline(responded_on, regime, ClockKind.REVIEW_REQUEST).due
    elif regime.is_scottish and due is not None and paused_since is None and today > due:
        # FOISA s.20(5)/EISR reg 16: with no response, 40 WD from when it was due
        review_deadline = deadline(due, regime, ClockKind.REVIEW_REQUEST).due
    regulator = None
    if review_responded_on is not None:
        regulator = deadline(review_responded_on, regime, ClockKind.REGULATOR).due

    open_for_response = status is Status.AWAITING_RESPONSE and paused_since is None
    overdue = bool(open_for_response and due is not None and today > due)
    review_overdue = bool(
        status is Status.REVIEW_REQUESTED
        and review_response_due is not None
        and today > review_response_due
    )
    return RequestState(
        status=status,
        outcome=outcome if responded_on is not None or forced_outcome is not None else None,
        overdue=overdue,
        received=received,
        due=None if paused_since is not None else due,
        original_due=original_due,
        extended=extended,
        clock_paused_since=paused_since,
        responded_on=responded_on,
        on_time=on_time,
        sections=sections,
        review_request_deadline=review_deadline,
        review_requested_on=review_requested_on,
        review_response_due=review_response_due,
        review_overdue=review_overdue,
        review_responded_on=review_responded_on,
        review_outcome=review_outcome,
        regulator_deadline=regulator,
        notes=tuple(notes),
    )


def _outcome(value: Any) -> Outcome | None:
    try:
        return Outcome(value) if value else None
    except ValueError:
        return None


def working_days_late(regime: Regime, due: date, today: date) -> int:
    """How many working days past ``due`` it is on ``today`` (0 when not late)."""
    if today <= due:
        return 0
    return calendar_for(regime).working_days_between(due, today)
