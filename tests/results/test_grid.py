"""The answers grid, from requests and replies stored in a real (SQLite) database.

The "done when" test: the five fixture replies, wrapped as emails and filed under
requests whose text is the question part of each letter, give the hand-written answers
for at least 90% of the questions, and no question gets another question's answer.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import docx
import openpyxl
import pytest
from sqlalchemy import event

from foibot.services.results import build_grid, get_questions, set_questions, xlsx_text
from foibot.store.db import Database
from tests.results import factories as f
from tests.results.cases import AUTHORITY, DATES, EXPECTED, REQUEST, THEIR_REF, response_text

TODAY = date(2022, 7, 1)


def norm(text: str) -> str:
    return " ".join(text.split())


def file_case(db: Database, case: str, **reply: object) -> str:
    """Campaign "case-NNN" with one request, answered by the fixture letter."""
    name = f"case-{case}"
    sent, answered = (date.fromisoformat(d) for d in DATES[case])
    with db.transaction() as s:
        camp = f.campaign(s, name, REQUEST[case])
        auth = f.authority(s, *AUTHORITY[case])
        req = f.request(s, camp, auth, sent=sent)
        body = reply.pop("body", None)
        f.response(
            s,
            req,
            body if isinstance(body, str) else response_text(case),
            day=answered,
            their_ref=THEIR_REF[case],
            **reply,  # type: ignore[arg-type]
        )
    return name


@pytest.fixture
def filed(db: Database) -> Iterator[Database]:
    for case in sorted(REQUEST):
        file_case(db, case)
    yield db


def test_the_five_fixture_replies_filed_as_emails(filed: Database) -> None:
    right = total = 0
    wrong: list[str] = []
    for case in sorted(REQUEST):
        grid = build_grid(filed, f"case-{case}", today=TODAY)
        assert [q.key for q in grid.questions] == list(EXPECTED[case])
        (row,) = grid.rows
        for answer in row.answers:
            total += 1
            expected = EXPECTED[case][answer.key]
            if expected is None:
                if answer.text:
                    wrong.append(f"{case} {answer.key}: {norm(answer.text)!r} (expected blank)")
                else:
                    right += 1
            elif norm(answer.text) == norm(expected[0]) and answer.value == expected[1]:
                right += 1
            elif answer.text:
                wrong.append(f"{case} {answer.key}: {norm(answer.text)!r}")
        # each response reports how many questions it aligned
        (report,) = row.responses
        answered = sum(1 for v in EXPECTED[case].values() if v is not None)
        assert (report.aligned, report.total) == (answered, len(EXPECTED[case]))
    assert wrong == []
    assert total == 54
    assert right / total >= 0.9, f"{right}/{total} right"


def test_fixed_columns_come_from_the_request_state(filed: Database) -> None:
    """Dates and on-time flags as in DESIGN.md's worked examples (FOIA, UK calendar)."""
    expected = {
        "000": (date(2020, 2, 11), date(2020, 3, 10), date(2020, 2, 24)),
        "002": (date(2020, 4, 7), date(2020, 5, 7), date(2020, 4, 9)),
        "003": (date(2020, 5, 15), date(2020, 6, 15), date(2020, 5, 18)),
        "004": (date(2022, 5, 10), date(2022, 6, 9), date(2022, 6, 6)),
    }
    for case, (received, due, responded) in expected.items():
        grid = build_grid(filed, f"case-{case}", today=TODAY)
        record = dict(zip(grid.columns(), grid.records()[0], strict=True))
        assert record["authority"] == AUTHORITY[case][0]
        assert record["their_reference"] == THEIR_REF[case]
        assert (record["status"], record["outcome"]) == ("responded", "successful")
        assert (record["received"], record["due"], record["responded"]) == (
            received,
            due,
            responded,
        )
        assert record["on_time"] is True
        assert record["questions_aligned"] == (
            f"{sum(1 for v in EXPECTED[case].values() if v)}/{len(EXPECTED[case])}"
        )


def test_requests_without_a_reply_have_blank_flagged_answers(db: Database) -> None:
    with db.transaction() as s:
        camp = f.campaign(s, "parking", "1. How many fines?\n2. Total income?")
        for n in range(3):
            f.request(s, camp, f.authority(s, f"Council {n}", f"foi@c{n}.gov.uk"), sent=TODAY)
    grid = build_grid(db, "parking", today=TODAY)
    assert len(grid.rows) == 3
    for row in grid.rows:
        assert row.request.state.status.value == "awaiting_response"
        assert [(a.text, a.flag) for a in row.answers] == [("", "no response yet")] * 2
        assert row.responses == ()
    assert grid.records()[0][9] is None  # questions_aligned: nothing to align yet


def test_answer_only_in_a_docx_attachment(db: Database) -> None:
    document = docx.Document()
    for paragraph in response_text("003").split("\n\n"):
        document.add_paragraph(paragraph.strip())
    data = io.BytesIO()
    document.save(data)
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(data.getvalue())).paragraphs)
    part = f.Part(
        "FOI 6299088 response.docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        data.getvalue(),
        text,  # as the ingest extracts it
    )
    name = file_case(db, "003", body="Please find our response attached.\n", parts=(part,))
    (row,) = build_grid(db, name, today=TODAY).rows
    assert [a.value for a in row.answers] == [v[1] for v in EXPECTED["003"].values() if v]


PARKING = """\
1. How many penalty charge notices did the council issue in 2023?
2. How much income did the council receive from them in 2023?
3. Do you use a private contractor to enforce parking?
"""


def spreadsheet() -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "FOI 2024-118"
    sheet.append(["Question", "Answer"])
    sheet.append(["1. How many penalty charge notices did the council issue in 2023?", 48211])
    sheet.append(["2. How much income did the council receive from them in 2023?", "£1,530,442"])
    sheet.append(["3. Do you use a private contractor to enforce parking?", "Yes (NSL)"])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_xlsx_text_reads_rows_as_lines() -> None:
    assert xlsx_text(spreadsheet()).splitlines() == [
        "FOI 2024-118",
        "Question | Answer",
        "1. How many penalty charge notices did the council issue in 2023? | 48211",
        "2. How much income did the council receive from them in 2023? | £1,530,442",
        "3. Do you use a private contractor to enforce parking? | Yes (NSL)",
    ]
    with pytest.raises(ValueError):
        xlsx_text(b"PK\x03\x04 not really a zip")


@pytest.mark.parametrize("saved", [True, False], ids=["saved-file", "raw-message-only"])
def test_answer_only_in_a_spreadsheet(db: Database, tmp_path: Path, saved: bool) -> None:
    """The ingest does not extract XLSX text: the grid reads the saved file, or, when
    the file is gone, the attachment inside the stored raw message."""
    storage = tmp_path / "data"
    part = f.Part(
        "response.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        spreadsheet(),
    )
    with db.transaction() as s:
        camp = f.campaign(s, "parking", PARKING)
        req = f.request(s, camp, f.authority(s, "Leeds", "foi@leeds.gov.uk"), sent=TODAY)
        f.response(
            s,
            req,
            "Please see the attached spreadsheet.",
            day=TODAY,
            parts=(part,),
            storage_dir=storage if saved else None,
        )
    (row,) = build_grid(db, "parking", today=TODAY, storage_dir=storage).rows
    assert [(a.text, a.value) for a in row.answers] == [
        ("48211", "48211"),
        ("£1,530,442", "1530442"),
        ("Yes (NSL)", "Yes"),
    ]


def test_a_later_response_overrides_and_completes_an_earlier_one(db: Database) -> None:
    with db.transaction() as s:
        camp = f.campaign(s, "parking", PARKING)
        req = f.request(s, camp, f.authority(s, "Leeds", "foi@leeds.gov.uk"), sent=TODAY)
        f.response(
            s,
            req,
            "1. How many penalty charge notices did the council issue in 2023?\n48,000\n\n"
            "3. Do you use a private contractor to enforce parking?\nNo\n",
            day=date(2022, 7, 5),
        )
        f.response(
            s,
            req,
            "Corrected figures.\n\n"
            "1. How many penalty charge notices did the council issue in 2023?\n48,211\n\n"
            "2. How much income did the council receive from them in 2023?\n£1,530,442\n",
            day=date(2022, 7, 8),
        )
    (row,) = build_grid(db, "parking", today=TODAY).rows
    assert [a.text for a in row.answers] == ["48,211", "£1,530,442", "No"]
    assert [(r.aligned, r.total) for r in row.responses] == [(2, 3), (2, 3)]
    assert row.answers[2].evidence.startswith(f"message #{row.responses[0].message_id}:")


def test_edited_questions_are_the_columns(db: Database) -> None:
    name = file_case(db, "002")
    assert [q.key for q in get_questions(db, name).questions] == ["1", "2"]
    set_questions(
        db,
        name,
        "[0] I would like to know what policies are in place within your organisation to "
        "enable remote working during the Covid-19 lockdown since the start of the calendar "
        "year please.\n"
        "[1] Breakdown of the number of new devices purchased by your organisation:\n",
        source="q.txt",
    )
    grid = build_grid(db, name, today=TODAY)
    assert grid.questions_edited and grid.columns()[-4:] == ["Q0", "Q0 value", "Q1", "Q1 value"]
    (row,) = grid.rows
    assert (row.answers[0].text, row.answers[0].value) == ("See attached", "see attached")
    # its options are no longer in the list, but they are still the request repeated
    assert norm(row.answers[1].text) == norm(EXPECTED["002"]["1"][0])  # type: ignore[index]


def count_queries(db: Database, name: str) -> int:
    seen: list[str] = []

    def count(*_: object) -> None:
        seen.append("q")

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        build_grid(db, name, today=TODAY)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return len(seen)


def test_query_count_does_not_grow_with_the_number_of_requests(db: Database) -> None:
    def campaign(name: str, n: int) -> None:
        with db.transaction() as s:
            camp = f.campaign(s, name, PARKING)
            for i in range(n):
                auth = f.authority(s, f"{name} council {i}", f"foi{i}@{name}.gov.uk")
                req = f.request(s, camp, auth, sent=TODAY)
                f.response(s, req, f"1. {i}\n2. £{i}00\n3. No\n", day=TODAY)

    campaign("small", 2)
    campaign("large", 25)
    assert count_queries(db, "small") == count_queries(db, "large")


@pytest.mark.postgres
def test_grid_and_exports_on_postgresql(pg_url: str, tmp_path: Path) -> None:
    """The same queries on the scale-out database."""
    from foibot.services.calendar_export import export_calendar
    from foibot.services.exports import write_messages_zip
    from foibot.store import migrate

    db = Database(pg_url)
    try:
        migrate.upgrade(db)
        name = file_case(db, "004")
        (row,) = build_grid(db, name, today=TODAY).rows
        assert [a.value for a in row.answers][:3] == ["No", "N/A", "N/A"]
        assert row.aligned == 14
        report = write_messages_zip(db, name, tmp_path / "m.zip", storage_dir=None)
        assert report.messages == 2
        assert b"BEGIN:VEVENT" in export_calendar(db, campaign=name, today=TODAY).data
    finally:
        db.dispose()


def test_questions_come_from_the_letter_template_when_there_is_no_body(db: Database) -> None:
    template = (
        "{# my own letter #}Dear {{ authority.name }},\n\n"
        "{% if vars.year %}For {{ vars.year }}:{% endif %}\n"
        "1. How many potholes were reported to the council?\n"
        "2. How many of them were repaired within 28 days?\n\n"
        "Yours faithfully,\n{{ sender.name }}\n"
    )
    with db.transaction() as s:
        f.campaign(s, "potholes", None, body_template=template)
    got = get_questions(db, "potholes")
    assert not got.edited
    assert [(q.key, q.text) for q in got.questions] == [
        ("1", "How many potholes were reported to the council?"),
        ("2", "How many of them were repaired within 28 days?"),
    ]
