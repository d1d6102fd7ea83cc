"""Writing the answers grid (CSV, XLSX, JSON) and a ZIP of a campaign's messages.

Everything in a cell may come from a council's email, so it is treated as untrusted:
in CSV a cell that a spreadsheet would run as a formula ("=", "+", "-", "@" ...) is
prefixed with an apostrophe (the OWASP advice for CSV injection); in XLSX every text
cell is stored as text, never as a formula. In the ZIP, folder and file names are
built from safe characters only, so neither an authority's name nor an attachment's
("../../etc/passwd") can place a file outside its folder.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import unicodedata
import zipfile
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select

from foibot.errors import NotFoundError, UserInputError
from foibot.services.results import AnswersGrid, Cell, RawPayloads, attachment_bytes
from foibot.store.db import Database
from foibot.store.models import Attachment, Authority, Campaign, Message, RawMessage, Request


class ExportFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"
    JSON = "json"


# --------------------------------------------------------------------------- CSV

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?\d+(?:[.,]\d+)*$")


def _csv_cell(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    if text.startswith(_FORMULA_START) and not _PLAIN_NUMBER.match(text):
        return "'" + text
    return text


def write_csv(grid: AnswersGrid, stream: IO[str]) -> None:
    writer = csv.writer(stream, lineterminator="\r\n")
    writer.writerow(grid.columns())
    for record in grid.records():
        writer.writerow([_csv_cell(c) for c in record])


def csv_text(grid: AnswersGrid) -> str:
    out = io.StringIO()
    write_csv(grid, out)
    return out.getvalue()


# --------------------------------------------------------------------------- JSON


def json_text(grid: AnswersGrid) -> str:
    return json.dumps(grid.as_json(), indent=2, ensure_ascii=False) + "\n"


# --------------------------------------------------------------------------- XLSX

_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
MAX_CELL = 32_767  # Excel's limit on characters in a cell


def xlsx_bytes(grid: AnswersGrid) -> bytes:
    """The grid as an XLSX workbook: the answers sheet (header row frozen, text wrapped,
    widths to fit, dates as dates) and a sheet listing the questions."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Answers"
    columns = grid.columns()
    wrap = Alignment(wrap_text=True, vertical="top")
    bold = Font(bold=True)
    for col, name in enumerate(columns, start=1):
        cell = sheet.cell(row=1, column=col, value=name)
        cell.font, cell.alignment = bold, wrap
    widths = [len(name) for name in columns]
    for r, record in enumerate(grid.records(), start=2):
        for col, value in enumerate(record, start=1):
            cell = sheet.cell(row=r, column=col)
            _set_cell(cell, value)
            cell.alignment = wrap
            longest = max((len(line) for line in str(cell.value or "").split("\n")), default=0)
            widths[col - 1] = max(widths[col - 1], longest)
    for col, width in enumerate(widths, start=1):
        answer_column = col > len(columns) - 2 * len(grid.questions) and (
            (col - (len(columns) - 2 * len(grid.questions))) % 2 == 1
        )
        cap = 60 if answer_column else 30
        sheet.column_dimensions[get_column_letter(col)].width = max(8, min(width + 2, cap))
    sheet.freeze_panes = "B2"  # the header row, and the authority column
    sheet.auto_filter.ref = sheet.dimensions

    questions = workbook.create_sheet("Questions")
    for col, name in enumerate(("key", "question", "options", "parent"), start=1):
        cell = questions.cell(row=1, column=col, value=name)
        cell.font = bold
    for r, q in enumerate(grid.questions, start=2):
        for col, value in enumerate((q.key, q.text, "\n".join(q.options), q.parent or ""), start=1):
            cell = questions.cell(row=r, column=col)
            _set_cell(cell, value or None)
            cell.alignment = wrap
    for letter, width in zip("ABCD", (8, 80, 50, 8), strict=True):
        questions.column_dimensions[letter].width = width
    questions.freeze_panes = "A2"

    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _set_cell(cell: Any, value: Cell) -> None:
    if value is None:
        return
    if isinstance(value, bool):
        cell.value = "yes" if value else "no"
        return
    if isinstance(value, date):
        cell.value = value
        cell.number_format = "yyyy-mm-dd"
        return
    if isinstance(value, int):
        cell.value = value
        return
    text = _ILLEGAL_XML.sub("", str(value))[:MAX_CELL]
    cell.value = text
    cell.data_type = "s"  # never a formula, whatever the council wrote


# --------------------------------------------------------------------------- writing


def write_export(grid: AnswersGrid, fmt: ExportFormat, out: Path) -> None:
    try:
        if fmt is ExportFormat.XLSX:
            out.write_bytes(xlsx_bytes(grid))
        elif fmt is ExportFormat.CSV:
            # with a byte-order mark, so that Excel reads the UTF-8 (names, £, curly quotes)
            out.write_text(csv_text(grid), encoding="utf-8-sig", newline="")
        else:
            out.write_text(json_text(grid), encoding="utf-8")
    except OSError as exc:
        raise UserInputError(f"cannot write {out}: {exc.strerror or exc}") from None


# --------------------------------------------------------------------------- messages ZIP

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(text: str | None, fallback: str, *, limit: int = 80, path: bool = True) -> str:
    """A file or folder name from untrusted text: ASCII letters, digits, ".", "-" and
    "_" only, no leading dot, no path separators, at most ``limit`` characters (keeping
    the extension), never empty. With ``path`` (a file name as sent), only the part
    after the last slash counts; otherwise (an authority's name) slashes become "-"."""
    if text and path:
        text = text.replace("\\", "/").rsplit("/", 1)[-1]
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    name = _UNSAFE.sub("-", text or "").strip("-.")
    name = re.sub(r"-{2,}", "-", name)
    if len(name) > limit:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 10:
            name = stem[: limit - len(ext) - 1].rstrip("-.") + "." + ext
        else:
            name = name[:limit].rstrip("-.")
    return name or fallback


@dataclass
class ZipReport:
    path: Path
    messages: int = 0
    attachments: int = 0
    missing: list[str] = field(default_factory=list)  # what could not be included


def write_messages_zip(
    db: Database, campaign: str, path: Path, *, storage_dir: Path | None
) -> ZipReport:
    """Every message of the campaign (the raw .eml as sent or received) and every
    attachment, in one folder per authority, with an index.csv listing them all.
    Attachments come from ``storage_dir`` (checked against their SHA-256), else from the
    raw message they came in."""
    report = ZipReport(path)
    with db.transaction() as session:
        cid = session.scalar(select(Campaign.id).where(Campaign.name == campaign))
        if cid is None:
            raise NotFoundError(f"no campaign named {campaign!r} (see `foibot campaign list`)")
        rows = session.execute(
            select(
                Message.id,
                Message.direction,
                Message.kind,
                Message.purpose,
                Message.date,
                Message.sent_at,
                Message.created_at,
                Message.subject,
                Message.from_addr,
                Message.to_addrs,
                Message.body_text,
                Message.raw_sha256,
                Request.reference,
                Authority.id.label("authority_id"),
                Authority.name.label("authority"),
            )
            .join(Request, Message.request_id == Request.id)
            .join(Authority, Request.authority_id == Authority.id)
            .where(Request.campaign_id == cid)
            .order_by(Authority.name, Message.id)
        ).all()
        attachments: dict[int, list[Attachment]] = defaultdict(list)
        for a in session.scalars(
            select(Attachment)
            .join(Message, Attachment.message_id == Message.id)
            .join(Request, Message.request_id == Request.id)
            .where(Request.campaign_id == cid)
            .order_by(Attachment.message_id, Attachment.position)
        ):
            attachments[a.message_id].append(a)
        folders = _folders([(r.authority_id, r.authority) for r in rows])
        index: list[list[str]] = []
        try:
            with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
                # raw bytes in batches, so a large campaign is never all in memory
                for batch in _batches(rows, 50):
                    shas = {r.raw_sha256 for r in batch if r.raw_sha256}
                    raws: dict[str, bytes] = {}
                    if shas:
                        query = select(RawMessage.sha256, RawMessage.data).where(
                            RawMessage.sha256.in_(shas)
                        )
                        raws = {sha: data for sha, data in session.execute(query)}
                    for r in batch:
                        _add_message(
                            archive, report, index, r, folders[r.authority_id],
                            raws.get(r.raw_sha256) if r.raw_sha256 else None,
                            attachments[r.id], storage_dir,
                        )  # fmt: skip
                archive.writestr("index.csv", _index_csv(index))
        except OSError as exc:
            raise UserInputError(f"cannot write {path}: {exc.strerror or exc}") from None
    return report


def _batches(rows: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [rows[i : i + size] for i in range(0, len(rows), size)]


def _folders(authorities: Sequence[tuple[int, str]]) -> dict[int, str]:
    """A distinct safe folder per authority (two names that clean up alike get the
    authority's id appended)."""
    out: dict[int, str] = {}
    used: set[str] = set()
    for aid, name in authorities:
        if aid in out:
            continue
        folder = safe_name(name, f"authority-{aid}", path=False)
        if folder.lower() in used:
            folder = f"{folder}-{aid}"
        used.add(folder.lower())
        out[aid] = folder
    return out


def _message_stem(r: Any) -> str:
    when: datetime | None = r.date or r.sent_at or r.created_at
    day = when.date().isoformat() if when else "undated"
    what = r.kind if r.direction == "in" else (r.purpose or "request")
    return safe_name(f"{day}_{r.direction}_{what or 'message'}_{r.id}", f"message-{r.id}")


def _add_message(
    archive: zipfile.ZipFile,
    report: ZipReport,
    index: list[list[str]],
    r: Any,
    folder: str,
    raw: bytes | None,
    attachments: Sequence[Attachment],
    storage_dir: Path | None,
) -> None:
    stem = _message_stem(r)
    when = r.date or r.sent_at or r.created_at
    common = [r.authority, r.reference, r.direction, r.kind or r.purpose or "", str(when or "")]
    if raw is not None:
        name = f"{folder}/{stem}.eml"
        archive.writestr(name, raw)
    else:
        # no stored bytes (an outgoing message not yet rendered, say): what the DB has
        name = f"{folder}/{stem}.txt"
        archive.writestr(name, _message_text(r))
        report.missing.append(f"{name}: raw message not stored; wrote its text instead")
    report.messages += 1
    about = [r.subject or "", r.from_addr or ""]
    index.append([name, *common, *about, "", ""])
    payloads = RawPayloads(raw)
    for a in attachments:
        data = attachment_bytes(a, storage_dir, payloads)
        filename = safe_name(a.filename, f"attachment-{a.position + 1}.bin", limit=100)
        name = f"{folder}/{stem}_att{a.position + 1}_{filename}"
        if data is None:
            report.missing.append(f"{name}: attachment file and raw message both missing")
            note = "missing: neither the saved file nor the raw message has it"
            index.append([name, *common, *about, a.filename or "", note])
            continue
        note = ""
        if hashlib.sha256(data).hexdigest() != a.sha256:
            note = "content differs from the checksum recorded at ingest"
            report.missing.append(f"{name}: {note}")
        archive.writestr(name, data)
        report.attachments += 1
        index.append([name, *common, *about, a.filename or "", note])


def _message_text(r: Any) -> str:
    lines = [
        f"Subject: {r.subject or ''}",
        f"From: {r.from_addr or ''}",
        f"To: {', '.join(r.to_addrs or [])}",
        f"Date: {r.date or r.sent_at or r.created_at or ''}",
        "",
        r.body_text or "",
    ]
    return "\n".join(lines)


def _index_csv(index: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        [
            "file",
            "authority",
            "reference",
            "direction",
            "kind",
            "date",
            "subject",
            "from",
            "original_name",
            "note",
        ]
    )
    for row in index:
        writer.writerow([_csv_cell(c) for c in row])
    return out.getvalue()
