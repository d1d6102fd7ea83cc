"""The IMAP adapter against a real Dovecot: incremental UIDs, BODY.PEEK, UIDVALIDITY,
post-processing only after commit, reconnection, and errors as one clear line."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import imapclient
import pytest

from foibot.config import Secret
from foibot.errors import ConfigError
from foibot.mail.imap import ImapMailbox
from foibot.mail.mailbox import (
    FolderState,
    Mailbox,
    MailboxAuthError,
    MailboxProtocolError,
    MailboxTLSError,
    MailboxUnreachableError,
)
from tests.mailbox.conftest import ImapSettingsFactory
from tests.mailbox.messages import append_all, council_reply, replies
from tests.mailbox.proxy import CuttableProxy
from tests.servers import free_port
from tests.servers.dovecot import PASSWORD, DovecotServer, dovecot_server

pytestmark = pytest.mark.dovecot


def flags_of(server: DovecotServer, user: str, folder: str = "INBOX") -> dict[int, set[bytes]]:
    client = server.client(user)
    try:
        client.select_folder(folder, readonly=True)
        return {uid: set(f) for uid, f in client.get_flags(client.search()).items()}
    finally:
        client.logout()


def test_the_adapter_is_a_mailbox(
    dovecot: DovecotServer, imap_settings: ImapSettingsFactory
) -> None:
    assert isinstance(ImapMailbox(imap_settings(dovecot, "x")), Mailbox)


def test_fetches_every_message_byte_for_byte_in_uid_order(
    dovecot: DovecotServer, imap_settings: ImapSettingsFactory
) -> None:
    user = dovecot.new_user()
    sent = replies(7)  # batch_size 3: three FETCH round trips
    append_all(dovecot, user, sent)
    with ImapMailbox(imap_settings(dovecot, user)) as box:
        got = list(box.fetch_new(FolderState()))
    assert [m.raw for m in got] == sent
    assert [m.uid for m in got] == [1, 2, 3, 4, 5, 6, 7]
    validity = dovecot.status(user)["uidvalidity"]
    assert {m.uidvalidity for m in got} == {validity}
    assert got[2].source == (
        f"imap://{user}@127.0.0.1:{dovecot.port}/INBOX;UIDVALIDITY={validity}/;UID=3"
    )


def test_only_messages_above_the_last_uid_are_fetched(
    dovecot: DovecotServer, imap_settings: ImapSettingsFactory
) -> None:
    user = dovecot.new_user()
    append_all(dovecot, user, replies(5))
    validity = dovecot.status(user)["uidvalidity"]
    with ImapMailbox(imap_settings(dovecot, user)) as box:
        assert [m.uid for m in box.fetch_new(FolderState(validity, 3))] == [4, 5]
        assert list(box.fetch_new(FolderState(validity, 5))) == []
        assert box.rescanned is False


def test_the_highest_uid_is_not_fetched_again_when_it_is_below_last_uid_plus_one(
    dovecot: DovecotServer, imap_settings: ImapSettingsFactory
) -> None:
    # "UID SEARCH UID 3:*" matches the highest UID (2) even though 2 < 3: it must be
    # filtered out, or the last message would be re-read on every poll.
    user = dovecot.new_user()
    append_all(dovecot, user, replies(3))
    client = dovecot.client(user)
    client.select_folder("INBOX")
    client.delete_messages([3])
    client.expunge()
    assert client.search(["UID", "3:*"]) == [2]  # the server quirk this guards against
    client.logout()
    validity = dovecot.status(user)["uidvalidity"]
    with ImapMailbox(imap_settings(dovecot, user)) as box:
        assert list(box.fetch_new(FolderState(validity, 2))) == []


def test_fetching_does_not_mark_messages_read(
    dovecot: DovecotServer, imap_settings: ImapSettingsFactory
) -> None:
    user = dovecot.new_user()
    append_all(dovecot, user, replies(3))
    with ImapMailbox(imap_settings(dovecot, user)) as box:
        fetched = list(box.fetch_new(FolderState()))
        for m in fetched:
            box.after_commit(m.key)  # no post-processing configured: touches nothing
    assert len(fetched) == 3
    assert all(b"\\Seen" not in flags for flags in flags_of(dovecot, user).values())
    assert dovecot.status(user)["unseen"] == 3


def test_post_processing_also_leaves_messages_unread(
    dovecot: DovecotServer, imap_settings: ImapSettingsFactory
) -> None:
    # with post-processing the folder is opened read-write: BODY.PEEK still must not
    # set \Seen
    user = dovecot.new_user()
    append_all(dovecot, user, replies(2))
    with ImapMailbox(imap_settings(dovecot, user, mark_flag="$FoibotFiled")) as box:
        assert box.writable
        list(box.fetch_new(FolderState()))
    assert all(b"\\Seen" not in flags for flags in flags_of(dovecot, user).values())


def test_a_new_uidvalidity_means_the_whole_folder_is_read_again(
    dovecot: DovecotServer, imap_settings: ImapSettingsFactory
) -> None:
    user = dovecot.new_user()
    sent = replies(4)
    append_all(dovecot, user, sent)
    old = dovecot.status(user)["uidvalidity"]
    dovecot.set_uidvalidity(user, "INBOX", old + 1000)
    with ImapMailbox(imap_settings(dovecot, user)) as box:
        got = list(box.fetch_new(FolderState(old, 4)))
        assert box.rescanned is True
    assert [m.raw for m in got] == sent
    assert {m.uidvalidity for m in got} == {old + 1000}


def test_a_recreated_folder_with_reused_uids_is_read_again(
    dovecot: DovecotServer, imap_settings: ImapSettingsFactory
) -> None:
    # The dangerous case: the folder is deleted and created again, so new messages get
    # UIDs 1, 2 ... that are below the old last UID. Only UIDVALIDITY tells.
    user = dovecot.new_user()
    client = dovecot.client(user)
    client.create_folder("FOI")
    for raw in replies(5):
        client.append("FOI", raw)
    settings = imap_settings(dovecot, user, folder="FOI")
    with ImapMailbox(settings) as box:
        first = list(box.fetch_new(FolderState()))
    state = FolderState(first[-1].uidvalidity, first[-1].uid or 0)
    client.delete_folder("FOI")
    client.create_folder("FOI")
    later = replies(2, start=10)
    for raw in later:
        client.append("FOI", raw)
    client.logout()
    with ImapMailbox(settings) as box:
        again = list(box.fetch_new(state))
    assert [m.raw for m in again] == later
    assert [m.uid for m in again] == [1, 2]
    assert again[0].uidvalidity != state.uidvalidity


def test_mark_flag_is_added_only_after_commit(
    dovecot: DovecotServer, imap_settings: ImapSettingsFactory
) -> None:
    user = dovecot.new_user()
    append_all(dovecot, user, replies(3))
    with ImapMailbox(imap_settings(dovecot, user, mark_flag="$FoibotFiled")) as box:
        messages = box.fetch_new(FolderState())
        first = next(messages)
        assert all(b"$FoibotFiled" not in f for f in flags_of(dovecot, user).values())
        box.after_commit(first.key)
        flags = flags_of(dovecot, user)
        assert b"$FoibotFiled" in flags[1]
        assert b"$FoibotFiled" not in flags[2]
        second = next(messages)  # the message not committed keeps no flag
        assert second.uid == 2
    flags = flags_of(dovecot, user)
    assert [uid for uid, f in sorted(flags.items()) if b"$FoibotFiled" in f] == [1]


def test_move_to_moves_only_committed_messages_and_creates_the_folder(
    dovecot: DovecotServer, imap_settings: ImapSettingsFactory
) -> None:
    user = dovecot.new_user()
    sent = replies(3)
    append_all(dovecot, user, sent)
    with ImapMailbox(imap_settings(dovecot, user, move_to="FOI/Filed")) as box:
        fetched = list(box.fetch_new(FolderState()))
        assert dovecot.status(user)["messages"] == 3  # nothing moved before commit
        box.after_commit(fetched[0].key)
        box.after_commit(fetched[2].key)
    assert dovecot.status(user)["messages"] == 1
    assert dovecot.status(user, "FOI/Filed")["messages"] == 2
    client = dovecot.client(user)
    client.select_folder("FOI/Filed", readonly=True)
    moved = client.fetch(client.search(), ["BODY.PEEK[]"])
    client.logout()
    assert sorted(d[b"BODY[]"] for d in moved.values()) == sorted([sent[0], sent[2]])


def test_move_without_the_move_capability_copies_deletes_and_expunges(
    dovecot: DovecotServer, imap_settings: ImapSettingsFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = imapclient.IMAPClient.has_capability

    def no_move(self: imapclient.IMAPClient, capability: str) -> bool:
        return capability.upper() != "MOVE" and bool(real(self, capability))

    monkeypatch.setattr(imapclient.IMAPClient, "has_capability", no_move)
    user = dovecot.new_user()
    append_all(dovecot, user, replies(3))
    client = dovecot.client(user)
    client.create_folder("Filed")
    client.select_folder("INBOX")
    client.add_flags([3], [b"\\Deleted"])  # the user's own deleted message stays
    client.logout()
    with ImapMailbox(imap_settings(dovecot, user, move_to="Filed")) as box:
        fetched = list(box.fetch_new(FolderState()))
        box.after_commit(fetched[0].key)
    assert dovecot.status(user, "Filed")["messages"] == 1
    # UIDPLUS: only UID 1 was expunged, not the user's \Deleted UID 3
    assert sorted(flags_of(dovecot, user)) == [2, 3]


def test_wrong_password_is_an_auth_error_without_the_password(
    own_dovecot: DovecotServer, imap_settings: ImapSettingsFactory, tmp_path: Path
) -> None:
    # (a server of its own: Dovecot slows down logins after a failed one)
    dovecot = own_dovecot
    user = dovecot.new_user()
    wrong = tmp_path / "wrong"
    wrong.write_text("hunter2-not-it\n")
    settings = imap_settings(dovecot, user, password=Secret("k", "t", file=wrong))
    box = ImapMailbox(settings, sleep=lambda s: pytest.fail("no retry for a refused login"))
    with pytest.raises(MailboxAuthError) as caught:
        list(box.fetch_new(FolderState()))
    text = str(caught.value)
    assert user in text and "refused" in text
    assert "hunter2" not in text and PASSWORD not in text
    assert "\n" not in text


def test_missing_password_setting_is_a_config_error(
    dovecot: DovecotServer, imap_settings: ImapSettingsFactory
) -> None:
    box = ImapMailbox(imap_settings(dovecot, "someone", password=None))
    with pytest.raises(ConfigError, match="password"):
        list(box.fetch_new(FolderState()))


def test_nothing_listening_is_reported_at_once_as_unreachable(
    imap_settings: ImapSettingsFactory, dovecot: DovecotServer
) -> None:
    settings = imap_settings(dovecot, "someone", port=free_port())
    box = ImapMailbox(settings, sleep=lambda s: pytest.fail("no retry on a first connect"))
    with pytest.raises(MailboxUnreachableError, match="connection refused"):
        list(box.fetch_new(FolderState()))


def test_a_missing_folder_is_a_protocol_error_naming_it(
    dovecot: DovecotServer, imap_settings: ImapSettingsFactory
) -> None:
    user = dovecot.new_user()
    with (
        ImapMailbox(imap_settings(dovecot, user, folder="No/Such")) as box,
        pytest.raises(MailboxProtocolError, match="cannot open folder 'No/Such'"),
    ):
        list(box.fetch_new(FolderState()))


def test_a_connection_cut_mid_fetch_is_reopened_and_nothing_is_lost_or_repeated(
    dovecot: DovecotServer, imap_settings: ImapSettingsFactory
) -> None:
    user = dovecot.new_user()
    sent = replies(8)
    append_all(dovecot, user, sent)
    proxy = CuttableProxy(dovecot.port)
    waits: list[float] = []
    try:
        box = ImapMailbox(imap_settings(dovecot, user, port=proxy.port), sleep=waits.append)
        got = []
        for message in box.fetch_new(FolderState()):
            got.append(message)
            if len(got) in (2, 5):  # mid-batch, then at a batch boundary
                proxy.cut()
        box.close()
    finally:
        proxy.close()
    assert [m.raw for m in got] == sent
    assert box.reconnects == 2
    assert proxy.accepted == 3
    assert waits == [1.0, 1.0]  # progress after each reconnect resets the backoff


def test_backoff_grows_and_gives_up_with_one_line(
    own_dovecot: DovecotServer, imap_settings: ImapSettingsFactory
) -> None:
    user = own_dovecot.new_user()
    append_all(own_dovecot, user, replies(4))
    waits: list[float] = []
    box = ImapMailbox(
        imap_settings(own_dovecot, user, batch_size=1),
        retries=4,
        backoff=0.5,
        max_backoff=3,
        sleep=waits.append,
    )
    got = []
    with pytest.raises(MailboxUnreachableError) as caught:
        for message in box.fetch_new(FolderState()):
            got.append(message)
            if len(got) == 1:
                own_dovecot.stop()
    assert len(got) == 1
    assert waits == [0.5, 1.0, 2.0, 3]
    assert "gave up after 5 attempts" in str(caught.value)
    assert "\n" not in str(caught.value)
    # the server comes back: the rest is read, from where the last commit left off
    own_dovecot.start()
    first = got[0]
    with ImapMailbox(imap_settings(own_dovecot, user)) as again:
        rest = list(again.fetch_new(FolderState(first.uidvalidity, first.uid or 0)))
    assert [m.uid for m in rest] == [2, 3, 4]


def test_wait_for_mail_uses_idle_and_wakes_up_on_delivery(
    dovecot: DovecotServer, imap_settings: ImapSettingsFactory
) -> None:
    user = dovecot.new_user()
    with ImapMailbox(imap_settings(dovecot, user)) as box:
        assert box.wait_for_mail(0.3) is False  # nothing arrives: the wait runs out

        def deliver() -> None:
            time.sleep(0.3)
            append_all(dovecot, user, [council_reply(1)])

        thread = threading.Thread(target=deliver)
        thread.start()
        assert box.wait_for_mail(30) is True
        thread.join()
        assert [m.uid for m in box.fetch_new(FolderState())] == [1]


def test_wait_for_mail_returns_when_the_connection_drops_and_the_next_fetch_reconnects(
    own_dovecot: DovecotServer, imap_settings: ImapSettingsFactory
) -> None:
    user = own_dovecot.new_user()
    waits: list[float] = []
    with ImapMailbox(imap_settings(own_dovecot, user), sleep=waits.append) as box:
        assert list(box.fetch_new(FolderState())) == []  # connected and selected

        def outage() -> None:
            time.sleep(0.3)
            own_dovecot.restart()
            append_all(own_dovecot, user, [council_reply(4)])

        thread = threading.Thread(target=outage)
        thread.start()
        assert box.wait_for_mail(60) is True  # "maybe new mail": go and poll
        thread.join()
        got = list(box.fetch_new(FolderState()))
    assert [m.raw for m in got] == [council_reply(4)]
    assert waits == []  # the dead connection was noticed while idling, not by a retry


def test_wait_for_mail_polls_on_a_timer_when_the_server_has_no_idle(
    dovecot: DovecotServer, imap_settings: ImapSettingsFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = imapclient.IMAPClient.has_capability

    def no_idle(self: imapclient.IMAPClient, capability: str) -> bool:
        return capability.upper() != "IDLE" and bool(real(self, capability))

    monkeypatch.setattr(imapclient.IMAPClient, "has_capability", no_idle)
    waits: list[float] = []
    box = ImapMailbox(imap_settings(dovecot, dovecot.new_user()), sleep=waits.append)
    assert box.wait_for_mail(120) is True
    assert waits == [120]
    box.close()


def test_wait_for_mail_without_idle_just_waits(
    dovecot: DovecotServer, imap_settings: ImapSettingsFactory
) -> None:
    waits: list[float] = []
    box = ImapMailbox(imap_settings(dovecot, "nobody-needed", idle=False), sleep=waits.append)
    assert box.wait_for_mail(300) is True
    assert waits == [300]


@pytest.fixture(scope="module")
def tls_dovecot() -> Iterator[DovecotServer]:
    with dovecot_server(tls=True) as server:
        yield server


def test_tls_certificate_is_verified(
    tls_dovecot: DovecotServer, imap_settings: ImapSettingsFactory
) -> None:
    user = tls_dovecot.new_user()
    append_all(tls_dovecot, user, replies(1))
    untrusted = imap_settings(tls_dovecot, user, host="localhost", security="ssl")
    with pytest.raises(MailboxTLSError, match="certificate check failed"):
        list(ImapMailbox(untrusted).fetch_new(FolderState()))
    trusted = imap_settings(
        tls_dovecot, user, host="localhost", security="ssl", ca_file=tls_dovecot.cert
    )
    with ImapMailbox(trusted) as box:
        assert len(list(box.fetch_new(FolderState()))) == 1
    # verify_certificate = false (test servers only) skips the check
    unchecked = imap_settings(
        tls_dovecot, user, host="localhost", security="ssl", verify_certificate=False
    )
    with ImapMailbox(unchecked) as box:
        assert len(list(box.fetch_new(FolderState()))) == 1


def test_starttls_is_verified_too(
    tls_dovecot: DovecotServer, imap_settings: ImapSettingsFactory
) -> None:
    user = tls_dovecot.new_user()
    append_all(tls_dovecot, user, replies(2))
    port = tls_dovecot.starttls_port
    untrusted = imap_settings(tls_dovecot, user, host="localhost", port=port, security="starttls")
    with pytest.raises(MailboxTLSError, match="certificate check failed"):
        list(ImapMailbox(untrusted).fetch_new(FolderState()))
    trusted = imap_settings(
        tls_dovecot,
        user,
        host="localhost",
        port=port,
        security="starttls",
        ca_file=tls_dovecot.cert,
    )
    with ImapMailbox(trusted) as box:
        assert len(list(box.fetch_new(FolderState()))) == 2


def test_starttls_refused_by_a_server_without_it(
    dovecot: DovecotServer, imap_settings: ImapSettingsFactory
) -> None:
    # the plain test server has ssl = no, so it does not offer STARTTLS
    settings = imap_settings(dovecot, "someone", security="starttls")
    with pytest.raises(MailboxProtocolError, match="does not offer STARTTLS"):
        list(ImapMailbox(settings).fetch_new(FolderState()))
