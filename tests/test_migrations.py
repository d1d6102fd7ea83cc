"""The Alembic migrations, run from empty, produce exactly the models' schema."""

from __future__ import annotations

import pytest

from foibot.store import migrate
from foibot.store.db import Database


def _check(url: str) -> None:
    db = Database(url)
    try:
        assert migrate.current_revision(db) is None
        migrate.upgrade(db)
        assert migrate.current_revision(db) == migrate.head_revision(db)
        assert migrate.schema_diff(db) == []
        migrate.upgrade(db)  # a second run is a no-op
        assert migrate.schema_diff(db) == []
    finally:
        db.dispose()


def test_migrations_match_models_on_sqlite(sqlite_url: str) -> None:
    _check(sqlite_url)


@pytest.mark.postgres
def test_migrations_match_models_on_postgresql(pg_url: str) -> None:
    _check(pg_url)


def test_schema_diff_sees_a_missing_table(sqlite_url: str) -> None:
    """The check above can fail: a database missing a table is reported."""
    db = Database(sqlite_url)
    migrate.upgrade(db)
    with db.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE mailbox_state")
    diff = migrate.schema_diff(db)
    assert any(op[0] == "add_table" and op[1].name == "mailbox_state" for op in diff)
    db.dispose()


def test_schema_head_constant_is_alembics_head(sqlite_url: str) -> None:
    """The fast start-up check compares with SCHEMA_HEAD: it must follow new migrations."""
    db = Database(sqlite_url)
    assert migrate.head_revision(db) == migrate.SCHEMA_HEAD
    db.dispose()
