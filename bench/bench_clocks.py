"""Time working-day queries: the bisect calendar against a naive day-by-day walk.

Run with ``python bench/bench_clocks.py``. Prints figures only; nothing is asserted.
"""

from __future__ import annotations

import random
import time
from datetime import date, timedelta

from foibot.domain.calendar import UK_SUBDIVISIONS, WorkingDayCalendar, build_holiday_map

QUERIES = 100_000
NAIVE_QUERIES = 5_000
SEED = 20240601
FIRST, LAST = date(2000, 1, 1).toordinal(), date(2090, 12, 31).toordinal()


def naive_add_working_days(holidays: dict[date, str], start: date, n: int) -> date:
    d, counted = start, 0
    while counted < n:
        d += timedelta(days=1)
        if d.weekday() < 5 and d not in holidays:
            counted += 1
    return d


def main() -> None:
    rng = random.Random(SEED)
    queries = [
        (date.fromordinal(rng.randint(FIRST, LAST)), rng.randint(1, 60)) for _ in range(QUERIES)
    ]

    t0 = time.perf_counter()
    holidays = build_holiday_map(UK_SUBDIVISIONS)
    t1 = time.perf_counter()
    cal = WorkingDayCalendar("UK (union of ENG, WLS, SCT, NIR)", holidays)
    t2 = time.perf_counter()
    print(f"calendar build: holidays data {t1 - t0:.3f} s + index {t2 - t1:.3f} s")

    add = cal.add_working_days
    t0 = time.perf_counter()
    for start, n in queries:
        add(start, n)
    bisect_total = time.perf_counter() - t0
    bisect_per = bisect_total / QUERIES

    sample = queries[:NAIVE_QUERIES]
    t0 = time.perf_counter()
    for start, n in sample:
        naive_add_working_days(holidays, start, n)
    naive_sample = time.perf_counter() - t0
    naive_per = naive_sample / NAIVE_QUERIES

    # Same answers on the sample (a sanity check of the benchmark, not a timing assert).
    mismatches = sum(add(s, n) != naive_add_working_days(holidays, s, n) for s, n in sample)

    print(f"bisect: {QUERIES:,} queries in {bisect_total:.3f} s = {1 / bisect_per:,.0f} queries/s")
    print(
        f"naive:  {NAIVE_QUERIES:,} queries in {naive_sample:.3f} s = {1 / naive_per:,.0f} "
        f"queries/s (scaled to {QUERIES:,}: {naive_per * QUERIES:.3f} s)"
    )
    print(f"speed-up: {naive_per / bisect_per:.1f}x   (mismatches on the sample: {mismatches})")


if __name__ == "__main__":
    main()
