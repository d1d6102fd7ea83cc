"""`foibot campaign questions|export` and `foibot calendar`: a campaign's results.

Thin commands over ``foibot.services.results``, ``.exports`` and ``.calendar_export``;
registered in ``foibot.cli`` (``questions`` and ``export`` on the campaign sub-app,
``calendar`` at the top level).
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from foibot.cli.common import console, err_console, print_json, state
from foibot.domain.questions import to_text
from foibot.errors import UserInputError
from foibot.services import results as service
from foibot.services.calendar_export import export_calendar
from foibot.services.exports import (
    ExportFormat,
    csv_text,
    json_text,
    write_export,
    write_messages_zip,
)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UserInputError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise UserInputError(f"{path}: is a folder, not a file") from None
    except UnicodeDecodeError:
        raise UserInputError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise UserInputError(f"{path}: cannot read: {exc.strerror or exc}") from None


def questions(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The campaign's name.", show_default=False),
    edit: Path | None = typer.Option(
        None,
        "--edit",
        metavar="FILE",
        help="Replace the question list with the one in FILE (the format printed here).",
    ),
    reset: bool = typer.Option(
        False, "--reset", help="Forget the edited list: extract it from the request again."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the questions as JSON."),
) -> None:
    """Print the campaign's question list: the columns of the answers grid.

    Until you edit it, the list is extracted from the request text: numbered ("1.",
    "1)", "Q1"), lettered ("a)", "(a)", "1a") and nested questions; bullet points under
    a question are its options. To change it, save the printed list to a file, edit it
    and load it back:

        foibot campaign questions NAME > q.txt
        foibot campaign questions NAME --edit q.txt
    """
    if edit is not None and reset:
        raise UserInputError("give --edit FILE or --reset, not both")
    db = state(ctx).database()
    if edit is not None:
        result = service.set_questions(db, name, _read(edit), source=str(edit))
        err_console.print(
            f"Saved {len(result.questions)} questions for campaign {result.campaign!r}.",
            markup=False,
            soft_wrap=True,
        )
    elif reset:
        result = service.reset_questions(db, name)
        err_console.print(
            f"Campaign {result.campaign!r}: questions are extracted from the request again "
            f"({len(result.questions)} found).",
            markup=False,
            soft_wrap=True,
        )
    else:
        result = service.get_questions(db, name)
    if as_json:
        print_json(
            {
                "campaign": result.campaign,
                "edited": result.edited,
                "questions": [q.as_json() for q in result.questions],
            }
        )
        return
    if edit is not None or reset:
        return
    if not result.questions:
        err_console.print(
            f"No questions found in campaign {result.campaign!r}'s request text; write them "
            f"in a file and load it with `foibot campaign questions {result.campaign} "
            "--edit FILE`.",
            markup=False,
            soft_wrap=True,
        )
        raise typer.Exit(1)
    origin = "edited" if result.edited else "extracted from the request text"
    sys.stdout.write(
        f"# Campaign {result.campaign!r}: {len(result.questions)} questions, {origin}.\n"
    )
    sys.stdout.write(to_text(result.questions))


def export(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The campaign's name.", show_default=False),
    fmt_name: str = typer.Option(
        ..., "--format", "-f", metavar="csv|xlsx|json", help="The file format.", show_default=False
    ),
    out: Path | None = typer.Option(
        None,
        "--out",
        "-o",
        metavar="FILE",
        help="Write here (default: standard output; for xlsx, NAME.xlsx).",
    ),
    messages: bool = typer.Option(
        False,
        "--messages",
        help="Also write a ZIP of every message (.eml) and attachment, a folder per "
        "authority (OUT's name with -messages.zip, or NAME-messages.zip).",
    ),
) -> None:
    """Export the answers grid: a row per request, a column per question.

    Columns: authority, reference, their reference, status, outcome, received, due,
    responded, on time, how many questions were aligned, then for each question the
    answer text and a short value (Yes/No/a number/"not held"/"refused s12"/"N/A").
    Answers are read from the responses now; a question that could not be lined up
    with the reply is left blank rather than guessed.
    """
    try:
        fmt = ExportFormat(fmt_name.strip().lower())
    except ValueError:
        raise UserInputError(f"unknown format {fmt_name!r} (expected csv, xlsx or json)") from None
    st = state(ctx)
    db = st.database()
    storage = st.settings.storage_dir
    grid = service.build_grid(db, name, storage_dir=storage)
    if out is None and fmt is ExportFormat.XLSX:
        out = Path(f"{grid.campaign}.xlsx")
    if out is None:
        sys.stdout.write(csv_text(grid) if fmt is ExportFormat.CSV else json_text(grid))
        report_to = err_console
    else:
        write_export(grid, fmt, out)
        report_to = console
    answered = sum(1 for r in grid.rows if r.responses)
    aligned = sum(r.aligned for r in grid.rows)
    asked = sum(len(r.answers) for r in grid.rows if r.responses)
    where = f" to {out}" if out is not None else ""
    report_to.print(
        f"Exported {len(grid.rows)} requests x {len(grid.questions)} questions{where}: "
        f"{answered} with a response, {aligned} of their {asked} answers aligned.",
        markup=False,
        soft_wrap=True,
    )
    partial = [r for r in grid.rows if r.responses and r.aligned < len(r.answers)]
    if partial:
        report_to.print(
            f"{len(partial)} responses have questions left blank (not aligned): see the "
            "questions_aligned column, and `--format json` for why each one is blank.",
            markup=False,
            soft_wrap=True,
        )
    if messages:
        target = (
            out.with_name(out.stem + "-messages.zip")
            if out is not None
            else Path(f"{grid.campaign}-messages.zip")
        )
        zipped = write_messages_zip(db, grid.campaign, target, storage_dir=storage)
        report_to.print(
            f"Wrote {zipped.messages} messages and {zipped.attachments} attachments to {target}.",
            markup=False,
            soft_wrap=True,
        )
        for problem in zipped.missing:
            err_console.print(f"foibot: warning: {problem}", markup=False)


def calendar(
    ctx: typer.Context,
    out: Path = typer.Option(
        ..., "--out", "-o", metavar="FILE.ics", help="The file to write.", show_default=False
    ),
    campaign: str | None = typer.Option(
        None, "--campaign", metavar="NAME", help="Only this campaign's requests."
    ),
) -> None:
    """Write every open clock as an iCalendar file (.ics) to import into a calendar.

    One all-day event per open clock: response due, last day to ask for an internal
    review, review answer due. Event UIDs are stable (REFERENCE-CLOCK@foibot), so
    importing a newer file updates the events instead of duplicating them; a clock
    that has closed (the response came) is included as cancelled.
    """
    result = export_calendar(state(ctx).database(), campaign=campaign)
    try:
        out.write_bytes(result.data)
    except OSError as exc:
        raise UserInputError(f"cannot write {out}: {exc.strerror or exc}") from None
    console.print(
        f"Wrote {result.open} open deadlines of {result.requests} requests to {out}"
        + (f" (and {result.cancelled} closed ones, as cancelled)." if result.cancelled else "."),
        markup=False,
        soft_wrap=True,
    )
