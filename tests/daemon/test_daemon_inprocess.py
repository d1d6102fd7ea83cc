"""The daemon's own rules, checked in-process (fast) and through `foibot run` with a
Maildir inbox (no servers needed): a message that breaks ingest is tried twice then
skipped with its bytes kept; a stop ends a poll between two messages; a digest that
could not be sent is retried soon; JSON log lines; bad options and config are one line.
"""

from __future__ import annotations

import json
import logging
import mailbox
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from foibot.config import Settings, parse_settings
from foibot.daemon import MESSAGE_ATTEMPTS, Daemon
from foibot.services import poll as poll_service
from foibot.services.ingest import IngestOutcome
from foibot.services.ingest import ingest_batch as real_ingest
from foibot.store.db import Database
from foibot.store.models import DigestRun, Message, RawMessage
from tests.cli_runner import run_cli
from tests.daemon.conftest import wait_until
from tests.mailbox.messages import council_reply
from tests.servers import free_port


def maildir_settings(db: Database, tmp_path: Path, **extra: Any) -> Settings:
    box = tmp_path / "Maildir"
    mailbox.Maildir(box, create=True)
    data: dict[str, Any] = {
        "database_url": db.url,
        "storage_dir": str(tmp_path / "data"),
        "inbox": {"maildir": str(box)},
    }
    data.update(extra)
    return parse_settings(data, None)


def deliver(settings: Settings, messages: list[bytes]) -> list[str]:
    assert settings.maildir is not None
    box = mailbox.Maildir(settings.maildir, create=False)
    return [box.add(raw) for raw in messages]


def stored_message_ids(db: Database) -> list[str]:
    with db.transaction() as session:
        return [
            message_id
            for message_id in session.scalars(
                select(Message.message_id).where(Message.direction == "in").order_by(Message.id)
            )
            if message_id is not None
        ]


def message_id_of(raw: bytes) -> str:
    return raw.split(b"Message-ID: <", 1)[1].split(b">", 1)[0].decode()


def test_a_message_that_breaks_ingest_is_tried_twice_then_skipped_with_its_bytes_kept(
    db: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = maildir_settings(db, tmp_path)
    good = [council_reply(n) for n in range(3)]
    poison = council_reply(3).replace(b"\r\nSubject:", b"\r\nX-Poison: yes\r\nSubject:", 1)
    deliver(settings, [good[0], poison, good[1], good[2]])
    tries: list[bytes] = []  # the messages filed on their own

    def ingest(
        db: Database, settings: Settings, items: list[tuple[bytes, str]]
    ) -> list[IngestOutcome]:
        if len(items) == 1:
            tries.append(items[0][0])
        if any(b"X-Poison" in raw for raw, _ in items):
            raise KeyError("a bug in the classifier")
        return real_ingest(db, settings, items)

    monkeypatch.setattr(poll_service, "ingest_batch", ingest)
    bot = Daemon(db, settings)
    with caplog.at_level(logging.INFO, logger="foibot.daemon"):
        assert bot.poll() is True

    # the others are filed; the bad one was tried twice, then skipped
    assert sorted(stored_message_ids(db)) == sorted(message_id_of(m) for m in good)
    assert tries.count(poison) == MESSAGE_ATTEMPTS
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert "skipped it" in errors[0].getMessage()
    assert "KeyError" in errors[0].getMessage()
    # ... and its bytes are kept, so nothing read from the mailbox is lost
    with db.transaction() as session:
        kept = session.scalars(select(RawMessage.data)).all()
    assert poison in [bytes(k) for k in kept]
    assert settings.maildir is not None
    assert os.listdir(settings.maildir / "new") == []

    # the next poll does not stumble on it again
    tries.clear()
    assert bot.poll() is True
    assert tries == []


def test_a_stop_ends_a_poll_between_two_messages_and_the_rest_waits(
    db: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = maildir_settings(db, tmp_path)
    mail = [council_reply(n) for n in range(5)]
    deliver(settings, mail)
    bot = Daemon(db, settings)

    def ingest(
        db: Database, settings: Settings, items: list[tuple[bytes, str]]
    ) -> list[IngestOutcome]:
        outcomes = real_ingest(db, settings, items)
        bot.stop.set()  # SIGTERM arrives while the first batch is being filed
        return outcomes

    # batches of two: the first is filed, then the poll stops
    monkeypatch.setattr(poll_service, "batch_full", lambda messages, size: messages >= 2)
    monkeypatch.setattr(poll_service, "ingest_batch", ingest)
    with caplog.at_level(logging.INFO, logger="foibot.daemon"):
        assert bot._guard("inbox", bot.poll)() is False
    assert "inbox: stopped between units of work" in caplog.text
    assert len(stored_message_ids(db)) == 2
    assert settings.maildir is not None
    assert len(os.listdir(settings.maildir / "new")) == 3  # not read, not lost

    monkeypatch.setattr(poll_service, "ingest_batch", real_ingest)
    assert Daemon(db, settings).poll() is True
    assert sorted(stored_message_ids(db)) == sorted(message_id_of(m) for m in mail)


def test_a_digest_that_could_not_be_sent_is_retried_within_minutes(
    db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = parse_settings(
        {
            "database_url": db.url,
            "sender": {"name": "A. Researcher", "address": "research@example.org"},
            # nothing listens there: the SMTP server is down
            "smtp": {"host": "127.0.0.1", "port": free_port(), "security": "none"},
            "digest": {"recipients": ["research@example.org"]},
        },
        None,
    )
    bot = Daemon(db, settings)
    bot.scheduler.start(paused=True)  # jobs are scheduled, none runs
    try:
        before = datetime.now(UTC)
        with caplog.at_level(logging.INFO, logger="foibot.daemon"):
            assert bot._guard("digest", bot.digest)() is False
        assert "digest: trying again in 5 minutes" in caplog.text
        retry = bot.scheduler.get_job("digest-retry")
        assert retry is not None
        run_at = retry.next_run_time
        assert before + timedelta(minutes=5) <= run_at <= datetime.now(UTC) + timedelta(minutes=5)
        with db.transaction() as session:
            [run] = session.scalars(select(DigestRun)).all()
            assert run.sent_at is None and run.error  # open to the retry

        # a second failure backs off further, and replaces the first retry
        with caplog.at_level(logging.INFO, logger="foibot.daemon"):
            assert bot._guard("digest", bot.digest)() is False
        assert "digest: trying again in 10 minutes" in caplog.text
        assert [job.id for job in bot.scheduler.get_jobs()] == ["digest-retry"]
    finally:
        bot.scheduler.shutdown(wait=False)


def start_run(config: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "foibot", "--config", str(config), "run", *args],
        cwd=config.parent,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_run_with_a_maildir_files_new_mail_and_logs_json_lines(
    db: Database, tmp_path: Path
) -> None:
    settings = maildir_settings(db, tmp_path)
    assert settings.maildir is not None
    config = tmp_path / "foibot.toml"
    config.write_text(
        f'database_url = "{db.url}"\nstorage_dir = "{tmp_path / "data"}"\n'
        f'[inbox]\nmaildir = "{settings.maildir}"\n',
        encoding="utf-8",
    )
    proc = start_run(config, "--log-format", "json")
    try:
        mail = [council_reply(n) for n in range(3)]
        deliver(settings, mail)  # arrives while it runs: the Maildir is watched
        wait_until("the mail filed", lambda: len(stored_message_ids(db)) == 3, timeout=30)
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    records = [json.loads(line) for line in err.splitlines()]
    assert all(set(r) == {"ts", "level", "logger", "message"} for r in records)
    messages = [r["message"] for r in records]
    assert any(m.startswith("foibot daemon ") and "started" in m for m in messages)
    assert any("3 new" in m for m in messages if m.startswith("inbox: Polled maildir:"))
    assert messages[-1] == "stopped"
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == 3


@pytest.mark.parametrize(
    ("args", "config_extra", "expected"),
    [
        (["--log-format", "xml"], "", "--log-format must be text or json, not 'xml'"),
        (["--log-level", "loud"], "", "--log-level must be debug, info, warning or error"),
        ([], "[daemon]\noutbox_interval_seconds = 0\n", "[daemon] outbox_interval_seconds"),
        ([], "[daemon]\noutbox_intreval_seconds = 5\n", "unknown key (misspelt?)"),
    ],
)
def test_bad_run_options_and_daemon_config_are_one_line(
    tmp_path: Path, args: list[str], config_extra: str, expected: str
) -> None:
    config = tmp_path / "foibot.toml"
    config.write_text(
        f'database_url = "sqlite:///{tmp_path / "foibot.db"}"\n' + config_extra, encoding="utf-8"
    )
    result = run_cli("--config", str(config), "run", *args)
    assert result.code != 0
    assert expected in result.err
    assert len(result.err.strip().splitlines()) == 1
    assert "Traceback" not in result.err
