"""The mailbox port: where incoming mail is read from (IMAP or a local Maildir).

A poll (``foibot.services.poll``) asks a mailbox for the messages it has not seen yet,
hands each one to ingest, which commits the raw bytes, and only then tells the mailbox
(``after_commit``) so that it may flag or move the message and remember how far it got.
Nothing is marked read, moved or forgotten before it is safely stored; a crash between
the two steps means the message is read again next time, and ingest's de-duplication
(same Message-ID or same bytes) absorbs the repeat.

Adapters: ``foibot.mail.imap.ImapMailbox`` and ``foibot.mail.maildir.MaildirMailbox``.
They report problems as the ``MailboxError`` family below (``TransportError``
subclasses), so the CLI can print one line and the daemon can log it and retry.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from foibot.errors import TransportError


class MailboxError(TransportError):
    """A mailbox could not be read."""


class MailboxAuthError(MailboxError):
    """The server refused our login (wrong username or password)."""


class MailboxUnreachableError(MailboxError):
    """The server could not be reached or the connection was lost; worth retrying."""


class MailboxTLSError(MailboxError):
    """The TLS handshake or the certificate check failed (not retried: it will fail
    again until the configuration or the server changes)."""


class MailboxProtocolError(MailboxError):
    """The server answered something we cannot use (no such folder, a command refused,
    a malformed response)."""


@dataclass(frozen=True)
class FolderState:
    """How far polling got in one folder: the IMAP UIDVALIDITY and the highest UID
    whose message is committed (and post-processed). UIDs mean nothing without the
    UIDVALIDITY they were issued under (RFC 3501 §2.3.1.1)."""

    uidvalidity: int | None = None
    last_uid: int = 0


@dataclass(frozen=True)
class FetchedMessage:
    """One message read from a mailbox, not yet stored.

    ``key`` is what ``after_commit`` takes (the UID as text for IMAP, the file's key for
    Maildir); ``uid``/``uidvalidity`` are set by adapters that poll incrementally by UID,
    and are what the poll records once the message is committed.
    """

    key: str
    raw: bytes
    source: str  # where it came from, for the stored message: an IMAP URL or a file path
    uid: int | None = None
    uidvalidity: int | None = None


@runtime_checkable
class Mailbox(Protocol):
    """A folder of incoming mail. Connections are opened lazily and kept until
    ``close()``, so a daemon can poll (and wait for mail) on one connection."""

    @property
    def account(self) -> str:
        """Identifies the mailbox in ``MailboxState`` and in messages, without secrets,
        e.g. ``imap://foi@imap.example.org:993`` or ``maildir:/var/mail/foi``."""
        ...

    @property
    def folder(self) -> str: ...

    def fetch_new(self, state: FolderState) -> Iterator[FetchedMessage]:
        """The messages not yet read, oldest first. The caller commits each message
        (and calls ``after_commit``) before asking for the next, so an adapter that
        reconnects mid-way resumes after the last message it handed out. A UIDVALIDITY
        different from ``state.uidvalidity`` means every message is read again."""
        ...

    def after_commit(self, key: str) -> None:
        """The message is safely stored: apply the configured post-processing (add a
        flag, move it, or for Maildir move it from new/ to cur/)."""
        ...

    def wait_for_mail(self, timeout: float) -> bool:
        """Block until new mail may have arrived or ``timeout`` seconds pass. Returns
        True when there may be new mail (always True when the adapter cannot tell)."""
        ...

    def close(self) -> None: ...


def describe_exception(exc: BaseException, *, secret: str | None = None) -> str:
    """One line about a library exception, with ``secret`` (a password) removed in case
    a library ever echoes it."""
    line = " ".join(str(exc).split()) or type(exc).__name__
    if secret:
        line = line.replace(secret, "***")
    # imaplib puts server responses in bytes reprs: b'[AUTHENTICATIONFAILED] ...'
    if line.startswith(("b'", 'b"')) and line.endswith(("'", '"')):
        line = line[2:-1]
    return line
