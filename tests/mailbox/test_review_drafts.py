"""`review draft --save` with [imap] configured: the draft lands in the Drafts folder of
a real Dovecot, flagged \\Draft, for the user to edit in their mail client."""

from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes
from email.policy import default
from pathlib import Path

from foibot.store.db import Database, utcnow
from foibot.store.migrate import upgrade
from foibot.timezone import local_date
from tests import factories as f
from tests.cli_runner import run_cli
from tests.servers.dovecot import DovecotServer


def test_draft_saved_in_the_imap_drafts_folder(
    dovecot: DovecotServer, password_file: Path, tmp_path: Path
) -> None:
    user = dovecot.new_user()
    db_url = f"sqlite:///{tmp_path / 'f.db'}"
    config = tmp_path / "foibot.toml"
    config.write_text(
        f'database_url = "{db_url}"\n'
        '[sender]\nname = "A. Researcher"\naddress = "research@example.org"\n'
        f'[imap]\nhost = "127.0.0.1"\nport = {dovecot.port}\nsecurity = "none"\n'
        f'username = "{user}"\npassword_file = "{password_file}"\n'
        'drafts_folder = "Drafts"\n'
    )
    db = Database(db_url)
    upgrade(db)
    today = local_date(utcnow())
    with db.transaction() as s:
        camp = f.campaign(s, "c", title="Council housing repairs")
        auth = f.authority(s, "Kent County Council", "foi@kent.gov.uk")
        reference = f.request(s, camp, auth, sent_on=today - timedelta(days=60)).reference
    db.dispose()

    result = run_cli("review", "draft", reference, "--save", env={"FOIBOT_CONFIG": str(config)})
    assert result.code == 0, result.err
    assert "IMAP folder 'Drafts'" in result.out

    client = dovecot.client(user)
    try:
        client.select_folder("Drafts", readonly=True)
        uids = client.search(["ALL"])
        assert len(uids) == 1
        fetched = client.fetch(uids, ["FLAGS", "BODY.PEEK[]"])[uids[0]]
    finally:
        client.logout()
    assert b"\\Draft" in fetched[b"FLAGS"]
    msg = message_from_bytes(fetched[b"BODY[]"], policy=default)
    assert msg["To"] == "Kent County Council <foi@kent.gov.uk>"
    assert msg["Subject"] == f"Internal review request — our ref {reference}"
    body = " ".join(msg.get_content().split())
    assert "Council housing repairs" in body and "working days late" in body
