"""A real SMTP server (aiosmtpd) on a loopback port that records what it receives.

Every accepted message is kept with its envelope and raw bytes. Tests can script the
server's answers per recipient (e.g. "451 try later" once, or "550 no such user"),
require a login, hook into RCPT and DATA (the crash test kills the client there), or
drop the connection after the message instead of replying.
"""

from __future__ import annotations

import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

from tests.servers import free_port

# A scripted DATA reply that makes the server close the connection instead of
# answering: the client cannot know whether the message was taken (it was not).
DROP = "DROP"


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes  # as received (dot-unstuffed), CRLF line endings

    @property
    def message(self) -> EmailMessage:
        msg = message_from_bytes(self.data, policy=default_policy)
        assert isinstance(msg, EmailMessage)
        return msg

    @property
    def body(self) -> str:
        """The text/plain body, decoded, with LF line endings."""
        part = self.message.get_body(preferencelist=("plain",))
        assert part is not None
        content: str = part.get_content()
        return content.replace("\r\n", "\n")


@dataclass
class Recorder:
    """The aiosmtpd handler. Replies scripted per recipient address are used in turn
    (the last one sticks); an empty script means normal acceptance."""

    messages: list[Received] = field(default_factory=list)
    rcpt_replies: dict[str, list[str]] = field(default_factory=dict)
    data_replies: dict[str, list[str]] = field(default_factory=dict)
    on_rcpt: Callable[[str], None] | None = None
    on_data: Callable[[Envelope], None] | None = None  # runs after the data arrived
    lock: threading.Lock = field(default_factory=threading.Lock)
    sessions: int = 0

    def _scripted(self, table: dict[str, list[str]], address: str) -> str | None:
        with self.lock:
            script = table.get(address.lower())
            if not script:
                return None
            return script.pop(0) if len(script) > 1 else script[0]

    async def handle_EHLO(
        self, server: Any, session: Session, envelope: Envelope, hostname: str, responses: Any
    ) -> Any:
        with self.lock:
            self.sessions += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(
        self, server: Any, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if self.on_rcpt is not None:
            self.on_rcpt(address)
        reply = self._scripted(self.rcpt_replies, address)
        if reply is not None and not reply.startswith("2"):
            return reply
        envelope.rcpt_tos.append(address)
        return reply or "250 OK"

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        rcpt = envelope.rcpt_tos[0] if envelope.rcpt_tos else ""
        reply = self._scripted(self.data_replies, rcpt)
        if reply == DROP:
            server.transport.close()
            return "421 closing"  # never reaches the client
        if reply is not None and not reply.startswith("250"):
            return reply
        content = envelope.original_content or envelope.content or b""
        assert isinstance(content, bytes)
        received = Received(
            mail_from=str(envelope.mail_from),
            rcpt_tos=tuple(a.lower() for a in envelope.rcpt_tos),
            data=content,
        )
        with self.lock:
            self.messages.append(received)
            number = len(self.messages)
        if self.on_data is not None:
            self.on_data(envelope)
        return f"250 2.0.0 Ok: queued as M{number}"

    def received_by(self) -> dict[str, int]:
        """How many messages each recipient got."""
        counts: dict[str, int] = {}
        with self.lock:
            for m in self.messages:
                for rcpt in m.rcpt_tos:
                    counts[rcpt] = counts.get(rcpt, 0) + 1
        return counts


@dataclass
class SmtpServer:
    host: str
    port: int
    recorder: Recorder
    users: dict[str, str]

    @property
    def messages(self) -> list[Received]:
        with self.recorder.lock:
            return list(self.recorder.messages)

    def config(self, **smtp: Any) -> str:
        """The [smtp] section of a foibot config for this server."""
        values: dict[str, Any] = {"host": self.host, "port": self.port, "security": "none"}
        values.update(smtp)
        return "\n".join(["[smtp]", *(f"{k} = {_toml(v)}" for k, v in values.items())]) + "\n"


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def self_signed_certificate(folder: Path) -> tuple[Path, Path] | None:
    """A certificate for 127.0.0.1/localhost made with the openssl command, or None
    when openssl is not installed."""
    import shutil
    import subprocess

    openssl = shutil.which("openssl")
    if openssl is None:
        return None
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost",
            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )  # fmt: skip
    return cert, key


@contextmanager
def smtp_server(
    *,
    users: dict[str, str] | None = None,
    tls_cert: tuple[Path, Path] | None = None,
    implicit_tls: bool = False,
) -> Iterator[SmtpServer]:
    """Starts a recording SMTP server on 127.0.0.1. ``users`` turns on AUTH (PLAIN,
    LOGIN; allowed without TLS, as on a test server) and requires it; ``tls_cert``
    (certificate, key) offers STARTTLS, or with ``implicit_tls`` speaks TLS from the
    first byte (port 465 style)."""
    recorder = Recorder()
    kwargs: dict[str, Any] = {}
    accounts = dict(users or {})
    if users is not None:

        def authenticator(
            server: Any, session: Session, envelope: Envelope, mechanism: str, data: Any
        ) -> AuthResult:
            if not isinstance(data, LoginPassword):
                return AuthResult(success=False, handled=False)
            login = data.login.decode("utf-8", "replace")
            password = data.password.decode("utf-8", "replace")
            ok = accounts.get(login) == password
            # handled=False: aiosmtpd itself answers (235, or 535 on failure)
            return AuthResult(success=ok, handled=False)

        kwargs.update(authenticator=authenticator, auth_require_tls=False, auth_required=True)
    if tls_cert is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(str(tls_cert[0]), str(tls_cert[1]))
        kwargs.update(ssl_context=context) if implicit_tls else kwargs.update(tls_context=context)
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port(), **kwargs)
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", controller.port, recorder, accounts)
    finally:
        controller.stop()
