"""The storage side's shortcuts give what the straightforward way gives:
``PrefetchedLookup`` (open requests fetched on the first ask, for the authorities of
the messages that may ask) answers as ``SqlRequestLookup`` does, and ``_insert_raws``
says "all new" only when every one of the bytes was new."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from foibot.domain.matching import lookup_keys, match_message
from foibot.errors import ParseError
from foibot.mail.parse import ParseResult, parse_with_payloads
from foibot.services import ingest
from foibot.services.ingest import ingest_batch
from foibot.store.db import Database
from foibot.store.lookup import PrefetchedLookup, SqlRequestLookup
from foibot.store.models import Authority, RawMessage
from tests.inbox.conftest import EML, inbox_settings, load_expected
from tests.inbox.factories import OUR_ADDRESS, World

OURS = (OUR_ADDRESS,)
CASE_SYSTEMS = ("icasework.com", "ecase.co.uk")


def _corpus() -> list[ParseResult]:
    parsed = []
    for expected in load_expected():
        try:
            parsed.append(parse_with_payloads((EML / expected["file"]).read_bytes()))
        except ParseError:
            continue
    return parsed


def test_a_batch_lookup_answers_as_the_database(world_db: tuple[Database, World]) -> None:
    """Every fixture message matched through one ``PrefetchedLookup`` and through
    ``SqlRequestLookup``: the same results; then the open requests of every authority
    (those fetched on the first ask, and those left to a query of their own)."""
    db, _ = world_db
    messages = [r.message for r in _corpus()]
    with db.transaction() as session:
        keys = [lookup_keys(m, OURS) for m in messages]
        batch = PrefetchedLookup(session, keys)
        sql = SqlRequestLookup(session)
        for message, k in zip(messages, keys, strict=True):
            fast = match_message(message, batch, OURS, CASE_SYSTEMS, keys=k)
            plain = match_message(message, sql, OURS, CASE_SYSTEMS)
            assert repr(fast) == repr(plain), message.message_id
        assert batch.open_known  # some fixture reached the sender-domain step
        authorities = session.scalars(select(Authority.id).order_by(Authority.id)).all()
        assert set(authorities) - batch.open_known  # ... and some were not fetched
        for a in authorities:
            assert batch.open_requests([a]) == sql.open_requests([a])
        assert batch.open_requests(authorities) == sql.open_requests(authorities)


def test_replies_in_their_threads_fetch_no_open_requests(
    world_db: tuple[Database, World],
) -> None:
    db, _ = world_db
    with db.transaction() as session:
        sql = SqlRequestLookup(session)
        threaded = [
            r.message
            for r in _corpus()
            if match_message(r.message, sql, OURS, CASE_SYSTEMS).method == "in_reply_to"
        ]
        assert threaded
        keys = [lookup_keys(m, OURS) for m in threaded]
        batch = PrefetchedLookup(session, keys)
        for message, k in zip(threaded, keys, strict=True):
            assert match_message(message, batch, OURS, CASE_SYSTEMS, keys=k).method == "in_reply_to"
        assert batch._open_rows is None  # never asked for: never fetched


def _all_new_reported(db: Database) -> list[bool]:
    said = []
    for raws in ([("a" * 64, b"x"), ("b" * 64, b"y")], [("a" * 64, b"x"), ("c" * 64, b"z")],
                 [("d" * 64, b"w")], []):  # fmt: skip
        with db.transaction() as session:
            said.append(ingest._insert_raws(session, raws))
    with db.transaction() as session:
        assert len(session.scalars(select(RawMessage.sha256)).all()) == 4
    return said


def test_insert_raws_says_all_new_only_when_they_were_sqlite(db: Database) -> None:
    assert _all_new_reported(db) == [True, False, True, True]


@pytest.mark.postgres
def test_insert_raws_says_all_new_only_when_they_were_postgresql(pg_db: Database) -> None:
    # psycopg gives no row count for a batch: never "all new", so the query is made
    assert _all_new_reported(pg_db)[:3] == [False, False, False]


def test_stored_bytes_in_a_batch_of_new_ones_are_duplicates(
    world_db: tuple[Database, World], tmp_path: Path
) -> None:
    """When some of a batch's bytes were stored before, the batch asks which messages
    came from them (the query skipped when all are new)."""
    db, _ = world_db
    settings = inbox_settings(tmp_path / "storage", db.url)
    corpus = [((EML / e["file"]).read_bytes(), e["file"]) for e in load_expected()][:6]
    first = ingest_batch(db, settings, corpus[:3])
    again = ingest_batch(db, settings, corpus)
    assert [o.duplicate for o in again] == [True] * 3 + [False] * 3
    assert [o.stored_id for o in again[:3]] == [o.stored_id for o in first]
