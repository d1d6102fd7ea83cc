"""`foibot digest`: the weekly summary, printed, previewed or mailed."""

from __future__ import annotations

from pathlib import Path

import typer

from foibot.cli.common import console, parse_iso_date, state
from foibot.services import digest as service
from foibot.store.db import utcnow
from foibot.timezone import local_date


def digest(
    ctx: typer.Context,
    preview: Path | None = typer.Option(
        None,
        "--preview",
        metavar="PATH",
        help="Write the HTML digest to PATH (and the text "
        "part beside it, .txt) to open in a browser.",
    ),
    send: bool = typer.Option(
        False,
        "--send",
        help="Mail the digest now to the [digest] "
        "recipients (the daemon sends it weekly by itself).",
    ),
    since: str | None = typer.Option(
        None,
        "--since",
        metavar="DATE",
        help="Count new responses from this date (default: 7 days ago).",
    ),
    as_of: str | None = typer.Option(
        None, "--as-of", metavar="DATE", help="Work the clocks out as of this date."
    ),
) -> None:
    """Show the weekly digest: per campaign, counts by status and outcome, new responses,
    overdue requests, responses due soon, review windows closing, reviews awaiting an
    answer, delivery failures, and the unmatched messages waiting for you.

    With no option the text digest is printed.
    """
    app_state = state(ctx)
    db = app_state.database()
    settings = app_state.settings
    since_day = parse_iso_date(since, "--since date") if since else None
    today = parse_iso_date(as_of, "--as-of date") if as_of else local_date(utcnow())
    if send:
        outcome = service.send_due_digest(db, settings, force=True, since=since_day)
        console.print(
            f"Digest sent to {', '.join(outcome.recipients)}: {outcome.subject}", markup=False
        )
        return
    if preview is not None:
        service.preview(db, settings, preview, today=today, since=since_day)
        console.print(f"Wrote {preview} (and {preview.with_suffix('.txt')}).", markup=False)
        return
    from datetime import timedelta

    rendered = service.render(
        service.collect(db, today=today, since=since_day or today - timedelta(days=7)), settings
    )
    console.print(rendered.text, markup=False, highlight=False)
