"""``ingest_batch``, the way polling and importing file mail: a batch gives exactly what
filing the same messages one at a time gives, and keeps every guarantee of
``ingest_raw`` (raw first, stored once, one bad message blocks nothing)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from foibot.config import Settings
from foibot.domain.message import ParsedMessage
from foibot.services import ingest
from foibot.services.ingest import ingest_batch, ingest_raw
from foibot.store import migrate
from foibot.store.db import Database
from foibot.store.models import Attachment, Event, Message, TheirReference
from tests.inbox.conftest import EML, inbox_settings, load_expected
from tests.inbox.factories import World, build_world
from tests.inbox.test_ingest import ACK, RESPONSE, counts

CORPUS = [((EML / e["file"]).read_bytes(), f"test:{e['file']}") for e in load_expected()]


def stored(db: Database) -> dict[str, Any]:
    """Everything filing wrote, without the row ids and times that differ between runs."""
    with db.transaction() as session:
        messages = session.scalars(
            select(Message).where(Message.direction == "in").order_by(Message.id)
        ).all()
        position = {m.id: n for n, m in enumerate(messages)}
        return {
            "messages": [
                (
                    m.message_id,
                    m.raw_sha256,
                    m.request_id,
                    m.kind,
                    m.outcome,
                    m.match_method,
                    m.their_reference,
                    m.classification,
                    m.match_evidence,
                    m.subject,
                    m.body_text,
                    m.to_addrs,
                    m.cc_addrs,
                    m.date,
                    m.parse_error,
                    m.source,
                )
                for m in messages
            ],
            "events": sorted(
                (
                    e.request_id,
                    e.kind,
                    str(e.occurred_on),
                    position.get(e.message_id or -1),
                    repr(sorted(e.data.items())),
                )
                for e in session.scalars(select(Event))
            ),
            "learned": sorted(
                (t.request_id, t.value, t.display, position.get(t.message_id or -1))
                for t in session.scalars(select(TheirReference))
            ),
            "attachments": sorted(
                (
                    position[a.message_id],
                    a.position,
                    a.filename,
                    a.stored_name,
                    a.size,
                    a.extracted_text,
                )
                for a in session.scalars(select(Attachment))
            ),
        }


def test_a_batch_stores_what_one_by_one_stores(tmp_path: Path) -> None:
    """The whole corpus as one batch (references learned from one message file later
    ones in the same batch) against one message at a time, in two databases."""
    results = []
    for how in ("single", "batch"):
        url = f"sqlite:///{tmp_path / how}.db"
        db = Database(url)
        migrate.upgrade(db)
        build_world(db)
        settings = inbox_settings(tmp_path / how, url)
        if how == "single":
            outcomes = [ingest_raw(db, settings, raw, source) for raw, source in CORPUS]
        else:
            outcomes = ingest_batch(db, settings, CORPUS)
        results.append(([o.as_json() for o in outcomes], stored(db)))
        db.dispose()
    (single, single_rows), (batch, batch_rows) = results
    assert batch == single
    assert batch_rows == single_rows
    assert len(batch_rows["messages"]) == len(CORPUS)
    assert batch_rows["events"] and batch_rows["learned"] and batch_rows["attachments"]


def test_copies_within_one_batch_are_stored_once(
    world_db: tuple[Database, World], settings: Settings
) -> None:
    db, world = world_db
    copy = b"X-Copied-By: another-mailbox\r\n" + ACK  # same Message-ID, other bytes
    outcomes = ingest_batch(db, settings, [(ACK, "a"), (ACK, "b"), (copy, "c"), (RESPONSE, "d")])
    assert [o.duplicate for o in outcomes] == [False, True, True, False]
    assert outcomes[0].stored_id == outcomes[1].stored_id == outcomes[2].stored_id
    assert outcomes[1].request == outcomes[0].request == world.references["barnet_remote"]
    # the response quotes only "Our ref: 6073489", learned from the acknowledgement
    # earlier in the same batch
    assert outcomes[3].request == world.references["barnet_remote"]
    assert outcomes[3].method == "their_reference"
    assert counts(db) == (3, 2)  # every byte string kept, two messages
    again = ingest_batch(db, settings, [(RESPONSE, "e"), (copy, "f")])
    assert [o.duplicate for o in again] == [True, True]
    assert [o.stored_id for o in again] == [outcomes[3].stored_id, outcomes[0].stored_id]


def test_raw_bytes_of_the_whole_batch_are_committed_before_any_is_parsed(
    world_db: tuple[Database, World], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    db, _ = world_db
    seen: list[tuple[int, int]] = []
    real = ingest.parse_with_payloads

    def watching(raw: bytes) -> object:
        seen.append(counts(db))  # what another connection sees while parsing
        return real(raw)

    monkeypatch.setattr(ingest, "parse_with_payloads", watching)
    ingest_batch(db, settings, CORPUS[:5])
    assert seen == [(5, 0)] * 5
    assert counts(db) == (5, 5)


def test_a_batch_that_cannot_be_stored_whole_is_filed_one_by_one(
    world_db: tuple[Database, World], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """E.g. another process filed one of its messages meanwhile: each message is then
    filed in its own transaction, and the outcomes are the same."""
    db, world = world_db
    real = ingest._file_batch
    sizes: list[int] = []

    def refusing(session: Any, settings: Settings, items: list[Any]) -> object:
        sizes.append(len(items))
        if len(items) > 1:
            raise IntegrityError("INSERT", {}, Exception("UNIQUE constraint failed"))
        return real(session, settings, items)

    monkeypatch.setattr(ingest, "_file_batch", refusing)
    outcomes = ingest_batch(db, settings, [(ACK, "a"), (RESPONSE, "b")])
    assert sizes == [2, 1, 1]
    assert [o.request for o in outcomes] == [world.references["barnet_remote"]] * 2
    assert [o.method for o in outcomes] == ["reference_subject", "their_reference"]
    assert counts(db) == (2, 2)


def test_a_bug_on_one_message_leaves_the_rest_of_the_batch_filed(
    world_db: tuple[Database, World], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    db, _ = world_db
    real = ingest.classify

    def flaky(parsed: ParsedMessage) -> object:
        if parsed.message_id == CORPUS_IDS[1]:
            raise KeyError("boom")
        return real(parsed)

    monkeypatch.setattr(ingest, "classify", flaky)
    outcomes = ingest_batch(db, settings, CORPUS[:3])
    assert [o.parse_error for o in outcomes] == [
        None,
        "internal error while filing: KeyError: 'boom'",
        None,
    ]
    assert outcomes[1].request is None and outcomes[1].stored_id is not None
    assert outcomes[0].request and outcomes[2].request
    assert counts(db) == (3, 3)


CORPUS_IDS = [ingest.parse_with_payloads(raw).message.message_id for raw, _ in CORPUS[:3]]
