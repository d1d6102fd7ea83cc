"""Working-day calendars for the statutory clocks.

The law (see DESIGN.md section 1):

* FOIA 2000 s.10(6): "working day" means any day other than a Saturday, a Sunday,
  Christmas Day, Good Friday or a day which is a bank holiday under the Banking and
  Financial Dealings Act 1971 *in any part of the United Kingdom*. A bank holiday in
  Scotland or Northern Ireland alone therefore stops the clock for an English authority
  too: the FOIA calendar is the union of the ENG, WLS, SCT and NIR bank holidays (ICO
  guidance LTT47 reads it the same way).
* EIR 2004 reg 2(1) defines "working day" by reference to FOIA s.10(6): same calendar.
* FOISA 2002 s.73: any day other than a Saturday, a Sunday, Christmas Day or a day
  which, under the 1971 Act, is a bank holiday *in Scotland*. Scottish days only: no
  Easter Monday, no 17 March, no 12 July. Good Friday is not named in s.73, but it is a
  Scottish bank holiday under the 1971 Act, Sch. 1 para 2, so it is excluded as well.
  EISR 2004 reg 2(1) borrows the FOISA definition.

The bank-holiday data comes from the ``holidays`` package (proclaimed one-off days and
substitute days included). Christmas Day and Good Friday are added unconditionally
because the statute excludes them whatever the data says.

Every calendar precomputes the sorted ordinals of its working days once, so a query is a
couple of ``bisect`` calls rather than a day-by-day walk.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from functools import lru_cache
from types import MappingProxyType

import holidays

from foibot.domain.regimes import Regime

__all__ = [
    "FIRST_SUPPORTED_YEAR",
    "LAST_SUPPORTED_YEAR",
    "SCOTLAND_CALENDAR_NAME",
    "UK_SUBDIVISIONS",
    "UK_UNION_CALENDAR_NAME",
    "WorkingDayCalendar",
    "build_holiday_map",
    "calendar_for",
    "easter_sunday",
    "scotland_calendar",
    "uk_union_calendar",
]

FIRST_SUPPORTED_YEAR = 1990
LAST_SUPPORTED_YEAR = 2100

UK_SUBDIVISIONS: tuple[str, ...] = ("ENG", "WLS", "SCT", "NIR")
UK_UNION_CALENDAR_NAME = "UK (union of ENG, WLS, SCT, NIR)"
SCOTLAND_CALENDAR_NAME = "Scotland"

_SATURDAY = 5  # date.weekday(): Monday == 0


def easter_sunday(year: int) -> date:
    """Easter Sunday in the Gregorian calendar (anonymous Gregorian / Meeus-Jones-Butcher).

    Computed here rather than imported from ``dateutil.easter`` because dateutil ships
    no type information and this module is checked with ``mypy --strict``; the tests
    check it against ``dateutil.easter.easter`` for every supported year.
    """
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    el = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * el) // 451
    month, day = divmod(h + el - 7 * m + 114, 31)
    return date(year, month, day + 1)


def build_holiday_map(
    subdivisions: Iterable[str],
    first_year: int = FIRST_SUPPORTED_YEAR,
    last_year: int = LAST_SUPPORTED_YEAR,
) -> dict[date, str]:
    """The union of the UK bank holidays of ``subdivisions``, plus the statutory days.

    Each subdivision is asked for explicitly: ``holidays.UnitedKingdom()`` without a
    subdivision silently drops Easter Monday and every regional day. (``country_holidays
    ("GB", subdiv=...)`` is the typed spelling of ``holidays.UnitedKingdom(subdiv=...)``.)
    When a date carries several names across subdivisions, the distinct names are joined
    with "; " in order of first appearance.

    Christmas Day (FOIA s.10(6), FOISA s.73) and Good Friday (FOIA s.10(6); a Scottish
    bank holiday under the 1971 Act Sch. 1) are added for every year even if the data
    lacks them.
    """
    years = range(first_year, last_year + 1)
    names: dict[date, list[str]] = {}

    def add(day: date, name: str) -> None:
        bucket = names.setdefault(day, [])
        if name not in bucket:
            bucket.append(name)

    for subdiv in subdivisions:
        data = holidays.country_holidays("GB", subdiv=subdiv, years=years)
        for day in sorted(data):
            for name in data.get_list(day):
                add(day, name)

    for year in years:
        for day, name in (
            (date(year, 12, 25), "Christmas Day"),
            (easter_sunday(year) - timedelta(days=2), "Good Friday"),
        ):
            # Only add the statutory name when the date is missing altogether, so that a
            # date already named (e.g. "Christmas Day") is not labelled twice.
            if day not in names:
                add(day, name)

    return {day: "; ".join(names[day]) for day in sorted(names)}


class WorkingDayCalendar:
    """Working days between 1 Jan ``first_year`` and 31 Dec ``last_year`` inclusive.

    A working day is a Monday-to-Friday that is not one of ``holidays``. Holidays outside
    the supported range are ignored.
    """

    __slots__ = (
        "_holiday_names",
        "_weekday_holiday_ordinals",
        "_working_ordinals",
        "first_day",
        "last_day",
        "name",
    )

    def __init__(
        self,
        name: str,
        holidays: Mapping[date, str],
        first_year: int = FIRST_SUPPORTED_YEAR,
        last_year: int = LAST_SUPPORTED_YEAR,
    ) -> None:
        if first_year > last_year:
            raise ValueError(f"first_year {first_year} is after last_year {last_year}")
        self.name = name
        self.first_day = date(first_year, 1, 1)
        self.last_day = date(last_year, 12, 31)
        first, last = self.first_day.toordinal(), self.last_day.toordinal()

        kept = {d: n for d, n in holidays.items() if self.first_day <= d <= self.last_day}
        self._holiday_names: Mapping[date, str] = MappingProxyType(dict(sorted(kept.items())))
        holiday_ordinals = {d.toordinal() for d in kept}
        # date.fromordinal(1) is Monday 1 Jan 0001, so (ordinal - 1) % 7 == weekday().
        self._working_ordinals: list[int] = [
            o
            for o in range(first, last + 1)
            if (o - 1) % 7 < _SATURDAY and o not in holiday_ordinals
        ]
        self._weekday_holiday_ordinals: list[int] = sorted(
            o for o in holiday_ordinals if (o - 1) % 7 < _SATURDAY
        )

    def __repr__(self) -> str:
        return (
            f"WorkingDayCalendar({self.name!r}, {self.first_day.isoformat()}.."
            f"{self.last_day.isoformat()}, {len(self._holiday_names)} holidays)"
        )

    @property
    def holidays(self) -> Mapping[date, str]:
        """Every holiday date in range (weekend ones included) with its name(s), sorted."""
        return self._holiday_names

    def holiday_name(self, d: date) -> str | None:
        """The name of the holiday on ``d``, or None."""
        return self._holiday_names.get(d)

    def _check(self, d: date, what: str) -> int:
        if not self.first_day <= d <= self.last_day:
            raise ValueError(
                f"{what} {d.isoformat()} is outside the supported range of the "
                f"{self.name} working-day calendar "
                f"({self.first_day.isoformat()} to {self.last_day.isoformat()})"
            )
        return d.toordinal()

    def is_working_day(self, d: date) -> bool:
        o = self._check(d, "date")
        i = bisect_left(self._working_ordinals, o)
        return i < len(self._working_ordinals) and self._working_ordinals[i] == o

    def add_working_days(self, start: date, n: int) -> date:
        """The ``n``-th working day strictly after ``start``.

        ``start`` (the day of receipt) is day 0 even when it is a weekend or a holiday;
        ``n == 0`` returns ``start`` itself.
        """
        if n < 0:
            raise ValueError(f"number of working days must be >= 0, got {n}")
        o = self._check(start, "start date")
        if n == 0:
            return start
        index = bisect_right(self._working_ordinals, o) + n - 1
        if index >= len(self._working_ordinals):
            raise ValueError(
                f"{n} working days after {start.isoformat()} falls after "
                f"{self.last_day.isoformat()}, the end of the supported range of the "
                f"{self.name} working-day calendar"
            )
        return date.fromordinal(self._working_ordinals[index])

    def working_days_between(self, start: date, end: date) -> int:
        """The number of working days in the half-open interval (start, end].

        0 when ``end == start``; ValueError when ``end`` is before ``start``.
        """
        s = self._check(start, "start date")
        e = self._check(end, "end date")
        if e < s:
            raise ValueError(f"end date {end.isoformat()} is before start date {start.isoformat()}")
        return bisect_right(self._working_ordinals, e) - bisect_right(self._working_ordinals, s)

    def holidays_skipped(self, start: date, end: date) -> list[tuple[date, str]]:
        """The holidays falling on a weekday in (start, end], sorted, with their names.

        A holiday on a Saturday or Sunday is not listed: the weekend is skipped anyway
        (any substitute weekday is itself a listed holiday).
        """
        s = self._check(start, "start date")
        e = self._check(end, "end date")
        if e < s:
            raise ValueError(f"end date {end.isoformat()} is before start date {start.isoformat()}")
        lo = bisect_right(self._weekday_holiday_ordinals, s)
        hi = bisect_right(self._weekday_holiday_ordinals, e)
        out: list[tuple[date, str]] = []
        for o in self._weekday_holiday_ordinals[lo:hi]:
            d = date.fromordinal(o)
            out.append((d, self._holiday_names[d]))
        return out


@lru_cache(maxsize=1)
def uk_union_calendar() -> WorkingDayCalendar:
    """The FOIA/EIR calendar: bank holidays in any part of the UK (FOIA s.10(6))."""
    return WorkingDayCalendar(UK_UNION_CALENDAR_NAME, build_holiday_map(UK_SUBDIVISIONS))


@lru_cache(maxsize=1)
def scotland_calendar() -> WorkingDayCalendar:
    """The FOISA/EISR calendar: Scottish bank holidays only (FOISA s.73)."""
    return WorkingDayCalendar(SCOTLAND_CALENDAR_NAME, build_holiday_map(("SCT",)))


def calendar_for(regime: Regime) -> WorkingDayCalendar:
    """FOIA/EIR count on the UK-union calendar, FOISA/EISR on the Scottish one."""
    return scotland_calendar() if regime.is_scottish else uk_union_calendar()
