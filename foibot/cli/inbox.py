"""`foibot inbox ...`: read replies into foibot, and file the ones it could not."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from foibot.cli.common import console, print_json, state
from foibot.heap import freeze_startup_heap
from foibot.services import ingest

app = typer.Typer(
    help="Read replies (from files or the mailbox), list the unmatched ones, file them by hand.",
    no_args_is_help=True,
)


def _print_outcomes(outcomes: list[ingest.IngestOutcome]) -> None:
    print_json([o.as_json() for o in outcomes])


@app.command("import")
def import_(
    ctx: typer.Context,
    paths: list[Path] = typer.Argument(
        ...,
        metavar="PATH...",
        help=".eml files, folders of .eml files, mbox files or Maildir folders.",
        show_default=False,
    ),
    as_json: bool = typer.Option(
        False, "--json", help="Print a JSON array, one object per message read."
    ),
) -> None:
    """Import replies from files, e.g. to backfill an existing mailbox export.

    Every message is stored (its raw bytes first), parsed, classified and filed under
    its request, exactly as when polling. Messages already stored (same bytes or same
    Message-ID) are recognised and not stored twice, so an import can be re-run.
    """
    database, settings = state(ctx).database(), state(ctx).settings
    freeze_startup_heap()
    report = ingest.import_paths(database, settings, paths)
    if as_json:
        _print_outcomes(report.outcomes)
        return
    new = report.new
    console.print(
        f"Read {len(report.outcomes)} message(s): {len(new)} new, "
        f"{report.duplicates} already stored. Of the new: {report.filed} filed, "
        f"{len(report.unmatched)} unmatched, {len(report.parse_errors)} could not be parsed."
    )
    for o in report.parse_errors:
        console.print(f"  #{o.stored_id}: kept unparsed: {o.parse_error}", markup=False)
    if report.unmatched:
        console.print(
            "See them with `foibot inbox unmatched`; file one with `foibot inbox assign`."
        )


@app.command("poll")
def poll(
    ctx: typer.Context,
    as_json: bool = typer.Option(
        False, "--json", help="Print a JSON array, one object per message read."
    ),
) -> None:
    """Read new mail from the mailbox once ([imap], or [inbox] maildir) and file it.

    Only mail not read before is fetched, without marking it read; each message is
    stored before the mailbox is touched (flag or move, if configured). If the server
    goes away mid-way, what was stored stays stored and the next poll goes on from there.
    """
    from foibot.services.poll import poll_once

    database, settings = state(ctx).database(), state(ctx).settings
    freeze_startup_heap()
    report = poll_once(database, settings)
    if report.error is not None and not report.outcomes:
        raise report.error
    if as_json:
        _print_outcomes(report.outcomes)
    else:
        console.print(report.summary(), markup=False)
        for o in report.outcomes:
            if o.parse_error and not o.duplicate:
                console.print(f"  #{o.stored_id}: kept unparsed: {o.parse_error}", markup=False)
        if report.unmatched:
            console.print(
                "See them with `foibot inbox unmatched`; file one with `foibot inbox assign`."
            )
    if report.error is not None:
        raise report.error  # after the summary of what was stored: one line, non-zero exit


@app.command("unmatched")
def unmatched(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print a JSON array."),
) -> None:
    """List incoming messages not filed under any request, with up to three
    suggestions each and why."""
    views = ingest.list_unmatched(state(ctx).database(), state(ctx).settings)
    if as_json:
        print_json([v.as_json() for v in views])
        return
    if not views:
        console.print("No unmatched messages.")
        return
    table = Table("#", "Date", "From", "Subject", "Kind", "Suggestions")
    for v in views:
        if v.parse_error:
            hint = f"could not be parsed: {v.parse_error}"
        else:
            lines = [
                f"{s['request']} ({s['authority']}): {'; '.join(s['why'])}" for s in v.suggestions
            ]
            hint = "\n".join(lines) or "none"
            if v.conflict:
                hint = "conflicting signals\n" + hint
        table.add_row(
            str(v.id),
            (v.date or "")[:10],
            v.from_addr or "",
            v.subject or "",
            v.kind or "",
            hint,
        )
    console.print(table)
    console.print(f"{len(views)} unmatched. File one with `foibot inbox assign MESSAGE REFERENCE`.")


@app.command("assign")
def assign(
    ctx: typer.Context,
    message: str = typer.Argument(
        ..., help="The message: its number (#) from `inbox unmatched`, or its Message-ID."
    ),
    reference: str = typer.Argument(..., help="Our reference of the request, e.g. FB-7K3M9Q5."),
) -> None:
    """File a message under a request by hand, and learn from it: the sender's domain
    (for that authority) and the authority's own reference, so that later mail like it
    is filed automatically."""
    report = ingest.assign_message(state(ctx).database(), state(ctx).settings, message, reference)
    moved = (
        f" (was {report.previous})" if report.previous and report.previous != report.request else ""
    )
    console.print(
        f"Message #{report.message} filed under {report.request} ({report.authority}){moved}.",
        markup=False,
    )
    if report.learned_domain:
        console.print(f"Learned: mail from {report.learned_domain} is {report.authority}'s.")
    if report.domain_note:
        console.print(f"Note: {report.domain_note}", markup=False)
    if report.learned_references:
        console.print(
            f"Learned their reference(s): {', '.join(report.learned_references)}.", markup=False
        )
