"""A bug while filing one message keeps it (with the error) and blocks nothing."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import pytest

from foibot.config import parse_settings
from foibot.domain.message import ParsedMessage
from foibot.services import ingest
from foibot.store.db import Database


def message(n: int) -> bytes:
    msg = EmailMessage()
    msg["From"] = "foi@council.gov.uk"
    msg["To"] = "research@example.org"
    msg["Subject"] = f"Reply {n}"
    msg["Message-ID"] = f"<reply-{n}@council.gov.uk>"
    msg.set_content("Please find the information you requested below.")
    return msg.as_bytes()


def test_a_filing_bug_stores_the_message_with_the_error(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = parse_settings({"storage_dir": str(tmp_path)}, None)
    real_classify = ingest.classify

    def flaky(parsed: ParsedMessage) -> object:
        if parsed.subject == "Reply 1":
            raise KeyError("boom")
        return real_classify(parsed)

    monkeypatch.setattr(ingest, "classify", flaky)
    bad = ingest.ingest_raw(db, settings, message(1), "test")
    assert bad.parse_error == "internal error while filing: KeyError: 'boom'"
    assert bad.stored_id is not None and bad.request is None and not bad.duplicate
    good = ingest.ingest_raw(db, settings, message(2), "test")
    assert good.parse_error is None and good.kind == "response"
    again = ingest.ingest_raw(db, settings, message(1), "test")
    assert again.duplicate and again.stored_id == bad.stored_id
