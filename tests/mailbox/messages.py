"""Realistic council replies for mailbox tests: the five real council texts in
tests/fixtures/council-responses/ wrapped as the emails councils send."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.servers.dovecot import DovecotServer

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "council-responses"

# (file, sender, their reference as the subject shows it)
COUNCILS = [
    ("000_ce2ee234e5fe9bb0.txt", "foi@barnet.gov.uk", "Our ref: 6073489"),
    ("001_c0f5b67165051b81.txt", "info.requests@leicester.gov.uk", "FOI 15631"),
    ("002_a2cc6b6967004a4d.txt", "foi@barnet.gov.uk", "Our ref: 6234788"),
    ("003_e13dea2362cefe15.txt", "foi@barnet.gov.uk", "Our ref: 6299088"),
    ("004_dd5eb0f84851cdc0.txt", "foi@barnet.gov.uk", "Our ref: 8268329"),
]


def council_text(index: int) -> str:
    return (FIXTURES / COUNCILS[index % len(COUNCILS)][0]).read_text(encoding="utf-8")


def council_reply(n: int, *, our_ref: str | None = None, charset: str = "utf-8") -> bytes:
    """The n-th reply (cycling over the five texts), with its own Message-ID and date,
    quoted-printable or base64 as a council's mail system would send it."""
    _name, sender, their_ref = COUNCILS[n % len(COUNCILS)]
    msg = EmailMessage()
    msg["From"] = f"Freedom of Information Team <{sender}>"
    msg["To"] = "A. Researcher <research@example.org>"
    subject = f"RE: Freedom of Information request - {their_ref}"
    if our_ref:
        subject += f" [{our_ref}]"
    msg["Subject"] = subject
    when = datetime(2020, 2, 24, 9, 30, tzinfo=UTC) + timedelta(hours=n)
    msg["Date"] = format_datetime(when)
    # deterministic, so that a test can build the same reply again to compare
    msg["Message-ID"] = f"<foi-reply-{n}.{when:%Y%m%d%H%M}@{sender.split('@')[1]}>"
    msg.set_content(council_text(n), charset=charset, cte="quoted-printable" if n % 2 else "base64")
    return msg.as_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def replies(count: int, start: int = 0) -> list[bytes]:
    return [council_reply(n) for n in range(start, start + count)]


def append_all(
    server: DovecotServer, user: str, messages: list[bytes], folder: str = "INBOX"
) -> None:
    """APPEND the messages to the user's folder, as the mail server's delivery would."""
    client = server.client(user)
    try:
        for raw in messages:
            client.append(folder, raw)
    finally:
        client.logout()
