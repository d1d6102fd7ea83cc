"""The fixture corpus, ingested in order through the real ``ingest_raw`` into SQLite,
against the world of tests/inbox/factories.py: every message is filed (or left
unmatched) by the expected method and classified as expected. Misfiling must be zero.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from foibot.config import Settings
from foibot.mail.attachments import attachment_path
from foibot.services.ingest import IngestOutcome, ingest_batch, ingest_raw
from foibot.store.db import Database
from foibot.store.models import Message, TheirReference
from tests.inbox.conftest import EML, load_expected
from tests.inbox.factories import World

EXPECTED = load_expected()
KINDS = {
    "acknowledgement",
    "auto_reply",
    "bounce",
    "clarification_request",
    "extension_notice",
    "fee_notice",
    "response",
    "review_acknowledgement",
    "review_response",
    "other",
}
METHODS = {
    "plus_address",
    "in_reply_to",
    "reference_subject",
    "reference_body",
    "their_reference",
    "bounce",
    "sender_domain",
}


def ingest_corpus(
    db: Database, settings: Settings, batch_size: int | None = None
) -> list[IngestOutcome]:
    """One message at a time with ``ingest_raw``, or in batches as polling does."""
    items = [((EML / e["file"]).read_bytes(), f"test:{e['file']}") for e in EXPECTED]
    if batch_size is None:
        return [ingest_raw(db, settings, raw, source) for raw, source in items]
    outcomes: list[IngestOutcome] = []
    for start in range(0, len(items), batch_size):
        outcomes += ingest_batch(db, settings, items[start : start + batch_size])
    return outcomes


def test_corpus_covers_every_method_and_kind() -> None:
    files = sorted(p.name for p in EML.glob("*.eml"))
    assert files == [e["file"] for e in EXPECTED]
    assert len(files) >= 40
    assert {e["method"] for e in EXPECTED if e["method"]} == METHODS
    assert {e["kind"] for e in EXPECTED} == KINDS
    assert {e["outcome"] for e in EXPECTED if e["outcome"]} == {
        "successful",
        "partially_successful",
        "not_held",
        "refused",
    }
    assert sum(not e["request"] for e in EXPECTED) >= 8  # messages that must stay unmatched
    # the five real council replies are all in it
    corpus = b"".join((EML / f).read_bytes() for f in files)
    for ref in ("6073489", "6234788", "6299088", "8268329"):
        assert ref.encode() in corpus or ref in _attachment_texts()
    assert b"info.requests@leicester.gov.uk" in corpus


def _attachment_texts() -> str:
    from foibot.mail.parse import parse_message

    texts = []
    for e in EXPECTED:
        parsed = parse_message((EML / e["file"]).read_bytes())
        texts += [a.text or "" for a in parsed.attachments]
    return "\n".join(texts)


def _check(expected: dict[str, Any], outcome: IngestOutcome, world: World) -> list[str]:
    problems = []
    want_request = world.references[expected["request"]] if expected["request"] else None
    checks = [
        ("request", want_request, outcome.request),
        ("method", expected["method"] or None, outcome.method),
        ("kind", expected["kind"], outcome.kind),
        ("outcome", expected["outcome"] or None, outcome.outcome),
        ("their_reference", expected["their_reference"] or None, outcome.their_reference),
    ]
    for name, want, got in checks:
        if want != got:
            problems.append(f"{name}: expected {want!r}, got {got!r}")
    if outcome.duplicate or outcome.parse_error:
        problems.append(f"duplicate={outcome.duplicate} parse_error={outcome.parse_error}")
    return problems


# One by one; in batches of 7 (a learned reference and the message that needs it may
# fall in one batch or in two); the whole corpus as one batch.
@pytest.mark.parametrize("batch_size", [None, 7, len(EXPECTED)], ids=["single", "7", "all"])
def test_corpus_table(
    world_db: tuple[Database, World], settings: Settings, batch_size: int | None
) -> None:
    db, world = world_db
    outcomes = ingest_corpus(db, settings, batch_size)
    failures = {}
    for expected, outcome in zip(EXPECTED, outcomes, strict=True):
        problems = _check(expected, outcome, world)
        if problems:
            failures[expected["file"]] = problems
    assert failures == {}

    # Misfiling rate: a message filed under a request it does not belong to (including
    # one that should have stayed unmatched). It must be zero.
    misfiled = [
        e["file"]
        for e, o in zip(EXPECTED, outcomes, strict=True)
        if o.request is not None and o.request != world.references.get(e["request"] or "")
    ]
    assert misfiled == []


@pytest.mark.parametrize("batch_size", [None, len(EXPECTED)], ids=["single", "all"])
def test_corpus_details(
    world_db: tuple[Database, World], settings: Settings, batch_size: int | None
) -> None:
    """Sections, received dates, review addresses, bounce recipients, suggestions,
    decoded text and attachments, as the table gives them."""
    db, world = world_db
    outcomes = ingest_corpus(db, settings, batch_size)
    with db.transaction() as session:
        rows = {o.stored_id: session.get(Message, o.stored_id) for o in outcomes if o.stored_id}
        for e, o in zip(EXPECTED, outcomes, strict=True):
            row = rows[o.stored_id]
            assert row is not None
            c = row.classification
            where = e["file"]
            if "sections" in e:
                assert sorted(c["sections"]) == sorted(e["sections"]), where
            if "received_on" in e:
                assert c["received_on"] == e["received_on"], where
            if "review_address" in e:
                assert c["review_address"] == e["review_address"], where
            if "body_contains" in e:
                assert e["body_contains"] in (row.body_text or ""), where
            if "conflict" in e:
                assert row.match_evidence["conflict"] is e["conflict"], where
            suggested = [s["request"] for s in row.match_evidence.get("suggestions", [])]
            if "suggest" in e:
                assert sorted(suggested) == sorted(world.references[p] for p in e["suggest"]), where
            if "suggest_any" in e:
                allowed = {world.references[p] for p in e["suggest_any"]}
                assert len(suggested) == 3 and set(suggested) <= allowed, where
            if "attachments" in e:
                assert len(row.attachments) == e["attachments"], where
                for a in row.attachments:
                    path = attachment_path(settings.storage_dir, a.stored_name)
                    assert path.is_file() and path.stat().st_size == a.size
                    assert path.resolve().is_relative_to(
                        (settings.storage_dir / "attachments").resolve()
                    )
            if e["kind"] != "bounce":
                assert row.kind == e["kind"], where
            # every decision keeps its evidence
            if row.kind != "other":
                assert c["evidence"]["kind"], where
            if row.request_id is not None:
                assert row.match_evidence["signals"] or row.match_method == "sender_domain", where
            if "bounce_recipient" in e:
                assert e["bounce_recipient"] in c["delivery_report"]["recipients"], where
                assert e["bounce_recipient"] in str(row.match_evidence), where


@pytest.mark.parametrize("batch_size", [None, len(EXPECTED)], ids=["single", "all"])
def test_their_references_are_learned_on_the_right_requests(
    world_db: tuple[Database, World], settings: Settings, batch_size: int | None
) -> None:
    db, world = world_db
    ingest_corpus(db, settings, batch_size)
    with db.transaction() as session:
        learned = {
            (world.placeholder_of_id(t.request_id), t.value)
            for t in session.scalars(select(TheirReference))
        }
    assert {
        ("barnet_remote", "6073489"),
        ("barnet_covid", "6234788"),
        ("barnet_content", "6299088"),
        ("barnet_contact", "8268329"),
        ("leicester_remote", "FOIA-5727"),
        ("manchester_remote", "1762"),
        ("camden_remote", "CAS-184523-K7J2M9"),
        ("kent_remote", "FOI-15631"),
        ("glasgow_remote", "406339"),
        ("bristol_remote", "FOI-2020-27"),
        ("leeds_remote", "15-16-514"),
        ("cornwall_remote", "7706354"),
    } <= learned
    # nothing learned from bounces (our own returned text), nothing of ours
    assert all(not value.startswith("FB") for _, value in learned)
    assert {p for p, _ in learned} <= set(world.references)


def test_ingesting_the_corpus_twice_stores_nothing_twice(
    world_db: tuple[Database, World], settings: Settings
) -> None:
    db, _ = world_db
    first = ingest_corpus(db, settings)
    second = ingest_corpus(db, settings)
    third = ingest_corpus(db, settings, batch_size=len(EXPECTED))
    assert all(not o.duplicate for o in first)
    assert all(o.duplicate for o in second + third)
    assert [o.stored_id for o in first] == [o.stored_id for o in second]
    assert [o.stored_id for o in first] == [o.stored_id for o in third]
    assert [o.request for o in first] == [o.request for o in second] == [o.request for o in third]
    with db.transaction() as session:
        count = len(session.scalars(select(Message.id).where(Message.direction == "in")).all())
    assert count == len(EXPECTED)


@pytest.mark.parametrize(
    "name", ["05_barnet_covid_response_pdf.eml", "07_barnet_contact_response_docx.eml"]
)
def test_answer_only_in_attachment_is_read(name: str, settings: Settings, tmp_path: Path) -> None:
    from foibot.mail.parse import parse_message

    parsed = parse_message((EML / name).read_bytes())
    (attachment,) = parsed.attachments
    assert attachment.text is not None and "holds the information requested" in attachment.text
    assert "holds the information" not in parsed.text  # the body alone would not tell


def test_committed_corpus_is_what_make_corpus_writes(tmp_path: Path) -> None:
    from tests.fixtures.eml import make_corpus

    make_corpus.write(tmp_path)
    written = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    committed = {p.name: p.read_bytes() for p in EML.iterdir() if p.suffix in (".eml", ".toml")}
    assert sorted(written) == sorted(committed)
    assert [n for n in written if written[n] != committed[n]] == []
