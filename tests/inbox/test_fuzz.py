"""1,000 randomly mutated messages (a seeded mutation fuzzer over the corpus): every
one is ingested without an exception and stored (raw bytes, and a message row or a
duplicate of one); none is lost."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from random import Random

import pytest
from sqlalchemy import func, select

from foibot.config import Settings
from foibot.mail.parse import INTERNAL_ERROR
from foibot.services.ingest import ingest_raw
from foibot.store import migrate
from foibot.store.db import Database
from foibot.store.models import Message, RawMessage
from tests.inbox.conftest import EML, inbox_settings, load_expected
from tests.inbox.factories import World, build_world

SEED = 20200211
COUNT = 1000


def _truncate(data: bytes, rng: Random) -> bytes:
    return data[: rng.randrange(1, max(2, len(data)))]


def _wrong_boundary(data: bytes, rng: Random) -> bytes:
    boundaries = re.findall(rb'boundary="?([^";\r\n]+)"?', data)
    if not boundaries:
        return data.replace(b"\r\n\r\n", b"\r\n\r\n--nope\r\n", 1)
    b = rng.choice(boundaries)
    choice = rng.randrange(3)
    if choice == 0:  # the header names a boundary the body never uses
        return data.replace(b"boundary=" + b, b"boundary=x" + b, 1)
    if choice == 1:  # the closing boundary is missing
        return data.replace(b"--" + b + b"--", b"", 1)
    return data.replace(b"--" + b, b"--" + b[: len(b) // 2], rng.randrange(1, 4))


def _bad_charset(data: bytes, rng: Random) -> bytes:
    junk = rng.choice(
        [b"utf-42", b"x-unknown", b'"', b"", b"iso-8859-99", b"utf-16", b"A" * 300, b"\xff\xfe"]
    )
    if b"charset=" in data:
        return re.sub(
            rb"charset=\"?[^\";\r\n]*\"?", b"charset=" + junk, data, count=rng.randrange(1, 4)
        )
    return data.replace(
        b"\r\n\r\n", b"\r\nContent-Type: text/plain; charset=" + junk + b"\r\n\r\n", 1
    )


def _huge_header(data: bytes, rng: Random) -> bytes:
    choice = rng.randrange(4)
    if choice == 0:
        header = b"X-Huge: " + b"a" * rng.randrange(50_000, 300_000) + b"\r\n"
    elif choice == 1:
        header = b"".join(b"X-Many-%d: v\r\n" % i for i in range(rng.randrange(1000, 5000)))
    elif choice == 2:
        header = b"Subject: " + b"\r\n x" * rng.randrange(5_000, 20_000) + b"\r\n"
    else:
        header = b"References: " + b" ".join(b"<%d@x>" % i for i in range(20_000)) + b"\r\n"
    return header + data


def _nuls(data: bytes, rng: Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randrange(1, 50)):
        out.insert(rng.randrange(len(out) + 1), 0)
    return bytes(out)


def _flips(data: bytes, rng: Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randrange(1, 200)):
        i = rng.randrange(len(out))
        out[i] = rng.randrange(256)
    return bytes(out)


def _lines(data: bytes, rng: Random) -> bytes:
    lines = data.split(b"\n")
    for _ in range(rng.randrange(1, 20)):
        i = rng.randrange(len(lines))
        if rng.random() < 0.5:
            del lines[i]
        else:
            lines.insert(i, lines[rng.randrange(len(lines))])
        if not lines:
            lines = [b""]
    return b"\n".join(lines)


def _nesting(data: bytes, rng: Random) -> bytes:
    depth = rng.randrange(50, 400)
    head = b"".join(
        b'Content-Type: multipart/mixed; boundary="n%d"\r\n\r\n--n%d\r\n' % (i, i)
        for i in range(depth)
    )
    return b"From: x@example.org\r\nMIME-Version: 1.0\r\n" + head + data


def _no_separator(data: bytes, rng: Random) -> bytes:
    return data.replace(b"\r\n\r\n", b"\r\n", rng.randrange(1, 5))


def _garbage(data: bytes, rng: Random) -> bytes:
    return bytes(rng.randrange(256) for _ in range(rng.randrange(0, 2000)))


MUTATORS = [
    _truncate,
    _wrong_boundary,
    _bad_charset,
    _huge_header,
    _nuls,
    _flips,
    _lines,
    _nesting,
    _no_separator,
    _garbage,
]


def mutants(count: int, seed: int = SEED) -> list[bytes]:
    rng = Random(seed)
    corpus = [(EML / e["file"]).read_bytes() for e in load_expected()]
    out = []
    for n in range(count):
        data = rng.choice(corpus)
        if rng.random() < 0.6:  # a new Message-ID, so that it is not a duplicate
            data = re.sub(
                rb"(?im)^message-id:[^\r\n]*",
                b"Message-ID: <fuzz-%d@example.net>" % n,
                data,
                count=1,
            )
        for _ in range(rng.choice((1, 1, 1, 2, 3))):
            data = rng.choice(MUTATORS)(data, rng)
        out.append(data)
    return out


@pytest.mark.slow
def test_mutated_messages_are_all_stored_without_a_crash(
    world_db: tuple[Database, World], settings: Settings
) -> None:
    db, _ = world_db
    data = mutants(COUNT)
    outcomes = [ingest_raw(db, settings, raw, f"fuzz:{i}") for i, raw in enumerate(data)]
    with db.transaction() as session:
        stored = set(session.scalars(select(RawMessage.sha256)))
        message_ids = set(session.scalars(select(Message.id).where(Message.direction == "in")))
        raw_of = {i: sha for i, sha in session.execute(select(Message.id, Message.raw_sha256))}
        raw_count = session.scalar(select(func.count()).select_from(RawMessage))
    for raw, outcome in zip(data, outcomes, strict=True):
        digest = hashlib.sha256(raw).hexdigest()
        assert digest in stored  # raw first, always
        assert outcome.stored_id in message_ids  # a row: its own, or the one it duplicates
        if not outcome.duplicate:
            assert raw_of[outcome.stored_id] == digest
    assert raw_count == len({hashlib.sha256(r).hexdigest() for r in data})
    # The mutations do reach the parser's error paths, and those messages are listed;
    # none of them is a bug of ours caught by the safety net.
    assert sum(o.parse_error is not None for o in outcomes) >= 10
    internal = [
        o.parse_error for o in outcomes if o.parse_error and INTERNAL_ERROR in o.parse_error
    ]
    assert internal == []
    assert sum(o.request is not None for o in outcomes) >= 100


def test_the_fuzzer_is_seeded() -> None:
    assert mutants(20) == mutants(20)
    assert mutants(20) != mutants(20, seed=SEED + 1)


@pytest.mark.postgres
@pytest.mark.slow
def test_mutated_messages_on_postgresql(pg_url: str, tmp_path: Path) -> None:
    """PostgreSQL is stricter than SQLite (no NUL in text, strict UTF-8): the same
    mutants are stored there too."""
    db = Database(pg_url)
    migrate.upgrade(db)
    try:
        build_world(db)
        settings = inbox_settings(tmp_path / "storage", pg_url)
        data = mutants(400, seed=SEED + 7)
        outcomes = [ingest_raw(db, settings, raw, f"fuzz:{i}") for i, raw in enumerate(data)]
        with db.transaction() as session:
            stored = set(session.scalars(select(RawMessage.sha256)))
        assert {hashlib.sha256(r).hexdigest() for r in data} <= stored
        assert all(o.stored_id for o in outcomes)
        assert not [o for o in outcomes if o.parse_error and INTERNAL_ERROR in o.parse_error]
    finally:
        db.dispose()
