"""`poll_once` and `foibot inbox poll` against a real Dovecot (and a Maildir): every
message stored once, nothing lost across restarts, UIDVALIDITY changes and outages, and
post-processing only after the commit."""

from __future__ import annotations

import json
import logging
import mailbox
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from foibot.config import ImapSettings, Settings, parse_settings
from foibot.errors import ConfigError, StoreError
from foibot.mail.imap import ImapMailbox
from foibot.mail.mailbox import MailboxUnreachableError
from foibot.services import poll as poll_service
from foibot.services.poll import poll_once
from foibot.store import migrate
from foibot.store.db import Database
from foibot.store.models import MailboxState, Message, RawMessage
from tests import factories
from tests.cli_runner import run_cli
from tests.mailbox.conftest import ImapSettingsFactory
from tests.mailbox.messages import append_all, council_reply, replies
from tests.servers.dovecot import DovecotServer

pytestmark = pytest.mark.dovecot


def settings_for(db: Database, tmp_path: Path, imap: ImapSettings | None = None) -> Settings:
    base = parse_settings({"database_url": db.url, "storage_dir": str(tmp_path / "data")}, None)
    return replace(base, imap_=imap)


def stored_incoming(db: Database) -> list[bytes]:
    """The raw bytes of every incoming message stored, oldest first."""
    with db.transaction() as session:
        rows = session.execute(
            select(RawMessage.data)
            .join(Message, Message.raw_sha256 == RawMessage.sha256)
            .where(Message.direction == "in")
            .order_by(Message.id)
        ).all()
        return [bytes(r[0]) for r in rows]


def state_row(db: Database) -> tuple[int | None, int]:
    with db.transaction() as session:
        row = session.scalars(select(MailboxState)).one()
        return row.uidvalidity, row.last_uid


def count(db: Database, model: Any) -> int:
    with db.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_poll_stores_each_message_once_and_a_second_poll_reads_nothing(
    db: Database, tmp_path: Path, dovecot: DovecotServer, imap_settings: ImapSettingsFactory
) -> None:
    user = dovecot.new_user()
    first = replies(5)
    append_all(dovecot, user, first)
    settings = settings_for(db, tmp_path, imap_settings(dovecot, user))

    report = poll_once(db, settings)
    assert report.error is None
    assert (report.read, report.new, report.duplicates) == (5, 5, 0)
    assert [o.message_id for o in report.outcomes] == [
        m.split(b"Message-ID: <", 1)[1].split(b">", 1)[0].decode() for m in first
    ]
    assert stored_incoming(db) == first
    assert state_row(db) == (dovecot.status(user)["uidvalidity"], 5)

    again = poll_once(db, settings)
    assert (again.read, again.error) == (0, None)

    later = replies(2, start=5)
    append_all(dovecot, user, later)
    third = poll_once(db, settings)
    assert (third.read, third.new) == (2, 2)
    assert stored_incoming(db) == first + later
    assert state_row(db)[1] == 7
    # reading is not reading: the user still sees all seven as unread
    assert dovecot.status(user)["unseen"] == 7


def test_replies_polled_from_imap_are_filed_under_their_requests(
    db: Database, tmp_path: Path, dovecot: DovecotServer, imap_settings: ImapSettingsFactory
) -> None:
    with db.transaction() as session:
        barnet = factories.authority(session, "London Borough of Barnet", "foi@barnet.gov.uk")
        leicester = factories.authority(
            session, "Leicester City Council", "info.requests@leicester.gov.uk"
        )
        camp = factories.campaign(session)
        to_barnet = factories.request(session, camp, barnet, sent_on=date(2020, 2, 11))
        to_leicester = factories.request(session, camp, leicester, sent_on=date(2020, 2, 11))
        ours = f"{to_barnet.reference.lower()}.test@example.org"  # the factory's Message-ID
        leicester_ref = to_leicester.reference
    threaded = council_reply(0).replace(
        b"\r\nDate:", f"\r\nIn-Reply-To: <{ours}>\r\nDate:".encode(), 1
    )
    quoted = council_reply(1, our_ref=leicester_ref)
    stranger = council_reply(2).replace(b"foi@barnet.gov.uk", b"someone@elsewhere.example")
    user = dovecot.new_user()
    append_all(dovecot, user, [threaded, quoted, stranger])
    report = poll_once(db, settings_for(db, tmp_path, imap_settings(dovecot, user)))
    assert report.error is None
    assert [o.request for o in report.outcomes] == [to_barnet.reference, leicester_ref, None]
    assert all(o.method for o in report.outcomes[:2])
    assert (report.filed, report.unmatched) == (2, 1)


def test_awkward_messages_from_the_server_are_all_stored(
    db: Database, tmp_path: Path, dovecot: DovecotServer, imap_settings: ImapSettingsFactory
) -> None:
    reply = council_reply(2)
    multipart = (
        b"From: foi@barnet.gov.uk\r\nSubject: FOI 6234788\r\nMessage-ID: <cut@barnet.gov.uk>\r\n"
        b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="XYZ"\r\n\r\n'
        b"--XYZ\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n--XYZ\r\n"
        b"Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK"
    )  # cut off in the middle of the attachment, no closing boundary
    awkward = [
        reply[: len(reply) // 2],  # truncated in the middle of the base64 body
        multipart,
        "From: foi@leicester.gov.uk\r\nSubject: Réponse – £10 fee\r\n\r\nCost: £10\r\n".encode(
            "cp1252"
        ),  # 8-bit header and body, no charset declared anywhere
        b"X-Huge: " + b"a" * 200_000 + b"\r\nSubject: huge header\r\n\r\nbody\r\n",
        b"this is not an email at all\r\n",
    ]
    user = dovecot.new_user()
    append_all(dovecot, user, awkward)
    report = poll_once(db, settings_for(db, tmp_path, imap_settings(dovecot, user)))
    assert (report.read, report.new, report.error) == (5, 5, None)
    assert len(stored_incoming(db)) == 5
    assert state_row(db)[1] == 5


def test_the_same_message_twice_in_the_folder_is_stored_once(
    db: Database, tmp_path: Path, dovecot: DovecotServer, imap_settings: ImapSettingsFactory
) -> None:
    user = dovecot.new_user()
    reply = council_reply(3)
    append_all(dovecot, user, [reply, reply])  # e.g. sent to two of our addresses
    report = poll_once(db, settings_for(db, tmp_path, imap_settings(dovecot, user)))
    assert [o.duplicate for o in report.outcomes] == [False, True]
    assert stored_incoming(db) == [reply]
    assert state_row(db)[1] == 2


def test_restarting_dovecot_between_polls_loses_nothing(
    db: Database, tmp_path: Path, own_dovecot: DovecotServer, imap_settings: ImapSettingsFactory
) -> None:
    user = own_dovecot.new_user()
    settings = settings_for(db, tmp_path, imap_settings(own_dovecot, user))
    append_all(own_dovecot, user, replies(3))
    assert poll_once(db, settings).new == 3
    own_dovecot.restart()
    append_all(own_dovecot, user, replies(2, start=3))
    report = poll_once(db, settings)
    assert (report.read, report.new, report.error) == (2, 2, None)
    assert stored_incoming(db) == replies(5)


def test_a_long_lived_mailbox_survives_a_restart_between_polls(
    db: Database, tmp_path: Path, own_dovecot: DovecotServer, imap_settings: ImapSettingsFactory
) -> None:
    # the daemon keeps one connection; the restart kills it, the next poll reconnects
    user = own_dovecot.new_user()
    settings = settings_for(db, tmp_path, imap_settings(own_dovecot, user))
    append_all(own_dovecot, user, replies(2))
    waits: list[float] = []
    with ImapMailbox(settings.imap, sleep=waits.append) as box:
        assert poll_once(db, settings, box).new == 2
        own_dovecot.restart()
        append_all(own_dovecot, user, replies(2, start=2))
        report = poll_once(db, settings, box)
        assert (report.new, report.error) == (2, None)
        assert box.reconnects == 1
    assert stored_incoming(db) == replies(4)


def test_a_uidvalidity_change_reads_everything_again_and_stores_nothing_twice(
    db: Database, tmp_path: Path, dovecot: DovecotServer, imap_settings: ImapSettingsFactory
) -> None:
    user = dovecot.new_user()
    settings = settings_for(db, tmp_path, imap_settings(dovecot, user))
    append_all(dovecot, user, replies(4))
    assert poll_once(db, settings).new == 4
    old = dovecot.status(user)["uidvalidity"]
    dovecot.set_uidvalidity(user, "INBOX", old + 7)
    append_all(dovecot, user, replies(1, start=4))

    report = poll_once(db, settings)
    assert report.rescanned is True
    assert (report.read, report.duplicates, report.new) == (5, 4, 1)
    assert "read again in full" in report.summary()
    assert stored_incoming(db) == replies(5)
    assert state_row(db) == (old + 7, 5)
    assert poll_once(db, settings).read == 0


def test_dovecot_stopped_mid_poll_keeps_what_was_stored_and_the_next_poll_gets_the_rest(
    db: Database,
    tmp_path: Path,
    own_dovecot: DovecotServer,
    imap_settings: ImapSettingsFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    user = own_dovecot.new_user()
    sent = replies(7)
    append_all(own_dovecot, user, sent)
    settings = settings_for(db, tmp_path, imap_settings(own_dovecot, user, batch_size=3))
    real_fetch = ImapMailbox.fetch_new

    def fetch_then_outage(box: ImapMailbox, state: Any) -> Iterator[Any]:
        for n, fetched in enumerate(real_fetch(box, state), start=1):
            yield fetched
            if n == 2:
                own_dovecot.stop()  # in the middle of the first batch of three

    monkeypatch.setattr(ImapMailbox, "fetch_new", fetch_then_outage)
    waits: list[float] = []
    with ImapMailbox(settings.imap, retries=2, sleep=waits.append) as box:
        report = poll_once(db, settings, box)
    assert isinstance(report.error, MailboxUnreachableError)
    assert "gave up after 3 attempts" in str(report.error)
    assert report.read == 3  # the batch already fetched was stored
    assert waits == [1.0, 2.0]
    assert stored_incoming(db) == sent[:3]
    assert state_row(db)[1] == 3

    monkeypatch.setattr(ImapMailbox, "fetch_new", real_fetch)
    own_dovecot.start()
    report = poll_once(db, settings)
    assert (report.read, report.new, report.error) == (4, 4, None)
    assert stored_incoming(db) == sent


def test_post_processing_waits_for_the_commit(
    db: Database,
    tmp_path: Path,
    dovecot: DovecotServer,
    imap_settings: ImapSettingsFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    user = dovecot.new_user()
    sent = replies(3)
    append_all(dovecot, user, sent)
    imap = imap_settings(dovecot, user, move_to="FOI/Filed", mark_flag="$FoibotFiled")
    settings = settings_for(db, tmp_path, imap)
    real_ingest = poll_service.ingest_batch
    calls = 0

    def database_fails_second_time(*args: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise StoreError("database sqlite:///x: disk I/O error")
        return real_ingest(*args)

    monkeypatch.setattr(poll_service, "batch_full", lambda messages, size: True)  # of one
    monkeypatch.setattr(poll_service, "ingest_batch", database_fails_second_time)
    report = poll_once(db, settings)
    assert isinstance(report.error, StoreError)
    assert report.read == 1
    # only the committed message was flagged and moved; the others wait in INBOX
    assert dovecot.status(user, "FOI/Filed")["messages"] == 1
    assert dovecot.status(user)["messages"] == 2
    assert state_row(db)[1] == 1

    monkeypatch.setattr(poll_service, "ingest_batch", real_ingest)
    report = poll_once(db, settings)
    assert (report.read, report.new, report.error) == (2, 2, None)
    assert dovecot.status(user)["messages"] == 0
    client = dovecot.client(user)
    client.select_folder("FOI/Filed", readonly=True)
    flags = client.get_flags(client.search())
    client.logout()
    assert len(flags) == 3
    assert all(b"$FoibotFiled" in f and b"\\Seen" not in f for f in flags.values())
    assert stored_incoming(db) == sent


@pytest.mark.postgres
def test_two_pollers_sharing_postgresql_store_each_message_once(
    pg_url: str, tmp_path: Path, dovecot: DovecotServer, imap_settings: ImapSettingsFactory
) -> None:
    # two daemons on one mailbox and one database, polling at the same moment
    db = Database(pg_url)
    migrate.upgrade(db)
    user = dovecot.new_user()
    sent = replies(12)
    append_all(dovecot, user, sent)
    settings = settings_for(db, tmp_path, imap_settings(dovecot, user, batch_size=2))
    reports: list[poll_service.PollReport] = []
    start = threading.Barrier(2)

    def poller() -> None:
        start.wait()
        reports.append(poll_once(db, settings))

    threads = [threading.Thread(target=poller) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert [r.error for r in reports] == [None, None]
        assert sum(r.new for r in reports) == 12
        assert sorted(stored_incoming(db)) == sorted(sent)
        assert state_row(db)[1] == 12
        assert poll_once(db, settings).read == 0
    finally:
        db.dispose()


def test_maildir_poll_via_the_inbox_setting(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "Maildir"
    box = mailbox.Maildir(path, factory=None, create=True)
    sent = replies(3)
    for raw in sent:
        box.add(raw)
    settings = replace(settings_for(db, tmp_path), maildir=path)
    report = poll_once(db, settings)
    assert (report.read, report.new, report.error) == (3, 3, None)
    assert sorted(stored_incoming(db)) == sorted(sent)
    assert os.listdir(path / "new") == [] and len(os.listdir(path / "cur")) == 3
    assert poll_once(db, settings).read == 0
    assert count(db, MailboxState) == 0  # Maildir keeps its state in new/ vs cur/


# -- the command line ---------------------------------------------------------------


def write_config(tmp_path: Path, db: Database, body: str) -> Path:
    config = tmp_path / "foibot.toml"
    config.write_text(
        f'database_url = "{db.url}"\nstorage_dir = "{tmp_path / "data"}"\n{body}',
        encoding="utf-8",
    )
    return config


def imap_config(server: DovecotServer, user: str, password_file: Path, port: int = 0) -> str:
    return f"""
[imap]
host = "127.0.0.1"
port = {port or server.port}
security = "none"
username = "{user}"
password_file = "{password_file}"
timeout = 5
"""


def test_cli_poll_prints_a_summary(
    db: Database, tmp_path: Path, dovecot: DovecotServer, password_file: Path
) -> None:
    user = dovecot.new_user()
    append_all(dovecot, user, replies(2))
    config = write_config(tmp_path, db, imap_config(dovecot, user, password_file))
    result = run_cli("--config", config, "inbox", "poll")
    assert result.code == 0, result.err
    assert (
        f"Polled imap://{user}@127.0.0.1:{dovecot.port} folder INBOX: read 2 message(s): 2 new"
        in result.out
    )
    result = run_cli("--config", config, "inbox", "poll")
    assert "0 new" in result.out and "0 already stored" in result.out


def test_cli_poll_json_has_one_object_per_message(
    db: Database, tmp_path: Path, dovecot: DovecotServer, password_file: Path
) -> None:
    user = dovecot.new_user()
    reply = council_reply(0)
    append_all(dovecot, user, [reply, reply])
    config = write_config(tmp_path, db, imap_config(dovecot, user, password_file))
    result = run_cli("--config", config, "inbox", "poll", "--json")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert len(data) == 2
    for key in ("message_id", "request", "method", "kind", "outcome", "their_reference"):
        assert key in data[0]
    assert [d["duplicate"] for d in data] == [False, True]
    assert data[0]["message_id"] == data[1]["message_id"]
    assert data[0]["message_id"].startswith("foi-reply-0.")
    assert data[0]["request"] is None  # no request of ours in this database


def test_cli_poll_of_an_unreachable_server_is_one_line(
    db: Database,
    tmp_path: Path,
    own_dovecot: DovecotServer,
    password_file: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    user = own_dovecot.new_user()
    config = write_config(tmp_path, db, imap_config(own_dovecot, user, password_file))
    own_dovecot.stop()
    with caplog.at_level(logging.DEBUG):
        result = run_cli("--config", config, "inbox", "poll")
    # nothing at WARNING or above, which Python would print to stderr unasked
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert result.code == 1
    assert result.err.startswith("foibot: error: IMAP server 127.0.0.1:")
    assert "connection refused" in result.err
    assert result.err.count("\n") == 1 and "Traceback" not in result.err


def test_cli_poll_with_a_wrong_password_does_not_show_it(
    db: Database, tmp_path: Path, own_dovecot: DovecotServer
) -> None:
    user = own_dovecot.new_user()
    wrong = tmp_path / "wrong-password"
    wrong.write_text("correct horse battery\n")
    config = write_config(tmp_path, db, imap_config(own_dovecot, user, wrong))
    result = run_cli("--config", config, "inbox", "poll")
    assert result.code == 1
    assert "refused the login" in result.err
    assert "correct horse" not in result.err + result.out
    assert result.err.count("\n") == 1


def test_cli_poll_without_a_mailbox_configured(db: Database, tmp_path: Path) -> None:
    config = write_config(tmp_path, db, "")
    result = run_cli("--config", config, "inbox", "poll")
    assert result.code == 2
    assert "no mailbox to poll" in result.err and result.err.count("\n") == 1


def test_cli_poll_reports_a_partial_pass_then_the_error(
    db: Database,
    tmp_path: Path,
    own_dovecot: DovecotServer,
    password_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    user = own_dovecot.new_user()
    append_all(own_dovecot, user, replies(4))
    body = imap_config(own_dovecot, user, password_file) + "batch_size = 1\n"
    config = write_config(tmp_path, db, body)
    real_fetch = ImapMailbox.fetch_new

    def fetch_then_outage(box: ImapMailbox, state: Any) -> Iterator[Any]:
        for fetched in real_fetch(box, state):
            yield fetched
            own_dovecot.stop()

    monkeypatch.setattr(ImapMailbox, "fetch_new", fetch_then_outage)
    no_wait: Callable[[float], None] = lambda seconds: None  # noqa: E731
    monkeypatch.setattr("foibot.mail.imap.time.sleep", no_wait)
    result = run_cli("--config", config, "inbox", "poll")
    assert result.code == 1
    assert "1 new" in result.out
    assert result.err.startswith("foibot: error: IMAP server") and "gave up" in result.err
    assert len(stored_incoming(db)) == 1


def test_cli_poll_of_a_maildir_named_in_the_config(db: Database, tmp_path: Path) -> None:
    box = mailbox.Maildir(tmp_path / "Maildir", factory=None, create=True)
    for raw in replies(2):
        box.add(raw)
    (tmp_path / "config").mkdir()
    config = tmp_path / "config" / "foibot.toml"
    # a relative maildir is taken from the folder above config/, like storage_dir
    config.write_text(
        f'database_url = "{db.url}"\nstorage_dir = "data"\n[inbox]\nmaildir = "Maildir"\n',
        encoding="utf-8",
    )
    result = run_cli("--config", config, "inbox", "poll")
    assert result.code == 0, result.err
    assert f"Polled maildir:{tmp_path / 'Maildir'}: read 2 message(s): 2 new" in result.out
    assert len(stored_incoming(db)) == 2
    assert run_cli("--config", config, "inbox", "poll", "--json").out.strip() == "[]"


def test_maildir_setting_must_be_a_string(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\[inbox\] maildir: must be a string"):
        parse_settings({"inbox": {"maildir": 3}}, tmp_path / "foibot.toml")
