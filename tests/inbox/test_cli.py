"""`foibot inbox import / unmatched / assign` through the real CLI, on a SQLite file."""

from __future__ import annotations

import json
import mailbox
from pathlib import Path

import pytest
from sqlalchemy import select

from foibot.store import migrate
from foibot.store.db import Database
from foibot.store.models import AuthorityDomain, Event, Message
from tests.cli_runner import Result, run_cli
from tests.inbox.conftest import EML
from tests.inbox.factories import OUR_ADDRESS, World, build_world


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    config = tmp_path / "foibot.toml"
    config.write_text(
        f'database_url = "sqlite:///{tmp_path / "f.db"}"\n'
        f'storage_dir = "{tmp_path / "storage"}"\n\n'
        f'[sender]\nname = "A. Researcher"\naddress = "{OUR_ADDRESS}"\n'
    )
    return {"FOIBOT_CONFIG": str(config)}


@pytest.fixture
def world(tmp_path: Path, env: dict[str, str]) -> World:
    db = Database(f"sqlite:///{tmp_path / 'f.db'}")
    migrate.upgrade(db)
    try:
        return build_world(db)
    finally:
        db.dispose()


def cli(env: dict[str, str], *args: str | Path) -> Result:
    return run_cli(*args, env=env)


def one_error_line(result: Result) -> str:
    lines = [line for line in result.err.splitlines() if line.strip()]
    assert len(lines) == 1, result.err
    assert "Traceback" not in result.err
    return lines[0]


def test_import_files_and_folders(env: dict[str, str], world: World, tmp_path: Path) -> None:
    folder = tmp_path / "export" / "nested"
    folder.mkdir(parents=True)
    for name in ("02_barnet_remote_response.eml", "14_kent_remote_ack_in_reply_to.eml"):
        (folder / name).write_bytes((EML / name).read_bytes())
    (tmp_path / "export" / "notes.txt").write_text("not mail, and not an .eml: ignored")
    result = cli(env, "inbox", "import", EML / "01_barnet_remote_ack.eml", tmp_path / "export")
    assert result.code == 0, result.err
    assert (
        "Read 3 message(s): 3 new, 0 already stored. Of the new: 3 filed, 0 unmatched" in result.out
    )

    again = cli(
        env, "inbox", "import", "--json", EML / "01_barnet_remote_ack.eml", tmp_path / "export"
    )
    assert again.code == 0, again.err
    rows = json.loads(again.out)
    assert [r["duplicate"] for r in rows] == [True, True, True]
    assert {
        "message_id",
        "request",
        "method",
        "kind",
        "outcome",
        "their_reference",
        "duplicate",
    } <= set(rows[0])
    assert [r["request"] for r in rows] == [
        world.references["barnet_remote"],
        world.references["barnet_remote"],
        world.references["kent_remote"],
    ]
    assert [r["method"] for r in rows] == ["reference_subject", "their_reference", "in_reply_to"]


def test_import_mbox_and_maildir(env: dict[str, str], world: World, tmp_path: Path) -> None:
    box = mailbox.mbox(tmp_path / "replies.mbox")
    for name in (
        "03_leicester_remote_ack_plus_address.eml",
        "27_unknown_sender_x_autoreply_unmatched.eml",
    ):
        box.add((EML / name).read_bytes())
    box.close()
    maildir = mailbox.Maildir(tmp_path / "Maildir", create=True)
    maildir.add((EML / "17_kent_contact_clarification_plus_address.eml").read_bytes())
    maildir.add(b"\x00garbage that is not an email\r\n")
    maildir.close()
    result = cli(env, "inbox", "import", "--json", tmp_path / "replies.mbox", tmp_path / "Maildir")
    assert result.code == 0, result.err
    rows = json.loads(result.out)
    assert len(rows) == 4
    by_kind = {r["kind"]: r for r in rows if r["kind"]}
    assert by_kind["acknowledgement"]["request"] == world.references["leicester_remote"]
    assert by_kind["clarification_request"]["request"] == world.references["kent_contact"]
    assert by_kind["auto_reply"]["request"] is None
    (broken,) = [r for r in rows if r["parse_error"]]
    assert broken["duplicate"] is False  # kept and listed, never dropped

    summary = cli(env, "inbox", "import", tmp_path / "Maildir")
    assert "2 already stored" in summary.out


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p / "missing.eml", "no such file or folder"),
        (lambda p: (p / "empty").mkdir() or p / "empty", "no .eml files and not a Maildir"),
        (
            lambda p: (p / "x.pdf").write_bytes(b"%PDF-1.4 binary") and p / "x.pdf",
            "not an email message",
        ),
    ],
)
def test_import_bad_paths(
    env: dict[str, str], world: World, tmp_path: Path, make: object, message: str
) -> None:
    path = make(tmp_path)  # type: ignore[operator]
    good = EML / "01_barnet_remote_ack.eml"
    result = cli(env, "inbox", "import", good, path)
    assert result.code == 2
    assert message in one_error_line(result)
    listed = cli(env, "inbox", "unmatched", "--json")
    assert json.loads(cli(env, "inbox", "import", "--json", good).out)[0]["duplicate"] is False
    assert listed.code == 0  # nothing was imported by the failed command


def test_unmatched_and_assign(env: dict[str, str], world: World, tmp_path: Path) -> None:
    names = [
        "01_barnet_remote_ack.eml",
        "47_their_reference_from_unknown_domain_unmatched.eml",
        "18_sender_domain_two_open_requests_unmatched.eml",
        "10_case_system_domain_alone_unmatched.eml",
    ]
    for name in names:
        assert cli(env, "inbox", "import", EML / name).code == 0
    listed = json.loads(cli(env, "inbox", "unmatched", "--json").out)
    assert [v["subject"] for v in listed] == [
        "Our ref: 6073489",
        "Your request",
        "Your case has been updated",
    ]
    capita, kent, icasework = listed
    assert capita["suggestions"][0]["request"] == world.references["barnet_remote"]
    assert "the authority's reference" in capita["suggestions"][0]["why"][0]
    assert {s["request"] for s in kent["suggestions"]} == {
        world.references["kent_remote"],
        world.references["kent_contact"],
    }
    table = cli(env, "inbox", "unmatched")
    assert table.code == 0 and "3 unmatched" in table.out

    # by number: learns the contractor's domain for Barnet
    done = cli(env, "inbox", "assign", str(capita["id"]), world.references["barnet_remote"].lower())
    assert done.code == 0, done.err
    assert f"filed under {world.references['barnet_remote']}" in done.out
    assert "Learned: mail from capita.co.uk" in done.out
    # by Message-ID: a case system's domain is never learned
    done = cli(
        env,
        "inbox",
        "assign",
        f"<{icasework['message_id']}>",
        world.references["manchester_remote"],
    )
    assert done.code == 0, done.err
    assert "case-management system's domain: not learned" in done.out

    db = Database(f"sqlite:///{tmp_path / 'f.db'}")
    try:
        with db.transaction() as session:
            learned = {
                d.domain
                for d in session.scalars(
                    select(AuthorityDomain).where(AuthorityDomain.source == "learned")
                )
            }
            filed = session.get(Message, capita["id"])
            assert filed is not None and filed.match_method == "manual"
            # filed by hand, it counts for the request like any filed response
            events = session.scalars(select(Event).where(Event.message_id == capita["id"])).all()
            assert [(e.kind, e.request_id) for e in events] == [
                ("response", world.request_ids["barnet_remote"])
            ]
        assert learned == {"capita.co.uk"}
    finally:
        db.dispose()

    # what it learned files the next one from that contractor by itself
    later = (
        (EML / "47_their_reference_from_unknown_domain_unmatched.eml")
        .read_bytes()
        .replace(b"<capita.6073489@capita.co.uk>", b"<capita.later@capita.co.uk>")
    )
    (tmp_path / "later.eml").write_bytes(later)
    rows = json.loads(cli(env, "inbox", "import", "--json", tmp_path / "later.eml").out)
    assert (rows[0]["request"], rows[0]["method"]) == (
        world.references["barnet_remote"],
        "their_reference",
    )
    assert len(json.loads(cli(env, "inbox", "unmatched", "--json").out)) == 1


def test_assign_bad_input(env: dict[str, str], world: World) -> None:
    assert cli(env, "inbox", "import", EML / "39_newsletter_unmatched.eml").code == 0
    ref = world.references["barnet_remote"]
    mistyped = ref[:-1] + ("2" if ref[-1] != "2" else "3")
    for args, message in [
        (("1", mistyped), "is not a valid foibot reference"),
        (("999", ref), "no incoming message '999'"),
        (("<nobody@nowhere>", ref), "no incoming message"),
    ]:
        result = cli(env, "inbox", "assign", *args)
        assert result.code == 2, result.out
        assert message in one_error_line(result)


def test_reassigning_supersedes_the_first_filing(
    env: dict[str, str], world: World, tmp_path: Path
) -> None:
    rows = json.loads(
        cli(env, "inbox", "import", "--json", EML / "14_kent_remote_ack_in_reply_to.eml").out
    )
    (row,) = rows
    assert row["request"] == world.references["kent_remote"]
    moved = cli(env, "inbox", "assign", str(row["id"]), world.references["kent_contact"])
    assert moved.code == 0, moved.err
    assert f"(was {world.references['kent_remote']})" in moved.out
    db = Database(f"sqlite:///{tmp_path / 'f.db'}")
    try:
        with db.transaction() as session:
            events = session.scalars(select(Event).where(Event.message_id == row["id"])).all()
            live = [(e.kind, e.request_id) for e in events if not (e.data or {}).get("superseded")]
            assert live == [("acknowledged", world.request_ids["kent_contact"])]
            assert len(events) == 2
    finally:
        db.dispose()
