"""Alembic, driven from code: ``foibot db upgrade`` and the schema check in tests.

Alembic itself is imported only when a migration runs or a diff is asked for: every
command checks the schema revision first, and that check is a plain SQL query against
``SCHEMA_HEAD`` (a test keeps the constant equal to Alembic's head), which keeps the
CLI's start-up fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import inspect, text

from foibot.paths import migrations_dir
from foibot.store.db import Database
from foibot.store.models import Base

if TYPE_CHECKING:
    from alembic.config import Config

SCHEMA_HEAD = "0001"
"""The newest migration's revision; update it with every new migration."""


def alembic_config(db: Database) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    cfg.attributes["engine"] = db.engine
    return cfg


def upgrade(db: Database, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(db), revision)


def current_revision(db: Database) -> str | None:
    """The database's schema revision, or None for an empty database."""
    with db.engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        value = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        return str(value) if value is not None else None


def head_revision(db: Database) -> str | None:
    """Alembic's head, read from the migration scripts."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(db)).get_current_head()


def schema_diff(db: Database) -> list[Any]:
    """Differences between the database schema and the models (empty when they match)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))
