"""The IMAP mailbox adapter (imapclient).

Polling is incremental (RFC 3501 §2.3.1.1): for the polled folder we keep its
UIDVALIDITY and the highest UID already committed, and each poll asks only for
``UID SEARCH UID last+1:*``. Bodies are fetched in batches with ``BODY.PEEK[]``, which,
unlike ``BODY[]``/``RFC822``, does not set ``\\Seen``; and the folder is opened read-only
(EXAMINE) unless post-processing needs to write. When UIDVALIDITY changes the old UIDs
mean nothing, so the whole folder is read again and ingest's de-duplication makes sure
nothing is stored twice.

A connection lost in the middle of a poll is re-opened with exponential backoff
(bounded), and reading resumes after the last message handed out (which the caller has
committed). Post-processing (a flag, or a move) happens in ``after_commit``, i.e. only
once the message is stored.

Every library, socket and TLS error leaves this module as a ``MailboxError``
(``TransportError``) with one line that never contains the password. Recoverable events
(a reconnection, a rescan) are logged at INFO: the daemon's log shows them, while a CLI
run (where Python prints only warnings when logging is not set up) stays one line.
"""

from __future__ import annotations

import imaplib
import logging
import socket
import ssl
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any
from urllib.parse import quote

import imapclient
from imapclient.exceptions import CapabilityError, LoginError

from foibot.config import ImapSettings, ServerSettings
from foibot.errors import ConfigError
from foibot.mail.mailbox import (
    FetchedMessage,
    FolderState,
    MailboxAuthError,
    MailboxError,
    MailboxProtocolError,
    MailboxTLSError,
    MailboxUnreachableError,
    describe_exception,
)

log = logging.getLogger(__name__)

# Errors that mean "the connection is gone or never came up": worth reconnecting.
# (ssl.SSLError and socket.timeout are OSErrors; imaplib's abort is what imapclient
# raises on EOF or an unparseable line.)
_CONNECTION_ERRORS: tuple[type[BaseException], ...] = (OSError, imaplib.IMAP4.abort, EOFError)

# ... plus our own "could not reconnect" while a retry loop is under way
_RETRYABLE: tuple[type[BaseException], ...] = (*_CONNECTION_ERRORS, MailboxUnreachableError)

MAX_BATCH_BYTES = 50 * 1024 * 1024  # keep one FETCH round trip's bodies within reason
IDLE_MAX_SECONDS = 25 * 60  # RFC 2177: re-issue IDLE at least every 29 minutes


def make_ssl_context(settings: ServerSettings) -> ssl.SSLContext:
    """Certificate and host name checks on, trusting the system CAs plus ``ca_file``;
    ``verify_certificate = false`` turns the checks off (test servers only)."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    if settings.ca_file is not None:
        try:
            context.load_verify_locations(cafile=str(settings.ca_file))
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(
                f"ca_file {settings.ca_file}: cannot load: {describe_exception(exc)}"
            ) from None
    if not settings.verify_certificate:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


class ImapMailbox:
    """One folder of an IMAP account. Connects on first use; ``close()`` logs out."""

    def __init__(
        self,
        settings: ImapSettings,
        *,
        retries: int = 4,
        backoff: float = 1.0,
        max_backoff: float = 30.0,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.settings = settings
        self.retries, self.backoff, self.max_backoff = retries, backoff, max_backoff
        self._sleep = sleep or time.sleep
        self._client: imapclient.IMAPClient | None = None
        self._secret: str | None = None  # the password, kept only to scrub messages
        self._selected = False
        self._uidvalidity: int | None = None  # of the folder as last selected
        self.writable = bool(settings.mark_flag or settings.move_to)
        self.rescanned = False  # set when the last fetch_new found a new UIDVALIDITY
        self.reconnects = 0  # how many times a lost connection was re-opened

    # -- identity ---------------------------------------------------------------

    @property
    def account(self) -> str:
        s = self.settings
        user = f"{quote(s.username, safe='')}@" if s.username else ""
        return f"imap://{user}{s.host}:{s.port}"

    @property
    def folder(self) -> str:
        return self.settings.folder

    @property
    def where(self) -> str:
        return f"IMAP server {self.settings.host}:{self.settings.port}"

    def _source(self, uid: int, uidvalidity: int) -> str:
        # an RFC 5092 IMAP URL naming exactly this message
        return f"{self.account}/{quote(self.folder, safe='/')};UIDVALIDITY={uidvalidity}/;UID={uid}"

    # -- connection -------------------------------------------------------------

    def _connect(self) -> imapclient.IMAPClient:
        s = self.settings
        if not s.username:
            raise ConfigError("[imap] username: is required to log in")
        if s.password is None:
            raise ConfigError("[imap] password_env or password_file: is required to log in")
        password = s.password.reveal()
        self._secret = password
        context = make_ssl_context(s) if s.security != "none" else None
        client: imapclient.IMAPClient | None = None
        try:
            client = imapclient.IMAPClient(
                s.host,
                s.port,
                ssl=s.security == "ssl",
                ssl_context=context,
                timeout=s.timeout,
            )
            if s.security == "starttls":
                try:
                    client.starttls(context)
                except CapabilityError:
                    raise MailboxProtocolError(
                        f'{self.where} does not offer STARTTLS (security = "starttls"); '
                        'use security = "ssl" or another port'
                    ) from None
            client.login(s.username, password)
        except MailboxError:
            _shutdown(client)
            raise
        except LoginError as exc:
            _shutdown(client)
            raise MailboxAuthError(
                f"{self.where} refused the login of {s.username}: "
                f"{describe_exception(exc, secret=password)} "
                "(check [imap] username and the password)"
            ) from None
        except Exception as exc:
            _shutdown(client)
            raise self._translate(exc) from None
        return client

    def _translate(self, exc: BaseException) -> BaseException:
        """A library error as a MailboxError (anything else is returned unchanged)."""
        text = describe_exception(exc, secret=self._secret)
        if isinstance(exc, ssl.SSLCertVerificationError):
            return MailboxTLSError(
                f"{self.where}: TLS certificate check failed: {exc.verify_message or text} "
                "(trust its CA with [imap] ca_file)"
            )
        if isinstance(exc, ssl.SSLError):
            return MailboxTLSError(f"{self.where}: TLS failed: {text}")
        if isinstance(exc, socket.gaierror):
            return MailboxUnreachableError(f"{self.where}: unknown host: {text}")
        if isinstance(exc, (TimeoutError, socket.timeout)):
            return MailboxUnreachableError(f"{self.where}: timed out: {text}")
        if isinstance(exc, ConnectionRefusedError):
            return MailboxUnreachableError(f"{self.where}: connection refused")
        if isinstance(exc, _CONNECTION_ERRORS):
            return MailboxUnreachableError(f"{self.where}: connection lost: {text}")
        if isinstance(exc, imapclient.exceptions.IMAPClientError):
            return MailboxProtocolError(f"{self.where}: {text}")
        return exc

    def _drop(self) -> None:
        client, self._client = self._client, None
        self._selected = False
        _shutdown(client)

    def _ensure_selected(self) -> dict[bytes, Any]:
        """Connect if needed and (re-)select the folder: a fresh SELECT each poll gives
        the current UIDVALIDITY and UIDNEXT."""
        if self._client is None:
            self._client = self._connect()
        try:
            info: dict[bytes, Any] = self._client.select_folder(
                self.folder, readonly=not self.writable
            )
        except imaplib.IMAP4.abort:
            raise
        except imapclient.exceptions.IMAPClientError as exc:
            raise MailboxProtocolError(
                f"{self.where}: cannot open folder {self.folder!r}: "
                f"{describe_exception(exc, secret=self._secret)}"
            ) from None
        self._selected = True
        validity = info.get(b"UIDVALIDITY")
        if not isinstance(validity, int):
            raise MailboxProtocolError(f"{self.where}: folder {self.folder!r} has no UIDVALIDITY")
        self._uidvalidity = validity
        return info

    def _retrying(self, attempt: int, exc: BaseException, doing: str) -> int:
        """Called when the connection is lost (or will not come back): wait with
        exponential backoff and allow another attempt, or give up with one line once
        ``retries`` reconnections have failed."""
        self._drop()
        translated = exc if isinstance(exc, MailboxError) else self._translate(exc)
        if attempt >= self.retries:
            raise MailboxUnreachableError(
                f"{translated} (while {doing}; gave up after {attempt + 1} attempts)"
            ) from None
        delay = min(self.max_backoff, self.backoff * 2**attempt)
        log.info("%s; reconnecting in %.1fs (while %s)", translated, delay, doing)
        self._sleep(delay)
        self.reconnects += 1
        return attempt + 1

    # -- the port ---------------------------------------------------------------

    def fetch_new(self, state: FolderState) -> Iterator[FetchedMessage]:
        last, validity = state.last_uid, state.uidvalidity
        self.rescanned = False
        attempt = 0
        connected_before = self._client is not None
        while True:
            try:
                info = self._ensure_selected()
                connected_before = True
                current = self._uidvalidity
                assert current is not None
                if validity is not None and current != validity:
                    log.info(
                        "%s: folder %r has a new UIDVALIDITY (%s, was %s): reading it all again",
                        self.where,
                        self.folder,
                        current,
                        validity,
                    )
                    last, self.rescanned = 0, True
                validity = current
                for batch in self._batches(self._new_uids(info, last)):
                    bodies = self._fetch_bodies(batch)
                    for uid in batch:
                        raw = bodies.get(uid)
                        if raw is None:
                            continue  # expunged between SEARCH and FETCH
                        yield FetchedMessage(
                            key=str(uid),
                            raw=raw,
                            source=self._source(uid, current),
                            uid=uid,
                            uidvalidity=current,
                        )
                        last, attempt = uid, 0  # committed by the caller: progress
                return
            except _RETRYABLE as exc:
                if not connected_before:  # a first connection that fails is just reported
                    self._drop()
                    raise (exc if isinstance(exc, MailboxError) else self._translate(exc)) from None
                attempt = self._retrying(attempt, exc, "reading new mail")
            except imapclient.exceptions.IMAPClientError as exc:
                raise self._translate(exc) from None

    def _new_uids(self, info: dict[bytes, Any], last: int) -> list[int]:
        """UIDs above ``last``, ascending. When SELECT says nothing is new (UIDNEXT) or
        the folder is empty, no SEARCH is sent at all: an idle poll of a big folder costs
        the same as one of an empty folder."""
        uidnext = info.get(b"UIDNEXT")
        if info.get(b"EXISTS") == 0 or (isinstance(uidnext, int) and uidnext <= last + 1):
            return []
        assert self._client is not None
        found = self._client.search(["UID", f"{last + 1}:*"])
        # "N:*" always matches the highest UID even when it is below N (RFC 3501 §6.4.8
        # sequence sets are unordered ranges), so filter.
        return sorted(uid for uid in found if uid > last)

    def _batches(self, uids: list[int]) -> Iterator[list[int]]:
        """Groups of at most ``batch_size`` messages and about ``MAX_BATCH_BYTES``."""
        if not uids:
            return
        assert self._client is not None
        size = self.settings.batch_size
        for start in range(0, len(uids), size * 10):
            chunk = uids[start : start + size * 10]
            sizes = self._client.fetch(chunk, ["RFC822.SIZE"])
            batch: list[int] = []
            total = 0
            for uid in chunk:
                n = sizes.get(uid, {}).get(b"RFC822.SIZE", 0)
                if batch and (len(batch) >= size or total + n > MAX_BATCH_BYTES):
                    yield batch
                    batch, total = [], 0
                batch.append(uid)
                total += n if isinstance(n, int) else 0
            if batch:
                yield batch

    def _fetch_bodies(self, batch: Sequence[int]) -> dict[int, bytes]:
        assert self._client is not None
        response = self._client.fetch(batch, ["BODY.PEEK[]"])
        bodies: dict[int, bytes] = {}
        for uid, data in response.items():
            raw = data.get(b"BODY[]")
            if isinstance(raw, bytes):
                bodies[uid] = raw
        return bodies

    def after_commit(self, key: str) -> None:
        if not self.writable:
            return
        uid, validity = int(key), self._uidvalidity
        attempt = 0
        while True:
            try:
                if self._client is None or not self._selected:
                    self._ensure_selected()
                    if self._uidvalidity != validity:
                        # the UID now names some other message; the rescan that the new
                        # UIDVALIDITY causes will read (and post-process) it again
                        log.info("%s: UIDVALIDITY changed; not post-processing", self.where)
                        return
                self._post_process(uid)
                return
            except _RETRYABLE as exc:
                attempt = self._retrying(attempt, exc, f"post-processing message UID {uid}")
            except imapclient.exceptions.IMAPClientError as exc:
                raise self._translate(exc) from None

    def _post_process(self, uid: int) -> None:
        client, s = self._client, self.settings
        assert client is not None
        if s.mark_flag:
            client.add_flags([uid], [s.mark_flag], silent=True)
        if s.move_to:
            try:
                self._move(client, uid, s.move_to)
            except imapclient.exceptions.IMAPClientError as exc:
                if "TRYCREATE" not in str(exc) or isinstance(exc, imaplib.IMAP4.abort):
                    raise
                client.create_folder(s.move_to)  # RFC 3501 §6.4.7: the target is missing
                self._move(client, uid, s.move_to)

    def _move(self, client: imapclient.IMAPClient, uid: int, folder: str) -> None:
        if client.has_capability("MOVE"):
            client.move([uid], folder)
            return
        # RFC 6851 §3.3: without MOVE, COPY then \Deleted then EXPUNGE (only this UID
        # when the server has UIDPLUS; otherwise every \Deleted message of the folder)
        client.copy([uid], folder)
        client.add_flags([uid], [imapclient.DELETED], silent=True)
        if client.has_capability("UIDPLUS"):
            client.uid_expunge([uid])
        else:
            client.expunge()

    def wait_for_mail(self, timeout: float) -> bool:
        """IDLE (RFC 2177) when configured and offered; else just wait ``timeout``.
        A server that cannot be reached is not an error here: the wait is spent and the
        next poll reports (and retries) the connection."""
        if not self.settings.idle:
            self._sleep(timeout)
            return True
        deadline = time.monotonic() + timeout
        try:
            if self._client is None or not self._selected:
                self._ensure_selected()
            assert self._client is not None
            if not self._client.has_capability("IDLE"):
                self._sleep(timeout)
                return True
            # Mail delivered between the last poll and the start of IDLE is not
            # announced by every server (Dovecot reports it only when IDLE ends), so
            # ask with a NOOP first, and read what arrives as IDLE is ended too.
            _text, pending = self._client.noop()
            if any(_announces_mail(r) for r in pending):
                return True
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._client.idle()
                ended: list[Any] = []
                try:
                    responses = self._client.idle_check(timeout=min(remaining, IDLE_MAX_SECONDS))
                finally:
                    done = self._client.idle_done()
                    if isinstance(done, tuple) and len(done) == 2:
                        ended = list(done[1] or [])
                if any(_announces_mail(r) for r in [*responses, *ended]):
                    return True
        except MailboxUnreachableError as exc:
            log.warning("%s; waiting %.0fs before the next poll", exc, timeout)
            self._drop()
            self._sleep(max(0.0, deadline - time.monotonic()))
            return True
        except _CONNECTION_ERRORS as exc:
            # lost while idling: the next poll reconnects (and reports if it cannot)
            log.warning("%s while waiting for mail", self._translate(exc))
            self._drop()
            return True

    def close(self) -> None:
        client, self._client = self._client, None
        self._selected = False
        if client is None:
            return
        try:
            client.logout()
        except Exception:  # already gone: nothing to tidy up
            _shutdown(client)

    def append_draft(self, raw: bytes, folder: str | None = None) -> str:
        """Saves a message (e.g. a drafted review request) in the Drafts folder, flagged
        \\Draft, for the user to edit and send from their mail client. The folder is
        created if missing. Returns the folder used."""
        target = folder or self.settings.drafts_folder
        client = self._connect()
        try:
            if not client.folder_exists(target):
                client.create_folder(target)
            client.append(target, raw, flags=[b"\\Draft"])
        except MailboxError:
            raise
        except Exception as exc:
            raise self._translate(exc) from None
        finally:
            try:
                client.logout()
            except Exception:  # already gone
                _shutdown(client)
        return target

    def __enter__(self) -> ImapMailbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _announces_mail(response: Any) -> bool:
    return (
        isinstance(response, tuple)
        and len(response) >= 2
        and response[1] in (b"EXISTS", b"RECENT")
        and response[0] != 0
    )


def _shutdown(client: imapclient.IMAPClient | None) -> None:
    if client is None:
        return
    try:
        client.shutdown()
    except Exception as exc:  # the socket is already closed
        log.debug("closing IMAP socket: %s", exc)
