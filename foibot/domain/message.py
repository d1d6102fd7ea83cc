"""An incoming message as the pure domain sees it: already decoded, no I/O left.

``foibot.mail.parse`` builds these from raw bytes (mail-parser); classification and
matching in ``foibot.domain`` read only this.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class AttachmentInfo:
    filename: str | None  # as sent: untrusted, never used as a path
    content_type: str
    size: int
    text: str | None  # extracted text (PDF, DOCX, plain text), None if none could be had
    extraction_error: str | None = None  # why no text could be had from a PDF/DOCX ...


@dataclass(frozen=True)
class DeliveryReport:
    """What a bounce (RFC 3464 DSN, or a non-standard one) says about the failed message."""

    original_message_id: str | None  # without <>
    recipients: tuple[str, ...]  # lower case
    status: str | None  # e.g. "5.1.1"
    diagnostic: str | None
    action: str | None = None  # RFC 3464 Action of the first recipient: "failed", "delayed" ...


@dataclass(frozen=True)
class ParsedMessage:
    message_id: str | None  # without <>
    in_reply_to: tuple[str, ...]  # Message-IDs without <>
    references: tuple[str, ...]
    from_addr: str | None  # lower case
    from_name: str | None
    to: tuple[str, ...]  # lower case addresses
    cc: tuple[str, ...]
    delivered_to: tuple[str, ...]  # Delivered-To and X-Original-To
    subject: str
    date: datetime | None  # aware, UTC
    headers: Mapping[str, tuple[str, ...]]  # lower-case names -> every value
    content_type: str  # of the whole message, e.g. "multipart/report"
    text: str  # the body as plain text (converted from HTML when there is no text part)
    attachments: tuple[AttachmentInfo, ...] = ()
    delivery_report: DeliveryReport | None = None
    defects: tuple[str, ...] = field(default=())

    def header(self, name: str) -> str | None:
        values = self.headers.get(name.lower())
        return values[0] if values else None

    @property
    def sender_domain(self) -> str | None:
        if not self.from_addr or "@" not in self.from_addr:
            return None
        return self.from_addr.rpartition("@")[2]

    @property
    def full_text(self) -> str:
        """Body and attachment text together: what classification and reference
        extraction read (councils often answer only in a PDF or DOCX)."""
        parts = [self.text, *(a.text for a in self.attachments if a.text)]
        return "\n\n".join(p for p in parts if p)
