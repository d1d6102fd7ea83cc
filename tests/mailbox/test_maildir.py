"""The Maildir adapter on a temporary Maildir filled by the stdlib, as a local delivery
agent would fill it."""

from __future__ import annotations

import mailbox
import os
from pathlib import Path

import pytest

from foibot.errors import ConfigError
from foibot.mail.mailbox import FolderState, Mailbox
from foibot.mail.maildir import MaildirMailbox
from tests.mailbox.messages import replies


def deliver(path: Path, messages: list[bytes]) -> list[str]:
    box = mailbox.Maildir(path, factory=None, create=True)
    return [box.add(raw) for raw in messages]


def test_reads_new_mail_byte_for_byte(tmp_path: Path) -> None:
    sent = replies(4)
    keys = deliver(tmp_path / "Maildir", sent)
    box = MaildirMailbox(tmp_path / "Maildir")
    assert isinstance(box, Mailbox)
    got = list(box.fetch_new(FolderState()))
    assert sorted(m.raw for m in got) == sorted(sent)
    assert sorted(m.key for m in got) == sorted(keys)
    assert all(m.uid is None and m.source.startswith("maildir:") for m in got)
    assert box.account == f"maildir:{tmp_path / 'Maildir'}"


def test_committed_messages_move_to_cur_and_are_not_read_again(tmp_path: Path) -> None:
    path = tmp_path / "Maildir"
    sent = replies(3)
    deliver(path, sent)
    box = MaildirMailbox(path)
    first = list(box.fetch_new(FolderState()))
    for m in first[:2]:
        box.after_commit(m.key)
    # the third was not committed (a crash, say): it is read again, the others are not
    again = list(box.fetch_new(FolderState()))
    assert [m.raw for m in again] == [first[2].raw]
    box.after_commit(again[0].key)
    assert list(box.fetch_new(FolderState())) == []
    # cur/ now holds all three, unchanged, with an empty info part (not marked \Seen)
    cur = sorted(os.listdir(path / "cur"))
    assert len(cur) == 3 and all(name.endswith(":2,") for name in cur)
    assert sorted((path / "cur" / n).read_bytes() for n in cur) == sorted(sent)
    stdlib = mailbox.Maildir(path, factory=None, create=False)
    assert all(stdlib.get_message(k).get_flags() == "" for k in stdlib.iterkeys())


def test_after_commit_twice_is_harmless(tmp_path: Path) -> None:
    path = tmp_path / "Maildir"
    deliver(path, replies(1))
    box = MaildirMailbox(path)
    (m,) = box.fetch_new(FolderState())
    box.after_commit(m.key)
    box.after_commit(m.key)  # e.g. re-run after a crash between the move and the state
    assert len(os.listdir(path / "cur")) == 1


def test_messages_already_in_cur_are_left_to_inbox_import(tmp_path: Path) -> None:
    path = tmp_path / "Maildir"
    deliver(path, replies(2))
    stdlib = mailbox.Maildir(path, factory=None, create=False)
    key = next(iter(stdlib.keys()))
    message = stdlib.get_message(key)
    message.set_subdir("cur")
    stdlib[key] = message  # a mail client has seen it
    assert len(list(MaildirMailbox(path).fetch_new(FolderState()))) == 1


def test_key_with_a_path_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "Maildir"
    deliver(path, [])
    with pytest.raises(ValueError):
        MaildirMailbox(path).after_commit("../../etc/passwd")


def test_missing_or_broken_maildir_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        list(MaildirMailbox(tmp_path / "nope").fetch_new(FolderState()))
    (tmp_path / "half" / "new").mkdir(parents=True)
    with pytest.raises(ConfigError, match=r"not a Maildir \(cur, tmp missing\)"):
        list(MaildirMailbox(tmp_path / "half").fetch_new(FolderState()))


def test_wait_for_mail_sees_a_delivery(tmp_path: Path) -> None:
    path = tmp_path / "Maildir"
    deliver(path, [])
    waits: list[float] = []

    def sleep_and_deliver(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 3:
            deliver(path, replies(1))

    box = MaildirMailbox(path, sleep=sleep_and_deliver)
    assert box.wait_for_mail(3600) is True
    assert waits == [1.0, 1.0, 1.0]
    assert MaildirMailbox(path, sleep=lambda s: None).wait_for_mail(0) is True


def test_wait_for_mail_times_out_when_nothing_comes(tmp_path: Path) -> None:
    path = tmp_path / "Maildir"
    deliver(path, [])
    assert MaildirMailbox(path).wait_for_mail(0.2) is False
