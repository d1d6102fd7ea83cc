"""Every JSON column is written through ``storable_json``: whatever text reaches it (a
NUL from a damaged body, a lone surrogate from an undecodable header), PostgreSQL and
SQLite both store it, and nothing else in the value changes."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from foibot.store import migrate
from foibot.store.db import Database
from foibot.store.models import Message, RawMessage
from foibot.store.types import storable_json

NOW = datetime(2021, 1, 4, 9, 0, tzinfo=UTC)
DAMAGED = {
    "phrases": ["The council holds\x00 the information", "Our ref:\udcff 6073489"],
    "emoji \U0001f600": ["caf\u00e9", "\ud83d alone"],
    "n": 3,
}
STORED = {
    "phrases": ["The council holds the information", "Our ref:\ufffd 6073489"],
    "emoji \U0001f600": ["caf\u00e9", "\ufffd alone"],
    "n": 3,
}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (k, *_strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _damaged(text: str) -> bool:
    return "\x00" in text or any(0xD800 <= ord(ch) <= 0xDFFF for ch in text)


@given(json_values)
def test_only_damaged_strings_change(value: object) -> None:
    text = storable_json(value)
    stored = json.loads(text)
    assert not any(map(_damaged, _strings(stored)))
    if not any(map(_damaged, _strings(value))):
        assert text == json.dumps(value)
    else:
        assert storable_json(stored) == text  # cleaning once is enough


def test_nuls_go_and_lone_surrogates_become_replacement_characters() -> None:
    assert json.loads(storable_json(DAMAGED)) == STORED


def _round_trip(url: str) -> object:
    db = Database(url)
    migrate.upgrade(db)
    try:
        with db.transaction() as session:
            session.add(RawMessage(sha256="0" * 64, size=0, data=b"", stored_at=NOW))
            session.flush()
            session.add(
                Message(direction="in", raw_sha256="0" * 64, match_evidence=DAMAGED,
                        classification={"phrases": ["\x00"]}, created_at=NOW)
            )  # fmt: skip
        with db.transaction() as session:
            row = session.execute(select(Message.match_evidence, Message.classification)).one()
            return row.match_evidence, row.classification
    finally:
        db.dispose()


def test_sqlite_stores_damaged_json(sqlite_url: str) -> None:
    assert _round_trip(sqlite_url) == (STORED, {"phrases": [""]})


@pytest.mark.postgres
def test_postgresql_stores_damaged_json(pg_url: str) -> None:
    assert _round_trip(pg_url) == (STORED, {"phrases": [""]})


def _as_tuples(value: object) -> object:
    if isinstance(value, list):
        return tuple(_as_tuples(v) for v in value)
    if isinstance(value, dict):
        return {k: _as_tuples(v) for k, v in value.items()}
    return value


@given(json_values)
def test_tuples_are_stored_as_the_lists_they_hold(value: object) -> None:
    # Filing hands the parsed message's tuples (To, Cc, defects) to the JSON columns
    # as they are, without copying them into lists: the stored text must be the same.
    assert storable_json(_as_tuples(value)) == storable_json(value)
