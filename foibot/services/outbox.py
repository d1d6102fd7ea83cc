"""The outbox: every outgoing message is delivered at most once, and none is lost.

Outgoing ``Message`` rows (direction "out") are the outbox. Their bytes and Message-ID
are fixed when they are queued; ``send_state`` then moves:

    held --release--> queued --claim--> sending --all but the final dot sent--> final --250--> sent
                         |                                      |--4xx--> queued (backoff)
                         |--4xx / connection lost--> queued     |--5xx--> delivery_failed
                         |--5xx (RCPT, DATA)--> delivery_failed  '--no reply--> uncertain

Each arrow is its own committed transaction, and the order of commits and SMTP steps is
what makes ``kill -9`` at any point safe:

* ``sending`` is committed before connecting. A message found in ``sending`` whose
  sender is gone was never completed on the wire (a server discards a DATA that did
  not end with ``CRLF.CRLF``), so it goes back to ``queued`` and is reported as
  "retried after interruption".
* ``final`` is committed (durably) after everything but the terminating dot has been
  sent and before the dot. A message found in ``final`` whose sender is gone may or
  may not have been accepted: it becomes ``uncertain`` and is NEVER resent
  automatically; the user checks and resends explicitly (``--resend-uncertain``).
* Every transition after the claim is conditional on the claim token
  (``claimed_by``), so a sender whose claim was taken from it (it looked dead) cannot
  complete the DATA: it abandons the connection before the dot.

Campaign requests start ``held``: creating a campaign only prepares it, and nothing is
sent (not even by a running daemon) until ``campaign send`` releases them.

Claiming is one ``UPDATE ... WHERE send_state = 'queued'`` on a row picked by a
sub-select (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite serialises writers), so
concurrent senders (two ``campaign send`` runs, the daemon) never take the same message.

Pacing (``[sending] rate_per_minute``), the sending window and retry backoff use an
injectable clock, so tests never sleep.
"""

from __future__ import annotations

import hashlib
import os
import socket
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from foibot.config import Settings
from foibot.domain import request_status as states
from foibot.errors import ConfigError, FoibotError, StoreError
from foibot.mail.compose import OutgoingMail, restamp_date
from foibot.mail.smtp import (
    Accepted,
    SmtpAbortedError,
    SmtpAuthError,
    SmtpPermanentError,
    SmtpSenderRejectedError,
    SmtpTlsError,
    SmtpTransientError,
    SmtpTransport,
    SmtpUncertainError,
    SmtpUnreachableError,
)
from foibot.store.db import Database, utcnow
from foibot.store.models import Authority, Event, Message, RawMessage, Request

LONDON = ZoneInfo("Europe/London")
OUTBOX_PURPOSES = ("request", "review_request")
# A claim older than this is taken back even if its owner cannot be checked (another
# host): far longer than any live sender holds one (connect + DATA + the reply timeout).
DEFAULT_STALE_AFTER = timedelta(minutes=15)


# --- time and transport, injectable -------------------------------------------------


class Clock(Protocol):
    def now(self) -> datetime: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> datetime:
        return utcnow()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class Transport(Protocol):
    @property
    def label(self) -> str: ...

    def send(
        self,
        envelope_from: str,
        recipients: Sequence[str],
        data: bytes,
        *,
        before_final: Callable[[], bool] | None = None,
    ) -> Accepted: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff for transient failures: base, 2·base, 4·base ... capped."""

    base_seconds: float = 60.0
    cap_seconds: float = 1800.0

    def delay(self, attempt: int) -> float:
        return float(min(self.base_seconds * 2 ** max(attempt - 1, 0), self.cap_seconds))


# --- who holds a claim --------------------------------------------------------------


@dataclass(frozen=True)
class Worker:
    """A sending process: host, pid and the process's start time (so a reused pid is
    not mistaken for the original process)."""

    host: str
    pid: int
    started: str

    @classmethod
    def current(cls) -> Worker:
        pid = os.getpid()
        return cls(socket.gethostname(), pid, _process_start(pid) or "?")

    def token(self) -> str:
        """A claim token: the worker plus a nonce, unique per claim."""
        return f"{self.host}/{self.pid}/{self.started}/{uuid.uuid4().hex[:12]}"


def _process_start(pid: int) -> str | None:
    """The start time of a process in clock ticks since boot (Linux /proc), or None."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            stat = f.read()
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()
    return fields[19] if len(fields) > 19 else None


def owner_is_gone(claimed_by: str | None, me: Worker) -> bool:
    """True when the claim's process is known dead: same host, and no such process or
    a different process under that pid. Other hosts cannot be checked (lease only)."""
    if not claimed_by:
        return True
    parts = claimed_by.split("/")
    if len(parts) != 4:
        return True
    host, pid_text, started, _nonce = parts
    if host != me.host or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == me.pid and started == me.started:
        return False  # ourselves: another thread of this process may be sending it
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # alive, someone else's
    current = _process_start(pid)
    return current is not None and started != "?" and current != started


# --- what a run reports -------------------------------------------------------------


@dataclass(frozen=True)
class OutboxItem:
    id: int
    reference: str | None
    authority: str | None
    to: str
    message_id: str | None
    detail: str | None = None


@dataclass(frozen=True)
class OutboxEvent:
    """Progress, for a progress bar or log lines. ``kind``: sent, failed, uncertain,
    retry (transient failure, requeued), recovered (requeued after an interruption),
    found_uncertain, aborted, waiting (``seconds`` until the next step)."""

    kind: str
    item: OutboxItem | None = None
    seconds: float | None = None
    reason: str | None = None


Listener = Callable[[OutboxEvent], None]


@dataclass
class DrainReport:
    sent: list[OutboxItem] = field(default_factory=list)
    failed: list[OutboxItem] = field(default_factory=list)
    uncertain: list[OutboxItem] = field(default_factory=list)  # became uncertain in this run
    recovered: list[OutboxItem] = field(default_factory=list)  # requeued after interruption
    found_uncertain: list[OutboxItem] = field(default_factory=list)  # left by a dead sender
    retries: int = 0
    stopped: str | None = None  # None: nothing left; "limit", "window", "retry_later", "error"
    error: FoibotError | None = None  # why the run stopped, when stopped == "error"
    window_opens_at: datetime | None = None
    next_retry_at: datetime | None = None


@dataclass(frozen=True)
class Scope:
    """Which outgoing messages a run looks at: one campaign's, or every one."""

    campaign_id: int | None = None
    purposes: tuple[str, ...] = OUTBOX_PURPOSES

    def where(self) -> list[ColumnElement[bool]]:
        clauses: list[ColumnElement[bool]] = [
            Message.direction == "out",
            Message.purpose.in_(self.purposes),
        ]
        if self.campaign_id is not None:
            clauses.append(
                Message.request_id.in_(
                    select(Request.id).where(Request.campaign_id == self.campaign_id)
                )
            )
        return clauses


# --- queueing -----------------------------------------------------------------------


def store_raw(session: Session, data: bytes, now: datetime) -> str:
    """Stores bytes content-addressed (idempotent); returns the SHA-256."""
    return _raw(session, data, now).sha256


def _raw(session: Session, data: bytes, now: datetime) -> RawMessage:
    digest = hashlib.sha256(data).hexdigest()
    raw = session.get(RawMessage, digest)
    if raw is None:
        raw = RawMessage(sha256=digest, size=len(data), data=data, stored_at=now)
        session.add(raw)
    return raw


def enqueue(
    session: Session,
    mail: OutgoingMail,
    *,
    purpose: str,
    request_id: int | None,
    now: datetime,
    held: bool = False,
) -> Message:
    """Puts a composed message in the outbox (in the caller's transaction). A ``held``
    message waits for ``release_held``; otherwise any sender may send it."""
    if purpose not in OUTBOX_PURPOSES:
        raise ValueError(f"unknown outgoing purpose {purpose!r}")
    message = Message(
        direction="out",
        request_id=request_id,
        raw_sha256=store_raw(session, mail.raw, now),
        message_id=mail.message_id,
        from_addr=mail.from_addr,
        to_addrs=list(mail.to_addrs),
        cc_addrs=[],
        subject=mail.subject,
        date=mail.date,
        body_text=mail.body,
        purpose=purpose,
        send_state=states.HELD if held else states.QUEUED,
        attempts=0,
        created_at=now,
    )
    session.add(message)
    return message


def release_held(db: Database, scope: Scope, limit: int | None = None) -> int:
    """held -> queued for the oldest ``limit`` held messages in scope (all by default);
    returns how many were released."""
    with db.transaction() as session:
        pick = (
            select(Message.id)
            .where(*scope.where(), Message.send_state == states.HELD)
            .order_by(Message.id)
        )
        if limit is not None:
            pick = pick.limit(limit)
        ids = list(session.scalars(pick))
        if not ids:
            return 0
        result = session.execute(
            update(Message)
            .where(Message.id.in_(ids), Message.send_state == states.HELD)
            .values(send_state=states.QUEUED)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0))


# --- the state transitions, one transaction each ------------------------------------


@dataclass(frozen=True)
class Claimed:
    id: int
    token: str
    envelope_from: str
    recipients: tuple[str, ...]
    raw: bytes
    attempts: int
    item: OutboxItem


def _item(session: Session, message: Message, detail: str | None = None) -> OutboxItem:
    reference = authority = None
    if message.request_id is not None:
        row = session.execute(
            select(Request.reference, Authority.name)
            .join(Authority, Authority.id == Request.authority_id)
            .where(Request.id == message.request_id)
        ).first()
        if row is not None:
            reference, authority = row
    return OutboxItem(
        id=message.id,
        reference=reference,
        authority=authority,
        to=", ".join(message.to_addrs or []),
        message_id=message.message_id,
        detail=detail,
    )


def _ready(now: datetime) -> ColumnElement[bool]:
    return and_(
        Message.send_state == states.QUEUED,
        or_(Message.not_before.is_(None), Message.not_before <= now),
    )


def claim_next(db: Database, scope: Scope, token: str, now: datetime) -> Claimed | None:
    """Claims the oldest ready message (queued -> sending) and restamps its Date."""
    with db.transaction() as session:
        pick = (
            select(Message.id)
            .where(*scope.where(), _ready(now))
            .order_by(Message.id)
            .limit(1)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        claimed_id = session.execute(
            update(Message)
            .where(Message.id == pick, Message.send_state == states.QUEUED)
            .values(
                send_state=states.SENDING,
                claimed_by=token,
                claimed_at=now,
                attempts=Message.attempts + 1,
            )
            .returning(Message.id)
            .execution_options(synchronize_session=False)
        ).scalar_one_or_none()
        if claimed_id is None:
            return None
        message = session.get(Message, claimed_id)
        assert message is not None and message.raw is not None
        old = message.raw
        data = restamp_date(old.data, now)
        new = _raw(session, data, now)
        if new is not old:
            message.raw = new
            message.date = now
            session.flush()
            still_used = session.scalar(
                select(func.count()).select_from(Message).where(Message.raw_sha256 == old.sha256)
            )
            if not still_used:
                session.delete(old)
        return Claimed(
            id=message.id,
            token=token,
            envelope_from=message.from_addr or "",
            recipients=tuple(message.to_addrs or []),
            raw=data,
            attempts=message.attempts,
            item=_item(session, message),
        )


def _transition(
    session: Session, message_id: int, token: str, from_states: tuple[str, ...], **values: Any
) -> bool:
    result = session.execute(
        update(Message)
        .where(
            Message.id == message_id,
            Message.claimed_by == token,
            Message.send_state.in_(from_states),
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


def mark_final(db: Database, message_id: int, token: str) -> bool:
    """sending -> final, durably, before the terminating dot. False: the claim is lost
    (someone took the message back), so the dot must not be sent."""
    if db.dialect != "sqlite":
        with db.transaction() as session:
            return _transition(
                session, message_id, token, (states.SENDING,), send_state=states.FINAL
            )
    # This commit must survive a power cut too, not only a crash of foibot: SQLite in
    # WAL mode with synchronous=NORMAL (foibot.store.db's default, fine elsewhere) may
    # lose the last commits on a system crash, which here could mean a second delivery.
    # So this one commit is made with synchronous=FULL, on a connection of its own.
    try:
        with db.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA synchronous=FULL")
            conn.commit()
            try:
                with Session(bind=conn) as session:
                    ok = _transition(
                        session, message_id, token, (states.SENDING,), send_state=states.FINAL
                    )
                    session.commit()
            finally:
                conn.rollback()
                conn.exec_driver_sql("PRAGMA synchronous=NORMAL")
                conn.commit()
    except OperationalError as exc:
        raise StoreError(f"database {db.safe_url}: {exc.orig or exc}") from exc
    return ok


def _event(
    session: Session, message: Message, kind: str, now: datetime, data: dict[str, Any]
) -> None:
    if message.request_id is None:
        return
    session.add(
        Event(
            request_id=message.request_id,
            kind=kind,
            occurred_on=london_date(now),
            occurred_at=now,
            message_id=message.id,
            source="auto",
            data=data,
            recorded_at=utcnow(),
        )
    )


def london_date(at: datetime) -> date:
    """The day in the UK: an email sent before midnight UK time arrives that day, which
    is day 0 of the statutory clocks (DESIGN.md §1)."""
    return at.astimezone(LONDON).date()


def mark_sent(
    db: Database, claimed: Claimed, accepted: Accepted, now: datetime
) -> tuple[bool, OutboxItem]:
    """final (or uncertain, if a recovery got there first) -> sent, with a "sent" event
    whose date is the UK day of sending. False if the claim was lost meanwhile."""
    with db.transaction() as session:
        ok = _transition(
            session,
            claimed.id,
            claimed.token,
            (states.FINAL, states.UNCERTAIN),
            send_state=states.SENT,
            sent_at=now,
            last_error=None,
            not_before=None,
        )
        message = session.get(Message, claimed.id)
        assert message is not None
        reply = f"{accepted.code} {accepted.reply}".strip()
        if ok:
            _event(
                session,
                message,
                # a review request starts the authority's review clock (DESIGN.md §1)
                "review_requested" if message.purpose == "review_request" else "sent",
                now,
                {
                    "message_id": message.message_id,
                    "to": list(message.to_addrs or []),
                    "smtp_reply": reply,
                    "attempts": message.attempts,
                },
            )
        return ok, _with_detail(claimed.item, reply)


def mark_failed(db: Database, claimed: Claimed, error: str, now: datetime, **data: Any) -> None:
    """sending/final -> delivery_failed, with a "delivery_failed" event (the server's
    reply in its data)."""
    with db.transaction() as session:
        ok = _transition(
            session,
            claimed.id,
            claimed.token,
            (states.SENDING, states.FINAL),
            send_state=states.DELIVERY_FAILED,
            last_error=error,
            not_before=None,
        )
        message = session.get(Message, claimed.id)
        if ok and message is not None:
            _event(session, message, "delivery_failed", now, {"error": error, **data})


def requeue(db: Database, claimed: Claimed, error: str, not_before: datetime) -> bool:
    """Back to queued after a transient failure, not before ``not_before``."""
    with db.transaction() as session:
        return _transition(
            session,
            claimed.id,
            claimed.token,
            (states.SENDING, states.FINAL),
            send_state=states.QUEUED,
            last_error=error,
            not_before=not_before,
            claimed_by=None,
            claimed_at=None,
        )


def release(db: Database, claimed: Claimed) -> None:
    """Back to queued without counting an attempt: the run stopped before this message
    was tried (server unreachable, login refused ...)."""
    with db.transaction() as session:
        _transition(
            session,
            claimed.id,
            claimed.token,
            (states.SENDING,),
            send_state=states.QUEUED,
            attempts=Message.attempts - 1,
            claimed_by=None,
            claimed_at=None,
        )


def mark_uncertain(db: Database, claimed: Claimed, error: str) -> None:
    with db.transaction() as session:
        _transition(
            session,
            claimed.id,
            claimed.token,
            (states.FINAL,),
            send_state=states.UNCERTAIN,
            last_error=error,
        )


@dataclass
class Recovery:
    requeued: list[OutboxItem] = field(default_factory=list)
    uncertain: list[OutboxItem] = field(default_factory=list)


def recover_abandoned(
    db: Database,
    *,
    now: datetime,
    me: Worker,
    stale_after: timedelta = DEFAULT_STALE_AFTER,
) -> Recovery:
    """Takes back the claims of senders that are gone (killed, crashed, or silent for
    longer than ``stale_after``): "sending" -> queued, "final" -> uncertain."""
    recovery = Recovery()
    with db.transaction() as session:
        candidates = session.scalars(
            select(Message).where(
                Message.direction == "out",
                Message.send_state.in_((states.SENDING, states.FINAL)),
            )
        ).all()
        for message in candidates:
            stale = message.claimed_at is None or message.claimed_at <= now - stale_after
            if not (stale or owner_is_gone(message.claimed_by, me)):
                continue
            token = message.claimed_by or ""
            if message.send_state == states.SENDING:
                note = "interrupted before the message was complete; queued again"
                if _claimed_transition(
                    session, message, token, send_state=states.QUEUED, last_error=note
                ):
                    recovery.requeued.append(_item(session, message, note))
            else:
                note = (
                    "interrupted between the end of the message and the server's reply: "
                    "it may or may not have been delivered"
                )
                if _claimed_transition(
                    session, message, token, send_state=states.UNCERTAIN, last_error=note
                ):
                    recovery.uncertain.append(_item(session, message, note))
    return recovery


def _claimed_transition(session: Session, message: Message, token: str, **values: Any) -> bool:
    extra: dict[str, Any] = {}
    if values.get("send_state") == states.QUEUED:
        extra = {"claimed_by": None, "claimed_at": None}
    condition = (
        Message.claimed_by.is_(None) if message.claimed_by is None else Message.claimed_by == token
    )
    result = session.execute(
        update(Message)
        .where(Message.id == message.id, Message.send_state == message.send_state, condition)
        .values(**values, **extra)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


# --- queries a run needs --------------------------------------------------------------


def count_ready(db: Database, scope: Scope, now: datetime) -> int:
    with db.transaction() as session:
        return int(
            session.scalar(
                select(func.count()).select_from(Message).where(*scope.where(), _ready(now))
            )
            or 0
        )


def count_queued(db: Database, scope: Scope) -> int:
    """Released and not yet claimed, ready or backing off."""
    with db.transaction() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(Message)
                .where(*scope.where(), Message.send_state == states.QUEUED)
            )
            or 0
        )


def next_retry_at(db: Database, scope: Scope) -> datetime | None:
    """When the earliest backed-off message becomes ready (None: none waiting)."""
    with db.transaction() as session:
        value: datetime | None = session.scalar(
            select(func.min(Message.not_before)).where(
                *scope.where(), Message.send_state == states.QUEUED
            )
        )
        return value


# --- the run ------------------------------------------------------------------------


_STOP_ERRORS = (
    SmtpUnreachableError,
    SmtpAuthError,
    SmtpTlsError,
    SmtpSenderRejectedError,
    ConfigError,
)


def drain_outbox(
    db: Database,
    settings: Settings,
    *,
    scope: Scope | None = None,
    transport_factory: Callable[[], Transport] | None = None,
    limit: int | None = None,
    ignore_window: bool = False,
    wait_for_retries: bool = True,
    clock: Clock | None = None,
    listener: Listener | None = None,
    worker: Worker | None = None,
    backoff: Backoff | None = None,
    stale_after: timedelta = DEFAULT_STALE_AFTER,
) -> DrainReport:
    """Sends what is ready in the outbox, paced and within the sending window.

    Stops when nothing is left (``stopped`` None), after ``limit`` messages reached an
    outcome ("limit"), when the window closes ("window", with ``window_opens_at``), or
    when only backed-off messages remain and ``wait_for_retries`` is False
    ("retry_later", with ``next_retry_at``; the daemon passes False, the CLI waits).
    An unreachable server, a refused login, a TLS failure, a refused sender or a missing
    [smtp] section stop the run ("error", with ``error`` set; the message in hand goes
    back to the queue untouched). Database errors propagate.
    """
    scope = scope or Scope()
    clock = clock or SystemClock()
    me = worker or Worker.current()
    backoff = backoff or Backoff()
    notify = listener or (lambda _event: None)
    report = DrainReport()

    recovery = recover_abandoned(db, now=clock.now(), me=me, stale_after=stale_after)
    for item in recovery.requeued:
        report.recovered.append(item)
        notify(OutboxEvent("recovered", item))
    for item in recovery.uncertain:
        report.found_uncertain.append(item)
        notify(OutboxEvent("found_uncertain", item))

    rate = settings.sending.rate_per_minute
    interval = timedelta(seconds=60.0 / rate) if rate > 0 else timedelta(0)
    window = None if ignore_window else settings.sending.window
    transport: Transport | None = None
    last_start: datetime | None = None
    done = 0
    try:
        while limit is None or done < limit:
            now = clock.now()
            if count_ready(db, scope, now) == 0:
                upcoming = next_retry_at(db, scope)
                if upcoming is None:
                    break  # nothing queued at all
                if not wait_for_retries:
                    report.stopped, report.next_retry_at = "retry_later", upcoming
                    break
                _wait(clock, notify, (upcoming - now).total_seconds(), "retry")
                continue
            if window is not None and not window.is_open(now):
                report.stopped, report.window_opens_at = "window", window.next_open(now)
                break
            if last_start is not None and interval:
                pause = (last_start + interval - now).total_seconds()
                if pause > 0:
                    _wait(clock, notify, pause, "pacing")
                    continue  # the window may have closed meanwhile
            claimed = claim_next(db, scope, me.token(), now)
            if claimed is None:
                continue  # another sender took it
            last_start = now
            if transport is None:
                try:
                    transport = (transport_factory or _smtp_factory(settings))()
                except BaseException:
                    release(db, claimed)
                    raise
            if _send_one(db, settings, transport, claimed, clock, backoff, notify, report):
                done += 1
        else:
            if count_ready(db, scope, clock.now()) or next_retry_at(db, scope):
                report.stopped = "limit"
    except _STOP_ERRORS as exc:
        # The server cannot be used at all (unreachable, login refused, TLS, sender
        # refused) or [smtp] is missing: stop, with what was done so far in the report.
        report.stopped, report.error = "error", exc
    finally:
        if transport is not None:
            transport.close()
    return report


def _smtp_factory(settings: Settings) -> Callable[[], Transport]:
    smtp = settings.smtp  # a missing [smtp] section is a ConfigError here, before sending
    return lambda: SmtpTransport(smtp)


def _wait(clock: Clock, notify: Listener, seconds: float, reason: str) -> None:
    seconds = max(seconds, 0.0)
    notify(OutboxEvent("waiting", seconds=seconds, reason=reason))
    if seconds:
        clock.sleep(seconds)


def _send_one(
    db: Database,
    settings: Settings,
    transport: Transport,
    claimed: Claimed,
    clock: Clock,
    backoff: Backoff,
    notify: Listener,
    report: DrainReport,
) -> bool:
    """Sends one claimed message and records the outcome. True when the message reached
    an outcome (sent, failed, uncertain), False when it was requeued or withdrawn."""
    final = False

    def before_final() -> bool:
        nonlocal final
        final = mark_final(db, claimed.id, claimed.token)
        return final

    try:
        accepted = transport.send(
            claimed.envelope_from, claimed.recipients, claimed.raw, before_final=before_final
        )
    except SmtpAbortedError:
        notify(OutboxEvent("aborted", claimed.item))
        return False
    except SmtpUncertainError as exc:
        mark_uncertain(db, claimed, str(exc))
        item = _with_detail(claimed.item, str(exc))
        report.uncertain.append(item)
        notify(OutboxEvent("uncertain", item))
        return True
    except SmtpPermanentError as exc:
        now = clock.now()
        mark_failed(db, claimed, str(exc), now, code=exc.code, reply=exc.reply, permanent=True)
        item = _with_detail(claimed.item, str(exc))
        report.failed.append(item)
        notify(OutboxEvent("failed", item))
        return True
    except SmtpTransientError as exc:
        now = clock.now()
        if claimed.attempts >= settings.sending.max_attempts:
            error = f"gave up after {claimed.attempts} attempts; last: {exc}"
            mark_failed(db, claimed, error, now, code=exc.code, reply=exc.reply, permanent=False)
            item = _with_detail(claimed.item, error)
            report.failed.append(item)
            notify(OutboxEvent("failed", item))
            return True
        delay = backoff.delay(claimed.attempts)
        requeue(db, claimed, str(exc), now + timedelta(seconds=delay))
        report.retries += 1
        notify(OutboxEvent("retry", _with_detail(claimed.item, str(exc)), seconds=delay))
        return False
    except _STOP_ERRORS:
        release(db, claimed)
        raise
    except BaseException as exc:
        # Unexpected (a bug, Ctrl-C ...): leave nothing ambiguous behind.
        try:
            if final:
                mark_uncertain(db, claimed, f"interrupted: {type(exc).__name__}")
            else:
                release(db, claimed)
        finally:
            raise
    _ok, item = mark_sent(db, claimed, accepted, clock.now())
    report.sent.append(item)
    notify(OutboxEvent("sent", item))
    return True


def _with_detail(item: OutboxItem, detail: str) -> OutboxItem:
    return OutboxItem(item.id, item.reference, item.authority, item.to, item.message_id, detail)


# --- user actions on uncertain messages ---------------------------------------------


def requeue_uncertain(db: Database, scope: Scope, references: Sequence[str] = ()) -> list[str]:
    """The user checked (e.g. their Sent folder) and wants these sent again: uncertain
    -> queued, same bytes and Message-ID. Returns the references requeued."""
    return _resolve_uncertain(db, scope, references, delivered=False)


def confirm_uncertain_sent(db: Database, scope: Scope, references: Sequence[str]) -> list[str]:
    """The user checked and the message did go out: uncertain -> sent, with a "sent"
    event dated the day of the attempt."""
    return _resolve_uncertain(db, scope, references, delivered=True)


def _resolve_uncertain(
    db: Database, scope: Scope, references: Sequence[str], *, delivered: bool
) -> list[str]:
    done: list[str] = []
    with db.transaction() as session:
        query = (
            select(Message, Request.reference)
            .join(Request, Request.id == Message.request_id)
            .where(*scope.where(), Message.send_state == states.UNCERTAIN)
            .order_by(Message.id)
        )
        if references:
            query = query.where(Request.reference.in_(list(references)))
        for message, reference in session.execute(query).all():
            if delivered:
                when = message.claimed_at or utcnow()
                message.send_state = states.SENT
                message.sent_at = when
                message.last_error = None
                _event(
                    session,
                    message,
                    "sent",
                    when,
                    {"message_id": message.message_id, "confirmed_by_user": True},
                )
            else:
                message.send_state = states.QUEUED
                message.not_before = None
                message.claimed_by = None
                message.claimed_at = None
                message.last_error = "resent by the user after an uncertain attempt"
            done.append(reference)
    return done


def requeue_failed(db: Database, scope: Scope) -> list[str]:
    """delivery_failed -> queued with a fresh attempt count (``--retry-failed``)."""
    done: list[str] = []
    with db.transaction() as session:
        rows = session.execute(
            select(Message, Request.reference)
            .join(Request, Request.id == Message.request_id)
            .where(*scope.where(), Message.send_state == states.DELIVERY_FAILED)
            .order_by(Message.id)
        ).all()
        for message, reference in rows:
            message.send_state = states.QUEUED
            message.attempts = 0
            message.not_before = None
            message.claimed_by = None
            message.claimed_at = None
            done.append(reference)
    return done
