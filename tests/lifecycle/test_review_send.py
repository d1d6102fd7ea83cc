"""`review draft --save` and `review send`, through the real CLI and a real SMTP server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from foibot.store.db import Database, utcnow
from foibot.store.migrate import upgrade
from foibot.timezone import local_date
from tests import factories as f
from tests.cli_runner import run_cli
from tests.servers.smtp import SmtpServer, smtp_server


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def setup(tmp_path: Path, smtp: SmtpServer) -> tuple[dict[str, str], str]:
    db_url = f"sqlite:///{tmp_path / 'f.db'}"
    config = tmp_path / "foibot.toml"
    config.write_text(
        f'database_url = "{db_url}"\nstorage_dir = "{tmp_path / "data"}"\n'
        '[sender]\nname = "A. Researcher"\naddress = "research@example.org"\n'
        + smtp.config()
        + "[sending]\nrate_per_minute = 0\n"
    )
    db = Database(db_url)
    upgrade(db)
    today = local_date(utcnow())
    with db.transaction() as s:
        camp = f.campaign(s, "parking", title="Parking income 2023/24")
        auth = f.authority(s, "Manchester City Council", "foi@manchester.gov.uk")
        req = f.request(s, camp, auth, sent_on=today - timedelta(days=30))
        f.event(
            s,
            req,
            "response",
            today - timedelta(days=2),
            outcome="refused",
            sections=["s12", "s40(2)"],
        )
        f.incoming(
            s,
            req,
            kind="response",
            on=today - timedelta(days=2),
            outcome="refused",
            subject="FOI 15631",
            from_addr="foi@manchester.gov.uk",
            classification={
                "review_address": "foi.reviews@manchester.gov.uk",
                "sections": ["s12", "s40(2)"],
            },
        )
        reference = req.reference
    db.dispose()
    return {"FOIBOT_CONFIG": str(config)}, reference


def test_draft_save_writes_an_eml(setup: tuple[dict[str, str], str], tmp_path: Path) -> None:
    env, ref = setup
    out = tmp_path / "drafts"
    result = run_cli("review", "draft", ref, "--save", "--out", out, env=env)
    assert result.code == 0, result.err
    saved = out / f"review-{ref}.eml"
    text = saved.read_text()
    assert "To: Manchester City Council <foi.reviews@manchester.gov.uk>" in text
    assert "s40(2) (personal information)" in " ".join(result.out.split())


def test_send_goes_once_and_starts_the_review_clock(
    setup: tuple[dict[str, str], str], smtp: SmtpServer
) -> None:
    env, ref = setup
    result = run_cli("review", "send", ref, "--yes", env=env)
    assert result.code == 0, result.err
    (received,) = smtp.messages
    assert received.rcpt_tos == ("foi.reviews@manchester.gov.uk",)
    assert received.message["Subject"].startswith("Internal review request")
    assert "s12 (cost of compliance" in " ".join(received.body.split())
    shown = json.loads(run_cli("requests", "show", ref, "--json", env=env).out)
    assert shown["status"] == "review_requested"
    assert shown["review_requested"] == local_date(utcnow()).isoformat()
    assert shown["review_response_due"] > shown["review_requested"]
    again = run_cli("review", "send", ref, "--yes", env=env)
    assert again.code == 2 and "already requested" in again.err
    assert len(smtp.messages) == 1


def test_send_without_yes_off_a_terminal_refuses(setup: tuple[dict[str, str], str]) -> None:
    env, ref = setup
    result = run_cli("review", "send", ref, env=env)
    assert result.code == 2 and "--yes" in result.err


def test_unknown_reference_is_one_line(setup: tuple[dict[str, str], str]) -> None:
    env, _ = setup
    result = run_cli("review", "draft", "FB-7K3M9Q5", env=env)
    assert result.code == 2
    assert result.err.strip() == "foibot: error: no request with reference FB-7K3M9Q5"
    bad = run_cli("review", "draft", "nonsense", env=env)
    assert bad.code == 2 and "is not a foibot reference" in bad.err
