"""Storing, reading and filing incoming mail: ``ingest_raw`` and what the `inbox`
commands need (import from files, the unmatched queue, filing by hand).

Raw first (DESIGN.md §3): the exact bytes are committed, content-addressed by SHA-256,
in a transaction of their own before anything looks at them, so no parse error, crash
or bug further on can lose a message. Then, in a second transaction, the message is
parsed, classified, matched and stored (a ``Message`` row with its attachments), and
the authority's own reference is learned on the request it was filed under.

A message is stored once: the same bytes, or the same Message-ID in different bytes
(the copy IMAP hands us again, the export that overlaps a poll), come back as
``duplicate=True`` with what was decided the first time. Two processes ingesting the
same message at once are safe: the unique constraints decide, and the loser reports a
duplicate. A message that cannot be parsed is stored with its error, never dropped.
"""

from __future__ import annotations

import hashlib
import logging
import mailbox
import re
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from foibot.config import Settings
from foibot.domain import references, their_refs
from foibot.domain.classify import Classification, classify
from foibot.domain.matching import (
    WEBMAIL_DOMAINS,
    LookupKeys,
    MatchResult,
    RequestRef,
    domain_matches,
    lookup_keys,
    match_message,
)
from foibot.domain.message import ParsedMessage
from foibot.errors import FoibotError, NotFoundError, ParseError, UserInputError
from foibot.mail.attachments import SavedAttachment, save_attachments
from foibot.mail.parse import ParseResult, clean, parse_with_payloads
from foibot.services.events import message_event_values, record_message_events
from foibot.store.db import Database, utcnow
from foibot.store.lookup import PrefetchedLookup, SqlRequestLookup
from foibot.store.models import (
    Attachment,
    AuthorityDomain,
    Event,
    Message,
    RawMessage,
    Request,
    TheirReference,
)

MAX_LEARNED_PER_MESSAGE = 3
log = logging.getLogger(__name__)


@dataclass(slots=True)
class IngestOutcome:
    stored_id: int | None  # messages.id
    message_id: str | None
    request: str | None  # our reference, or None
    method: str | None
    kind: str | None
    outcome: str | None
    their_reference: str | None
    duplicate: bool
    parse_error: str | None

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.stored_id,
            "message_id": self.message_id,
            "request": self.request,
            "method": self.method,
            "kind": self.kind,
            "outcome": self.outcome,
            "their_reference": self.their_reference,
            "duplicate": self.duplicate,
            "parse_error": self.parse_error,
        }


def _our_addresses(settings: Settings) -> tuple[str, ...]:
    return (settings.sender_.address.lower(),) if settings.sender_ is not None else ()


_OUTCOME_COLUMNS = ("id", "message_id", "match_method", "kind", "outcome", "their_reference",
                    "parse_error")  # fmt: skip


def _outcome(row: Mapping[str, Any], reference: str | None, duplicate: bool) -> IngestOutcome:
    """The outcome for a stored message, from its columns (``_OUTCOME_COLUMNS``)."""
    return IngestOutcome(
        stored_id=row["id"],
        message_id=row["message_id"],
        request=reference,
        method=row["match_method"],
        kind=row["kind"],
        outcome=row["outcome"],
        their_reference=row["their_reference"],
        duplicate=duplicate,
        parse_error=row["parse_error"],
    )


# Built once: constructing SQLAlchemy statements per message cost more than running them.
_RAW_INSERTS = {
    "sqlite": sqlite_insert(RawMessage).on_conflict_do_nothing(),
    "postgresql": postgresql_insert(RawMessage).on_conflict_do_nothing(),
}
_RAW_EXISTS = select(RawMessage.sha256).where(RawMessage.sha256 == bindparam("sha"))
_KNOWN_REFERENCES = select(TheirReference.value).where(
    TheirReference.request_id == bindparam("request"),
    TheirReference.value.in_(bindparam("values", expanding=True)),
)


# Messages filed per transaction by polling and importing: enough to spread the cost
# of a commit (each writes every index page the batch touched, and the unique keys
# are digests and Message-IDs, scattered over the index) and of matching's queries;
# few enough that a crash re-reads little and a batch of large messages stays within
# memory (``BATCH_BYTES``). 200 rather than 50 cut the storage side's cost by ~15%.
BATCH_MESSAGES = 200
BATCH_BYTES = 20_000_000


def batch_full(messages: int, size: int) -> bool:
    return messages >= BATCH_MESSAGES or size >= BATCH_BYTES


def ingest_raw(db: Database, settings: Settings, raw: bytes, source: str) -> IngestOutcome:
    """Stores one incoming message (raw bytes first), parses, classifies and files it.
    Safe to call again with the same bytes, from several processes at once."""
    return ingest_batch(db, settings, [(raw, source)])[0]


# The per-message records of a batch use slots: no instance dict (less memory), and
# with a batch of 200 in flight, fewer objects for the cyclic GC to promote and scan.
@dataclass(slots=True)
class _Pending:
    """One message of a batch on its way through ``ingest_batch``."""

    digest: str
    source: str
    result: ParseResult | None = None
    parse_error: str | None = None
    saved: list[SavedAttachment] = field(default_factory=list)


def ingest_batch(
    db: Database, settings: Settings, items: Sequence[tuple[bytes, str]]
) -> list[IngestOutcome]:
    """``ingest_raw`` for several messages, (raw bytes, source label) each, in two
    transactions for the whole batch instead of two per message; one outcome per item,
    in order. This is how polling and importing file mail.

    1. The raw bytes of every message are committed together, before any is parsed.
    2. Each is parsed and its attachments saved, outside any transaction.
    3. All are classified, matched and stored in one transaction, with what matching
       asks the database fetched for the whole batch at once (``PrefetchedLookup``).

    If step 3 fails as a whole (a unique constraint hit by another process filing the
    same mail, a database error), it is rolled back and each message is filed on its
    own, as ``ingest_raw`` always did: the batch is only a faster way to the same
    result. A bug while classifying or matching one message is that message's problem
    only: it is stored unfiled with the error."""
    digests = [hashlib.sha256(raw).hexdigest() for raw, _ in items]
    outcomes: list[IngestOutcome | None] = [None] * len(items)
    first_of: dict[str, int] = {}  # digest -> the item in this batch that carries it
    for n, digest in enumerate(digests):
        first_of.setdefault(digest, n)
    # Transaction 1: the raw bytes, committed before anything else happens. They are
    # inserted first (unless there already): when every one of them is new, no message
    # can have been stored from them (a message's row refers to its bytes' row), and
    # the query for messages stored earlier is not needed.
    try:
        with db.transaction() as session:
            all_new = _insert_raws(session, [(d, items[n][0]) for d, n in first_of.items()])
            if not all_new:
                stored = _stored_by_digests(session, digests)
                for n, digest in enumerate(digests):
                    if digest in stored:
                        outcomes[n] = replace(stored[digest], duplicate=True)
                        first_of.pop(digest, None)
    except IntegrityError:
        pass  # another process stored the same bytes a moment ago: they are safe

    pending = [_parsed(settings, digests[n], raw, source) for n, (raw, source) in
               ((n, items[n]) for n in sorted(first_of.values()))]  # fmt: skip
    # Transaction 2: classify, match, store, for the batch.
    try:
        with db.transaction() as session:
            filed = _file_batch(session, settings, pending)
    except FoibotError:
        raise  # the database is unreachable, say: nothing to file with
    except Exception as exc:
        log.info("filing a batch of %d failed (%s); filing one by one", len(pending), exc)
        filed = [_file_one(db, settings, p) for p in pending]
    by_digest = {p.digest: outcome for p, outcome in zip(pending, filed, strict=True)}
    for n, digest in enumerate(digests):
        if outcomes[n] is None:
            outcome = by_digest[digest]
            outcomes[n] = outcome if first_of[digest] == n else replace(outcome, duplicate=True)
    return [o for o in outcomes if o is not None]


def _parsed(settings: Settings, digest: str, raw: bytes, source: str) -> _Pending:
    item = _Pending(digest, source)
    try:
        item.result = parse_with_payloads(raw)
    except ParseError as exc:
        item.parse_error = str(exc)
        return item
    item.saved = save_attachments(
        settings.storage_dir,
        list(zip(item.result.message.attachments, item.result.payloads, strict=True)),
    )
    return item


def _file_one(db: Database, settings: Settings, item: _Pending) -> IngestOutcome:
    """Files one message in its own transaction. If a unique constraint stops it,
    either another process stored this very message (answer: duplicate), or it stored
    something this one also writes (a learned reference): then try again, twice."""
    for attempt in range(3):
        try:
            with db.transaction() as session:
                return _file_batch(session, settings, [item])[0]
        except IntegrityError:
            with db.transaction() as session:
                message_id = item.result.message.message_id if item.result is not None else None
                done = _stored_by_digests(session, [item.digest]).get(item.digest)
                if done is None and message_id:
                    by_id = _stored_by_message_ids(session, [message_id])
                    earlier = _outcomes_by_id(session, set(by_id.values()))
                    done = earlier.get(by_id.get(message_id, -1))
                if done is not None:
                    return done
            if attempt == 2:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


_IN_BY_SHAS = select(Message.id, Message.raw_sha256).where(
    Message.direction == "in", Message.raw_sha256.in_(bindparam("shas", expanding=True))
)
_IN_BY_MESSAGE_IDS = select(Message.id, Message.message_id).where(
    Message.direction == "in", Message.message_id.in_(bindparam("mids", expanding=True))
)
_OUTCOMES = (
    select(Message, Request.reference)
    .outerjoin(Request, Request.id == Message.request_id)
    .where(Message.id.in_(bindparam("ids", expanding=True)))
)


def _outcomes_by_id(session: Session, ids: Collection[int]) -> dict[int, IngestOutcome]:
    """What was decided for messages already stored (one query, the request joined)."""
    if not ids:
        return {}
    out = {}
    for row, reference in session.execute(_OUTCOMES, {"ids": sorted(ids)}):
        out[row.id] = _outcome({c: getattr(row, c) for c in _OUTCOME_COLUMNS}, reference, True)
    return out


def _stored_ids_by_digests(session: Session, digests: Sequence[str]) -> dict[str, int]:
    rows = session.connection().execute(_IN_BY_SHAS, {"shas": sorted(set(digests))}).all()
    return {sha: pk for pk, sha in rows if sha is not None}


def _stored_by_digests(session: Session, digests: Sequence[str]) -> dict[str, IngestOutcome]:
    found = _stored_ids_by_digests(session, digests)
    outcomes = _outcomes_by_id(session, set(found.values()))
    return {sha: outcomes[pk] for sha, pk in found.items()}


def _stored_by_message_ids(session: Session, message_ids: Sequence[str]) -> dict[str, int]:
    if not message_ids:
        return {}
    mids = sorted(set(message_ids))
    rows = session.connection().execute(_IN_BY_MESSAGE_IDS, {"mids": mids}).all()
    return {mid: pk for pk, mid in rows if mid is not None}


def _insert_raws(session: Session, raws: Sequence[tuple[str, bytes]]) -> bool:
    """Stores the bytes unless they are there already (one statement for the batch, no
    read-back: a re-delivered message's bytes are never loaded just to be compared).
    True when every one was new (as far as the database driver can tell)."""
    if not raws:
        return True
    now = utcnow()
    values = [{"sha256": d, "size": len(raw), "data": raw, "stored_at": now} for d, raw in raws]
    connection = session.connection()
    statement = _RAW_INSERTS.get(connection.dialect.name)
    if statement is not None:
        inserted = connection.execute(statement, values).rowcount
        return connection.dialect.supports_sane_multi_rowcount and inserted == len(values)
    for one in values:
        if connection.execute(_RAW_EXISTS, {"sha": one["sha256"]}).first() is None:
            session.add(RawMessage(**one))
    return False


# Core INSERTs (one executemany per table and batch): the ORM's bulk mode ran one
# statement per row here.
_INSERT: dict[type[Any], Any] = {
    model: cast(Table, model.__table__).insert()
    for model in (Message, Attachment, TheirReference, Event)
}


@dataclass(slots=True)
class _Filed:
    values: dict[str, Any]  # the messages row, as inserted
    request: RequestRef | None = None
    # (empty tuples by default: no list per message for the GC to track)
    attachments: Sequence[SavedAttachment] = ()
    refs: Sequence[their_refs.TheirRef] = ()  # to learn
    same_as: int | None = None  # a copy, in this batch, of the message at this index


def _file_batch(
    session: Session, settings: Settings, items: Sequence[_Pending]
) -> list[IngestOutcome]:
    """Classifies, matches and stores ``items`` in ``session``'s transaction. The rows
    are written with one multi-row INSERT per table for the whole batch."""
    ours = _our_addresses(settings)
    connection = session.connection()
    # A different copy of a message already stored (same Message-ID, other bytes) is
    # recognised here, before any work is done on it.
    message_ids = [
        i.result.message.message_id
        for i in items
        if i.result is not None and i.result.message.message_id
    ]
    stored = _stored_by_message_ids(session, message_ids)
    earlier = _outcomes_by_id(session, set(stored.values()))
    found_refs: dict[int, list[their_refs.TheirRef]] = {}
    keys: dict[int, LookupKeys] = {}
    for n, item in enumerate(items):
        parsed = item.result.message if item.result is not None else None
        if parsed is None or parsed.message_id in stored:
            continue
        found_refs[n] = their_refs.extract_from([parsed.subject, parsed.full_text])
        keys[n] = lookup_keys(parsed, ours, found_refs[n])
    lookup = PrefetchedLookup(session, list(keys.values()))

    now = utcnow()
    filed: list[_Filed | IngestOutcome] = []
    first_with_id: dict[str, int] = {}
    for n, item in enumerate(items):
        parsed = item.result.message if item.result is not None else None
        if parsed is not None and parsed.message_id in stored:
            filed.append(earlier[stored[parsed.message_id]])
            continue
        values = _unfiled_values(item, now)
        if parsed is None:
            filed.append(_Filed(values))
            continue
        if parsed.message_id:
            if parsed.message_id in first_with_id:
                filed.append(_Filed(values, same_as=first_with_id[parsed.message_id]))
                continue
            first_with_id[parsed.message_id] = n
        try:
            match = match_message(
                parsed, lookup, ours, settings.case_system_domains, found_refs[n], keys[n]
            )
            classification = classify(parsed)
        except SQLAlchemyError:
            raise
        except Exception as exc:  # a bug while classifying or matching this message
            # Keep it, listed with the error, as for a message that cannot be parsed:
            # one bad message must never block the inbox.
            log.exception("filing %s failed; stored unfiled with the error", item.source)
            problem = f"internal error while filing: {type(exc).__name__}: {exc}"
            values["parse_error"] = problem[:2000]
            filed.append(_Filed(values))
            continue
        values.update(_decided_values(parsed, classification, match, found_refs[n]))
        decided = _Filed(values, match.request, item.saved)
        if match.request is not None and classification.kind != "bounce":
            # (a bounce's text is our own returned message: nothing of theirs to learn)
            decided.refs = _new_references(lookup, match.request, found_refs[n])
        filed.append(decided)

    new = [f for f in filed if isinstance(f, _Filed) and f.same_as is None]
    if new:
        # One executemany, then the ids read back by the bytes' digest (unique among
        # incoming messages): cheaper than RETURNING, which SQLite does row by row.
        connection.execute(_INSERT[Message], [f.values for f in new])
        ids = _stored_ids_by_digests(session, [f.values["raw_sha256"] for f in new])
        for f in new:
            f.values["id"] = ids[f.values["raw_sha256"]]
    attachments: list[dict[str, Any]] = []
    learned: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for f in new:
        pk = f.values["id"]
        attachments += [_attachment_values(pk, s) for s in f.attachments]
        learned += [
            {"request_id": f.values["request_id"], "value": r.value[:100],
             "display": r.display[:200], "message_id": pk, "created_at": now}
            for r in f.refs
        ]  # fmt: skip
        # The request's event log: what this message means for its status and clocks
        # (nothing for an auto-reply or an unfiled message).
        event = message_event_values(f.values, now=now)
        if event is not None:
            events.append(event)
    for model, rows in ((Attachment, attachments), (TheirReference, learned), (Event, events)):
        if rows:
            connection.execute(_INSERT[model], rows)

    outcomes: list[IngestOutcome] = []
    for one in filed:
        if not isinstance(one, _Filed):
            outcomes.append(one)
        elif one.same_as is not None:
            outcomes.append(replace(outcomes[one.same_as], duplicate=True))
        else:
            reference = one.request.reference if one.request is not None else None
            outcomes.append(_outcome(one.values, reference, duplicate=False))
    return outcomes


def _attachment_values(message_pk: int, saved: SavedAttachment) -> dict[str, Any]:
    return {
        "message_id": message_pk,
        "position": saved.position,
        "filename": clean(saved.info.filename)[:500] if saved.info.filename else None,
        "stored_name": saved.stored_name,
        "content_type": clean(saved.info.content_type)[:200],
        "size": saved.size,
        "sha256": saved.sha256,
        "extracted_text": saved.info.text,
        "extraction_error": saved.info.extraction_error,
    }


def _worth_learning(refs: Sequence[their_refs.TheirRef]) -> list[their_refs.TheirRef]:
    """The authority's references from one message to learn: labelled ones first, at
    most ``MAX_LEARNED_PER_MESSAGE``."""
    return sorted(refs, key=lambda r: not r.labelled)[:MAX_LEARNED_PER_MESSAGE]


def _known_on(session: Session, request_id: int, values: Sequence[str]) -> set[str]:
    """Which of ``values`` are already learned on the request."""
    rows = session.connection().execute(
        _KNOWN_REFERENCES, {"request": request_id, "values": list(values)}
    )
    return set(rows.scalars())


def _new_references(
    lookup: PrefetchedLookup,
    request: RequestRef,
    refs: Sequence[their_refs.TheirRef],
) -> list[their_refs.TheirRef]:
    """The references to learn on the request from this message (``_worth_learning``,
    none it knows already); the batch's lookup is told, so that later messages in the
    batch are filed by them."""
    ordered = _worth_learning(refs)
    if not ordered:
        return []
    values = [r.value[:100] for r in ordered]
    known = lookup.known_references(request.id, values)
    learned = []
    for ref, value in zip(ordered, values, strict=True):
        if value in known:
            continue
        known.add(value)
        lookup.learned(value, request)
        learned.append(ref)
    return learned


def _unfiled_values(item: _Pending, now: datetime) -> dict[str, Any]:
    """A new incoming message's row before anything is decided about it (all that is
    stored of a message that cannot be parsed)."""
    return {
        "direction": "in",
        "raw_sha256": item.digest,
        "source": clean(item.source)[:500],
        "parse_error": item.parse_error,
        "created_at": now,
        # (an empty dict is not tracked by the GC, and the empty tuple is shared: these
        # placeholders cost nothing when the message is decided and they are replaced;
        # a tuple is stored as the same JSON array as a list)
        "classification": {},
        "match_evidence": {},
        "to_addrs": (),
        "cc_addrs": (),
        "message_id": None,
        "request_id": None,
        "kind": None,
        "outcome": None,
        "match_method": None,
        "their_reference": None,
        "date": None,
        "body_text": None,
        "in_reply_to": None,
        "references_header": None,
        "from_addr": None,
        "subject": None,
    }


def _decided_values(
    parsed: ParsedMessage,
    classification: Classification,
    match: MatchResult,
    refs: list[their_refs.TheirRef],
) -> dict[str, Any]:
    # The JSON columns are built from the parsed message's tuples as they are (stored
    # as the same arrays as lists; copying them would only add objects for the GC),
    # and the classification's evidence is the fresh dict ``as_json`` returns, added to.
    evidence = classification.as_json()
    evidence["their_references"] = [r.as_json() for r in refs]
    evidence["defects"] = parsed.defects
    report = parsed.delivery_report
    if report is not None:
        evidence["delivery_report"] = {
            "original_message_id": report.original_message_id,
            "recipients": report.recipients,
            "action": report.action,
            "status": report.status,
            "diagnostic": report.diagnostic,
        }
    return {
        "message_id": parsed.message_id,
        "in_reply_to": " ".join(parsed.in_reply_to) or None,
        "references_header": " ".join(parsed.references) or None,
        "from_addr": parsed.from_addr[:320] if parsed.from_addr else None,
        "to_addrs": parsed.to,
        "cc_addrs": parsed.cc,
        "subject": parsed.subject,
        "date": parsed.date,
        "body_text": parsed.text,
        "kind": classification.kind,
        "outcome": classification.outcome,
        "classification": evidence,
        "request_id": match.request.id if match.request is not None else None,
        "match_method": match.method,
        "match_evidence": {
            **match.evidence,
            "conflict": match.conflict,
            "suggestions": [s.as_json() for s in match.suggestions],
        },
        "their_reference": refs[0].value[:200] if refs else None,
    }


def _learn_references(
    session: Session, request_id: int, refs: Sequence[their_refs.TheirRef], message_pk: int | None
) -> list[str]:
    """Remembers the authority's references on the request (``_worth_learning``, none
    it knows already), for filing by hand."""
    ordered = _worth_learning(refs)
    if not ordered:
        return []
    known = _known_on(session, request_id, [r.value[:100] for r in ordered])
    learned = []
    for ref in ordered:
        value = ref.value[:100]
        if value in known:
            continue
        known.add(value)
        session.add(
            TheirReference(
                request_id=request_id,
                value=value,
                display=ref.display[:200],
                message_id=message_pk,
                created_at=utcnow(),
            )
        )
        learned.append(ref.value)
    return learned


# ------------------------------------------------------------------ import from files


@dataclass(frozen=True)
class ImportSource:
    path: Path
    kind: str  # "eml" | "mbox" | "maildir"


def _looks_like_message(head: bytes) -> bool:
    first = head.lstrip(b"\r\n").split(b"\n", 1)[0]
    return bool(re.match(rb"^[!-9;-~]{1,100}:", first))


def find_sources(paths: Sequence[Path]) -> list[ImportSource]:
    """What each path is: a Maildir folder, a folder of .eml files (searched
    recursively), an mbox file or a single message. Every path is checked before
    anything is imported; a bad one is a ``UserInputError`` naming it."""
    sources: list[ImportSource] = []
    for path in paths:
        if not path.exists():
            raise UserInputError(f"{path}: no such file or folder")
        if path.is_dir():
            if (path / "cur").is_dir() and (path / "new").is_dir():
                sources.append(ImportSource(path, "maildir"))
                continue
            files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() == ".eml")
            if not files:
                raise UserInputError(f"{path}: a folder with no .eml files and not a Maildir")
            sources.extend(ImportSource(f, "eml") for f in files)
            continue
        try:
            with path.open("rb") as handle:
                head = handle.read(4096)
        except OSError as exc:
            raise UserInputError(f"{path}: cannot read: {exc.strerror}") from None
        if head.startswith(b"From "):
            sources.append(ImportSource(path, "mbox"))
        elif _looks_like_message(head):
            sources.append(ImportSource(path, "eml"))
        else:
            raise UserInputError(
                f"{path}: not an email message (.eml), an mbox file or a Maildir folder"
            )
    return sources


def read_sources(sources: Sequence[ImportSource]) -> Iterator[tuple[str, bytes]]:
    """(source label, raw bytes) for every message, one at a time."""
    for src in sources:
        location = src.path.resolve()
        try:
            if src.kind == "eml":
                yield f"file:{location}", src.path.read_bytes()
            elif src.kind == "mbox":
                box = mailbox.mbox(src.path, factory=None, create=False)
                try:
                    for key in box.iterkeys():
                        yield f"mbox:{location}#{key}", box.get_bytes(key)
                finally:
                    box.close()
            else:
                folder = mailbox.Maildir(src.path, factory=None, create=False)
                for key in sorted(folder.iterkeys()):
                    yield f"maildir:{location}#{key}", folder.get_bytes(key)
        except OSError as exc:
            raise UserInputError(f"{src.path}: cannot read: {exc.strerror or exc}") from None


@dataclass
class ImportReport:
    outcomes: list[IngestOutcome] = field(default_factory=list)

    @property
    def new(self) -> list[IngestOutcome]:
        return [o for o in self.outcomes if not o.duplicate]

    @property
    def duplicates(self) -> int:
        return sum(o.duplicate for o in self.outcomes)

    @property
    def filed(self) -> int:
        return sum(o.request is not None for o in self.new)

    @property
    def unmatched(self) -> list[IngestOutcome]:
        return [o for o in self.new if o.request is None and o.parse_error is None]

    @property
    def parse_errors(self) -> list[IngestOutcome]:
        return [o for o in self.new if o.parse_error is not None]


def import_paths(
    db: Database,
    settings: Settings,
    paths: Sequence[Path],
    progress: Callable[[IngestOutcome], None] | None = None,
) -> ImportReport:
    """Imports .eml files, folders of them, mbox files and Maildir folders, filed in
    batches with ``ingest_batch`` (an interrupted import can simply be re-run)."""
    sources = find_sources(paths)
    report = ImportReport()
    batch: list[tuple[bytes, str]] = []
    size = 0

    def flush() -> None:
        for outcome in ingest_batch(db, settings, batch):
            report.outcomes.append(outcome)
            if progress is not None:
                progress(outcome)

    for source, raw in read_sources(sources):
        batch.append((raw, source))
        size += len(raw)
        if batch_full(len(batch), size):
            flush()
            batch, size = [], 0
    if batch:
        flush()
    return report


# ------------------------------------------------------------------ the unmatched queue


@dataclass(frozen=True)
class UnmatchedView:
    id: int
    message_id: str | None
    date: str | None
    from_addr: str | None
    subject: str | None
    kind: str | None
    parse_error: str | None
    conflict: bool
    suggestions: tuple[dict[str, Any], ...]

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "message_id": self.message_id,
            "date": self.date,
            "from": self.from_addr,
            "subject": self.subject,
            "kind": self.kind,
            "parse_error": self.parse_error,
            "conflict": self.conflict,
            "suggestions": list(self.suggestions),
        }


def list_unmatched(db: Database, settings: Settings) -> list[UnmatchedView]:
    """Incoming messages filed under no request, oldest first, each with up to three
    ranked suggestions worked out afresh (what was learned since counts)."""
    views: list[UnmatchedView] = []
    with db.transaction() as session:
        rows = session.scalars(
            select(Message)
            .where(Message.direction == "in", Message.request_id.is_(None))
            .order_by(Message.id)
        ).all()
        lookup = SqlRequestLookup(session)
        for row in rows:
            conflict = bool((row.match_evidence or {}).get("conflict"))
            suggestions: tuple[dict[str, Any], ...] = ()
            raw = session.get(RawMessage, row.raw_sha256) if row.raw_sha256 else None
            if raw is not None and row.parse_error is None:
                try:
                    parsed = parse_with_payloads(raw.data).message
                except ParseError:
                    parsed = None
                if parsed is not None:
                    match = match_message(
                        parsed, lookup, _our_addresses(settings), settings.case_system_domains
                    )
                    suggestions = _suggestions_now(match)
                    conflict = match.conflict
            views.append(
                UnmatchedView(
                    id=row.id,
                    message_id=row.message_id,
                    date=row.date.isoformat() if row.date else None,
                    from_addr=row.from_addr,
                    subject=row.subject,
                    kind=row.kind,
                    parse_error=row.parse_error,
                    conflict=conflict,
                    suggestions=suggestions,
                )
            )
    return views


def _suggestions_now(match: MatchResult) -> tuple[dict[str, Any], ...]:
    if match.request is not None:  # what was learned since files it now: say so first
        first = {
            "request": match.request.reference,
            "authority": match.request.authority_name,
            "score": 100,
            "why": [f"now matches by {match.method}"],
        }
        rest = [s.as_json() for s in match.suggestions if s.request.id != match.request.id]
        return (first, *rest[:2])
    return tuple(s.as_json() for s in match.suggestions)


# ------------------------------------------------------------------ filing by hand


@dataclass(frozen=True)
class AssignReport:
    message: int
    request: str
    authority: str
    previous: str | None
    learned_domain: str | None
    domain_note: str | None
    learned_references: tuple[str, ...]


def _find_message(session: Session, message: str) -> Message:
    text = message.strip()
    row: Message | None = None
    if text.isdigit():
        row = session.get(Message, int(text))
        if row is not None and row.direction != "in":
            row = None
    else:
        wanted = text.strip("<>")
        row = session.scalars(
            select(Message).where(Message.direction == "in", Message.message_id == wanted)
        ).first()
    if row is None:
        raise NotFoundError(
            f"no incoming message {message!r} (give its number from `foibot inbox unmatched` "
            "or its Message-ID)"
        )
    return row


def assign_message(db: Database, settings: Settings, message: str, reference: str) -> AssignReport:
    """Files a message under a request by hand (method "manual"), and learns what it
    teaches: the sender's domain for the request's authority (unless it is a webmail
    or case-management system's domain, or ours) and the authority's reference."""
    canonical = references.normalise(reference)
    if canonical is None:
        raise UserInputError(
            f"{reference!r} is not a valid foibot reference (like FB-7K3M9Q5; the last "
            "character is a check character, so a mistyped reference is refused)"
        )
    with db.transaction() as session:
        row = _find_message(session, message)
        request = session.scalars(select(Request).where(Request.reference == canonical)).first()
        if request is None:
            raise NotFoundError(f"no request with reference {canonical}")
        previous = row.request.reference if row.request is not None else None
        row.request_id = request.id
        row.match_method = "manual"
        row.match_evidence = {
            **(row.match_evidence or {}),
            "method": "manual",
            "previous": previous,
            "conflict": False,
        }
        # What the message means for the request it is now filed under (as on ingest);
        # events it caused under an earlier filing are superseded, not deleted.
        for old in session.scalars(select(Event).where(Event.message_id == row.id)):
            old.data = {**(old.data or {}), "superseded": True}
        session.flush()
        record_message_events(session, row)
        learned_domain, note = _learn_domain(session, settings, row, request)
        refs = [
            their_refs.TheirRef(r["value"], r["display"], str(r.get("phrase") or ""), True)
            for r in (row.classification or {}).get("their_references", [])
            if isinstance(r, dict) and r.get("value") and r.get("display")
        ]
        learned = _learn_references(session, request.id, refs, row.id)
        return AssignReport(
            message=row.id,
            request=request.reference,
            authority=request.authority.name,
            previous=previous,
            learned_domain=learned_domain,
            domain_note=note,
            learned_references=tuple(learned),
        )


def _learn_domain(
    session: Session, settings: Settings, row: Message, request: Request
) -> tuple[str | None, str | None]:
    sender = (row.from_addr or "").rpartition("@")[2].lower().strip()
    if not sender or "." not in sender:
        return None, None
    ours = {a.rpartition("@")[2] for a in _our_addresses(settings)}
    if sender in WEBMAIL_DOMAINS or sender in ours:
        return None, f"{sender} is a public mail service or ours: not learned"
    if domain_matches(sender, settings.case_system_domains):
        return None, f"{sender} is a case-management system's domain: not learned"
    known = session.scalars(select(AuthorityDomain).where(AuthorityDomain.domain == sender)).all()
    if any(d.authority_id == request.authority_id for d in known):
        return None, None
    session.add(
        AuthorityDomain(
            authority_id=request.authority_id, domain=sender, source="learned", created_at=utcnow()
        )
    )
    others = sorted({d.authority.name for d in known})
    note = (
        f"{sender} is also known for {', '.join(others)}: mail from it alone will not be filed"
        if others
        else None
    )
    return sender, note


__all__ = [
    "AssignReport",
    "ImportReport",
    "IngestOutcome",
    "RequestRef",
    "UnmatchedView",
    "assign_message",
    "import_paths",
    "ingest_raw",
    "list_unmatched",
]
