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
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from foibot.config import Settings
from foibot.domain import references, their_refs
from foibot.domain.classify import Classification, classify
from foibot.domain.matching import (
    WEBMAIL_DOMAINS,
    MatchResult,
    RequestRef,
    domain_matches,
    match_message,
)
from foibot.domain.message import ParsedMessage
from foibot.errors import FoibotError, NotFoundError, ParseError, UserInputError
from foibot.mail.attachments import SavedAttachment, save_attachments
from foibot.mail.parse import ParseResult, clean, parse_with_payloads
from foibot.services.events import record_message_events
from foibot.store.db import Database, utcnow
from foibot.store.lookup import SqlRequestLookup
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


@dataclass
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


def _outcome_of(row: Message, duplicate: bool) -> IngestOutcome:
    return IngestOutcome(
        stored_id=row.id,
        message_id=row.message_id,
        request=row.request.reference if row.request is not None else None,
        method=row.match_method,
        kind=row.kind,
        outcome=row.outcome,
        their_reference=row.their_reference,
        duplicate=duplicate,
        parse_error=row.parse_error,
    )


# Built once: constructing SQLAlchemy statements per message cost more than running them.
_IN_BY_SHA = select(Message.id).where(
    Message.direction == "in", Message.raw_sha256 == bindparam("sha")
)
_IN_BY_MESSAGE_ID = select(Message.id).where(
    Message.direction == "in", Message.message_id == bindparam("mid")
)
_RAW_INSERTS = {
    "sqlite": sqlite_insert(RawMessage).on_conflict_do_nothing(),
    "postgresql": postgresql_insert(RawMessage).on_conflict_do_nothing(),
}
_RAW_EXISTS = select(RawMessage.sha256).where(RawMessage.sha256 == bindparam("sha"))
_KNOWN_REFERENCES = select(TheirReference.value).where(
    TheirReference.request_id == bindparam("request"),
    TheirReference.value.in_(bindparam("values", expanding=True)),
)


def _stored(session: Session, sha256: str, message_id: str | None) -> Message | None:
    """The incoming message already stored with these bytes or this Message-ID (each
    looked up on its own unique index; the row is loaded only when there is one)."""
    connection = session.connection()
    found = connection.execute(_IN_BY_SHA, {"sha": sha256}).scalar() if sha256 else None
    if found is None and message_id:
        found = connection.execute(_IN_BY_MESSAGE_ID, {"mid": message_id}).scalar()
    return session.get(Message, found) if found is not None else None


def _insert_raw(session: Session, digest: str, raw: bytes) -> None:
    """Stores the bytes unless they are there already (one statement, no read-back:
    a re-delivered message's bytes are never loaded just to be compared)."""
    values = {"sha256": digest, "size": len(raw), "data": raw, "stored_at": utcnow()}
    connection = session.connection()
    statement = _RAW_INSERTS.get(connection.dialect.name)
    if statement is not None:
        connection.execute(statement, values)
    elif connection.execute(_RAW_EXISTS, {"sha": digest}).first() is None:
        session.add(RawMessage(**values))


def ingest_raw(db: Database, settings: Settings, raw: bytes, source: str) -> IngestOutcome:
    """Stores one incoming message (raw bytes first), parses, classifies and files it.
    Safe to call again with the same bytes, from several processes at once."""
    digest = hashlib.sha256(raw).hexdigest()
    # Transaction 1: the raw bytes, committed before anything else happens.
    try:
        with db.transaction() as session:
            done = _stored(session, digest, None)
            if done is not None:
                return _outcome_of(done, duplicate=True)
            _insert_raw(session, digest, raw)
    except IntegrityError:
        pass  # another process stored the same bytes a moment ago: they are safe

    try:
        result: ParseResult | None = parse_with_payloads(raw)
        parse_error = None
    except ParseError as exc:
        result, parse_error = None, str(exc)
    saved = (
        save_attachments(
            settings.storage_dir,
            list(zip(result.message.attachments, result.payloads, strict=True)),
        )
        if result is not None
        else []
    )
    # Transaction 2: classify, match, store. If a unique constraint stops it, either
    # another process stored this very message (answer: duplicate), or it stored
    # something this one also writes (a learned reference): then try again, twice.
    for attempt in range(3):
        try:
            with db.transaction() as session:
                return _file(session, settings, digest, source, result, parse_error, saved)
        except IntegrityError:
            with db.transaction() as session:
                message_id = result.message.message_id if result is not None else None
                done = _stored(session, digest, message_id)
                if done is not None:
                    return _outcome_of(done, duplicate=True)
            if attempt == 2:
                raise
        except FoibotError:
            raise  # the database is unreachable, say: nothing to file it with
        except Exception as exc:  # a bug while classifying or matching this message
            # Keep it, listed with the error, as for a message that cannot be parsed:
            # one bad message must never block the inbox.
            log.exception("filing %s failed; stored unfiled with the error", source)
            problem = f"internal error while filing: {type(exc).__name__}: {exc}"
            with db.transaction() as session:
                return _file(session, settings, digest, source, None, problem[:2000], [])
    raise AssertionError("unreachable")  # pragma: no cover


def _file(
    session: Session,
    settings: Settings,
    digest: str,
    source: str,
    result: ParseResult | None,
    parse_error: str | None,
    saved: list[SavedAttachment],
) -> IngestOutcome:
    parsed = result.message if result is not None else None
    # The same bytes were checked in transaction 1; a concurrent writer of them (or of
    # this Message-ID) is stopped by the unique constraints, and ``ingest_raw`` answers
    # duplicate. A different copy of a message already stored is caught here, cheaply,
    # before any work is done on it.
    if parsed is not None and parsed.message_id:
        done = _stored(session, "", parsed.message_id)
        if done is not None:
            return _outcome_of(done, duplicate=True)
    now = utcnow()
    row = Message(
        direction="in",
        raw_sha256=digest,
        source=clean(source)[:500],
        parse_error=parse_error,
        created_at=now,
        classification={},
        match_evidence={},
        to_addrs=[],
        cc_addrs=[],
    )
    if parsed is None:
        session.add(row)
        session.flush()
        return _outcome_of(row, duplicate=False)

    refs = their_refs.extract_from([parsed.subject, parsed.full_text])
    lookup = SqlRequestLookup(session)
    match = match_message(
        parsed, lookup, _our_addresses(settings), settings.case_system_domains, refs
    )
    classification = classify(parsed)
    _fill(row, parsed, classification, match, refs)
    row.attachments = [
        Attachment(
            position=s.position,
            filename=clean(s.info.filename)[:500] if s.info.filename else None,
            stored_name=s.stored_name,
            content_type=clean(s.info.content_type)[:200],
            size=s.size,
            sha256=s.sha256,
            extracted_text=s.info.text,
            extraction_error=s.info.extraction_error,
        )
        for s in saved
    ]
    session.add(row)
    session.flush()
    if match.request is not None and classification.kind != "bounce":
        # (a bounce's text is our own returned message: nothing of theirs to learn)
        _learn_references(session, match.request.id, refs, row.id)
    # The request's event log: what this message means for its status and clocks
    # (nothing for an auto-reply or an unfiled message).
    record_message_events(session, row)
    return _outcome_of(row, duplicate=False)


def _storable(value: Any) -> Any:
    """JSON fit for every database: strings without NULs or lone surrogates, however
    they got there (PostgreSQL refuses both)."""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, dict):
        return {clean(str(k)): _storable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_storable(v) for v in value]
    return value


def _fill(
    row: Message,
    parsed: ParsedMessage,
    classification: Classification,
    match: MatchResult,
    refs: list[their_refs.TheirRef],
) -> None:
    row.message_id = parsed.message_id
    row.in_reply_to = " ".join(parsed.in_reply_to) or None
    row.references_header = " ".join(parsed.references) or None
    row.from_addr = parsed.from_addr[:320] if parsed.from_addr else None
    row.to_addrs = list(parsed.to)
    row.cc_addrs = list(parsed.cc)
    row.subject = parsed.subject
    row.date = parsed.date
    row.body_text = parsed.text
    row.kind = classification.kind
    row.outcome = classification.outcome
    row.classification = {
        **classification.as_json(),
        "their_references": [r.as_json() for r in refs],
        "defects": list(parsed.defects),
    }
    report = parsed.delivery_report
    if report is not None:
        row.classification["delivery_report"] = {
            "original_message_id": report.original_message_id,
            "recipients": list(report.recipients),
            "action": report.action,
            "status": report.status,
            "diagnostic": report.diagnostic,
        }
    row.classification = _storable(row.classification)
    row.request_id = match.request.id if match.request is not None else None
    row.match_method = match.method
    row.match_evidence = _storable(
        {
            **match.evidence,
            "conflict": match.conflict,
            "suggestions": [s.as_json() for s in match.suggestions],
        }
    )
    row.their_reference = refs[0].value[:200] if refs else None


def _learn_references(
    session: Session, request_id: int, refs: Sequence[their_refs.TheirRef], message_pk: int | None
) -> list[str]:
    """Remembers the authority's references on the request (labelled ones first)."""
    ordered = sorted(refs, key=lambda r: not r.labelled)[:MAX_LEARNED_PER_MESSAGE]
    if not ordered:
        return []
    known = set(
        session.connection()
        .execute(_KNOWN_REFERENCES, {"request": request_id, "values": [r.value for r in ordered]})
        .scalars()
    )
    learned = []
    for ref in ordered:
        if ref.value in known:
            continue
        session.add(
            TheirReference(
                request_id=request_id,
                value=ref.value[:100],
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
    """Imports .eml files, folders of them, mbox files and Maildir folders; each
    message is one ``ingest_raw`` (so an interrupted import can simply be re-run)."""
    sources = find_sources(paths)
    report = ImportReport()
    for source, raw in read_sources(sources):
        outcome = ingest_raw(db, settings, raw, source)
        report.outcomes.append(outcome)
        if progress is not None:
            progress(outcome)
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
