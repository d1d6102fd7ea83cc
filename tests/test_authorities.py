"""`foibot authorities import/list`, through the real CLI and a real SQLite file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli_runner import run_cli

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "FOIBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'f.db'}",
        "FOIBOT_CONFIG": str(REPO / "config" / "foibot.example.toml"),
    }


def listed(env: dict[str, str]) -> list[dict[str, object]]:
    result = run_cli("authorities", "list", "--json", env=env)
    assert result.code == 0, result.err
    data: list[dict[str, object]] = json.loads(result.out)
    return data


def test_import_example_then_list(env: dict[str, str]) -> None:
    result = run_cli("authorities", "import", REPO / "config/authorities.example.csv", env=env)
    assert result.code == 0, result.err
    assert "8 new" in result.out
    rows = {r["name"]: r for r in listed(env)}
    assert len(rows) == 8
    assert rows["Glasgow City Council"]["regime"] == "foisa"
    assert rows["City of Edinburgh Council"]["regime"] == "foisa"  # default from nation
    assert rows["Belfast City Council"]["regime"] == "foia"
    assert rows["Manchester City Council"]["domains"] == [
        "manchester.gov.uk",
        "manchester.icasework.com",
    ]
    assert rows["London Borough of Barnet"]["gss_code"] == "E09000003"


def test_reimport_is_idempotent_and_updates_by_email(env: dict[str, str], tmp_path: Path) -> None:
    csv = tmp_path / "a.csv"
    csv.write_text("name,email\nBarnet,FOI@barnet.gov.uk\nLeicester,info@leicester.gov.uk\n")
    assert run_cli("authorities", "import", csv, env=env).code == 0
    again = run_cli("authorities", "import", csv, env=env)
    assert "0 new, 0 updated, 2 unchanged" in again.out
    csv.write_text(
        "name,email,nation,domains\n"
        "London Borough of Barnet,foi@barnet.gov.uk,England,barnet.icasework.com\n"
    )
    changed = run_cli("authorities", "import", csv, env=env)
    assert "0 new, 1 updated" in changed.out
    rows = {r["email"]: r for r in listed(env)}
    assert rows["foi@barnet.gov.uk"]["name"] == "London Borough of Barnet"
    assert rows["foi@barnet.gov.uk"]["domains"] == ["barnet.gov.uk", "barnet.icasework.com"]
    assert len(rows) == 2  # Leicester is kept: import never deletes


def test_bad_rows_are_all_reported_and_nothing_is_imported(
    env: dict[str, str], tmp_path: Path
) -> None:
    csv = tmp_path / "bad.csv"
    csv.write_text(
        "name,email,nation,regime\n"
        "Good Council,foi@good.gov.uk,England,\n"
        ",foi@noname.gov.uk,,\n"
        "Bad Email,not-an-email,,\n"
        "Atlantis,foi@atlantis.gov.uk,Atlantis,\n"
        "Mismatch,foi@mismatch.gov.uk,England,foisa\n"
        "Good Council,foi@other.gov.uk,,\n"
    )
    result = run_cli("authorities", "import", csv, env=env)
    assert result.code == 2
    errors = [line for line in result.err.splitlines() if line.startswith("foibot: error:")]
    assert len(errors) == 1
    err = errors[0]
    for fragment in (
        "line 3: name is empty",
        "line 4: email 'not-an-email'",
        "line 5: unknown nation 'Atlantis'",
        "line 6: regime foisa does not fit",
        "line 7: name repeats line 2",
        "nothing imported",
    ):
        assert fragment in err
    assert "Traceback" not in result.err
    assert listed(env) == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("email\nfoi@x.gov.uk\n", "missing column(s) name"),
        ("name,email,colour\nX,foi@x.gov.uk,red\n", "unknown column(s) colour"),
        ("name,email\n", "no authorities in the file"),
    ],
)
def test_bad_files(env: dict[str, str], tmp_path: Path, content: str, message: str) -> None:
    csv = tmp_path / "f.csv"
    csv.write_text(content)
    result = run_cli("authorities", "import", csv, env=env)
    assert result.code == 2 and message in result.err


def test_missing_file(env: dict[str, str], tmp_path: Path) -> None:
    result = run_cli("authorities", "import", tmp_path / "nope.csv", env=env)
    assert result.code == 2 and "file not found" in result.err
