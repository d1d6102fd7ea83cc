"""`foibot campaign questions|export` and `foibot calendar` through the real CLI entry
point and a real SQLite file; bad input gives one line and a non-zero exit."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from icalendar import Calendar

from foibot.store import migrate
from foibot.store.db import Database
from tests.cli_runner import Result, run_cli
from tests.results import factories as f
from tests.results.cases import AUTHORITY, DATES, EXPECTED, REQUEST, THEIR_REF, response_text


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A config and database with campaign "remote-workers" (the 000 letter): Barnet
    answered, Leicester not yet."""
    url = f"sqlite:///{tmp_path / 'f.db'}"
    config = tmp_path / "foibot.toml"
    config.write_text(f'database_url = "{url}"\nstorage_dir = "{tmp_path / "data"}"\n')
    db = Database(url)
    migrate.upgrade(db)
    sent, answered = (date.fromisoformat(d) for d in DATES["000"])
    with db.transaction() as s:
        camp = f.campaign(s, "remote-workers", REQUEST["000"])
        barnet = f.authority(s, *AUTHORITY["000"])
        req = f.request(s, camp, barnet, sent=sent)
        f.response(s, req, response_text("000"), day=answered, their_ref=THEIR_REF["000"])
        f.request(s, camp, f.authority(s, *AUTHORITY["001"]), sent=date.today())
    db.dispose()
    return {"FOIBOT_CONFIG": str(config), "FOIBOT_DATABASE_URL": url}


def one_error_line(result: Result, code: int = 2) -> str:
    assert result.code == code, (result.out, result.err)
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert "Traceback" not in result.err
    return lines[0]


def test_questions_print_edit_and_reset(env: dict[str, str], tmp_path: Path) -> None:
    shown = run_cli("campaign", "questions", "remote-workers", env=env)
    assert shown.code == 0, shown.err
    assert "7 questions, extracted from the request text" in shown.out
    assert "[1c] Do you provide these employees" in shown.out
    assert "  - Basic mobile phone" in shown.out

    edited = tmp_path / "q.txt"
    edited.write_text(
        shown.out.replace("[1a]", "[staff]").split("[1b]")[0]
        + "[devices] Do you provide these employees with any of the below devices so that "
        "they can perform their jobs outside of the office (indicate all that are "
        "applicable)?\n"
    )
    saved = run_cli("campaign", "questions", "remote-workers", "--edit", edited, env=env)
    assert saved.code == 0, saved.err
    assert "Saved 2 questions" in saved.err
    listed = json.loads(run_cli("campaign", "questions", "remote-workers", "--json", env=env).out)
    assert listed["edited"] is True
    assert [q["key"] for q in listed["questions"]] == ["staff", "devices"]

    grid = run_cli("campaign", "export", "remote-workers", "--format", "json", env=env)
    assert grid.code == 0, grid.err
    (barnet,) = [r for r in json.loads(grid.out)["rows"] if r["authority"].endswith("Barnet")]
    assert barnet["answers"]["staff"]["value"] == "591"
    assert barnet["answers"]["devices"]["text"] == "Yes, staff have access to all options above."

    reset = run_cli("campaign", "questions", "remote-workers", "--reset", env=env)
    assert reset.code == 0 and "(7 found)" in reset.err


def test_export_csv_to_stdout_and_xlsx_with_messages(env: dict[str, str], tmp_path: Path) -> None:
    result = run_cli("campaign", "export", "remote-workers", "-f", "csv", env=env)
    assert result.code == 0, result.err
    rows = list(csv.DictReader(io.StringIO(result.out)))
    assert [r["authority"] for r in rows] == ["Leicester City Council", "London Borough of Barnet"]
    assert rows[1]["Q1e value"] == "not held"
    assert "2 requests x 7 questions: 1 with a response, 7 of their 7 answers aligned" in result.err

    out = tmp_path / "grid.xlsx"
    result = run_cli(
        "campaign", "export", "remote-workers", "--format", "XLSX", "--out", out, "--messages",
        env=env,
    )  # fmt: skip
    assert result.code == 0, result.err
    sheet = openpyxl.load_workbook(out)["Answers"]
    assert sheet.freeze_panes == "B2"
    assert [c.value for c in sheet["A"]][1:] == [
        "Leicester City Council",
        "London Borough of Barnet",
    ]
    with zipfile.ZipFile(tmp_path / "grid-messages.zip") as archive:
        folders = {n.split("/")[0] for n in archive.namelist() if "/" in n}
    assert folders == {"Leicester-City-Council", "London-Borough-of-Barnet"}
    assert f"to {tmp_path / 'grid-messages.zip'}" in result.out


def test_calendar_command(env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "deadlines.ics"
    result = run_cli("calendar", "--campaign", "remote-workers", "--out", out, env=env)
    assert result.code == 0, result.err
    uids = sorted(str(e["UID"]) for e in Calendar.from_ical(out.read_bytes()).walk("VEVENT"))
    assert len(uids) == 2 and all(u.endswith("-response-due@foibot") for u in uids)
    assert "Wrote 1 open deadlines of 2 requests" in result.out
    assert "(and 1 closed ones, as cancelled)" in result.out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("campaign", "questions", "nope"), "no campaign named 'nope'"),
        (("campaign", "export", "nope", "-f", "csv"), "no campaign named 'nope'"),
        (("calendar", "--campaign", "nope", "--out", "x.ics"), "no campaign named 'nope'"),
        (("campaign", "export", "remote-workers", "-f", "pdf"), "unknown format 'pdf'"),
        (("campaign", "export", "remote-workers"), "Missing option '--format'"),
        (("calendar",), "Missing option '--out'"),
        (
            ("campaign", "questions", "remote-workers", "--edit", "/nonexistent/q.txt"),
            "/nonexistent/q.txt: file not found",
        ),
        (
            ("campaign", "export", "remote-workers", "-f", "csv", "-o", "/nonexistent/a.csv"),
            "cannot write /nonexistent/a.csv",
        ),
        (
            ("calendar", "--out", "/nonexistent/d.ics"),
            "cannot write /nonexistent/d.ics",
        ),
    ],
)
def test_bad_input_is_one_line(env: dict[str, str], args: tuple[str, ...], message: str) -> None:
    line = one_error_line(run_cli(*args, env=env))
    assert line.startswith("foibot: error:") and message in line


def test_bad_question_file_names_the_line_and_keeps_the_old_list(
    env: dict[str, str], tmp_path: Path
) -> None:
    bad = tmp_path / "q.txt"
    bad.write_text("[1] How many?\n[1] Again?\n")
    line = one_error_line(
        run_cli("campaign", "questions", "remote-workers", "--edit", bad, env=env)
    )
    assert line == f"foibot: error: {bad}: line 2: key [1] is used twice (first on line 1)"
    binary = tmp_path / "q.bin"
    binary.write_bytes(b"\xff\xfe\x00[1]")
    assert "not UTF-8 text" in one_error_line(
        run_cli("campaign", "questions", "remote-workers", "--edit", binary, env=env)
    )
    shown = run_cli("campaign", "questions", "remote-workers", "--json", env=env)
    assert [q["key"] for q in json.loads(shown.out)["questions"]] == list(EXPECTED["000"])
