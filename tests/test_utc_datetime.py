"""``UTCDateTime`` binds a datetime on SQLite in one step (``_sqlite_text``) where
SQLAlchemy would chain ``process_bind_param`` and SQLite's DATETIME processor: the
text stored must be the same, and so must what is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Column, Integer, MetaData, Table, create_engine, insert, select, text
from sqlalchemy.dialects import postgresql, sqlite

from foibot.store.types import UTCDateTime

SQLITE = sqlite.dialect()
zones = st.one_of(
    st.just(UTC),
    st.integers(-23 * 60, 23 * 60).map(lambda m: timezone(timedelta(minutes=m))),
)
aware = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=zones)


def _chained(value: Any) -> Any:
    """The two steps SQLAlchemy runs for a ``TypeDecorator`` (what it did before)."""
    column_type = UTCDateTime()
    impl = column_type.impl_instance.dialect_impl(SQLITE).bind_processor(SQLITE)
    assert impl is not None
    return impl(column_type.process_bind_param(value, SQLITE))


def _fast() -> Any:
    processor = UTCDateTime().dialect_impl(SQLITE).bind_processor(SQLITE)
    assert processor is not None
    return processor


@settings(max_examples=300, deadline=None)
@given(aware)
def test_same_text_as_the_two_steps(value: datetime) -> None:
    assert _fast()(value) == _chained(value)


def test_none_and_what_is_refused() -> None:
    assert _fast()(None) is None
    for bad in (datetime(2021, 1, 4, 9, 0), "2021-01-04", 3):
        with pytest.raises(ValueError):
            _chained(bad)
        with pytest.raises(ValueError):
            _fast()(bad)


def test_what_sqlite_stores_and_gives_back() -> None:
    """Through an engine: the text written, and the aware UTC datetime read back."""
    table = Table("t", MetaData(), Column("id", Integer, primary_key=True),
                  Column("at", UTCDateTime()))  # fmt: skip
    engine = create_engine("sqlite://")
    table.metadata.create_all(engine)
    moment = datetime(2021, 1, 4, 10, 30, 5, 7, tzinfo=timezone(timedelta(hours=1)))
    with engine.begin() as connection:
        connection.execute(insert(table), [{"at": moment}, {"at": None}])
        stored = connection.execute(text("SELECT at FROM t ORDER BY id")).scalars().all()
        back = connection.execute(select(table.c.at).order_by(table.c.id)).scalars().all()
    assert stored == ["2021-01-04 09:30:05.000007", None]
    assert back == [moment, None]
    assert back[0] is not None and back[0].tzinfo is UTC


def test_other_dialects_keep_the_two_steps() -> None:
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    processor = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    moment = datetime(2021, 1, 4, 10, 0, tzinfo=timezone(timedelta(hours=1)))
    converted = processor(moment) if processor is not None else moment
    assert converted == moment and converted.tzinfo is UTC
