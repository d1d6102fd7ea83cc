"""The statutory clocks of the four access-to-information regimes.

Counting follows DESIGN.md section 1: the start day (receipt) is day 0 even when it is a
weekend or holiday, and a deadline of N working days falls on the N-th working day after
it, on the regime's calendar (``foibot.domain.calendar.calendar_for``).

| clock           | FOIA                    | EIR              | FOISA          | EISR            |
|-----------------|-------------------------|------------------|----------------|-----------------|
| response        | 20 WD s.10(1)           | 20 WD reg 5(2)   | 20 WD s.10(1)  | 20 WD reg 5(2)  |
| extension       | 40 WD s.10(3) + ICO     | 40 WD reg 7(1)   | none           | 40 WD reg 7(1)  |
| review-request  | 40 WD Code para 5.4     | 40 WD reg 11(2)  | 40 WD s.20(5)  | 40 WD reg 16(2) |
| review-response | 20 WD (40 max) Code     | 40 WD reg 11(4)  | 20 WD s.21(1)  | 20 WD reg 16(4) |
| regulator       | ICO 6 weeks             | ICO 6 weeks      | SIC 6 months s.47(4)(b)          |

Deadlines are computed from events whenever they are needed, never stored, so an update
of the holiday data corrects every open clock.
"""

from __future__ import annotations

import calendar as _stdlib_calendar
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Final

from foibot.domain.calendar import calendar_for
from foibot.domain.regimes import Regime

__all__ = [
    "ICO_COMPLAINT_WINDOW_DAYS",
    "REVIEW_RESPONSE_MAX_FOIA",
    "SIC_APPLICATION_WINDOW_MONTHS",
    "ClockKind",
    "ClockNotApplicable",
    "Deadline",
    "add_calendar_months",
    "basis_for",
    "deadline",
    "working_days_for",
]


class ClockKind(StrEnum):
    RESPONSE = "response"
    """The authority's time to answer the request, from receipt."""
    EXTENSION = "extension"
    """The extended response time, as a total from receipt (not an addition)."""
    REVIEW_REQUEST = "review-request"
    """The requester's window to ask for an internal review, from the response (or, for
    FOISA/EISR when no response came, from the day it was due: the caller passes it)."""
    REVIEW_RESPONSE = "review-response"
    """The authority's time to finish the internal review, from receipt of the request
    for review."""
    REGULATOR = "regulator"
    """The requester's window to complain to the regulator, from the review outcome."""


class ClockNotApplicable(ValueError):
    """The regime has no such clock."""


REVIEW_RESPONSE_MAX_FOIA: Final = 40
"""FOIA review: 20 WD normally; the s.45 Code of Practice (2018) allows up to 40 WD in
total in exceptional (complex or voluminous) cases. Past this the ICO accepts a
complaint without waiting for the review."""

ICO_COMPLAINT_WINDOW_DAYS: Final = 42
"""ICO: a complaint should be made within 6 weeks of the internal review outcome."""

SIC_APPLICATION_WINDOW_MONTHS: Final = 6
"""FOISA s.47(4)(b): application to the Scottish Information Commissioner within six
months of receiving the review outcome (applied to EISR by reg 17)."""


@dataclass(frozen=True, slots=True)
class _Rule:
    working_days: int | None
    basis: str


_NO_FOISA_EXTENSION: Final = (
    "FOISA has no extension of the response time: s.10(1) allows 20 working days only "
    "(a fees notice or a request for clarification stops the clock instead)"
)

_RULES: Final[dict[tuple[Regime, ClockKind], _Rule]] = {
    # Response: 20 working days from receipt.
    (Regime.FOIA, ClockKind.RESPONSE): _Rule(20, "FOIA s.10(1)"),
    (Regime.EIR, ClockKind.RESPONSE): _Rule(20, "EIR reg 5(2)"),
    (Regime.FOISA, ClockKind.RESPONSE): _Rule(20, "FOISA s.10(1)"),
    (Regime.EISR, ClockKind.RESPONSE): _Rule(20, "EISR reg 5(2)"),
    # Extension, total from receipt.
    # FOIA s.10(3): for the public-interest test the time is extended to what is
    # "reasonable in the circumstances"; the ICO treats 20 more working days (40 in
    # total) as the ceiling. The refusal notice itself is still due on day 20 (s.17(2)).
    (Regime.FOIA, ClockKind.EXTENSION): _Rule(
        40, "FOIA s.10(3) (public interest; ICO ceiling of 20 more working days)"
    ),
    (Regime.EIR, ClockKind.EXTENSION): _Rule(40, "EIR reg 7(1) (complex and voluminous)"),
    # DESIGN.md section 1 lists "none" for FOISA/EISR together. That holds for FOISA but
    # not for EISR: EISR reg 7(1) lets a Scottish authority extend the 20 working days to
    # 40 where the volume and complexity of the information make 20 impracticable
    # (it must tell the applicant within the first 20, reg 7(2)). We follow the
    # regulation.
    (Regime.EISR, ClockKind.EXTENSION): _Rule(40, "EISR reg 7(1) (volume and complexity)"),
    # Requester's window to ask for an internal review.
    (Regime.FOIA, ClockKind.REVIEW_REQUEST): _Rule(
        40, "FOIA s.45 Code of Practice (2018) para 5.4"
    ),
    (Regime.EIR, ClockKind.REVIEW_REQUEST): _Rule(40, "EIR reg 11(2)"),
    (Regime.FOISA, ClockKind.REVIEW_REQUEST): _Rule(40, "FOISA s.20(5)"),
    (Regime.EISR, ClockKind.REVIEW_REQUEST): _Rule(40, "EISR reg 16(2)"),
    # Authority's time to finish the review.
    (Regime.FOIA, ClockKind.REVIEW_RESPONSE): _Rule(
        20,
        "FOIA s.45 Code of Practice (2018) Part 5 "
        f"(up to {REVIEW_RESPONSE_MAX_FOIA} working days in exceptional cases)",
    ),
    (Regime.EIR, ClockKind.REVIEW_RESPONSE): _Rule(40, "EIR reg 11(4)"),
    (Regime.FOISA, ClockKind.REVIEW_RESPONSE): _Rule(20, "FOISA s.21(1)"),
    (Regime.EISR, ClockKind.REVIEW_RESPONSE): _Rule(20, "EISR reg 16(4)"),
    # Complaint to the regulator: calendar periods, not working days.
    (Regime.FOIA, ClockKind.REGULATOR): _Rule(
        None, "ICO complaint: within 6 weeks of the internal review outcome (FOIA s.50)"
    ),
    (Regime.EIR, ClockKind.REGULATOR): _Rule(
        None,
        "ICO complaint: within 6 weeks of the internal review outcome (EIR reg 18, FOIA s.50)",
    ),
    (Regime.FOISA, ClockKind.REGULATOR): _Rule(
        None, "FOISA s.47(4)(b): application to the Scottish Information Commissioner"
    ),
    (Regime.EISR, ClockKind.REGULATOR): _Rule(
        None,
        "EISR reg 17 with FOISA s.47(4)(b): application to the Scottish Information Commissioner",
    ),
}


def _rule(regime: Regime, clock: ClockKind) -> _Rule:
    if regime is Regime.FOISA and clock is ClockKind.EXTENSION:
        raise ClockNotApplicable(_NO_FOISA_EXTENSION)
    rule = _RULES.get((regime, clock))
    if rule is None:  # unreachable with valid enum members; kept for a clear message
        raise ClockNotApplicable(f"{regime!s} has no {clock!s} clock")
    return rule


def basis_for(regime: Regime, clock: ClockKind) -> str:
    """The legal citation for this clock under this regime."""
    return _rule(regime, clock).basis


def working_days_for(regime: Regime, clock: ClockKind) -> int:
    """The length of a working-day clock.

    Raises ClockNotApplicable when the regime has no such clock (FOISA extension) or the
    clock is a calendar period (the regulator window).
    """
    rule = _rule(regime, clock)
    if rule.working_days is None:
        raise ClockNotApplicable(
            f"the {clock!s} clock under {regime.short_name} is a calendar period, "
            f"not a number of working days ({rule.basis})"
        )
    return rule.working_days


def add_calendar_months(d: date, months: int) -> date:
    """``d`` plus ``months`` calendar months, the day clamped to the month's last day.

    31 Aug + 6 months = 28 Feb (29 Feb in a leap year): a period "of six months" ends in
    the corresponding month, on the corresponding day if it exists, else on its last day.
    """
    if months < 0:
        raise ValueError(f"number of months must be >= 0, got {months}")
    index = d.year * 12 + (d.month - 1) + months
    year, month0 = divmod(index, 12)
    if year > date.max.year:
        raise ValueError(f"{d.isoformat()} plus {months} months is beyond year {date.max.year}")
    last = _stdlib_calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(d.day, last))


@dataclass(frozen=True)
class Deadline:
    """A computed deadline and the reasons for it."""

    start: date
    regime: Regime
    clock: ClockKind
    working_days: int | None
    """None for calendar-period clocks (the regulator window)."""
    due: date
    calendar_name: str
    """The working-day calendar counted on, or the calendar period for calendar clocks."""
    holidays_skipped: tuple[tuple[date, str], ...]
    """Weekday holidays in (start, due] that did not count (empty for calendar clocks)."""
    basis: str
    """The legal citation, e.g. "FOIA s.10(1)"."""


def deadline(start: date, regime: Regime, clock: ClockKind) -> Deadline:
    """The deadline of ``clock`` under ``regime``, counted from ``start``.

    ``start`` is day 0 (the day of receipt of the request, or of the response for the
    review-request window, or of the review request for the review-response clock, or of
    the review outcome for the regulator window).
    """
    rule = _rule(regime, clock)
    if rule.working_days is None:
        if regime.is_scottish:
            due = add_calendar_months(start, SIC_APPLICATION_WINDOW_MONTHS)
            period = f"{SIC_APPLICATION_WINDOW_MONTHS} calendar months"
        else:
            due = start + timedelta(days=ICO_COMPLAINT_WINDOW_DAYS)
            period = f"{ICO_COMPLAINT_WINDOW_DAYS // 7} weeks"
        return Deadline(
            start=start,
            regime=regime,
            clock=clock,
            working_days=None,
            due=due,
            calendar_name=period,
            holidays_skipped=(),
            basis=rule.basis,
        )
    cal = calendar_for(regime)
    due = cal.add_working_days(start, rule.working_days)
    return Deadline(
        start=start,
        regime=regime,
        clock=clock,
        working_days=rule.working_days,
        due=due,
        calendar_name=cal.name,
        holidays_skipped=tuple(cal.holidays_skipped(start, due)),
        basis=rule.basis,
    )
