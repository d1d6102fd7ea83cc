"""Statutory clocks, checked against hand-worked dates on the real calendars.

Every expected date below was worked out by hand from the bank-holiday lists (and
cross-checked with a throwaway day-by-day count outside this file). Day 0 is the start
day; the due date is the N-th working day after it.
"""

from __future__ import annotations

from datetime import date

import pytest

from foibot.domain.clocks import (
    REVIEW_RESPONSE_MAX_FOIA,
    ClockKind,
    ClockNotApplicable,
    Deadline,
    add_calendar_months,
    basis_for,
    deadline,
    working_days_for,
)
from foibot.domain.regimes import Regime

D = date.fromisoformat
FOIA, EIR, FOISA, EISR = Regime.FOIA, Regime.EIR, Regime.FOISA, Regime.EISR
RESP = ClockKind.RESPONSE
EXT = ClockKind.EXTENSION
RREQ = ClockKind.REVIEW_REQUEST
RRESP = ClockKind.REVIEW_RESPONSE
REG = ClockKind.REGULATOR


# --- DESIGN.md section 1 worked examples (FOIA, UK-union calendar) ---------------------


@pytest.mark.parametrize(
    ("received", "due", "responded", "review_by"),
    [
        # No holiday inside (11 Feb, 10 Mar]; review window skips St Patrick's Day
        # 17 Mar (NI), Good Friday 10 Apr and Easter Monday 13 Apr 2020.
        ("2020-02-11", "2020-03-10", "2020-02-24", "2020-04-23"),
        # Good Friday 10 Apr + Easter Monday 13 Apr skipped; review window also skips
        # 8 May (VE Day May Day) and 25 May (Spring Bank Holiday).
        ("2020-04-07", "2020-05-07", "2020-04-09", "2020-06-10"),
        # Spring Bank Holiday 25 May; review window also skips 13 Jul 2020 (NI Boyne
        # substitute for Sunday 12 Jul).
        ("2020-05-15", "2020-06-15", "2020-05-18", "2020-07-15"),
        # Spring Bank Holiday Thu 2 Jun + Platinum Jubilee Fri 3 Jun 2022; review window
        # skips 12 Jul (NI) and 1 Aug (Scottish summer bank holiday).
        ("2022-05-10", "2022-06-09", "2022-06-06", "2022-08-03"),
    ],
)
def test_design_worked_examples(received: str, due: str, responded: str, review_by: str) -> None:
    response = deadline(D(received), FOIA, RESP)
    assert response.due == D(due)
    assert D(responded) <= response.due  # on time
    assert deadline(D(responded), FOIA, RREQ).due == D(review_by)


# --- hand-checked table ----------------------------------------------------------------

CASES: list[tuple[Regime, ClockKind, str, str]] = [
    # Christmas/New Year 2020-21: 25 Dec (Fri), 28 Dec (Boxing Day substitute for Sat
    # 26th), 1 Jan (Fri), 4 Jan (Scottish substitute for Sat 2 Jan) all skipped; FOIA
    # skips 4 Jan too because the union includes Scottish days.
    (FOIA, RESP, "2020-12-10", "2021-01-13"),
    (FOISA, RESP, "2020-12-10", "2021-01-13"),
    # Christmas/New Year 2021-22: 25/26 Dec and 1/2 Jan all on weekends; substitutes
    # 27 + 28 Dec, 3 Jan (New Year's Day) and 4 Jan (Scottish 2 January) skipped.
    (FOIA, RESP, "2021-12-15", "2022-01-18"),
    (FOISA, RESP, "2021-12-15", "2022-01-18"),
    # Received on Christmas Eve 2021 (Fri): same four substitute days skipped.
    (FOIA, RESP, "2021-12-24", "2022-01-27"),
    # Christmas 2019 / 2 January 2020: 25, 26 Dec, 1 Jan and 2 Jan (Scotland) skipped.
    (FOIA, RESP, "2019-12-20", "2020-01-23"),
    (FOISA, RESP, "2019-12-20", "2020-01-23"),
    # Christmas 2023: 25, 26 Dec, 1 Jan and 2 Jan 2024 (Scotland) skipped by both.
    (FOISA, RESP, "2023-12-22", "2024-01-25"),
    # Millennium: 27 + 28 Dec 1999 substitutes, 31 Dec 1999 (Millennium), 3 Jan and
    # 4 Jan 2000 substitutes (1/2 Jan were Sat/Sun).
    (FOIA, RESP, "1999-12-20", "2000-01-24"),
    # Easter 2020: FOIA skips Good Friday 10 Apr + Easter Monday 13 Apr; FOISA only Good
    # Friday (Easter Monday is not a Scottish bank holiday), so FOISA is one day earlier.
    (FOIA, RESP, "2020-04-01", "2020-05-01"),
    (FOISA, RESP, "2020-04-01", "2020-04-30"),
    (EISR, RESP, "2020-04-01", "2020-04-30"),
    # Easter 2024: received Maundy Thursday 28 Mar; Good Friday 29 Mar + Easter Monday
    # 1 Apr for FOIA, Good Friday only for FOISA.
    (FOIA, RESP, "2024-03-28", "2024-04-29"),
    (FOISA, RESP, "2024-03-28", "2024-04-26"),
    # Received on Easter Monday 2021 (a holiday for FOIA, a working day for FOISA): day
    # 0 either way; May Day 3 May skipped by both.
    (FOIA, RESP, "2021-04-05", "2021-05-04"),
    (FOISA, RESP, "2021-04-05", "2021-05-04"),
    # 2011: Good Friday 22 Apr, Easter Monday 25 Apr (FOIA only), Royal Wedding 29 Apr,
    # May Day 2 May.
    (FOIA, RESP, "2011-04-20", "2011-05-24"),
    (FOISA, RESP, "2011-04-20", "2011-05-23"),
    # Platinum Jubilee 2022: Spring Bank Holiday Thu 2 Jun + Jubilee Fri 3 Jun.
    (FOIA, RESP, "2022-05-25", "2022-06-24"),
    (FOISA, RESP, "2022-05-25", "2022-06-24"),
    # State Funeral of Elizabeth II, Mon 19 Sep 2022.
    (FOIA, RESP, "2022-09-01", "2022-09-30"),
    # Coronation of Charles III Mon 8 May 2023 + Early May bank holiday Mon 1 May.
    (FOIA, RESP, "2023-04-20", "2023-05-22"),
    # St Andrew's Day Wed 30 Nov 2022: a Scottish bank holiday, so FOIA (union) skips
    # it as well as FOISA.
    (FOIA, RESP, "2022-11-15", "2022-12-14"),
    (FOISA, RESP, "2022-11-15", "2022-12-14"),
    # St Andrew's Day Sat 30 Nov 2024: substitute Mon 2 Dec skipped by both.
    (FOIA, RESP, "2024-11-20", "2024-12-19"),
    (EISR, RESP, "2024-11-20", "2024-12-19"),
    # Scottish summer bank holiday Mon 1 Aug 2022 (first Monday of August): both skip it.
    (FOIA, RESP, "2022-07-20", "2022-08-18"),
    (FOISA, RESP, "2022-07-20", "2022-08-18"),
    # St Patrick's Day Thu 17 Mar 2022 (NI only): FOIA skips it, FOISA does not.
    (FOIA, RESP, "2022-03-01", "2022-03-30"),
    (FOISA, RESP, "2022-03-01", "2022-03-29"),
    # Battle of the Boyne Tue 12 Jul 2022 (NI only) + Scottish 1 Aug: FOIA skips both and
    # runs into August; FOISA skips neither (1 Aug is after its due date).
    (FOIA, RESP, "2022-07-01", "2022-08-02"),
    (EIR, RESP, "2022-07-01", "2022-08-02"),
    (FOISA, RESP, "2022-07-01", "2022-07-29"),
    # Received Sat 1 Jan 2022 (New Year's Day, weekend): day 0 anyway; 3 + 4 Jan skipped.
    (FOIA, RESP, "2022-01-01", "2022-02-01"),
    # Received Sunday 15 Jan 2023: Mon 16 Jan is day 1; no holidays -> Fri 10 Feb.
    (FOIA, RESP, "2023-01-15", "2023-02-10"),
    # Received on Spring Bank Holiday Mon 29 May 2023: day 0; Tue 30 May is day 1.
    (FOIA, RESP, "2023-05-29", "2023-06-26"),
    # Received Christmas Day 2022 (Sunday): 26, 27 Dec, 2, 3 Jan 2023 skipped.
    (FOIA, RESP, "2022-12-25", "2023-01-26"),
    # Extensions, 40 WD in total from receipt.
    # EIR reg 7(1) and FOIA s.10(3): 2 + 3 Jun 2022 skipped.
    (EIR, EXT, "2022-05-10", "2022-07-07"),
    (FOIA, EXT, "2022-05-10", "2022-07-07"),
    # EISR reg 7(1), same dates (no NI/E-W-only day inside).
    (EISR, EXT, "2022-05-10", "2022-07-07"),
    # From 1 Mar 2023: FOIA/EIR skip 17 Mar, Good Friday 7 Apr, Easter Monday 10 Apr,
    # May Day 1 May; EISR only Good Friday 7 Apr.
    (EIR, EXT, "2023-03-01", "2023-05-02"),
    (EISR, EXT, "2023-03-01", "2023-04-27"),
    # Over Christmas 2022: 26, 27 Dec, 2, 3 Jan skipped.
    (EIR, EXT, "2022-12-23", "2023-02-23"),
    # Review requests, 40 WD.
    # EIR reg 11(2) from 1 Apr 2020: 10 Apr, 13 Apr, 8 May, 25 May skipped.
    (EIR, RREQ, "2020-04-01", "2020-06-02"),
    # FOISA s.20(5) counted from the day the response was due (29 Mar 2022, no response):
    # Good Friday 15 Apr and May Day 2 May skipped (no Easter Monday).
    (FOISA, RREQ, "2022-03-29", "2022-05-26"),
    # EISR reg 16(2), same calendar as FOISA: 10 Apr, 8 May, 25 May 2020 skipped.
    (EISR, RREQ, "2020-04-01", "2020-06-01"),
    # Review responses: EIR 40 WD (reg 11(4)) against FOIA 20 WD from 1 Mar 2023.
    (EIR, RRESP, "2023-03-01", "2023-05-02"),
    (FOIA, RRESP, "2023-03-01", "2023-03-30"),  # 17 Mar (NI) skipped
    (FOISA, RRESP, "2023-03-01", "2023-03-29"),  # s.21(1); 17 Mar not Scottish
    (EISR, RRESP, "2023-03-01", "2023-03-29"),  # reg 16(4)
    (FOISA, RRESP, "2021-11-22", "2021-12-21"),  # St Andrew's Day Tue 30 Nov 2021
    # Regulator windows: ICO 6 weeks = 42 calendar days, holidays irrelevant.
    (FOIA, REG, "2023-01-10", "2023-02-21"),
    (EIR, REG, "2022-12-20", "2023-01-31"),
    # SIC 6 calendar months (FOISA s.47(4)(b)), day clamped to the month's end.
    (FOISA, REG, "2023-08-31", "2024-02-29"),  # 2024 is a leap year
    (FOISA, REG, "2022-08-31", "2023-02-28"),
    (EISR, REG, "2023-03-31", "2023-09-30"),
    (FOISA, REG, "2022-06-15", "2022-12-15"),
    (FOISA, REG, "2022-07-20", "2023-01-20"),  # across the year end
]


@pytest.mark.parametrize(
    ("regime", "clock", "start", "due"),
    CASES,
    ids=[f"{r}-{c}-{s}" for r, c, s, _ in CASES],
)
def test_deadline_table(regime: Regime, clock: ClockKind, start: str, due: str) -> None:
    d = deadline(D(start), regime, clock)
    assert d.due == D(due)
    assert d.start == D(start)
    assert d.regime is regime
    assert d.clock is clock


def test_table_is_large_enough() -> None:
    assert len(CASES) >= 25


# --- what a Deadline carries -----------------------------------------------------------


def test_deadline_fields_foia_response() -> None:
    d = deadline(D("2022-05-10"), FOIA, RESP)
    assert d == Deadline(
        start=D("2022-05-10"),
        regime=FOIA,
        clock=RESP,
        working_days=20,
        due=D("2022-06-09"),
        calendar_name="UK (union of ENG, WLS, SCT, NIR)",
        holidays_skipped=(
            (D("2022-06-02"), "Spring Bank Holiday"),
            (D("2022-06-03"), "Platinum Jubilee of Elizabeth II"),
        ),
        basis="FOIA s.10(1)",
    )


def test_deadline_fields_foisa_review_request() -> None:
    d = deadline(D("2022-03-29"), FOISA, RREQ)
    assert d.working_days == 40
    assert d.calendar_name == "Scotland"
    assert d.holidays_skipped == ((D("2022-04-15"), "Good Friday"), (D("2022-05-02"), "May Day"))
    assert d.basis == "FOISA s.20(5)"


def test_deadline_fields_regulator() -> None:
    ico = deadline(D("2023-01-10"), FOIA, REG)
    assert ico.working_days is None
    assert ico.holidays_skipped == ()
    assert ico.calendar_name == "6 weeks"
    assert "ICO" in ico.basis
    sic = deadline(D("2023-08-31"), FOISA, REG)
    assert sic.working_days is None
    assert sic.calendar_name == "6 calendar months"
    assert "s.47(4)(b)" in sic.basis


def test_deadline_is_frozen() -> None:
    d = deadline(D("2022-05-10"), FOIA, RESP)
    with pytest.raises(AttributeError):
        d.due = D("2022-06-10")  # type: ignore[misc]


def test_foisa_and_foia_differ_on_the_same_start() -> None:
    start = D("2020-04-01")
    foia, foisa = deadline(start, FOIA, RESP), deadline(start, FOISA, RESP)
    assert foisa.due < foia.due
    assert (D("2020-04-13"), "Easter Monday") in foia.holidays_skipped
    assert all(name != "Easter Monday" for _, name in foisa.holidays_skipped)


# --- lengths and citations -------------------------------------------------------------


@pytest.mark.parametrize(
    ("regime", "clock", "days", "basis"),
    [
        (FOIA, RESP, 20, "FOIA s.10(1)"),
        (EIR, RESP, 20, "EIR reg 5(2)"),
        (FOISA, RESP, 20, "FOISA s.10(1)"),
        (EISR, RESP, 20, "EISR reg 5(2)"),
        (FOIA, EXT, 40, "FOIA s.10(3)"),
        (EIR, EXT, 40, "EIR reg 7(1)"),
        (EISR, EXT, 40, "EISR reg 7(1)"),
        (FOIA, RREQ, 40, "Code of Practice (2018) para 5.4"),
        (EIR, RREQ, 40, "EIR reg 11(2)"),
        (FOISA, RREQ, 40, "FOISA s.20(5)"),
        (EISR, RREQ, 40, "EISR reg 16(2)"),
        (FOIA, RRESP, 20, "Code of Practice"),
        (EIR, RRESP, 40, "EIR reg 11(4)"),
        (FOISA, RRESP, 20, "FOISA s.21(1)"),
        (EISR, RRESP, 20, "EISR reg 16(4)"),
    ],
)
def test_working_days_and_basis(regime: Regime, clock: ClockKind, days: int, basis: str) -> None:
    assert working_days_for(regime, clock) == days
    assert basis in basis_for(regime, clock)
    assert basis in deadline(D("2022-05-10"), regime, clock).basis


def test_review_response_max_foia() -> None:
    assert REVIEW_RESPONSE_MAX_FOIA == 40
    assert working_days_for(FOIA, RRESP) == 20


def test_foisa_has_no_extension() -> None:
    with pytest.raises(ClockNotApplicable, match=r"FOISA has no extension.*s\.10\(1\)"):
        deadline(D("2022-05-10"), FOISA, EXT)
    with pytest.raises(ClockNotApplicable, match="FOISA has no extension"):
        working_days_for(FOISA, EXT)
    # It is a ValueError, so callers that catch ValueError see it too.
    assert issubclass(ClockNotApplicable, ValueError)


@pytest.mark.parametrize("regime", list(Regime))
def test_regulator_clock_has_no_working_days(regime: Regime) -> None:
    with pytest.raises(ClockNotApplicable, match="calendar period"):
        working_days_for(regime, REG)


def test_clock_kind_values() -> None:
    assert [c.value for c in ClockKind] == [
        "response",
        "extension",
        "review-request",
        "review-response",
        "regulator",
    ]


# --- add_calendar_months ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        ("2023-08-31", 6, "2024-02-29"),
        ("2022-08-31", 6, "2023-02-28"),
        ("2023-01-31", 1, "2023-02-28"),
        ("2024-01-31", 1, "2024-02-29"),
        ("2023-03-31", 1, "2023-04-30"),
        ("2023-05-15", 0, "2023-05-15"),
        ("2023-12-01", 1, "2024-01-01"),
        ("2023-07-31", 18, "2025-01-31"),
        ("2100-12-31", 12, "2101-12-31"),  # pure date arithmetic, no calendar range
    ],
)
def test_add_calendar_months(start: str, months: int, expected: str) -> None:
    assert add_calendar_months(D(start), months) == D(expected)


def test_add_calendar_months_rejects_negative_and_overflow() -> None:
    with pytest.raises(ValueError, match="must be >= 0"):
        add_calendar_months(D("2023-05-15"), -1)
    with pytest.raises(ValueError, match="beyond year 9999"):
        add_calendar_months(date(9999, 12, 1), 1)


# --- out of range ----------------------------------------------------------------------


def test_deadline_out_of_range() -> None:
    with pytest.raises(ValueError, match="start date 1989-12-31 is outside the supported range"):
        deadline(D("1989-12-31"), FOIA, RESP)
    with pytest.raises(ValueError, match="falls after 2100-12-31"):
        deadline(D("2100-12-20"), FOISA, RREQ)
