"""The `foibot campaign` commands through the real CLI: create, preview, list, status,
send options, and every bad input as one clear line with a non-zero exit."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from foibot.domain.references import find_references
from tests.campaign.conftest import Setup
from tests.campaign.factories import write_campaign
from tests.cli_runner import Result
from tests.servers import free_port

REPO = Path(__file__).resolve().parents[2]


def one_error_line(result: Result, code: int) -> str:
    """The command failed with ``code`` and said so in exactly one line, no traceback."""
    assert result.code == code, (result.out, result.err)
    lines = [line for line in result.err.splitlines() if line.strip()]
    lines = [line for line in lines if not line.startswith("foibot: creating the database")]
    assert len(lines) == 1, result.err
    assert lines[0].startswith("foibot: error: ")
    assert "Traceback" not in result.err + result.out
    return lines[0]


def test_create_preview_list_status(setup: Setup) -> None:
    result = setup.create()
    assert "Created campaign 'parking-2024': 12 requests queued (FOIA 9, FOISA 3)." in result.out
    preview = setup.cli(
        "campaign", "preview", "parking-2024", "--authority", "glasgow city council"
    )
    assert preview.code == 0, preview.err
    text = preview.out
    assert (
        text.startswith("----- FB-")
        and "to Glasgow City Council <foi@glasgow-city.gov.uk> [queued]" in text
    )
    assert "To: Glasgow City Council <foi@glasgow-city.gov.uk>" in text
    assert "Message-ID: <" in text and "Date: " in text
    assert "under the Freedom of Information (Scotland) Act 2002." in " ".join(text.split())
    references = find_references(text)
    assert len(references) == 1
    # all of them, in order, each with its own reference
    everything = setup.cli("campaign", "preview", "parking-2024")
    assert everything.out.count("----- FB-") == 12
    assert len(find_references(everything.out)) == 12
    # a unique part of a name is enough; an ambiguous one is refused
    assert setup.cli("campaign", "preview", "parking-2024", "-a", "Cardiff").code == 0
    assert "fits several authorities" in one_error_line(
        setup.cli("campaign", "preview", "parking-2024", "-a", "City"), 2
    )
    listed = setup.cli("campaign", "list", "--json")
    assert json.loads(listed.out) == [
        {
            "name": "parking-2024",
            "title": "Parking income 2023/24",
            "created_at": json.loads(listed.out)[0]["created_at"],
            "environmental": False,
            "requests": 12,
            "counts": {"queued": 12, "awaiting_response": 0, "delivery_failed": 0, "uncertain": 0},
        }
    ]
    status = json.loads(setup.cli("campaign", "status", "parking-2024", "--json").out)
    assert status["campaign"] == "parking-2024"
    assert status["counts"]["queued"] == 12
    first = status["requests"][0]
    assert {"reference", "authority", "authority_email", "status", "message_id"} <= set(first)
    assert first["message_id"] is None  # not sent yet
    assert {r["reference"] for r in status["requests"]} == set(find_references(everything.out))
    table = setup.cli("campaign", "status", "parking-2024")
    assert table.code == 0 and "queued 12, awaiting response 0" in table.out


def test_eir_campaign_to_filtered_authorities(setup: Setup) -> None:
    result = setup.create(
        regime="eir", authorities={"nation": ["Scotland", "Wales"]}, title="Air quality"
    )
    assert "(EIR 3, EISR 3)" in result.out
    wales = setup.cli("campaign", "preview", "parking-2024", "-a", "Cardiff City Council").out
    assert "Subject: Environmental information request: Air quality [FB-" in wales
    assert "under the Environmental Information Regulations 2004." in " ".join(wales.split())
    scots = setup.cli("campaign", "preview", "parking-2024", "-a", "Glasgow City Council").out
    assert "Environmental Information (Scotland) Regulations 2004" in " ".join(scots.split())


def test_own_template_and_subject_with_vars(setup: Setup) -> None:
    (setup.tmp / "letters").mkdir()
    (setup.tmp / "letters" / "short.txt.j2").write_text(
        "To the FOI officer of {{ authority.name }} ({{ authority.nation }}),\n\n"
        "Under the {{ law }}, please send me {{ vars.what }}.\n\n{{ sender.name }}\n",
        encoding="utf-8",
    )
    setup.create(
        body=None,
        template="letters/short.txt.j2",
        subject="Request about {{ vars.what }}",
        vars={"what": "your pothole repair figures for 2023 (£ spent)"},
    )
    out = setup.cli(
        "campaign", "preview", "parking-2024", "-a", "Belfast City Council", "--decoded"
    ).out
    # the template left the reference out: foibot adds it to subject and body
    assert "Subject: [FB-" in out and "] Request about your pothole repair figures" in out
    assert "To the FOI officer of Belfast City Council (Northern Ireland)," in out
    assert "Under the Freedom of Information Act 2000, please send me your pothole" in out
    assert "(£ spent)" in out  # decoded from quoted-printable
    assert "Our reference: FB-" in out
    raw = setup.cli("campaign", "preview", "parking-2024", "-a", "Belfast City Council").out
    assert "Content-Transfer-Encoding: quoted-printable" in raw and "=C2=A3" in raw


def test_create_dry_run_stores_nothing(setup: Setup) -> None:
    result = setup.cli("campaign", "create", setup.campaign(), "--dry-run")
    assert result.code == 0, result.err
    assert (
        "would queue 12 requests" in result.out and "Subject: Freedom of Information" in result.out
    )
    assert json.loads(setup.cli("campaign", "list", "--json").out) == []


def test_send_dry_run_and_limit(setup: Setup) -> None:
    setup.create()
    dry = setup.cli("campaign", "send", "parking-2024", "--dry-run", "--limit", "3")
    assert dry.code == 0, dry.err
    assert "12 ready" in dry.out and "Nothing sent" in dry.out
    assert len([line for line in dry.out.splitlines() if line.startswith("  FB-")]) == 3
    assert setup.server.messages == []
    limited = setup.cli("campaign", "send", "parking-2024", "--limit", "5", "--yes")
    assert limited.code == 0, limited.err
    assert "sent 5, failed 0, uncertain 0, skipped 0 (already sent), remaining 7" in limited.out
    assert "Stopped after --limit 5." in limited.out
    assert len([line for line in limited.out.splitlines() if line.startswith("sent FB-")]) == 5
    rest = setup.cli("campaign", "send", "parking-2024", "--yes")
    assert "sent 7, failed 0, uncertain 0, skipped 5 (already sent), remaining 0" in rest.out
    assert len(setup.server.messages) == 12


def test_send_outside_the_window_says_when_it_opens_and_sends_nothing(setup: Setup) -> None:
    today = datetime.now(ZoneInfo("Europe/London")).weekday()
    other_day = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][(today + 3) % 7]
    setup.configure(window=f"{other_day} 09:00-17:00 Europe/London")
    setup.create()
    result = setup.cli("campaign", "send", "parking-2024", "--yes")
    assert result.code == 0, result.err
    assert "Outside the sending window ([sending] window): it opens" in result.out
    assert f"{other_day} " in result.out and "09:00" in result.out
    assert setup.server.messages == []
    anyway = setup.cli(
        "campaign", "send", "parking-2024", "--yes", "--ignore-window", "--limit", "1"
    )
    assert anyway.code == 0 and len(setup.server.messages) == 1


def test_send_without_a_terminal_needs_yes(setup: Setup) -> None:
    setup.create()
    line = one_error_line(setup.cli("campaign", "send", "parking-2024"), 2)
    assert line == "foibot: error: refusing to send without confirmation: not a terminal; add --yes"
    assert setup.server.messages == []


# --- bad inputs: one line, non-zero exit ---------------------------------------------


def test_missing_template(setup: Setup) -> None:
    path = setup.campaign(body=None, template="letters/missing.txt.j2")
    line = one_error_line(setup.cli("campaign", "create", path), 2)
    assert line == (
        f"foibot: error: {path}: template 'letters/missing.txt.j2' not found "
        f"(looked for {setup.tmp / 'letters' / 'missing.txt.j2'})"
    )


def test_undefined_variable_names_the_template_line(setup: Setup) -> None:
    path = setup.campaign(body="1. Income in {{ vars.year }}.\n2. Spend in {{ vars.yaer }}.\n")
    line = one_error_line(setup.cli("campaign", "create", path), 2)
    assert line.startswith(
        f"foibot: error: {path}: template campaign.toml body, line 2: undefined variable:"
    )
    assert "yaer" in line
    assert json.loads(setup.cli("campaign", "list", "--json").out) == []  # nothing stored


def test_template_syntax_error(setup: Setup) -> None:
    path = setup.campaign(subject="FOI {% if %} [{{ reference }}]")
    line = one_error_line(setup.cli("campaign", "create", path), 2)
    assert line.startswith("foibot: error: template campaign.toml subject, line 1: syntax error:")


def test_unknown_authority_name(setup: Setup) -> None:
    path = setup.campaign(
        authorities=["Glasgow City Council", "Glasgo City Council", "Atlantis Harbour Board"]
    )
    line = one_error_line(setup.cli("campaign", "create", path), 2)
    assert line == (
        f"foibot: error: {path}: authorities: unknown authority 'Glasgo City Council' "
        "(did you mean 'Glasgow City Council'?); unknown authority 'Atlantis Harbour Board'"
    )


def test_campaign_name_reused(setup: Setup) -> None:
    setup.create()
    path = setup.campaign(title="Another")
    line = one_error_line(setup.cli("campaign", "create", path), 2)
    assert "campaign name 'parking-2024' is already used" in line
    assert "12 requests); choose another name" in line


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('name = "x"\ntitle = ', "not valid TOML"),
        (
            'name = "x"\ntitle = "t"\nbody = "b"\nauthorities = "all"\nsubjet = "s"\n',
            "unknown key 'subjet'",
        ),
    ],
)
def test_bad_campaign_files(setup: Setup, content: str, expected: str) -> None:
    path = setup.tmp / "bad.toml"
    path.write_text(content, encoding="utf-8")
    assert expected in one_error_line(setup.cli("campaign", "create", path), 2)
    missing = setup.tmp / "nope.toml"
    assert one_error_line(setup.cli("campaign", "create", missing), 2) == (
        f"foibot: error: {missing}: campaign file not found"
    )


def test_unknown_campaign(setup: Setup) -> None:
    setup.create()
    line = one_error_line(setup.cli("campaign", "send", "parking-2023", "--yes"), 2)
    assert line == "foibot: error: no campaign named 'parking-2023' (did you mean 'parking-2024'?)"


def test_smtp_host_unreachable(setup: Setup) -> None:
    setup.create()
    setup.configure(smtp={"port": free_port()})
    line = one_error_line(setup.cli("campaign", "send", "parking-2024", "--yes"), 1)
    assert line.startswith("foibot: error: SMTP server 127.0.0.1:") and "is unreachable" in line
    status = json.loads(setup.cli("campaign", "status", "parking-2024", "--json").out)
    assert status["counts"]["queued"] == 12  # nothing lost, nothing marked


def test_smtp_unknown_host(setup: Setup) -> None:
    setup.create()
    setup.configure(smtp={"host": "smtp.invalid"})
    line = one_error_line(setup.cli("campaign", "send", "parking-2024", "--yes"), 1)
    assert "SMTP server smtp.invalid:" in line and "unreachable" in line


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_smtp_authentication_failure(tmp_path: Path) -> None:
    from tests.campaign.conftest import make_setup
    from tests.servers.smtp import smtp_server

    with smtp_server(users={"research@example.org": "s3cret"}) as server:
        setup = make_setup(tmp_path, server, 3, f"sqlite:///{tmp_path / 'f.db'}")
        setup.create()
        secret = tmp_path / "smtp-password"
        secret.write_text("not-the-password\n")
        setup.configure(smtp={"username": "research@example.org", "password_file": str(secret)})
        line = one_error_line(setup.cli("campaign", "send", "parking-2024", "--yes"), 1)
        assert (
            line.startswith("foibot: error: SMTP server 127.0.0.1:")
            and "refused the login for 'research@example.org': 535" in line
        )
        assert "not-the-password" not in line
        secret.write_text("s3cret\n")
        ok = setup.cli("campaign", "send", "parking-2024", "--yes")
        assert ok.code == 0, ok.err
        assert len(server.messages) == 3


def test_example_campaign_file_works_with_example_authorities(tmp_path: Path) -> None:
    from tests.cli_runner import run_cli

    env = {
        "FOIBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'f.db'}",
        "FOIBOT_CONFIG": str(REPO / "config" / "foibot.example.toml"),
    }
    assert (
        run_cli("authorities", "import", REPO / "config/authorities.example.csv", env=env).code == 0
    )
    result = run_cli("campaign", "create", REPO / "config/campaign.example.toml", env=env)
    assert result.code == 0, result.err
    assert "8 requests queued (FOIA 6, FOISA 2)" in result.out
    out = run_cli("campaign", "preview", "parking-income-2023-24", "-a", "Barnet", env=env).out
    assert "1 April 2023 to 31 March\n2024" in out
    assert "income London Borough of Barnet received" in out


def test_write_campaign_helper_round_trips(tmp_path: Path) -> None:
    """The test helper writes what it is given (guards the other tests' inputs)."""
    import tomllib

    path = write_campaign(tmp_path / "c.toml", authorities={"nation": ["Wales"]}, regime="eir")
    data = tomllib.loads(path.read_text())
    assert data["authorities"] == {"nation": ["Wales"]} and data["regime"] == "eir"
    assert data["vars"] == {"year": "2023/24"}


def test_missing_smtp_section(setup: Setup) -> None:
    setup.create()
    text = setup.config.read_text()
    smtp_block = text[text.index("[smtp]") : text.index("[sending]")]
    setup.config.write_text(text.replace(smtp_block, ""))
    line = one_error_line(setup.cli("campaign", "send", "parking-2024", "--yes"), 2)
    assert line == f"foibot: error: {setup.config}: [smtp] section is missing"
    status = json.loads(setup.cli("campaign", "status", "parking-2024", "--json").out)
    assert status["counts"]["queued"] == 12


def test_resolve_needs_an_uncertain_request_and_a_verdict(setup: Setup) -> None:
    setup.create()
    status = json.loads(setup.cli("campaign", "status", "parking-2024", "--json").out)
    ref = status["requests"][0]["reference"]
    assert "is not uncertain (it is queued)" in one_error_line(
        setup.cli("campaign", "resolve", "parking-2024", ref, "--delivered"), 2
    )
    assert "--delivered or --resend" in one_error_line(
        setup.cli("campaign", "resolve", "parking-2024", ref), 2
    )
    assert "is not a foibot reference" in one_error_line(
        setup.cli("campaign", "resolve", "parking-2024", "FB-123", "--resend"), 2
    )
