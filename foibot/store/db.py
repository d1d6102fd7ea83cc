"""Engine and transaction helpers.

SQLite is the embedded default (WAL mode, foreign keys on, a busy timeout so that the
CLI and the daemon can share the file); PostgreSQL is the scale-out path. Every unit of
work runs in one transaction (``Database.transaction``), as in Mailman's runners.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, inspect
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from foibot.errors import StoreError, UserInputError
from foibot.store.types import storable_json


def utcnow() -> datetime:
    """The one place adapters and services read the wall clock (aware, UTC)."""
    return datetime.now(UTC)


class Database:
    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        try:
            parsed = make_url(url)
        except ArgumentError:
            raise UserInputError(f"database_url {url!r} is not a database URL") from None
        if parsed.drivername.startswith("sqlite") and parsed.database not in (None, "", ":memory:"):
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        if parsed.drivername in ("postgresql", "postgres"):
            parsed = parsed.set(drivername="postgresql+psycopg")
        try:
            self.engine: Engine = create_engine(
                parsed, echo=echo, future=True, json_serializer=storable_json
            )
        except (ArgumentError, ImportError) as exc:
            raise UserInputError(f"database_url {url!r}: {exc}") from None
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: commits on success, rolls back on any exception. Database
        errors are translated into ``StoreError``."""
        session = self.sessions()
        try:
            yield session
            session.commit()
        except OperationalError as exc:
            session.rollback()
            raise StoreError(f"database {self.safe_url}: {_first_line(exc)}") from exc
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @property
    def safe_url(self) -> str:
        """The URL with any password hidden, fit for messages and logs."""
        return make_url(self.url).render_as_string(hide_password=True)

    def has_schema(self) -> bool:
        try:
            return inspect(self.engine).has_table("requests")
        except SQLAlchemyError as exc:
            raise StoreError(f"database {self.safe_url}: {_first_line(exc)}") from exc

    def dispose(self) -> None:
        self.engine.dispose()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
