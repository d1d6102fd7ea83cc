"""What every command shares: the loaded settings, the database, and output helpers."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from foibot.config import Settings, load_settings
from foibot.errors import StoreError, UserInputError
from foibot.store import migrate
from foibot.store.db import Database

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


@dataclass
class AppState:
    config_path: Path | None = None
    _settings: Settings | None = field(default=None, repr=False)
    _db: Database | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.config_path)
        return self._settings

    def database(self, *, create: bool = True) -> Database:
        """The database, with its schema created on first use (an empty database) and
        refused when it is older than this foibot (``foibot db upgrade`` fixes that)."""
        if self._db is None:
            db = Database(self.settings.database_url)
            if create:
                ensure_schema(db)
            self._db = db
        return self._db

    def close(self) -> None:
        if self._db is not None:
            self._db.dispose()


def ensure_schema(db: Database) -> None:
    try:
        current = migrate.current_revision(db)
    except Exception as exc:
        raise StoreError(f"database {db.safe_url}: cannot connect: {exc}") from None
    head = migrate.SCHEMA_HEAD
    if current == head:
        return
    if current is None and not db.has_schema():
        err_console.print(f"foibot: creating the database schema in {db.safe_url}")
        migrate.upgrade(db)
        return
    raise StoreError(
        f"database {db.safe_url} has schema {current}, this foibot needs {head}: "
        "run `foibot db upgrade`"
    )


def state(ctx: typer.Context) -> AppState:
    root = ctx.find_root()
    if not isinstance(root.obj, AppState):
        root.obj = AppState()
    return root.obj


def print_json(data: Any) -> None:
    """Indented on a terminal; compact (and several times faster, through the C
    encoder) when piped to another program or a file."""
    indent = 2 if sys.stdout.isatty() else None
    sys.stdout.write(json.dumps(data, indent=indent, ensure_ascii=False, default=str) + "\n")


def parse_iso_date(value: str, what: str) -> Any:
    from datetime import date

    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise UserInputError(f"bad {what} {value!r}: expected a date as YYYY-MM-DD") from None
