"""Properties of the working-day arithmetic, checked with Hypothesis."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from foibot.domain.calendar import WorkingDayCalendar, scotland_calendar, uk_union_calendar
from foibot.domain.clocks import ClockKind, deadline
from foibot.domain.regimes import Regime

UNION = uk_union_calendar()
SCOT = scotland_calendar()

starts = st.dates(min_value=date(1995, 1, 1), max_value=date(2095, 12, 31))
days = st.integers(min_value=0, max_value=300)
positive_days = st.integers(min_value=1, max_value=300)
calendars = st.sampled_from([UNION, SCOT])


def naive_add_working_days(cal: WorkingDayCalendar, start: date, n: int) -> date:
    """Reference implementation: walk forward one day at a time."""
    d, counted = start, 0
    while counted < n:
        d += timedelta(days=1)
        if d.weekday() < 5 and d not in cal.holidays:
            counted += 1
    return d


def naive_is_working_day(cal: WorkingDayCalendar, d: date) -> bool:
    return d.weekday() < 5 and d not in cal.holidays


@given(calendars, starts, positive_days)
def test_due_date_is_a_working_day(cal: WorkingDayCalendar, start: date, n: int) -> None:
    due = cal.add_working_days(start, n)
    assert cal.is_working_day(due)
    assert due > start


@given(calendars, starts, days, days)
def test_more_days_never_earlier(cal: WorkingDayCalendar, start: date, a: int, b: int) -> None:
    lo, hi = sorted((a, b))
    assert cal.add_working_days(start, lo) <= cal.add_working_days(start, hi)


@given(calendars, starts, st.integers(min_value=0, max_value=400), positive_days)
def test_later_start_never_earlier(cal: WorkingDayCalendar, start: date, gap: int, n: int) -> None:
    later = start + timedelta(days=gap)
    assert cal.add_working_days(start, n) <= cal.add_working_days(later, n)


@given(starts, days)
def test_scotland_never_later_than_union(start: date, n: int) -> None:
    # FOISA's Scottish holidays are a subset of FOIA's union, so FOISA is never later.
    assert SCOT.add_working_days(start, n) <= UNION.add_working_days(start, n)


@given(starts, st.sampled_from([ClockKind.RESPONSE, ClockKind.REVIEW_REQUEST]))
def test_foisa_due_not_after_foia_due(start: date, clock: ClockKind) -> None:
    assert deadline(start, Regime.FOISA, clock).due <= deadline(start, Regime.FOIA, clock).due


@given(calendars, starts, days, days)
def test_additive(cal: WorkingDayCalendar, start: date, a: int, b: int) -> None:
    assert cal.add_working_days(start, a + b) == cal.add_working_days(
        cal.add_working_days(start, a), b
    )


@given(calendars, starts, days)
def test_between_inverts_add(cal: WorkingDayCalendar, start: date, n: int) -> None:
    assert cal.working_days_between(start, cal.add_working_days(start, n)) == n


@given(calendars, starts, st.integers(min_value=0, max_value=120))
def test_bisect_matches_naive(cal: WorkingDayCalendar, start: date, n: int) -> None:
    assert cal.add_working_days(start, n) == naive_add_working_days(cal, start, n)


@given(calendars, starts)
def test_is_working_day_matches_naive(cal: WorkingDayCalendar, d: date) -> None:
    assert cal.is_working_day(d) is naive_is_working_day(cal, d)


@given(calendars, starts, st.integers(min_value=0, max_value=120))
def test_holidays_skipped_matches_naive(cal: WorkingDayCalendar, start: date, length: int) -> None:
    end = start + timedelta(days=length)
    expected = [
        (start + timedelta(days=i), cal.holidays[start + timedelta(days=i)])
        for i in range(1, length + 1)
        if (start + timedelta(days=i)).weekday() < 5 and start + timedelta(days=i) in cal.holidays
    ]
    assert cal.holidays_skipped(start, end) == expected
    # Every day in (start, end] is a working day, a weekend day or a skipped holiday.
    assert (
        cal.working_days_between(start, end)
        + len(expected)
        + sum((start + timedelta(days=i)).weekday() >= 5 for i in range(1, length + 1))
        == length
    )


@given(starts, st.sampled_from(list(Regime)), st.sampled_from(list(ClockKind)))
def test_deadline_never_before_start(start: date, regime: Regime, clock: ClockKind) -> None:
    if regime is Regime.FOISA and clock is ClockKind.EXTENSION:
        return
    d = deadline(start, regime, clock)
    assert d.due > start
    assert all(start < day <= d.due for day, _ in d.holidays_skipped)
