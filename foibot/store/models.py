"""The data model (SQLAlchemy 2.x, typed declarative).

Deadlines and statuses are never stored: they are derived from ``events`` and the
working-day calendar at read time (DESIGN.md §1), so a holiday-data update corrects
every open clock. What is stored is what happened: messages (raw bytes first), the
events they caused, and the outbox state of what we send.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from foibot.store.types import UTCDateTime

# Deterministic constraint names, so migrations diff cleanly on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        list[Any]: JSON(),
    }


class Authority(Base):
    """A public authority we send requests to."""

    __tablename__ = "authorities"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(300), unique=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)  # lower case
    nation: Mapped[str] = mapped_column(String(32))  # foibot.domain.regimes.Nation value
    regime: Mapped[str] = mapped_column(String(16))  # "foia" | "foisa"
    gss_code: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    domains: Mapped[list[AuthorityDomain]] = relationship(
        back_populates="authority", cascade="all, delete-orphan", order_by="AuthorityDomain.domain"
    )


class AuthorityDomain(Base):
    """A mail domain that speaks for an authority: its email's domain, domains given in
    the authorities CSV, or domains learned when the user files a message by hand."""

    __tablename__ = "authority_domains"
    __table_args__ = (UniqueConstraint("authority_id", "domain"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    authority_id: Mapped[int] = mapped_column(ForeignKey("authorities.id", ondelete="CASCADE"))
    domain: Mapped[str] = mapped_column(String(255), index=True)  # lower case, no "@"
    source: Mapped[str] = mapped_column(String(16))  # "email" | "configured" | "learned"
    created_at: Mapped[datetime]

    authority: Mapped[Authority] = relationship(back_populates="domains")


class Campaign(Base):
    """One request text sent to many authorities."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)  # slug
    title: Mapped[str] = mapped_column(String(300))
    environmental: Mapped[bool] = mapped_column(Boolean, default=False)  # EIR / EISR
    subject_template: Mapped[str] = mapped_column(Text)
    body_template: Mapped[str] = mapped_column(Text)  # template source, frozen at create
    template_name: Mapped[str] = mapped_column(String(500))  # for error messages
    body: Mapped[str | None] = mapped_column(Text)  # the user's questions, if given as body
    variables: Mapped[dict[str, Any]] = mapped_column(default=dict)
    selection: Mapped[dict[str, Any]] = mapped_column(default=dict)  # how authorities were chosen
    source_path: Mapped[str | None] = mapped_column(String(1000))
    # The question list the answers grid aligns replies to (foibot.domain.questions),
    # as edited by the user; None: extracted from ``body`` when needed.
    questions: Mapped[list[Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime]

    requests: Mapped[list[Request]] = relationship(back_populates="campaign")


class Request(Base):
    """One campaign's request to one authority, with our own reference."""

    __tablename__ = "requests"
    __table_args__ = (UniqueConstraint("campaign_id", "authority_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    authority_id: Mapped[int] = mapped_column(ForeignKey("authorities.id"), index=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)  # "FB-7K3M9Q5"
    regime: Mapped[str] = mapped_column(String(16))  # foibot.domain.regimes.Regime value
    created_at: Mapped[datetime]

    campaign: Mapped[Campaign] = relationship(back_populates="requests")
    authority: Mapped[Authority] = relationship()
    messages: Mapped[list[Message]] = relationship(
        back_populates="request", order_by="Message.id", foreign_keys="Message.request_id"
    )
    events: Mapped[list[Event]] = relationship(back_populates="request", order_by="Event.id")
    their_references: Mapped[list[TheirReference]] = relationship(
        back_populates="request", order_by="TheirReference.id"
    )


class TheirReference(Base):
    """The authority's own reference for a request ("Our ref: 6073489"), learned from
    their messages, so later mails that quote only it are filed (DESIGN.md §2, method 4)."""

    __tablename__ = "their_references"
    __table_args__ = (UniqueConstraint("request_id", "value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), index=True)
    value: Mapped[str] = mapped_column(String(100), index=True)  # normalised
    display: Mapped[str] = mapped_column(String(200))  # as the authority wrote it
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    created_at: Mapped[datetime]

    request: Mapped[Request] = relationship(back_populates="their_references")


class RawMessage(Base):
    """The exact bytes of a message, content-addressed. Written and committed before
    anything else looks at an incoming message, so no parse error can lose mail."""

    __tablename__ = "raw_messages"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    stored_at: Mapped[datetime]


class Message(Base):
    """A message in (a reply, a bounce ...) or out (a request, a review request ...).

    Outgoing messages double as the outbox: their bytes and Message-ID are fixed when
    they are queued, and ``send_state`` moves queued -> sending -> sent (or
    delivery_failed, or uncertain when a crash leaves the outcome unknown).
    """

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("direction", "message_id"),
        UniqueConstraint("direction", "raw_sha256"),
        Index("ix_messages_send_state", "direction", "send_state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    direction: Mapped[str] = mapped_column(String(3))  # "in" | "out"
    request_id: Mapped[int | None] = mapped_column(ForeignKey("requests.id"), index=True)
    raw_sha256: Mapped[str | None] = mapped_column(ForeignKey("raw_messages.sha256"))
    message_id: Mapped[str | None] = mapped_column(String(998))  # without <>
    in_reply_to: Mapped[str | None] = mapped_column(Text)
    references_header: Mapped[str | None] = mapped_column(Text)
    from_addr: Mapped[str | None] = mapped_column(String(320))
    to_addrs: Mapped[list[Any]] = mapped_column(default=list)
    cc_addrs: Mapped[list[Any]] = mapped_column(default=list)
    subject: Mapped[str | None] = mapped_column(Text)
    date: Mapped[datetime | None]  # the Date header, UTC
    body_text: Mapped[str | None] = mapped_column(Text)
    # incoming: where it came from, how it was read, what it is and where it was filed
    source: Mapped[str | None] = mapped_column(String(500))
    parse_error: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str | None] = mapped_column(String(32))
    outcome: Mapped[str | None] = mapped_column(String(32))
    classification: Mapped[dict[str, Any]] = mapped_column(default=dict)  # evidence
    match_method: Mapped[str | None] = mapped_column(String(32))
    match_evidence: Mapped[dict[str, Any]] = mapped_column(default=dict)
    their_reference: Mapped[str | None] = mapped_column(String(200))
    # outgoing: what it is for and the outbox state
    purpose: Mapped[str | None] = mapped_column(String(32))  # "request" | "review_request" ...
    send_state: Mapped[str | None] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    claimed_at: Mapped[datetime | None]
    not_before: Mapped[datetime | None]  # retry backoff
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime]

    request: Mapped[Request | None] = relationship(
        back_populates="messages", foreign_keys=[request_id]
    )
    raw: Mapped[RawMessage | None] = relationship()
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="message", order_by="Attachment.position", cascade="all, delete-orphan"
    )


class Attachment(Base):
    """A file attached to a message, saved under a generated safe name."""

    __tablename__ = "attachments"
    __table_args__ = (UniqueConstraint("message_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str | None] = mapped_column(String(500))  # as sent: untrusted
    stored_name: Mapped[str] = mapped_column(String(200))  # generated, safe
    content_type: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    extracted_text: Mapped[str | None] = mapped_column(Text)
    extraction_error: Mapped[str | None] = mapped_column(Text)

    message: Mapped[Message] = relationship(back_populates="attachments")


class Event(Base):
    """Something that happened to a request. Status and clocks derive from these.

    ``occurred_on`` is the date that counts in law (e.g. the day the authority received
    our request); a user's correction is an event too (``source = "user"``).
    """

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    occurred_on: Mapped[date] = mapped_column(Date)
    occurred_at: Mapped[datetime | None]
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    source: Mapped[str] = mapped_column(String(16), default="auto")  # "auto" | "user"
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    recorded_at: Mapped[datetime]

    request: Mapped[Request] = relationship(back_populates="events")


class MailboxState(Base):
    """Where incremental polling got to in one folder of one mailbox (RFC 3501 UIDs are
    only meaningful together with the folder's UIDVALIDITY)."""

    __tablename__ = "mailbox_state"
    __table_args__ = (UniqueConstraint("account", "folder"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account: Mapped[str] = mapped_column(String(500))  # e.g. "imap://user@host:993"
    folder: Mapped[str] = mapped_column(String(500))
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    last_uid: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime]


class DigestRun(Base):
    """A weekly digest, one row per period: the unique period key is what makes a digest
    go out once, even with several daemons or a restart after a missed slot."""

    __tablename__ = "digest_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period: Mapped[str] = mapped_column(String(32), unique=True)  # e.g. "2026-11-23"
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    recipients: Mapped[list[Any]] = mapped_column(default=list)
    message_id: Mapped[str | None] = mapped_column(String(998))
    error: Mapped[str | None] = mapped_column(Text)


class ClockNotice(Base):
    """What the daily clock check noticed, once per request, kind and date: a request
    that became overdue, a response due within a week, a review window closing. The
    unique key makes "once" hold with several daemons checking at the same time."""

    __tablename__ = "clock_notices"
    __table_args__ = (UniqueConstraint("request_id", "what", "about"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), index=True)
    what: Mapped[str] = mapped_column(String(32))  # "overdue" | "due_soon" | "review_closing"
    about: Mapped[date] = mapped_column(Date)  # the due date, or the review window's last day
    noticed_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime]
