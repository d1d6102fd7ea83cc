"""Review drafts for the five real council responses, kept as golden files.

Each response is ingested as a reply to our request, then a review is drafted with the
ground foibot picks. The drafts were read by a person when the golden files were made;
a change in wording shows up here as a diff. Regenerate with FOIBOT_UPDATE_GOLDEN=1.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, time
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from pathlib import Path

import pytest

from foibot.config import Settings, parse_settings
from foibot.domain.references import check_character
from foibot.services import review as review_service
from foibot.services.ingest import ingest_raw
from foibot.store.db import Database
from tests import factories as f

HERE = Path(__file__).resolve().parent
FIXTURES = HERE.parent / "fixtures" / "council-responses"
GOLDEN = HERE.parent / "fixtures" / "reviews"

# file, authority, email, received, responded, subject of our request, expected ground
CASES = [
    (
        "000_ce2ee234e5fe9bb0",
        "London Borough of Barnet",
        "foi@barnet.gov.uk",
        date(2020, 2, 11),
        date(2020, 2, 24),
        "Supported housing and homelessness",
        "partial",
    ),
    (
        "001_c0f5b67165051b81",
        "Leicester City Council",
        "info.requests@leicester.gov.uk",
        date(2021, 3, 1),
        date(2021, 3, 24),
        "Council services",
        "partial",
    ),
    (
        "002_a2cc6b6967004a4d",
        "London Borough of Barnet",
        "foi@barnet.gov.uk",
        date(2020, 4, 7),
        date(2020, 4, 9),
        "Remote working devices",
        "other",
    ),
    (
        "003_e13dea2362cefe15",
        "London Borough of Barnet",
        "foi@barnet.gov.uk",
        date(2020, 5, 15),
        date(2020, 5, 18),
        "Staff working from home",
        "other",
    ),
    (
        "004_dd5eb0f84851cdc0",
        "London Borough of Barnet",
        "foi@barnet.gov.uk",
        date(2022, 5, 10),
        date(2022, 6, 6),
        "Research survey of local authorities",
        "other",
    ),
]


def _reference(n: int) -> str:
    body = f"GQDEN{n}"  # fixed, valid references for stable files
    return f"FB-{body}{check_character(body)}"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return parse_settings(
        {
            "sender": {"name": "A. Researcher", "address": "research@example.org"},
            "storage_dir": str(tmp_path / "data"),
        },
        None,
    )


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_review_draft_matches_golden_file(
    case: tuple[str, str, str, date, date, str, str], db: Database, settings: Settings
) -> None:
    name, authority, email, received, responded, subject, ground = case
    n = CASES.index(case) + 2
    with db.transaction() as s:
        camp = f.campaign(s, f"golden-{n}", title=subject)
        auth = f.authority(s, authority, email)
        req = f.request(
            s,
            camp,
            auth,
            sent_on=received,
            reference=_reference(n),
            subject=f"Freedom of Information request: {subject} [{_reference(n)}]",
        )
        our_id = req.messages[0].message_id
    msg = EmailMessage(policy=SMTP)
    msg["From"] = email
    msg["To"] = "research@example.org"
    msg["Subject"] = f"RE: Freedom of Information request: {subject} [{_reference(n)}]"
    msg["Date"] = format_datetime(datetime.combine(responded, time(12, 0), tzinfo=UTC))
    msg["Message-ID"] = f"<{name}@{email.rpartition('@')[2]}>"
    msg["In-Reply-To"] = f"<{our_id}>"
    msg.set_content((FIXTURES / f"{name}.txt").read_text(encoding="utf-8"))
    outcome = ingest_raw(db, settings, msg.as_bytes(), "golden")
    assert outcome.request == _reference(n) and outcome.kind == "response"

    draft = review_service.draft_review(db, settings, _reference(n), today=responded)
    assert draft.ground.value == ground
    text = f"To: {draft.to_addr}\nSubject: {draft.mail.subject}\n\n{draft.mail.body}"
    golden = GOLDEN / f"{name}.{ground}.txt"
    if os.environ.get("FOIBOT_UPDATE_GOLDEN") == "1":
        golden.write_text(text, encoding="utf-8")
    assert golden.exists(), f"no golden file {golden.name}: run with FOIBOT_UPDATE_GOLDEN=1"
    assert text == golden.read_text(encoding="utf-8")
