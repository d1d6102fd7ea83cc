"""Working-day calendars: the FOIA/EIR UK-union calendar and the FOISA/EISR Scottish one."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from dateutil.easter import easter

from foibot.domain.calendar import (
    SCOTLAND_CALENDAR_NAME,
    UK_UNION_CALENDAR_NAME,
    WorkingDayCalendar,
    build_holiday_map,
    calendar_for,
    easter_sunday,
    scotland_calendar,
    uk_union_calendar,
)
from foibot.domain.regimes import Regime

D = date.fromisoformat
UNION = uk_union_calendar()
SCOT = scotland_calendar()
CALS = {"union": UNION, "scotland": SCOT}


def test_calendars_are_cached_singletons() -> None:
    assert uk_union_calendar() is UNION
    assert scotland_calendar() is SCOT
    assert UNION.name == UK_UNION_CALENDAR_NAME == "UK (union of ENG, WLS, SCT, NIR)"
    assert SCOT.name == SCOTLAND_CALENDAR_NAME == "Scotland"
    assert "1990-01-01..2100-12-31" in repr(UNION)


@pytest.mark.parametrize(
    ("regime", "expected"),
    [
        (Regime.FOIA, "union"),
        (Regime.EIR, "union"),
        (Regime.FOISA, "scotland"),
        (Regime.EISR, "scotland"),
    ],
)
def test_calendar_for_regime(regime: Regime, expected: str) -> None:
    assert calendar_for(regime) is CALS[expected]


# --- which days are working days -------------------------------------------------------


@pytest.mark.parametrize(
    ("cal", "day", "working"),
    [
        ("union", "2022-06-01", True),  # ordinary Wednesday
        ("union", "2022-06-04", False),  # Saturday
        ("union", "2022-06-05", False),  # Sunday
        ("union", "2022-06-03", False),  # Platinum Jubilee (proclaimed, all nations)
        ("scotland", "2022-06-03", False),
        ("union", "2022-09-19", False),  # State Funeral of Elizabeth II
        ("scotland", "2022-09-19", False),
        ("union", "2023-05-08", False),  # Coronation of Charles III
        ("scotland", "2023-05-08", False),
        ("union", "2020-04-13", False),  # Easter Monday: E/W/NI bank holiday
        ("scotland", "2020-04-13", True),  # ...not a bank holiday in Scotland
        ("union", "2022-03-17", False),  # St Patrick's Day (NI only): FOIA skips it
        ("scotland", "2022-03-17", True),
        ("union", "2022-07-12", False),  # Battle of the Boyne (NI only)
        ("scotland", "2022-07-12", True),
        ("union", "2020-07-13", False),  # 12 Jul 2020 was a Sunday: NI substitute Monday
        ("scotland", "2020-07-13", True),
        ("union", "2022-08-01", False),  # Scottish summer bank holiday: in the union too
        ("scotland", "2022-08-01", False),
        ("union", "2022-08-29", False),  # E/W/NI late summer bank holiday
        ("scotland", "2022-08-29", True),
        ("union", "2022-11-30", False),  # St Andrew's Day (Scotland): in the union too
        ("scotland", "2022-11-30", False),
        ("union", "2024-12-02", False),  # St Andrew's Day 2024 was a Saturday: substitute
        ("union", "2020-01-02", False),  # 2 January (Scotland only): in the union too
        ("scotland", "2020-01-02", False),
        ("union", "2022-01-04", False),  # 2 Jan 2022 was a Sunday: Scottish substitute
        ("union", "2022-01-05", True),
        ("union", "2021-12-27", False),  # Christmas Day 2021 (Sat) substitute
        ("union", "2021-12-28", False),  # Boxing Day 2021 (Sun) substitute
        ("union", "2021-12-29", True),
        ("union", "1999-12-31", False),  # Millennium bank holiday
    ],
)
def test_is_working_day(cal: str, day: str, working: bool) -> None:
    assert CALS[cal].is_working_day(D(day)) is working


# --- add_working_days on the calendars directly -----------------------------------------


@pytest.mark.parametrize(
    ("cal", "start", "n", "expected"),
    [
        ("union", "2022-06-01", 0, "2022-06-01"),  # n == 0 is the start itself
        ("union", "2022-06-04", 0, "2022-06-04"),  # even when it is a Saturday
        ("union", "2022-06-01", 1, "2022-06-06"),  # Thu 2 + Fri 3 Jun holidays, weekend
        ("scotland", "2022-06-01", 1, "2022-06-06"),
        ("union", "2022-06-03", 1, "2022-06-06"),  # start on a holiday: day 0 anyway
        ("union", "2023-01-13", 1, "2023-01-16"),  # Friday -> Monday
        ("union", "2020-04-09", 1, "2020-04-14"),  # Good Friday + Easter Monday
        ("scotland", "2020-04-09", 1, "2020-04-13"),  # Good Friday only
        ("union", "2100-12-01", 20, "2100-12-31"),  # last supported working day
    ],
)
def test_add_working_days(cal: str, start: str, n: int, expected: str) -> None:
    assert CALS[cal].add_working_days(D(start), n) == D(expected)


@pytest.mark.parametrize(
    ("cal", "start", "end", "count"),
    [
        ("union", "2022-06-01", "2022-06-01", 0),
        ("union", "2022-06-01", "2022-06-06", 1),
        ("union", "2020-12-10", "2021-01-13", 20),
        ("scotland", "2020-04-01", "2020-04-30", 20),
        ("union", "2020-04-01", "2020-04-30", 19),  # Easter Monday counts against FOIA
        ("union", "2022-01-01", "2022-01-04", 0),  # Sat, Sun, two substitute days
    ],
)
def test_working_days_between(cal: str, start: str, end: str, count: int) -> None:
    assert CALS[cal].working_days_between(D(start), D(end)) == count


# --- holidays_skipped ------------------------------------------------------------------


def test_holidays_skipped_christmas_2021_lists_substitutes_not_weekend_days() -> None:
    # 25/26 Dec 2021 and 1/2 Jan 2022 fell on weekends: the substitute days are listed,
    # the weekend days themselves are not (the weekend is skipped anyway).
    got = UNION.holidays_skipped(D("2021-12-15"), D("2022-01-18"))
    assert got == [
        (D("2021-12-27"), "Christmas Day (observed)"),
        (D("2021-12-28"), "Boxing Day (observed)"),
        (D("2022-01-03"), "New Year's Day (observed)"),
        (D("2022-01-04"), "New Year Holiday (observed)"),
    ]
    for weekend_day in ("2021-12-25", "2021-12-26", "2022-01-01", "2022-01-02"):
        assert UNION.holiday_name(D(weekend_day)) is not None
        assert D(weekend_day) not in dict(got)


def test_holidays_skipped_easter_2020_differs_between_calendars() -> None:
    start, end = D("2020-04-01"), D("2020-05-01")
    assert UNION.holidays_skipped(start, end) == [
        (D("2020-04-10"), "Good Friday"),
        (D("2020-04-13"), "Easter Monday"),
    ]
    assert SCOT.holidays_skipped(start, end) == [(D("2020-04-10"), "Good Friday")]


def test_holidays_skipped_is_half_open() -> None:
    # (start, end]: a holiday on the start day is not skipped, one on the end day is.
    assert UNION.holidays_skipped(D("2022-06-03"), D("2022-06-06")) == []
    assert UNION.holidays_skipped(D("2022-06-02"), D("2022-06-03")) == [
        (D("2022-06-03"), "Platinum Jubilee of Elizabeth II")
    ]


def test_holidays_skipped_regional_days_named() -> None:
    got = dict(UNION.holidays_skipped(D("2020-01-01"), D("2020-12-31")))
    assert got[D("2020-01-02")] == "New Year Holiday"  # Scotland
    assert got[D("2020-03-17")] == "Saint Patrick's Day"  # NI
    assert got[D("2020-07-13")] == "Battle of the Boyne (observed)"  # NI, 12 Jul a Sunday
    assert got[D("2020-08-03")] == "Summer Bank Holiday"  # Scotland
    assert got[D("2020-08-31")] == "Late Summer Bank Holiday"  # E/W/NI
    assert got[D("2020-11-30")] == "Saint Andrew's Day"  # Scotland
    assert D("2020-12-26") not in got  # Boxing Day 2020 was a Saturday...
    assert got[D("2020-12-28")] == "Boxing Day (observed)"  # ...substitute Monday


def test_names_from_several_subdivisions_are_joined() -> None:
    # 1 Jan 2023 was a Sunday: E/W/NI moved New Year's Day to Mon 2 Jan; Scotland's
    # 2 January holiday fell on that Monday too (and moved to Tue 3 Jan).
    assert UNION.holiday_name(D("2023-01-02")) == "New Year's Day (observed); New Year Holiday"
    assert SCOT.holiday_name(D("2023-01-02")) == "New Year Holiday; New Year's Day (observed)"
    assert UNION.holiday_name(D("2023-01-03")) == "New Year Holiday (observed)"


def test_scotland_holidays_are_a_subset_of_the_union() -> None:
    assert set(SCOT.holidays) <= set(UNION.holidays)
    assert "Easter Monday" not in " ".join(SCOT.holidays.values())
    assert "Saint Patrick" not in " ".join(SCOT.holidays.values())


@pytest.mark.parametrize("cal", ["union", "scotland"])
def test_christmas_day_and_good_friday_every_supported_year(cal: str) -> None:
    # FOIA s.10(6) names Christmas Day and Good Friday; FOISA s.73 names Christmas Day
    # and Good Friday is a Scottish bank holiday under the 1971 Act Sch. 1.
    c = CALS[cal]
    for year in range(1990, 2101):
        christmas = date(year, 12, 25)
        good_friday = easter(year) - timedelta(days=2)
        assert c.holiday_name(christmas) is not None, christmas
        assert "Christmas Day" in (c.holiday_name(christmas) or "")
        assert "Good Friday" in (c.holiday_name(good_friday) or ""), good_friday
        assert not c.is_working_day(good_friday)
        assert not c.is_working_day(christmas)


def test_easter_computus_matches_dateutil() -> None:
    for year in range(1583, 3000):
        assert easter_sunday(year) == easter(year), year


def test_statutory_days_added_when_data_lacks_them() -> None:
    # A calendar built from subdivisions with no data at all (empty iterable) still has
    # Christmas Day and Good Friday.
    m = build_holiday_map((), first_year=2024, last_year=2024)
    assert m == {D("2024-03-29"): "Good Friday", D("2024-12-25"): "Christmas Day"}


# --- a hand-made calendar --------------------------------------------------------------


def test_custom_calendar() -> None:
    cal = WorkingDayCalendar(
        "test",
        {D("2024-01-01"): "New Year", D("2024-01-06"): "Sat holiday", D("2030-01-01"): "x"},
        first_year=2024,
        last_year=2024,
    )
    assert cal.name == "test"
    assert list(cal.holidays) == [D("2024-01-01"), D("2024-01-06")]  # 2030 ignored
    assert cal.add_working_days(D("2024-01-01"), 1) == D("2024-01-02")
    assert cal.add_working_days(D("2024-01-05"), 1) == D("2024-01-08")
    assert cal.is_working_day(D("2024-01-01")) is False
    assert cal.is_working_day(D("2024-12-31")) is True
    # 1 Jan is not in (1 Jan, 31 Jan]; the Saturday holiday is not "skipped".
    assert cal.holidays_skipped(D("2024-01-01"), D("2024-01-31")) == []
    # 2024 has 262 weekdays; (1 Jan, 31 Dec] leaves out Monday 1 Jan.
    assert cal.working_days_between(D("2024-01-01"), D("2024-12-31")) == 261
    with pytest.raises(
        ValueError, match="end of the supported range of the test working-day calendar"
    ):
        cal.add_working_days(D("2024-12-31"), 1)
    with pytest.raises(ValueError, match="first_year 2025 is after last_year 2024"):
        WorkingDayCalendar("bad", {}, first_year=2025, last_year=2024)


# --- range and argument errors ---------------------------------------------------------


def test_start_before_range() -> None:
    with pytest.raises(ValueError, match=r"start date 1989-12-31 is outside the supported range"):
        UNION.add_working_days(D("1989-12-31"), 1)


def test_result_after_range() -> None:
    with pytest.raises(ValueError, match=r"falls after 2100-12-31"):
        UNION.add_working_days(D("2100-12-01"), 21)


def test_negative_days() -> None:
    with pytest.raises(ValueError, match=r"must be >= 0, got -1"):
        UNION.add_working_days(D("2022-06-01"), -1)


@pytest.mark.parametrize("day", ["1989-12-31", "2101-01-01"])
def test_is_working_day_out_of_range(day: str) -> None:
    with pytest.raises(ValueError, match=r"outside the supported range .*1990-01-01 to 2100-12-31"):
        SCOT.is_working_day(D(day))


def test_between_and_skipped_reject_reversed_or_out_of_range() -> None:
    with pytest.raises(ValueError, match="is before start date"):
        UNION.working_days_between(D("2022-06-02"), D("2022-06-01"))
    with pytest.raises(ValueError, match="is before start date"):
        UNION.holidays_skipped(D("2022-06-02"), D("2022-06-01"))
    with pytest.raises(ValueError, match="end date 2101-01-01 is outside"):
        UNION.working_days_between(D("2022-06-01"), D("2101-01-01"))
    with pytest.raises(ValueError, match="end date 2101-01-01 is outside"):
        SCOT.holidays_skipped(D("2022-06-01"), D("2101-01-01"))
