"""Fixtures for the inbox tests: settings, a database with the corpus world, the corpus."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from foibot.config import Settings, parse_settings
from foibot.store import migrate
from foibot.store.db import Database
from tests.inbox.factories import OUR_ADDRESS, World, build_world

EML = Path(__file__).resolve().parent.parent / "fixtures" / "eml"


def load_expected() -> list[dict[str, Any]]:
    data = tomllib.loads((EML / "expected.toml").read_text(encoding="utf-8"))
    messages: list[dict[str, Any]] = data["message"]
    return messages


def inbox_settings(storage: Path, database_url: str = "sqlite://") -> Settings:
    base = parse_settings(
        {"sender": {"name": "A. Researcher", "address": OUR_ADDRESS}, "database_url": database_url},
        None,
    )
    return replace(base, storage_dir=storage, database_url=database_url)


@pytest.fixture
def settings(tmp_path: Path, sqlite_url: str) -> Settings:
    return inbox_settings(tmp_path / "storage", sqlite_url)


@pytest.fixture
def world_db(db: Database) -> Iterator[tuple[Database, World]]:
    yield db, build_world(db)


@pytest.fixture
def fresh_db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'other.db'}")
    migrate.upgrade(database)
    yield database
    database.dispose()
