"""Rows for results tests, made directly with the models (no ingest pipeline): an
authority, a campaign, a request with its events, and the council's reply as a real
email (raw bytes stored, body text and attachments recorded as the ingest would)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import format_datetime, formataddr, make_msgid
from pathlib import Path
from random import Random
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from foibot.domain import references
from foibot.store.models import (
    Attachment,
    Authority,
    Campaign,
    Event,
    Message,
    RawMessage,
    Request,
    TheirReference,
)

NOW = datetime(2024, 1, 1, tzinfo=UTC)


def authority(session: Session, name: str, email: str, *, regime: str = "foia") -> Authority:
    found = session.scalar(select(Authority).where(Authority.email == email))
    if found is not None:
        return found
    nation = "Scotland" if regime in ("foisa", "eisr") else "England"
    row = Authority(
        name=name, email=email, nation=nation, regime=regime, created_at=NOW, updated_at=NOW
    )
    session.add(row)
    session.flush()
    return row


def campaign(session: Session, name: str, body: str | None, **extra: Any) -> Campaign:
    row = Campaign(
        name=name,
        title=extra.pop("title", name.replace("-", " ").title()),
        subject_template="FOI request: {{ campaign.title }} [{{ reference }}]",
        body_template=extra.pop("body_template", "Dear {{ authority.name }},\n\n{{ body }}\n"),
        template_name="foi-request.txt.j2",
        body=body,
        variables={},
        selection={"kind": "all"},
        created_at=NOW,
        **extra,
    )
    session.add(row)
    session.flush()
    return row


_rng = Random(7)


def request(
    session: Session,
    camp: Campaign,
    auth: Authority,
    *,
    sent: date | None = None,
    regime: str = "foia",
) -> Request:
    row = Request(
        campaign_id=camp.id,
        authority_id=auth.id,
        reference=references.new_reference(_rng),
        regime=regime,
        created_at=NOW,
    )
    session.add(row)
    session.flush()
    if sent is not None:
        out = Message(
            direction="out",
            request_id=row.id,
            message_id=make_msgid(domain="foibot.test")[1:-1],
            subject=f"FOI request [{row.reference}]",
            to_addrs=[auth.email],
            purpose="request",
            send_state="sent",
            sent_at=datetime.combine(sent, time(10, 0), tzinfo=UTC),
            created_at=NOW,
            body_text=camp.body,
        )
        session.add(out)
        session.flush()
        event(session, row, "sent", sent, message=out)
    return row


def event(
    session: Session,
    req: Request,
    kind: str,
    on: date,
    *,
    message: Message | None = None,
    **data: Any,
) -> Event:
    row = Event(
        request_id=req.id,
        kind=kind,
        occurred_on=on,
        message_id=message.id if message is not None else None,
        data=data,
        recorded_at=NOW,
    )
    session.add(row)
    session.flush()
    return row


@dataclass(frozen=True)
class Part:
    """An attachment to put in a reply: its bytes, and the text the ingest would have
    extracted (None for a type it does not read, e.g. XLSX)."""

    filename: str
    content_type: str
    data: bytes
    text: str | None = None


def reply_email(
    auth: Authority,
    req: Request,
    body: str,
    *,
    day: date,
    parts: tuple[Part, ...] = (),
    subject: str | None = None,
) -> bytes:
    mail = EmailMessage(policy=default_policy)
    mail["From"] = formataddr((auth.name, auth.email))
    mail["To"] = "researcher@example.org"
    mail["Subject"] = subject or f"RE: FOI request [{req.reference}]"
    mail["Date"] = format_datetime(datetime.combine(day, time(14, 30), tzinfo=UTC))
    mail["Message-ID"] = make_msgid(domain=auth.email.rpartition("@")[2])
    mail.set_content(body)
    for p in parts:
        maintype, _, subtype = p.content_type.partition("/")
        mail.add_attachment(p.data, maintype=maintype, subtype=subtype, filename=p.filename)
    return mail.as_bytes()


def response(
    session: Session,
    req: Request,
    body: str,
    *,
    day: date,
    outcome: str = "successful",
    parts: tuple[Part, ...] = (),
    their_ref: str | None = None,
    storage_dir: Path | None = None,
    kind: str = "response",
) -> Message:
    """The council's reply filed under ``req``: raw bytes stored, body text decoded
    from them, attachments recorded (and saved under ``storage_dir`` if given), and the
    ``response`` event."""
    auth = session.get(Authority, req.authority_id)
    assert auth is not None
    raw = reply_email(auth, req, body, day=day, parts=parts)
    sha = hashlib.sha256(raw).hexdigest()
    session.add(RawMessage(sha256=sha, size=len(raw), data=raw, stored_at=NOW))
    from email import message_from_bytes

    parsed = message_from_bytes(raw, policy=default_policy)
    assert isinstance(parsed, EmailMessage)
    text_part = parsed.get_body(preferencelist=("plain",))
    assert text_part is not None
    row = Message(
        direction="in",
        request_id=req.id,
        raw_sha256=sha,
        message_id=str(parsed["Message-ID"]).strip("<>"),
        from_addr=auth.email,
        to_addrs=["researcher@example.org"],
        subject=str(parsed["Subject"]),
        date=datetime.combine(day, time(14, 30), tzinfo=UTC),
        body_text=text_part.get_content(),
        kind=kind,
        outcome=outcome,
        classification={},
        created_at=NOW,
        their_reference=their_ref,
    )
    for position, p in enumerate(parts):
        digest = hashlib.sha256(p.data).hexdigest()
        ext = p.filename.rsplit(".", 1)[-1].lower()
        stored = f"attachments/{digest[:2]}/{digest}.{ext}"
        if storage_dir is not None:
            path = storage_dir / stored
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(p.data)
        row.attachments.append(
            Attachment(
                position=position,
                filename=p.filename,
                stored_name=stored,
                content_type=p.content_type,
                size=len(p.data),
                sha256=digest,
                extracted_text=p.text,
            )
        )
    session.add(row)
    session.flush()
    if kind == "response":
        event(session, req, "response", day, message=row, outcome=outcome)
    if their_ref:
        session.add(
            TheirReference(
                request_id=req.id,
                value=their_ref.lower(),
                display=their_ref,
                message_id=row.id,
                created_at=NOW,
            )
        )
        session.flush()
    return row
