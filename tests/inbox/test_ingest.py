"""``ingest_raw``: raw bytes first, stored once, parse failures kept, concurrency safe
(SQLite file and a real PostgreSQL)."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from foibot.config import Settings
from foibot.services import ingest
from foibot.services.ingest import ingest_raw, list_unmatched
from foibot.store import migrate
from foibot.store.db import Database
from foibot.store.models import Attachment, Message, RawMessage, TheirReference
from tests.inbox.conftest import EML, inbox_settings
from tests.inbox.factories import World, build_world

ACK = (EML / "01_barnet_remote_ack.eml").read_bytes()
RESPONSE = (EML / "02_barnet_remote_response.eml").read_bytes()


def counts(db: Database) -> tuple[int, int]:
    with db.transaction() as session:
        raws = session.scalar(select(func.count()).select_from(RawMessage)) or 0
        messages = (
            session.scalar(
                select(func.count()).select_from(Message).where(Message.direction == "in")
            )
            or 0
        )
    return raws, messages


def test_outcome_json(world_db: tuple[Database, World], settings: Settings) -> None:
    db, world = world_db
    outcome = ingest_raw(db, settings, ACK, "test")
    assert outcome.as_json() == {
        "id": outcome.stored_id,
        "message_id": "DB7PR02MB4715A1B2C3D4E5F6@DB7PR02MB4715.eurprd02.prod.outlook.com",
        "request": world.references["barnet_remote"],
        "method": "reference_subject",
        "kind": "acknowledgement",
        "outcome": None,
        "their_reference": "6073489",
        "duplicate": False,
        "parse_error": None,
    }


def test_raw_bytes_are_committed_before_anything_else(
    world_db: tuple[Database, World], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    db, _ = world_db
    seen: list[tuple[int, int]] = []

    def broken(*_: object) -> object:
        seen.append(counts(db))  # what another connection sees while classifying
        raise RuntimeError("a bug in classification")

    monkeypatch.setattr(ingest, "classify", broken)
    outcome = ingest_raw(db, settings, ACK, "test")
    assert seen == [(1, 0)]  # the bytes were committed before classification began
    # the bug does not lose the message nor block the inbox: it is kept, unfiled,
    # with the error, and listed like a message that cannot be parsed
    assert (
        outcome.parse_error == "internal error while filing: RuntimeError: a bug in classification"
    )
    assert outcome.request is None and not outcome.duplicate
    assert counts(db) == (1, 1)
    monkeypatch.undo()
    again = ingest_raw(db, settings, ACK, "test")
    assert again.duplicate and again.stored_id == outcome.stored_id


def test_same_message_id_in_other_bytes_is_a_duplicate(
    world_db: tuple[Database, World], settings: Settings
) -> None:
    db, _ = world_db
    first = ingest_raw(db, settings, ACK, "imap")
    copy = b"X-Copied-By: another-mailbox\r\n" + ACK  # same Message-ID, different bytes
    second = ingest_raw(db, settings, copy, "import")
    assert second.duplicate and second.stored_id == first.stored_id
    assert second.request == first.request
    assert counts(db) == (2, 1)  # both byte strings kept, one message


def test_unparseable_message_is_stored_and_listed(
    world_db: tuple[Database, World], settings: Settings
) -> None:
    db, _ = world_db
    outcome = ingest_raw(db, settings, b"\x00\x01 this is not mail", "import:/tmp/x")
    assert outcome.parse_error and not outcome.duplicate and outcome.stored_id
    assert counts(db) == (1, 1)
    listed = [v for v in list_unmatched(db, settings) if v.id == outcome.stored_id]
    assert listed and listed[0].parse_error == outcome.parse_error
    again = ingest_raw(db, settings, b"\x00\x01 this is not mail", "import:/tmp/x")
    assert again.duplicate and again.stored_id == outcome.stored_id


def test_learned_reference_files_later_mail(
    world_db: tuple[Database, World], settings: Settings
) -> None:
    db, world = world_db
    before = ingest_raw(db, settings, RESPONSE, "test")  # only "Our ref: 6073489", not learned yet
    assert before.request is None
    ingest_raw(db, settings, ACK, "test")  # quotes our reference and theirs: learned
    with db.transaction() as session:
        learned = session.scalars(select(TheirReference)).all()
        assert [(t.value, t.display, t.request_id) for t in learned] == [
            ("6073489", "6073489", world.request_ids["barnet_remote"])
        ]
    views = list_unmatched(db, settings)  # the unmatched one now has a clear suggestion
    (view,) = [v for v in views if v.id == before.stored_id]
    assert view.suggestions[0]["request"] == world.references["barnet_remote"]
    assert "now matches by their_reference" in view.suggestions[0]["why"]


def test_attachments_are_saved_with_their_text(
    world_db: tuple[Database, World], settings: Settings
) -> None:
    db, _ = world_db
    outcome = ingest_raw(db, settings, (EML / "05_barnet_covid_response_pdf.eml").read_bytes(), "t")
    with db.transaction() as session:
        (a,) = session.scalars(select(Attachment).where(Attachment.message_id == outcome.stored_id))
        assert a.filename == "FOI response 6234788.pdf"
        assert a.stored_name == f"attachments/{a.sha256[:2]}/{a.sha256}.pdf"
        assert a.extracted_text and "Our ref: 6234788" in a.extracted_text
        assert (settings.storage_dir / a.stored_name).stat().st_size == a.size


def _ingest_in_child(
    url: str, storage: str, raw: bytes, queue: multiprocessing.Queue[object]
) -> None:
    database = Database(url)
    try:
        outcome = ingest_raw(database, inbox_settings(Path(storage), url), raw, "child")
        queue.put((outcome.stored_id, outcome.duplicate))
    except Exception as exc:  # reported to the parent, which fails the test
        queue.put(("error", repr(exc)))
    finally:
        database.dispose()


def _race(url: str, storage: Path, raws: list[bytes]) -> list[object]:
    context = multiprocessing.get_context("spawn")
    queue: multiprocessing.Queue[object] = context.Queue()
    children = [
        context.Process(target=_ingest_in_child, args=(url, str(storage), raw, queue))
        for raw in raws
    ]
    for child in children:
        child.start()
    results = [queue.get(timeout=120) for _ in children]
    for child in children:
        child.join(timeout=60)
    return results


@pytest.mark.slow
def test_concurrent_ingest_of_one_message_stores_it_once(
    world_db: tuple[Database, World], settings: Settings, sqlite_url: str
) -> None:
    db, _ = world_db
    variants = [ACK, ACK, ACK, b"X-Copy: 1\r\n" + ACK]  # same bytes three times, and a copy
    results = _race(sqlite_url, settings.storage_dir, variants)
    assert all(r[0] != "error" for r in results), results  # type: ignore[index]
    ids = {r[0] for r in results}  # type: ignore[index]
    assert len(ids) == 1
    assert sorted(r[1] for r in results) == [False, True, True, True]  # type: ignore[index]
    assert counts(db) == (2, 1)


@pytest.mark.postgres
@pytest.mark.slow
def test_ingest_on_postgresql(pg_url: str, tmp_path: Path) -> None:
    db = Database(pg_url)
    migrate.upgrade(db)
    try:
        world = build_world(db)
        settings = replace(inbox_settings(tmp_path / "storage", pg_url))
        from tests.inbox.test_corpus import EXPECTED, _check, ingest_corpus

        outcomes = ingest_corpus(db, settings)
        assert {
            e["file"]: _check(e, o, world) for e, o in zip(EXPECTED, outcomes, strict=True)
        } == {e["file"]: [] for e in EXPECTED}
        # the same bytes from four processes at once: one message
        fresh = b"Message-ID: <race@pg.example>\r\n" + ACK.replace(
            b"Message-ID:", b"X-Old-Message-ID:", 1
        )
        results = _race(pg_url, tmp_path / "storage", [fresh] * 4)
        assert all(r[0] != "error" for r in results), results  # type: ignore[index]
        assert len({r[0] for r in results}) == 1  # type: ignore[index]
        assert sorted(r[1] for r in results) == [False, True, True, True]  # type: ignore[index]
    finally:
        db.dispose()


def test_losing_a_race_reports_a_duplicate(
    world_db: tuple[Database, World], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The other process commits between our check and our insert: the unique
    constraint refuses ours, and the outcome is the other's row, as a duplicate."""
    db, _ = world_db
    winner = ingest_raw(db, settings, ACK, "other process")
    calls: dict[str, int] = {}

    def blind_until(name: str, misses: int) -> Callable[..., dict[str, Any]]:
        real = getattr(ingest, name)

        def check(*args: Any) -> dict[str, Any]:
            calls[name] = calls.get(name, 0) + 1
            return {} if calls[name] <= misses else dict(real(*args))

        return check

    # The checks before storing (same bytes; same Message-ID, in the batch and again
    # when filed on its own) miss the other's row, as if it had committed just after
    # them; the unique constraint refuses ours; the check after that sees it.
    monkeypatch.setattr(ingest, "_stored_by_digests", blind_until("_stored_by_digests", 1))
    monkeypatch.setattr(ingest, "_stored_by_message_ids", blind_until("_stored_by_message_ids", 2))
    loser = ingest_raw(db, settings, ACK, "this process")
    assert calls == {"_stored_by_digests": 2, "_stored_by_message_ids": 2}
    assert loser.duplicate and loser.stored_id == winner.stored_id
    assert counts(db) == (1, 1)
