"""The weekly digest over a realistic campaign: sections, escaping, and how it looks."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest

from foibot.config import load_settings
from foibot.services import digest
from foibot.store.db import Database
from tests import factories as f
from tests.servers import require

REPO = Path(__file__).resolve().parents[2]
TODAY = date(2026, 11, 23)  # a Monday
ARTIFACTS = Path(os.environ.get("FOIBOT_ARTIFACTS", REPO / "artifacts"))


@pytest.fixture
def campaign_db(db: Database) -> Database:
    with db.transaction() as s:
        c = f.campaign(s, "ev-chargers", "Electric vehicle chargers")
        barnet = f.authority(s, "London Borough of Barnet", "foi@barnet.gov.uk")
        leicester = f.authority(s, "Leicester City Council", "info.requests@leicester.gov.uk")
        brighton = f.authority(s, "Brighton & Hove City Council", "foi@brighton-hove.gov.uk")
        edinburgh = f.authority(s, "City of Edinburgh Council", "foi@edinburgh.gov.uk", "Scotland")
        glasgow = f.authority(s, "Glasgow City Council", "foi@glasgow.gov.uk", "Scotland")
        belfast = f.authority(
            s, "Belfast City Council", "foi@belfastcity.gov.uk", "Northern Ireland"
        )
        r = f.request(s, c, barnet, sent_on=date(2026, 10, 1))
        f.event(s, r, "response", date(2026, 11, 18), outcome="refused", sections=["s12"])
        f.incoming(
            s,
            r,
            kind="response",
            on=date(2026, 11, 18),
            outcome="refused",
            subject="FOI 6073489 - <b>EV chargers</b>",
            from_addr="foi@barnet.gov.uk",
            classification={"outcome_evidence": ["exceed the appropriate limit"]},
        )
        r = f.request(s, c, leicester, sent_on=date(2026, 10, 1))  # due 29 Oct: overdue
        f.event(s, r, "acknowledged", date(2026, 10, 2))
        f.request(s, c, brighton, sent_on=date(2026, 10, 28))  # due 25 Nov: due soon
        r = f.request(s, c, edinburgh, sent_on=date(2026, 9, 1))
        f.event(s, r, "response", date(2026, 9, 29), outcome="not_held")  # review by 24 Nov
        r = f.request(s, c, glasgow, sent_on=date(2026, 9, 1))
        f.event(s, r, "response", date(2026, 9, 20), outcome="refused", sections=["s38"])
        f.event(s, r, "review_requested", date(2026, 11, 2))  # answer due 1 Dec
        r = f.request(s, c, belfast, sent_on=date(2026, 10, 1))
        f.event(s, r, "delivery_failed", date(2026, 10, 1))
        failed = r.messages[0]
        failed.send_state, failed.last_error = "delivery_failed", "550 5.1.1 user unknown"
        f.incoming(
            s,
            None,
            kind="other",
            on=date(2026, 11, 20),
            subject="Re: <script>alert('x')</script> your request",
            from_addr="officer@somewhere.gov.uk",
        )
    return db


def rendered(db: Database) -> digest.RenderedDigest:
    settings = load_settings(REPO / "config" / "foibot.example.toml")
    return digest.render(digest.collect(db, today=TODAY, since=date(2026, 11, 16)), settings)


def test_sections_list_the_right_requests(campaign_db: Database) -> None:
    d = rendered(campaign_db).digest
    (c,) = d.campaigns
    assert c.total == 6
    assert [r.authority for r in c.new_responses] == ["London Borough of Barnet"]
    assert [(r.authority, r.days_late) for r in c.overdue] == [("Leicester City Council", 17)]
    assert [r.authority for r in c.due_soon] == ["Brighton & Hove City Council"]
    assert [(r.authority, r.state.review_request_deadline) for r in c.review_closing] == [
        ("City of Edinburgh Council", date(2026, 11, 24))
    ]
    assert [(r.authority, r.state.review_response_due) for r in c.reviews_waiting] == [
        ("Glasgow City Council", date(2026, 12, 1))
    ]
    assert [(r.authority, r.failure) for r in c.delivery_failures] == [
        ("Belfast City Council", "550 5.1.1 user unknown")
    ]
    assert {b.label: b.count for b in c.statuses} == {
        "awaiting_response": 2,
        "delivery_failed": 1,
        "responded": 2,
        "review_requested": 1,
    }
    assert [u.subject for u in d.unmatched] == ["Re: <script>alert('x')</script> your request"]


def test_text_part_reads_on_its_own(campaign_db: Database) -> None:
    text = rendered(campaign_db).text
    assert "== Electric vehicle chargers (ev-chargers): 6 requests ==" in text
    assert "Leicester City Council [" in text and "17 working days late" in text
    assert "refused (s12)" in text
    assert "ask for a review by Tue 24 Nov 2026" in text
    assert "Unmatched messages waiting for you (1)" in text


def test_html_escapes_email_content(campaign_db: Database) -> None:
    out = rendered(campaign_db)
    assert "<script>" not in out.html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in out.html
    assert "Brighton &amp; Hove City Council" in out.html
    assert "<b>EV chargers</b>" not in out.html
    assert "src=" not in out.html and "http" not in out.html.replace("https://", "")
    assert out.subject == "foibot digest Mon 23 Nov 2026: 1 new response, 1 overdue"


def test_digest_html_renders_in_chromium(campaign_db: Database, tmp_path: Path) -> None:
    """Screenshots the HTML in headless Chromium into artifacts/ for a person to look at."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    require(chromium is not None, "Chromium is not installed (Debian package `chromium`)")
    assert chromium is not None
    html = tmp_path / "digest.html"
    html.write_text(rendered(campaign_db).html)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "digest.png"
    shot.unlink(missing_ok=True)
    subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--hide-scrollbars",
            f"--screenshot={shot}",
            "--window-size=700,1500",
            html.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
