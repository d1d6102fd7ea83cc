"""`foibot requests ...`: every request's status, outcome and clocks."""

from __future__ import annotations

from datetime import date

import typer
from rich import box
from rich.table import Table

from foibot.cli.common import console, parse_iso_date, print_json, state
from foibot.services import requests as service
from foibot.services.requests import RequestView

app = typer.Typer(help="List and inspect requests, and correct their status.", no_args_is_help=True)

AS_OF = typer.Option(
    None,
    "--as-of",
    metavar="DATE",
    help="Work the clocks out as of this date (YYYY-MM-DD) instead of today.",
)


def _day(as_of: str | None) -> date | None:
    return parse_iso_date(as_of, "--as-of date") if as_of else None


@app.command("list")
def list_(
    ctx: typer.Context,
    campaign: str | None = typer.Option(None, "--campaign", help="Only this campaign."),
    status: str | None = typer.Option(
        None,
        "--status",
        help="Only this status: queued, awaiting_response, "
        "awaiting_clarification, delivery_failed, responded, review_requested, "
        "review_responded, withdrawn, closed.",
    ),
    overdue: bool = typer.Option(
        False, "--overdue", help="Only requests (or reviews) past their due date."
    ),
    due_within: int | None = typer.Option(
        None, "--due-within", metavar="N", min=0, help="Only open requests due within N days."
    ),
    as_of: str | None = AS_OF,
    as_json: bool = typer.Option(False, "--json", help="Print a JSON array."),
) -> None:
    """List requests with their status, outcome and response due date.

    Statuses and clocks are worked out from each request's events and the working-day
    calendar of its regime every time, so they are never stale.
    """
    views = service.list_requests(
        state(ctx).database(),
        today=_day(as_of),
        campaign=campaign,
        status=status,
        overdue=overdue,
        due_within=due_within,
    )
    if as_json:
        print_json([v.as_json() for v in views])
        return
    if not views:
        console.print("No requests match.")
        return
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("Reference", no_wrap=True, min_width=10)
    table.add_column("Authority", ratio=1)
    table.add_column("Status", ratio=1)
    table.add_column("Due", no_wrap=True, min_width=10)
    table.add_column("Late", no_wrap=True, justify="right")
    table.add_column("Review by", no_wrap=True, min_width=10)
    for v in views:
        s = v.state
        status = s.status.value.replace("_", " ")
        if s.outcome:
            status += f": {s.outcome.value.replace('_', ' ')}"
        table.add_row(
            v.reference,
            v.authority,
            status,
            s.due.isoformat() if s.due else ("paused" if s.clock_paused_since else ""),
            f"{v.days_late} WD" if v.days_late else "",
            s.review_request_deadline.isoformat() if s.review_request_deadline else "",
        )
    console.print(table)
    console.print(f"{len(views)} requests.")


@app.command()
def show(
    ctx: typer.Context,
    reference: str = typer.Argument(..., metavar="REF", help="Our reference, e.g. FB-7K3M9Q5."),
    as_of: str | None = AS_OF,
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Show one request: authority, their references, status, every clock, the messages."""
    view = service.show_request(state(ctx).database(), reference, today=_day(as_of))
    if as_json:
        print_json(view.as_json(with_events=True))
        return
    _print_view(view)


@app.command("set")
def set_(
    ctx: typer.Context,
    reference: str = typer.Argument(..., metavar="REF", help="Our reference."),
    status: str | None = typer.Option(
        None, "--status", help="New status, e.g. closed, withdrawn, responded."
    ),
    outcome: str | None = typer.Option(
        None, "--outcome", help="successful, partially_successful, not_held or refused."
    ),
    note: str | None = typer.Option(None, "--note", help="Why (kept with the correction)."),
) -> None:
    """Correct a request's status or outcome by hand. The correction is recorded as an
    event, so it can be seen in `requests show` and undone by another correction."""
    view = service.set_request(
        state(ctx).database(), reference, status=status, outcome=outcome, note=note
    )
    s = view.state
    console.print(
        f"{view.reference}: status {s.status.value}"
        + (f", outcome {s.outcome.value}" if s.outcome else "")
        + "."
    )


def _print_view(v: RequestView) -> None:
    s = v.state

    def d(x: date | None) -> str:
        return f"{x:%a %d %b %Y}" if x else "-"

    console.print(
        f"[bold]{v.reference}[/bold]  {v.authority} <{v.authority_email}>  "
        f"({v.regime.short_name}, campaign {v.campaign})"
    )
    if v.their_references:
        console.print(f"Their reference(s): {', '.join(v.their_references)}")
    line = f"Status: {s.status.value}"
    if s.outcome:
        line += f", outcome {s.outcome.value}"
    if s.sections:
        line += f" (cites {', '.join(s.sections)})"
    console.print(line)
    rows = [
        ("Received (day 0)", d(s.received)),
        (
            "Response due",
            d(s.due)
            + (" (extended)" if s.extended else "")
            + (f" (paused since {d(s.clock_paused_since)})" if s.clock_paused_since else "")
            + (f" ({v.days_late} working days late)" if v.days_late else ""),
        ),
        (
            "Responded",
            d(s.responded_on)
            + ("" if s.on_time is None else (" on time" if s.on_time else " late")),
        ),
        ("Ask for review by", d(s.review_request_deadline)),
        ("Review requested", d(s.review_requested_on)),
        (
            "Review answer due",
            d(s.review_response_due) + (" (overdue)" if s.review_overdue else ""),
        ),
        ("Review answered", d(s.review_responded_on)),
        ("Complain to regulator by", d(s.regulator_deadline)),
    ]
    table = Table(show_header=False, box=None)
    for label, value in rows:
        table.add_row(label, value)
    console.print(table)
    for note in s.notes:
        console.print(f"Note: {note}")
    if v.messages:
        console.print("Messages:")
        for m in v.messages:
            when = f"{m.date:%Y-%m-%d %H:%M}" if m.date else "?"
            arrow = "->" if m.direction == "out" else "<-"
            what = m.kind if m.direction == "in" else f"{m.purpose or 'request'} ({m.send_state})"
            console.print(f"  {when} {arrow} {what}: {m.subject or ''}", markup=False)


@app.command()
def record(
    ctx: typer.Context,
    reference: str = typer.Argument(..., metavar="REF", help="Our reference."),
    event: str = typer.Argument(
        ...,
        metavar="EVENT",
        help="clarification_sent, fee_paid, review_requested, withdrawn, closed, sent, "
        "acknowledged, response, review_response or extension_notice.",
    ),
    on: str | None = typer.Option(
        None, "--on", metavar="DATE", help="When it happened (YYYY-MM-DD; default today)."
    ),
    outcome: str | None = typer.Option(
        None,
        "--outcome",
        help="For response / "
        "review_response: successful, partially_successful, "
        "not_held or refused.",
    ),
    new_due: str | None = typer.Option(
        None, "--new-due", metavar="DATE", help="For extension_notice: the date they gave."
    ),
    note: str | None = typer.Option(None, "--note", help="A note kept with the event."),
) -> None:
    """Record something that happened outside foibot's mailbox, such as a clarification
    you sent from another account (the 20 working days restart), a fee you paid (the
    paused clock resumes), or a withdrawal."""
    view = service.record_event(
        state(ctx).database(),
        reference,
        event,
        on=parse_iso_date(on, "--on date") if on else None,
        outcome=outcome,
        new_due=parse_iso_date(new_due, "--new-due date") if new_due else None,
        note=note,
    )
    s = view.state
    due = f", response due {s.due}" if s.due else ""
    console.print(f"{view.reference}: recorded {event}; status {s.status.value}{due}.")
