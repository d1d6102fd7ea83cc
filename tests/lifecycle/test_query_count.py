"""`requests list` costs a fixed number of SQL queries, however many requests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

from sqlalchemy import event

from foibot.services.requests import list_requests
from foibot.store.db import Database
from tests import factories as f


@contextmanager
def counting(db: Database) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def populate(db: Database, n: int, campaign: str) -> None:
    with db.transaction() as s:
        c = f.campaign(s, campaign)
        for i in range(n):
            a = f.authority(
                s,
                f"{campaign} council {i}",
                f"foi{i}@{campaign}-{i}.gov.uk",
                "Scotland" if i % 5 == 0 else "England",
            )
            r = f.request(s, c, a, sent_on=date(2024, 1, 8) + timedelta(days=i % 30))
            if i % 3 == 0:
                f.event(s, r, "acknowledged", date(2024, 1, 9))
            if i % 4 == 0:
                f.event(s, r, "response", date(2024, 2, 1), outcome="successful")
                f.incoming(
                    s,
                    r,
                    kind="response",
                    on=date(2024, 2, 1),
                    outcome="successful",
                    subject="Re: request",
                    from_addr=f"foi{i}@x.gov.uk",
                )


def queries_for_list(db: Database, **filters: Any) -> tuple[int, int]:
    with counting(db) as statements:
        views = list_requests(db, today=date(2024, 3, 1), **filters)
    return len(views), len(statements)


def test_the_number_of_queries_does_not_grow_with_the_requests(db: Database) -> None:
    populate(db, 3, "small")
    small_rows, small_queries = queries_for_list(db, campaign="small")
    populate(db, 120, "large")
    large_rows, large_queries = queries_for_list(db, campaign="large")
    all_rows, all_queries = queries_for_list(db)
    assert (small_rows, large_rows, all_rows) == (3, 120, 123)
    assert 3 <= small_queries == large_queries <= 6  # the counter sees the queries
    assert all_queries <= 6
