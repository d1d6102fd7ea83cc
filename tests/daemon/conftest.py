"""`foibot run` as a user runs it: real subprocesses against a real aiosmtpd (the
councils' mail server), a real Dovecot (the user's mailbox) and SQLite or PostgreSQL.

``Bot`` is one foibot installation: a config file, a database with councils imported
and a campaign created (its requests "held"), and helpers to start daemons, run CLI
commands, deliver council replies into the IMAP INBOX and read what foibot stored.
Every wait is bounded and polls a condition; every process started is killed at the
end of the test whatever happens.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import func, select

from foibot.config import load_settings
from foibot.services import authorities as authorities_service
from foibot.services import campaigns, outbox
from foibot.store import migrate
from foibot.store.db import Database
from foibot.store.models import DigestRun, Message, Request
from tests.campaign.factories import (
    AuthorityRow,
    councils,
    toml_value,
    write_authorities,
    write_campaign,
)
from tests.servers.dovecot import PASSWORD, DovecotServer, dovecot_server
from tests.servers.smtp import SmtpServer, smtp_server

REPO = Path(__file__).resolve().parents[2]
COUNCIL_TEXTS = REPO / "tests" / "fixtures" / "council-responses"
CAMPAIGN = "parking-2024"
OUR_ADDRESS = "research@example.org"
DIGEST_TO = "digest@example.org"

T = TypeVar("T")


def wait_until(what: str, check: Callable[[], T | None], timeout: float = 60.0) -> T:
    """Polls ``check`` until it returns something truthy; fails after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.1)


@dataclass
class DaemonProcess:
    """One `foibot run` subprocess; its stderr (the log) goes to a file."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def wait_for_log(self, text: str, timeout: float = 30.0, count: int = 1) -> None:
        def seen() -> bool:
            if self.process.poll() is not None and self.log.count(text) < count:
                raise AssertionError(
                    f"daemon {self.name} exited ({self.process.returncode}) before logging "
                    f"{text!r}:\n{self.log}"
                )
            return self.log.count(text) >= count

        wait_until(f"{text!r} in the log of daemon {self.name}", seen, timeout)

    def terminate(self, timeout: float = 30.0, sig: int = signal.SIGTERM) -> int:
        """SIGTERM, as systemd stops it (or SIGINT, Ctrl-C); returns the exit code."""
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            name = signal.Signals(sig).name
            raise AssertionError(
                f"daemon {self.name} did not stop within {timeout:.0f}s of {name}:\n{self.log}"
            ) from None

    def kill9(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)


@dataclass
class Bot:
    tmp: Path
    database_url: str
    smtp: SmtpServer
    dovecot: DovecotServer | None
    authorities: list[AuthorityRow]
    config: Path
    user: str | None = None
    daemons: list[DaemonProcess] = field(default_factory=list)
    _started: int = 0

    # -- set-up -------------------------------------------------------------------

    def write_config(
        self,
        *,
        rate_per_minute: float = 0,
        imap: dict[str, Any] | None = None,
        digest: bool = True,
    ) -> None:
        lines = [
            f"database_url = {toml_value(self.database_url)}",
            f"storage_dir = {toml_value(str(self.tmp / 'data'))}",
            "",
            "[sender]",
            'name = "A. Researcher"',
            f"address = {toml_value(OUR_ADDRESS)}",
            "",
            self.smtp.config(),
            "[sending]",
            f"rate_per_minute = {rate_per_minute}",
            "",
            "[daemon]",
            "outbox_interval_seconds = 1",
            # a reply delivered just before an IDLE may go unannounced (see the daemon):
            # then it is found by the poll after this long
            "idle_recheck_seconds = 5",
            "",
        ]
        if self.dovecot is not None and self.user is not None:
            password_file = self.tmp / "imap-password"
            password_file.write_text(PASSWORD + "\n", encoding="utf-8")
            values: dict[str, Any] = {
                "host": "127.0.0.1",
                "port": self.dovecot.port,
                "security": "none",
                "username": self.user,
                "password_file": str(password_file),
                "idle": True,
                "timeout": 10,
            }
            values.update(imap or {})
            lines += ["[imap]", *(f"{k} = {toml_value(v)}" for k, v in values.items()), ""]
        if digest:
            lines += ["[digest]", f"recipients = [{toml_value(DIGEST_TO)}]", ""]
        self.config.write_text("\n".join(lines), encoding="utf-8")

    def database(self) -> Database:
        return Database(self.database_url)

    def prepare(self) -> None:
        """Migrates the database, imports the councils and creates the campaign: every
        request is rendered and "held" until a `campaign send` or a release."""
        db = self.database()
        try:
            migrate.upgrade(db)
            csv = write_authorities(self.tmp / "authorities.csv", self.authorities)
            authorities_service.import_authorities(db, csv)
            campaigns.create_campaign(
                db, load_settings(self.config), write_campaign(self.tmp / "campaign.toml")
            )
        finally:
            db.dispose()

    # -- processes ----------------------------------------------------------------

    def start_daemon(self, *extra: str, wait: bool = True) -> DaemonProcess:
        self._started += 1
        name = f"d{self._started}"
        log_path = self.tmp / f"daemon-{name}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "foibot", "--config", str(self.config), "run", *extra],
                cwd=self.tmp,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "COLUMNS": "200"},
            )
        daemon = DaemonProcess(name, process, log_path)
        self.daemons.append(daemon)
        if wait:
            daemon.wait_for_log("foibot daemon")
        return daemon

    def cli(self, *args: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
        """A foibot command in its own process, as a user would type it."""
        return subprocess.run(
            [sys.executable, "-m", "foibot", "--config", str(self.config), *args],
            cwd=self.tmp,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, "COLUMNS": "200"},
            check=False,
        )

    def kill_all(self) -> None:
        for daemon in self.daemons:
            if daemon.process.poll() is None:
                daemon.process.kill()
            daemon.process.wait(timeout=30)

    # -- the outbox and what the councils received ----------------------------------

    def release(self) -> int:
        """Releases the campaign's held requests through the outbox API (what `campaign
        send` does first), so that the running daemons send them."""
        db = self.database()
        try:
            scope, _title = campaigns.campaign_scope(db, CAMPAIGN)
            return outbox.release_held(db, scope)
        finally:
            db.dispose()

    def requests_received(self) -> dict[str, int]:
        """How many requests each council's address received (digests left out)."""
        return {
            rcpt: n for rcpt, n in self.smtp.recorder.received_by().items() if rcpt != DIGEST_TO
        }

    def digests_received(self) -> int:
        return self.smtp.recorder.received_by().get(DIGEST_TO, 0)

    def sent_message_ids(self) -> dict[str, str]:
        """Council address -> the Message-ID of the request it received."""
        out: dict[str, str] = {}
        for received in self.smtp.messages:
            if DIGEST_TO in received.rcpt_tos:
                continue
            out[received.rcpt_tos[0]] = str(received.message["Message-ID"]).strip("<>")
        return out

    def status(self) -> dict[str, dict[str, Any]]:
        """`campaign status`, by council address."""
        db = self.database()
        try:
            data = campaigns.campaign_status(db, CAMPAIGN).as_json()
        finally:
            db.dispose()
        return {str(r["authority_email"]): r for r in data["requests"]}

    # -- the mailbox and what foibot filed ---------------------------------------------

    def deliver(self, messages: list[bytes]) -> None:
        """APPENDs the messages to the INBOX, as the user's mail server delivers them."""
        assert self.dovecot is not None and self.user is not None
        client = self.dovecot.client(self.user)
        try:
            for raw in messages:
                client.append("INBOX", raw)
        finally:
            client.logout()

    def incoming(self) -> list[tuple[str | None, str | None, str | None]]:
        """Every incoming message stored: (Message-ID, our reference, kind)."""
        db = self.database()
        try:
            with db.transaction() as session:
                rows = session.execute(
                    select(Message.message_id, Request.reference, Message.kind)
                    .outerjoin(Request, Request.id == Message.request_id)
                    .where(Message.direction == "in")
                    .order_by(Message.id)
                ).all()
                return [(m, r, k) for m, r, k in rows]
        finally:
            db.dispose()

    def in_flight(self) -> list[str]:
        """Send states of outgoing messages caught half way (claimed, not settled)."""
        db = self.database()
        try:
            with db.transaction() as session:
                return list(
                    session.scalars(
                        select(Message.send_state).where(
                            Message.direction == "out",
                            Message.send_state.in_(("sending", "final")),
                        )
                    )
                )
        finally:
            db.dispose()

    def count_incoming(self) -> int:
        db = self.database()
        try:
            with db.transaction() as session:
                return int(
                    session.scalar(
                        select(func.count()).select_from(Message).where(Message.direction == "in")
                    )
                    or 0
                )
        finally:
            db.dispose()

    def digest_runs(self) -> list[tuple[str, str | None, datetime | None]]:
        db = self.database()
        try:
            with db.transaction() as session:
                return [
                    (r.period, r.claimed_by, r.sent_at)
                    for r in session.scalars(select(DigestRun).order_by(DigestRun.id))
                ]
        finally:
            db.dispose()

    def references(self) -> dict[str, str]:
        """Council address -> our reference."""
        return {email: str(r["reference"]) for email, r in self.status().items()}


# --- council replies ------------------------------------------------------------------


def council_text(n: int) -> str:
    files = sorted(COUNCIL_TEXTS.glob("0*.txt"))
    return files[n % len(files)].read_text(encoding="utf-8")


def reply(
    *,
    sender: str,
    in_reply_to: str | None,
    subject: str,
    body: str,
    n: int,
    headers: dict[str, str] | None = None,
) -> tuple[str, bytes]:
    """A reply as a council's mail system sends it; returns (Message-ID, bytes)."""
    msg = EmailMessage(policy=SMTP)
    domain = sender.rpartition("@")[2]
    msg["From"] = f"Freedom of Information Team <{sender}>"
    msg["To"] = f"A. Researcher <{OUR_ADDRESS}>"
    msg["Subject"] = subject
    when = datetime.now(UTC) - timedelta(minutes=60 - n % 60)
    msg["Date"] = format_datetime(when)
    message_id = f"reply-{n}.{when:%Y%m%d%H%M%S}@{domain}"
    msg["Message-ID"] = f"<{message_id}>"
    if in_reply_to:
        msg["In-Reply-To"] = f"<{in_reply_to}>"
        msg["References"] = f"<{in_reply_to}>"
    for key, value in (headers or {}).items():
        msg[key] = value
    msg.set_content(body, cte="quoted-printable")
    return message_id, msg.as_bytes()


def acknowledgement(sender: str, in_reply_to: str, n: int) -> tuple[str, bytes]:
    return reply(
        sender=sender,
        in_reply_to=in_reply_to,
        subject=f"Acknowledgement: Freedom of Information request FOI{4000 + n}",
        body=(
            "Dear A. Researcher,\n\n"
            "Thank you for your request for information, which we received today. "
            f"Your request has been logged under reference FOI{4000 + n}.\n\n"
            "We will respond within 20 working days, as the Freedom of Information Act "
            "2000 requires.\n\nInformation Governance Team\n"
        ),
        n=n,
    )


def out_of_office(sender: str, in_reply_to: str, n: int) -> tuple[str, bytes]:
    return reply(
        sender=sender,
        in_reply_to=in_reply_to,
        subject="Automatic reply: Freedom of Information request",
        body=(
            "Thank you for your email. I am out of the office until Monday with no access "
            "to email. For urgent Freedom of Information matters please contact the "
            "Information Governance Team.\n"
        ),
        n=n,
        headers={"Auto-Submitted": "auto-replied", "X-Autoreply": "yes"},
    )


def response(sender: str, in_reply_to: str, n: int) -> tuple[str, bytes]:
    return reply(
        sender=sender,
        in_reply_to=in_reply_to,
        subject="RE: Freedom of Information request - response",
        body=council_text(n),
        n=n,
    )


# --- fixtures -------------------------------------------------------------------------


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def dovecot() -> Iterator[DovecotServer]:
    """A Dovecot of the test's own (some tests stop and restart it)."""
    with dovecot_server() as server:
        yield server


@pytest.fixture
def make_bot(tmp_path: Path, smtp: SmtpServer) -> Iterator[Callable[..., Bot]]:
    """``make_bot(count, database_url=None, dovecot=None, **config)``: a prepared Bot;
    every daemon it started is killed at the end of the test."""
    bots: list[Bot] = []

    def make(
        count: int,
        *,
        database_url: str | None = None,
        dovecot: DovecotServer | None = None,
        **config: Any,
    ) -> Bot:
        bot = Bot(
            tmp=tmp_path,
            database_url=database_url or f"sqlite:///{tmp_path / 'foibot.db'}",
            smtp=smtp,
            dovecot=dovecot,
            authorities=councils(count),
            config=tmp_path / "foibot.toml",
            user=dovecot.new_user() if dovecot is not None else None,
        )
        bot.write_config(**config)
        bot.prepare()
        bots.append(bot)
        return bot

    yield make
    for bot in bots:
        bot.kill_all()
