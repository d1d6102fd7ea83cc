"""A campaign's results: its question list and the answers grid.

The grid has one row per request (authority, references, status, outcome, dates,
on-time flag) and one column per question. Answers are derived when asked for, like
statuses, never stored: the request's response messages (their body and attachment
text) are aligned to the questions with ``foibot.domain.answers.align``. The question
list is stored on the campaign once the user edits it; until then it is extracted from
the request text (``Campaign.body``, else the letter template's text).

``build_grid`` reads a fixed number of queries whatever the number of requests:
``list_requests`` (one per table), then the campaign, the response messages, their
attachments and, only for spreadsheet attachments whose text was not extracted at
ingest and whose file is missing, the raw messages that carry them.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from foibot.domain.answers import Alignment, Answer, align
from foibot.domain.questions import (
    Question,
    QuestionsError,
    extract_questions,
    from_text,
    questions_from_json,
    questions_to_json,
)
from foibot.errors import FoibotError, NotFoundError, UserInputError
from foibot.services.requests import RequestView, list_requests
from foibot.store.db import Database, utcnow
from foibot.store.models import Attachment, Campaign, Message, RawMessage, Request
from foibot.timezone import local_date

# --------------------------------------------------------------------------- questions


@dataclass(frozen=True)
class CampaignQuestions:
    campaign: str
    title: str
    questions: tuple[Question, ...]
    edited: bool  # stored by the user; False: extracted from the request text now
    request_text: str | None  # what the questions came from, for the aligner


_JINJA_COMMENT = re.compile(r"\{#.*?#\}", re.DOTALL)
_JINJA_TAG = re.compile(r"\{%.*?%\}", re.DOTALL)
_JINJA_EXPR = re.compile(r"\{\{.*?\}\}", re.DOTALL)


def request_text_of(campaign: Campaign) -> str | None:
    """The request's own text: the user's questions (``body``) or, for a campaign with
    its own letter template, the template's text with the Jinja2 markup taken out."""
    if campaign.body and campaign.body.strip():
        return campaign.body
    template = campaign.body_template or ""
    text = _JINJA_EXPR.sub("", _JINJA_TAG.sub("", _JINJA_COMMENT.sub("", template)))
    return text if text.strip() else None


def _campaign(session: Session, name: str) -> Campaign:
    campaign = session.scalar(select(Campaign).where(Campaign.name == name.strip()))
    if campaign is None:
        raise NotFoundError(f"no campaign named {name!r} (see `foibot campaign list`)")
    return campaign


def _questions_of(campaign: Campaign) -> CampaignQuestions:
    request_text = request_text_of(campaign)
    if campaign.questions is not None:
        try:
            questions = questions_from_json(campaign.questions)
        except QuestionsError as exc:
            raise FoibotError(f"campaign {campaign.name!r}: {exc}") from None
        edited = True
    else:
        questions = extract_questions(request_text or "")
        edited = False
    return CampaignQuestions(campaign.name, campaign.title, tuple(questions), edited, request_text)


def get_questions(db: Database, name: str) -> CampaignQuestions:
    with db.transaction() as session:
        return _questions_of(_campaign(session, name))


def set_questions(db: Database, name: str, text: str, *, source: str) -> CampaignQuestions:
    """Replaces the campaign's question list with the one in ``text`` (the text form of
    ``foibot.domain.questions``). ``source`` names the file, for error messages."""
    try:
        questions = from_text(text)
    except QuestionsError as exc:
        raise UserInputError(f"{source}: {exc}") from None
    with db.transaction() as session:
        campaign = _campaign(session, name)
        campaign.questions = questions_to_json(questions)
        return _questions_of(campaign)


def reset_questions(db: Database, name: str) -> CampaignQuestions:
    """Forgets the edited list: the questions are extracted from the request again."""
    with db.transaction() as session:
        campaign = _campaign(session, name)
        campaign.questions = None
        return _questions_of(campaign)


# --------------------------------------------------------------------------- the grid


@dataclass(frozen=True)
class ResponseAlignment:
    """How well one response message lined up with the questions."""

    message_id: int
    date: datetime | None
    aligned: int
    total: int

    def as_json(self) -> dict[str, Any]:
        return {
            "message_id": self.message_id,
            "date": self.date.isoformat() if self.date else None,
            "aligned": self.aligned,
            "total": self.total,
        }


@dataclass(frozen=True)
class GridRow:
    request: RequestView
    answers: tuple[Answer, ...]  # one per question, in question order
    responses: tuple[ResponseAlignment, ...]  # oldest first

    @property
    def aligned(self) -> int:
        return sum(1 for a in self.answers if a.aligned)

    def answer(self, key: str) -> Answer:
        for a in self.answers:
            if a.key == key:
                return a
        raise KeyError(key)


Cell = str | int | bool | date | None

FIXED_COLUMNS = (
    "authority",
    "reference",
    "their_reference",
    "status",
    "outcome",
    "received",
    "due",
    "responded",
    "on_time",
    "questions_aligned",
)


@dataclass(frozen=True)
class AnswersGrid:
    campaign: str
    title: str
    questions: tuple[Question, ...]
    questions_edited: bool
    rows: tuple[GridRow, ...]
    today: date

    def columns(self) -> list[str]:
        out = list(FIXED_COLUMNS)
        for q in self.questions:
            out += [f"Q{q.key}", f"Q{q.key} value"]
        return out

    def records(self) -> list[list[Cell]]:
        """The table as typed cells (dates as ``date``, the on-time flag as ``bool``),
        in ``columns()`` order; each writer formats them its own way."""
        out: list[list[Cell]] = []
        for row in self.rows:
            v, s = row.request, row.request.state
            cells: list[Cell] = [
                v.authority,
                v.reference,
                "; ".join(v.their_references) or None,
                s.status.value,
                s.outcome.value if s.outcome else None,
                s.received,
                s.due,
                s.responded_on,
                s.on_time,
                f"{row.aligned}/{len(row.answers)}" if row.responses else None,
            ]
            for a in row.answers:
                cells += [a.text or None, a.value]
            out.append(cells)
        return out

    def as_json(self) -> dict[str, Any]:
        def iso(d: date | None) -> str | None:
            return d.isoformat() if d else None

        rows = []
        for row in self.rows:
            v, s = row.request, row.request.state
            rows.append(
                {
                    "authority": v.authority,
                    "reference": v.reference,
                    "their_references": list(v.their_references),
                    "status": s.status.value,
                    "outcome": s.outcome.value if s.outcome else None,
                    "received": iso(s.received),
                    "due": iso(s.due),
                    "responded": iso(s.responded_on),
                    "on_time": s.on_time,
                    "questions_aligned": row.aligned,
                    "responses": [r.as_json() for r in row.responses],
                    "answers": {a.key: a.as_json() for a in row.answers},
                }
            )
        return {
            "campaign": self.campaign,
            "title": self.title,
            "today": self.today.isoformat(),
            "questions_edited": self.questions_edited,
            "questions": [q.as_json() for q in self.questions],
            "rows": rows,
        }


@dataclass(frozen=True)
class _Response:
    id: int
    request_id: int
    when: datetime
    date: datetime | None
    text: str


def build_grid(
    db: Database,
    name: str,
    *,
    today: date | None = None,
    storage_dir: Path | None = None,
) -> AnswersGrid:
    """The answers grid of campaign ``name``. ``storage_dir`` is where attachments were
    saved (for spreadsheet attachments whose text was not extracted at ingest)."""
    day = today or local_date(utcnow())
    with db.transaction() as session:
        cq = _questions_of(_campaign(session, name))
    views = list_requests(db, campaign=name, today=day)
    with db.transaction() as session:
        responses = _responses(session, cq.campaign, storage_dir)
    by_request: dict[int, list[_Response]] = defaultdict(list)
    for r in responses:
        by_request[r.request_id].append(r)
    rows = []
    for view in views:
        rows.append(_row(view, cq, sorted(by_request[view.id], key=lambda r: (r.when, r.id))))
    return AnswersGrid(cq.campaign, cq.title, cq.questions, cq.edited, tuple(rows), day)


def _row(view: RequestView, cq: CampaignQuestions, responses: Sequence[_Response]) -> GridRow:
    if not responses:
        blank = tuple(Answer(q.key, "", None, None, "", "no response yet") for q in cq.questions)
        return GridRow(view, blank, ())
    alignments: list[tuple[_Response, Alignment]] = [
        (r, align(cq.questions, r.text, request_text=cq.request_text)) for r in responses
    ]
    merged: list[Answer] = []
    several = len(alignments) > 1
    for i in range(len(cq.questions)):
        chosen: tuple[_Response, Answer] | None = None
        for r, al in reversed(alignments):  # a later response overrides an earlier one
            if al.answers[i].aligned:
                chosen = (r, al.answers[i])
                break
        if chosen is None:
            r, al = alignments[-1]
            chosen = (r, al.answers[i])
        r, answer = chosen
        if several and answer.evidence:
            answer = Answer(
                answer.key,
                answer.text,
                answer.value,
                answer.method,
                f"message #{r.id}: {answer.evidence}",
                answer.flag,
            )
        merged.append(answer)
    report = tuple(ResponseAlignment(r.id, r.date, al.aligned, al.total) for r, al in alignments)
    return GridRow(view, tuple(merged), report)


def _responses(session: Session, campaign: str, storage_dir: Path | None) -> list[_Response]:
    in_campaign = select(Request.id).join(Campaign).where(Campaign.name == campaign)
    rows = session.execute(
        select(
            Message.id,
            Message.request_id,
            Message.date,
            Message.created_at,
            Message.body_text,
            Message.raw_sha256,
        )
        .where(
            Message.direction == "in",
            Message.kind == "response",
            Message.request_id.in_(in_campaign),
        )
        .order_by(Message.id)
    ).all()
    if not rows:
        return []
    ids = [r.id for r in rows]
    attachments: dict[int, list[Attachment]] = defaultdict(list)
    for a in session.scalars(
        select(Attachment)
        .where(Attachment.message_id.in_(_message_scope(ids, in_campaign)))
        .order_by(Attachment.message_id, Attachment.position)
    ):
        attachments[a.message_id].append(a)
    raw_of = {r.id: r.raw_sha256 for r in rows}
    sheets = _spreadsheet_texts(session, attachments, raw_of, storage_dir)
    out = []
    for r in rows:
        parts = [r.body_text or ""]
        for a in attachments[r.id]:
            text = a.extracted_text or sheets.get(a.id)
            if text:
                parts.append(text)
        text = "\n\n".join(p for p in parts if p.strip())
        assert r.request_id is not None
        out.append(_Response(r.id, r.request_id, r.date or r.created_at, r.date, text))
    return out


def _message_scope(ids: Sequence[int], in_campaign: Any) -> Any:
    if len(ids) < 500:
        return ids
    return select(Message.id).where(
        Message.direction == "in",
        Message.kind == "response",
        Message.request_id.in_(in_campaign),
    )


# --------------------------------------------------------------------------- spreadsheets

XLSX_TYPES = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.ms-excel.sheet.macroenabled.12",
}
MAX_XLSX_BYTES = 25_000_000
MAX_XLSX_CELLS = 200_000


def is_spreadsheet(filename: str | None, content_type: str) -> bool:
    name = (filename or "").lower()
    return content_type.lower() in XLSX_TYPES or name.endswith((".xlsx", ".xlsm"))


def xlsx_text(data: bytes) -> str:
    """The text of an XLSX workbook, one line per row, cells separated by " | ", each
    sheet headed by its name: what the aligner reads when a council answers in a
    spreadsheet ("1. How many staff? | 45"). Raises ``ValueError`` on a file that is not
    a readable workbook (including one that would expand to too much data)."""
    import openpyxl  # only needed here

    if len(data) > MAX_XLSX_BYTES:
        raise ValueError(f"larger than {MAX_XLSX_BYTES} bytes")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(i.file_size for i in archive.infolist()) > 20 * MAX_XLSX_BYTES:
                raise ValueError("expands to too much data")
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        raise ValueError(f"not a readable workbook: {exc}") from None
    lines: list[str] = []
    cells = 0
    try:
        for sheet in workbook.worksheets:
            lines.append(f"{sheet.title}")
            for values in sheet.iter_rows(values_only=True):
                texts = [_cell_text(v) for v in values if v is not None and str(v).strip()]
                cells += len(values)
                if texts:
                    lines.append(" | ".join(texts))
                if cells > MAX_XLSX_CELLS:
                    break
            lines.append("")
    finally:
        workbook.close()
    return "\n".join(lines).strip()


def _cell_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    if isinstance(value, date):
        return value.isoformat()
    return " ".join(str(value).split())


def attachment_bytes(
    attachment: Attachment, storage_dir: Path | None, payloads: RawPayloads | None
) -> bytes | None:
    """An attachment's bytes: its saved file (checked against its SHA-256), else taken
    out of the raw message it came in. None when neither is available."""
    if storage_dir is not None and attachment.stored_name:
        from foibot.mail.attachments import attachment_path

        try:
            data: bytes | None = attachment_path(storage_dir, attachment.stored_name).read_bytes()
        except (OSError, FoibotError):
            data = None
        if data is not None and hashlib.sha256(data).hexdigest() == attachment.sha256:
            return data
    if payloads is not None:
        return payloads.get(attachment.position)
    return None


class RawPayloads:
    """The attachments of one raw message, parsed once and only if needed."""

    def __init__(self, raw: bytes | None) -> None:
        self.raw = raw
        self._items: list[bytes] | None = None

    def get(self, position: int) -> bytes | None:
        if self.raw is None:
            return None
        if self._items is None:
            from foibot.mail.attachments import attachment_payloads

            try:
                self._items = [data for _, data in attachment_payloads(self.raw)]
            except FoibotError:
                self._items = []
        return self._items[position] if 0 <= position < len(self._items) else None


def _spreadsheet_texts(
    session: Session,
    attachments: dict[int, list[Attachment]],
    raw_of: dict[int, str | None],
    storage_dir: Path | None,
) -> dict[int, str]:
    """Text of spreadsheet attachments the ingest did not extract, by attachment id."""
    wanted = [
        a
        for items in attachments.values()
        for a in items
        if not a.extracted_text and is_spreadsheet(a.filename, a.content_type)
    ]
    if not wanted:
        return {}
    found: dict[int, bytes] = {}
    need_raw: list[Attachment] = []
    for a in wanted:
        data = attachment_bytes(a, storage_dir, None)
        if data is not None:
            found[a.id] = data
        else:
            need_raw.append(a)
    shas = {raw_of[a.message_id] for a in need_raw} - {None}
    raws: dict[str, bytes] = {}
    if shas:
        query = select(RawMessage.sha256, RawMessage.data).where(RawMessage.sha256.in_(shas))
        raws = {sha: data for sha, data in session.execute(query)}
    payloads: dict[int, RawPayloads] = {}
    for a in need_raw:
        sha = raw_of[a.message_id]
        if a.message_id not in payloads:
            payloads[a.message_id] = RawPayloads(raws.get(sha) if sha else None)
        data = attachment_bytes(a, None, payloads[a.message_id])
        if data is not None:
            found[a.id] = data
    out = {}
    for attachment_id, data in found.items():
        try:
            out[attachment_id] = xlsx_text(data)
        except ValueError:
            continue  # a damaged spreadsheet: its answers stay blank (and flagged)
    return out
