"""Sending through SMTP (smtplib), with the DATA phase driven by hand.

``smtplib.SMTP.sendmail`` sends the message and its terminating ``CRLF.CRLF`` in one
go. foibot needs a point in between: everything but the terminator is sent, then the
caller commits a marker ("final") to its outbox, then the terminator goes and the reply
is read. A server discards a transaction whose DATA never ended with the dot, so a
crash before the marker means "not delivered, safe to send again", and only a crash
between the marker and the reply leaves the outcome unknown (RFC 5321 §4.1.1.4, and
the "duplicate delivery" discussion in RFC 1047).

TLS: implicit TLS (``security = "ssl"``) or STARTTLS, always with certificate and host
name checks unless the config says ``verify_certificate = false``; ``security = "none"``
only when configured, for local test servers. Login only when a username is set.

Every smtplib/socket/ssl failure becomes one of the ``SmtpError`` subclasses below,
which say what the caller should do: retry later (transient), give up on this message
(permanent), stop and tell the user (unreachable, auth, TLS), or report the message as
uncertain (no reply after the terminator).
"""

from __future__ import annotations

import contextlib
import re
import smtplib
import socket
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from foibot.config import ServerSettings
from foibot.errors import ConfigError, TransportError

_EOL = re.compile(rb"\r\n|\r|\n")
_LEADING_DOT = re.compile(rb"(?m)^\.")


class SmtpError(TransportError):
    """Base of the SMTP failures; ``code``/``reply`` are the server's when it answered."""

    def __init__(self, message: str, code: int | None = None, reply: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.reply = reply


class SmtpUnreachableError(SmtpError):
    """No connection to the server (refused, timed out, DNS failure ...). Stops a run."""


class SmtpTlsError(SmtpError):
    """TLS could not be set up or the certificate failed verification. Stops a run."""


class SmtpAuthError(SmtpError):
    """Login failed or is impossible, or the server wants a login we do not do."""


class SmtpSenderRejectedError(SmtpError):
    """The server refused our envelope sender (MAIL FROM 5xx): a configuration problem,
    not the recipient's, so it stops the run rather than failing every message."""


class SmtpTransientError(SmtpError):
    """A 4xx reply or a dropped connection before the message was complete: the server
    has not taken the message; try again later."""


class SmtpPermanentError(SmtpError):
    """A 5xx reply to RCPT or DATA: this message will not be delivered as it is."""


class SmtpUncertainError(SmtpError):
    """The terminator was sent (or may have been) but no reply came: the server may or
    may not have taken the message. Never resend automatically."""


class SmtpAbortedError(SmtpError):
    """The caller withdrew the message before the terminator (``before_final`` returned
    False); the transaction was abandoned, so the server discards it."""


@dataclass(frozen=True)
class Accepted:
    code: int
    reply: str


def _text(reply: bytes | str) -> str:
    if isinstance(reply, bytes):
        reply = reply.decode("utf-8", "replace")
    return " ".join(reply.split())


def dot_stuffed(data: bytes) -> bytes:
    """The message as it goes after DATA, without the terminator: CRLF line endings,
    leading dots doubled (RFC 5321 §4.5.2), ending in CRLF."""
    body = _EOL.sub(b"\r\n", data)
    body = _LEADING_DOT.sub(b"..", body)
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    return body


class SmtpTransport:
    """One SMTP connection, opened on first use and reused for the following messages."""

    def __init__(self, settings: ServerSettings, *, local_hostname: str | None = None) -> None:
        self.settings = settings
        self.local_hostname = local_hostname
        self._smtp: smtplib.SMTP | None = None

    @property
    def label(self) -> str:
        return f"{self.settings.host}:{self.settings.port}"

    @property
    def connected(self) -> bool:
        return self._smtp is not None

    def _tls_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        if self.settings.ca_file is not None:
            try:
                context.load_verify_locations(cafile=str(self.settings.ca_file))
            except (OSError, ssl.SSLError) as exc:
                raise ConfigError(
                    f"[smtp] ca_file {self.settings.ca_file}: cannot load: {exc}"
                ) from None
        if not self.settings.verify_certificate:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    def connect(self) -> None:
        """Connects, sets up TLS and logs in, as configured. Idempotent."""
        if self._smtp is not None:
            return
        s = self.settings
        password = None
        if s.username:
            if s.password is None:
                raise ConfigError(
                    "[smtp] username is set but no password_env or password_file is given"
                )
            password = s.password.reveal()
        smtp: smtplib.SMTP | None = None
        try:
            if s.security == "ssl":
                smtp = smtplib.SMTP_SSL(
                    s.host,
                    s.port,
                    local_hostname=self.local_hostname,
                    timeout=s.timeout,
                    context=self._tls_context(),
                )
            else:
                smtp = smtplib.SMTP(
                    s.host, s.port, local_hostname=self.local_hostname, timeout=s.timeout
                )
            _no_delay(smtp)
            smtp.ehlo_or_helo_if_needed()
            if s.security == "starttls":
                if not smtp.has_extn("starttls"):
                    raise SmtpTlsError(
                        f"SMTP server {self.label} does not offer STARTTLS "
                        '(security = "starttls" in [smtp])'
                    )
                code, reply = smtp.starttls(context=self._tls_context())
                if code != 220:
                    raise SmtpTlsError(
                        f"SMTP server {self.label} refused STARTTLS: {code} {_text(reply)}",
                        code,
                        _text(reply),
                    )
                smtp.ehlo()
            if s.username and password is not None:
                self._login(smtp, s.username, password)
        except SmtpError:
            _quietly_close(smtp)
            raise
        except smtplib.SMTPAuthenticationError as exc:
            _quietly_close(smtp)
            raise SmtpAuthError(
                f"SMTP server {self.label} refused the login for {s.username!r}: "
                f"{exc.smtp_code} {_text(exc.smtp_error)}",
                exc.smtp_code,
                _text(exc.smtp_error),
            ) from None
        except ssl.SSLCertVerificationError as exc:
            _quietly_close(smtp)
            raise SmtpTlsError(
                f"SMTP server {self.label}: certificate verification failed: "
                f"{exc.verify_message or exc.reason} (set [smtp] ca_file to trust a private CA)"
            ) from None
        except ssl.SSLError as exc:
            _quietly_close(smtp)
            raise SmtpTlsError(f"SMTP server {self.label}: TLS failed: {exc.reason}") from None
        except smtplib.SMTPConnectError as exc:
            _quietly_close(smtp)
            raise SmtpUnreachableError(
                f"SMTP server {self.label} refused the connection: "
                f"{exc.smtp_code} {_text(exc.smtp_error)}",
                exc.smtp_code,
                _text(exc.smtp_error),
            ) from None
        except smtplib.SMTPServerDisconnected as exc:
            _quietly_close(smtp)
            raise SmtpUnreachableError(
                f"SMTP server {self.label} closed the connection while we connected: {exc}"
            ) from None
        except smtplib.SMTPException as exc:
            _quietly_close(smtp)
            raise SmtpUnreachableError(
                f"SMTP server {self.label}: cannot start a session: {exc}"
            ) from None
        except socket.gaierror as exc:
            _quietly_close(smtp)
            raise SmtpUnreachableError(
                f"SMTP server {self.label} is unreachable: cannot resolve "
                f"{s.host!r}: {exc.strerror}"
            ) from None
        except TimeoutError:
            _quietly_close(smtp)
            raise SmtpUnreachableError(
                f"SMTP server {self.label} is unreachable: no answer in {s.timeout:g} s"
            ) from None
        except OSError as exc:
            _quietly_close(smtp)
            raise SmtpUnreachableError(
                f"SMTP server {self.label} is unreachable: {exc.strerror or exc}"
            ) from None
        self._smtp = smtp

    def _login(self, smtp: smtplib.SMTP, username: str, password: str) -> None:
        if not smtp.has_extn("auth"):
            hint = (
                " (many servers offer it only over TLS)" if self.settings.security == "none" else ""
            )
            raise SmtpAuthError(
                f"SMTP server {self.label} does not offer AUTH{hint}; "
                "remove [smtp] username to send without logging in"
            )
        try:
            smtp.login(username, password)
        except smtplib.SMTPNotSupportedError:
            raise SmtpAuthError(
                f"SMTP server {self.label} offers no login method foibot can use"
            ) from None
        except smtplib.SMTPException as exc:
            if isinstance(exc, smtplib.SMTPAuthenticationError):
                raise
            raise SmtpAuthError(f"SMTP server {self.label}: login failed: {exc}") from None

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            _quietly_close(smtp)

    def abandon(self) -> None:
        """Drops the connection without QUIT: an unfinished DATA is discarded."""
        smtp, self._smtp = self._smtp, None
        _quietly_close(smtp)

    def __enter__(self) -> SmtpTransport:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def send(
        self,
        envelope_from: str,
        recipients: Sequence[str],
        data: bytes,
        *,
        before_final: Callable[[], bool] | None = None,
    ) -> Accepted:
        """Sends one message. ``before_final`` runs when everything but the terminating
        dot has been sent; it returns False to abandon the message (nothing delivered).

        Raises SmtpTransientError / SmtpPermanentError / SmtpUncertainError /
        SmtpAbortedError for this message, SmtpSenderRejectedError / SmtpAuthError /
        SmtpUnreachableError when the run should stop. One reconnect is tried when an
        idle connection turns out to be closed before anything of the message went.
        """
        if not recipients:
            raise ValueError("no recipients")
        self.connect()
        try:
            self._envelope(envelope_from, recipients, data)
        except _StaleConnection:
            self.abandon()
            self.connect()
            try:
                self._envelope(envelope_from, recipients, data)
            except _StaleConnection as exc:
                self.abandon()
                raise SmtpTransientError(
                    f"SMTP server {self.label} dropped the connection: {exc}"
                ) from None
        smtp = self._smtp
        assert smtp is not None
        try:
            smtp.send(dot_stuffed(data))
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self.abandon()
            raise SmtpTransientError(
                f"SMTP server {self.label}: connection lost while sending the message: {exc}"
            ) from None
        if before_final is not None:
            try:
                proceed = before_final()
            except BaseException:
                self.abandon()  # the unfinished DATA is discarded by the server
                raise
            if not proceed:
                self.abandon()
                raise SmtpAbortedError("message withdrawn before the end of DATA")
        try:
            smtp.send(b".\r\n")
            code, reply = smtp.getreply()
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self.abandon()
            raise SmtpUncertainError(
                f"SMTP server {self.label}: no reply after the end of the message ({exc}); "
                "it may or may not have been accepted"
            ) from None
        text = _text(reply)
        if code == 250:
            return Accepted(code, text)
        self._reset()
        if 400 <= code < 500:
            raise SmtpTransientError(
                f"SMTP server {self.label} deferred the message: {code} {text}", code, text
            )
        if 500 <= code < 600:
            raise SmtpPermanentError(
                f"SMTP server {self.label} rejected the message: {code} {text}", code, text
            )
        self.abandon()
        raise SmtpUncertainError(
            f"SMTP server {self.label}: unexpected reply {code} {text} after the message",
            code,
            text,
        )

    def _envelope(self, envelope_from: str, recipients: Sequence[str], data: bytes) -> None:
        """MAIL, RCPT and DATA up to the 354 go-ahead."""
        smtp = self._smtp
        assert smtp is not None
        options: list[str] = []
        if not data.isascii() and smtp.has_extn("8bitmime"):
            options.append("BODY=8BITMIME")
        stage = "MAIL FROM"
        try:
            code, reply = smtp.mail(envelope_from, options)
            if code != 250:
                self._reset()
                text = _text(reply)
                if code == 530 or (500 <= code < 600 and "auth" in text.lower()):
                    raise SmtpAuthError(
                        f"SMTP server {self.label} wants a login before sending: {code} {text}",
                        code,
                        text,
                    )
                if 500 <= code < 600:
                    raise SmtpSenderRejectedError(
                        f"SMTP server {self.label} refused the sender {envelope_from}: "
                        f"{code} {text}",
                        code,
                        text,
                    )
                raise SmtpTransientError(
                    f"SMTP server {self.label} deferred MAIL FROM: {code} {text}", code, text
                )
            for rcpt in recipients:
                stage = "RCPT TO"
                code, reply = smtp.rcpt(rcpt)
                if code not in (250, 251):
                    self._reset()
                    text = _text(reply)
                    if 500 <= code < 600:
                        raise SmtpPermanentError(
                            f"SMTP server {self.label} rejected the recipient {rcpt}: "
                            f"{code} {text}",
                            code,
                            text,
                        )
                    raise SmtpTransientError(
                        f"SMTP server {self.label} deferred the recipient {rcpt}: {code} {text}",
                        code,
                        text,
                    )
            stage = "DATA"
            smtp.putcmd("data")
            code, reply = smtp.getreply()
            if code != 354:
                self._reset()
                text = _text(reply)
                if 500 <= code < 600:
                    raise SmtpPermanentError(
                        f"SMTP server {self.label} refused DATA: {code} {text}", code, text
                    )
                raise SmtpTransientError(
                    f"SMTP server {self.label} deferred DATA: {code} {text}", code, text
                )
        except smtplib.SMTPServerDisconnected as exc:
            if stage == "MAIL FROM":
                raise _StaleConnection(str(exc)) from None
            self.abandon()
            raise SmtpTransientError(
                f"SMTP server {self.label} dropped the connection at {stage}: {exc}"
            ) from None
        except OSError as exc:
            if stage == "MAIL FROM":
                raise _StaleConnection(str(exc)) from None
            self.abandon()
            raise SmtpTransientError(
                f"SMTP server {self.label}: connection failed at {stage}: {exc}"
            ) from None

    def _reset(self) -> None:
        """RSET after a refused step, so the connection can carry the next message."""
        smtp = self._smtp
        if smtp is None:
            return
        try:
            smtp.rset()
        except (smtplib.SMTPException, OSError):
            self.abandon()


class _StaleConnection(Exception):
    """The connection was found closed at MAIL FROM: nothing of this message went."""


def _no_delay(smtp: smtplib.SMTP) -> None:
    """Turns Nagle's algorithm off. The message and its terminator go out as two
    writes (the outbox commits in between); with Nagle on, the small second write waits
    for the server's delayed ACK, some 40 ms per message."""
    if smtp.sock is not None:
        with contextlib.suppress(OSError):
            smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _quietly_close(smtp: smtplib.SMTP | None) -> None:
    if smtp is None:
        return
    with contextlib.suppress(OSError):
        smtp.close()
