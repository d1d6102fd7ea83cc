"""Building the outgoing messages: RFC 5322 bytes, fixed before sending.

The Message-ID is made here, from our own domain and the request's reference
(``<{uuid}.{REF}@{sender domain}>``), and recorded before the message is sent, so a
reply's In-Reply-To finds its request and a resend after an uncertain attempt carries
the same Message-ID (mail clients show duplicates of one Message-ID once).

Bodies are text/plain UTF-8, 7bit when they are plain ASCII with lines short enough
for SMTP, quoted-printable otherwise: the bytes are always 7-bit clean and need no
8BITMIME from the server.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

from foibot.errors import UserInputError

_DATE_LINE = re.compile(rb"^Date:[^\r\n]*(?:\r\n[ \t][^\r\n]*)*\r\n", re.MULTILINE)


@dataclass(frozen=True)
class OutgoingMail:
    """One composed message: the exact bytes and the facts recorded with them."""

    raw: bytes  # CRLF line endings, 7-bit
    message_id: str  # without <>
    from_addr: str
    to_addrs: tuple[str, ...]
    reply_to: str | None
    subject: str
    date: datetime
    body: str


def new_message_id(reference: str, sender_address: str, unique: uuid.UUID | None = None) -> str:
    """``{uuid}.{REF}@{sender domain}``, without the angle brackets."""
    domain = sender_address.rpartition("@")[2].lower()
    return f"{(unique or uuid.uuid4()).hex}.{reference}@{domain}"


def _address(name: str | None, addr: str) -> Address:
    local, _, domain = addr.rpartition("@")
    try:
        return Address(display_name=name or "", username=local, domain=domain)
    except (ValueError, IndexError) as exc:
        raise UserInputError(f"cannot use {addr!r} as a mail address: {exc}") from None


def compose(
    *,
    from_name: str,
    from_addr: str,
    to_name: str | None,
    to_addr: str,
    subject: str,
    body: str,
    date: datetime,
    message_id: str,
    reply_to: str | None = None,
    in_reply_to: str | None = None,
    references: tuple[str, ...] = (),
) -> OutgoingMail:
    """Composes a text/plain UTF-8 message. ``subject`` must be one line;
    ``message_id`` and ``in_reply_to`` are given without angle brackets."""
    if "\n" in subject or "\r" in subject:
        raise UserInputError("a Subject must be one line")
    for addr in (from_addr, to_addr, *(a for a in [reply_to] if a)):
        if not addr.isascii():
            raise UserInputError(f"mail address {addr!r} is not ASCII; foibot cannot send to it")
    msg = EmailMessage(policy=SMTP)
    msg["From"] = _address(from_name, from_addr)
    msg["To"] = _address(to_name, to_addr)
    if reply_to:
        msg["Reply-To"] = _address(None, reply_to)
    msg["Subject"] = subject
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = f"<{message_id}>"
    if in_reply_to:
        msg["In-Reply-To"] = f"<{in_reply_to}>"
    if references:
        msg["References"] = " ".join(f"<{r}>" for r in references)
    text = body.replace("\r\n", "\n").replace("\r", "\n")
    if not text.endswith("\n"):
        text += "\n"
    # 7bit when the text allows it (readable as it is; SMTP's limit is 998 characters
    # a line), quoted-printable otherwise: no 8BITMIME needed from any server.
    plain = text.isascii() and max(len(line) for line in text.split("\n")) <= 990
    cte = "7bit" if plain else "quoted-printable"
    msg.set_content(text, subtype="plain", charset="utf-8", cte=cte)
    raw = msg.as_bytes(policy=SMTP)
    return OutgoingMail(
        raw=raw,
        message_id=message_id,
        from_addr=from_addr,
        to_addrs=(to_addr,),
        reply_to=reply_to,
        subject=subject,
        date=date,
        body=text,
    )


def restamp_date(raw: bytes, date: datetime) -> bytes:
    """The same message with its Date header set to ``date``.

    The bytes are fixed when a campaign is created, but it may be sent days later; a
    Date days in the past is a spam signal (and wrong), so the sender restamps it when
    it claims the message. Only messages composed here (one Date line, CRLF) are given.
    """
    header_end = raw.find(b"\r\n\r\n")
    if header_end < 0:
        raise ValueError("not a composed message: no end of headers")
    head, rest = raw[: header_end + 2], raw[header_end + 2 :]
    line = b"Date: " + format_datetime(date).encode("ascii") + b"\r\n"
    new_head, count = _DATE_LINE.subn(lambda _m: line, head, count=1)
    if count == 0:
        new_head = line + head
    return new_head + rest
