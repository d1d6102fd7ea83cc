"""`foibot campaign ...`: create, preview, send, list and inspect campaigns."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from zoneinfo import ZoneInfo

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from foibot.cli.common import console, err_console, print_json, state
from foibot.domain.request_status import request_status
from foibot.errors import UserInputError
from foibot.services import campaigns as service
from foibot.services.outbox import Listener, OutboxEvent, OutboxItem, Recovery

app = typer.Typer(
    help="Create, preview and send campaigns: one templated request to many authorities.",
    no_args_is_help=True,
)

LONDON = ZoneInfo("Europe/London")


def _local(at: datetime) -> str:
    return at.astimezone(LONDON).strftime("%a %d %b %Y %H:%M %Z")


def _who(item: OutboxItem) -> str:
    return f"{item.reference or '-'} {item.authority or ''} <{item.to}>".replace("  ", " ")


@app.command("create")
def create(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="The campaign file (TOML).", show_default=False),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Render every request and report, but store nothing."
    ),
) -> None:
    """Create a campaign from a TOML file: render every authority's request and queue it.

    The file has: name (a slug), title, either body (your questions, put into the
    default FOI letter) or template (your own Jinja2 letter, a path relative to the
    file), optionally subject (a Jinja2 template), authorities ("all", a list of names,
    or filters such as { nation = ["England"] }), regime = "eir" for environmental
    information, and a [vars] table. See config/campaign.example.toml.

    Every request is rendered now, so a template mistake is reported now (with the
    template line) and nothing is stored. Nothing is sent: see `foibot campaign send`.
    """
    st = state(ctx)
    report = service.create_campaign(st.database(), st.settings, file, dry_run=dry_run)
    regimes = ", ".join(f"{k} {v}" for k, v in report.by_regime.items())
    if report.dry_run:
        console.print(
            f"Dry run: campaign {report.name!r} would queue {report.requests} requests "
            f"({regimes}); nothing stored. The first one:",
            markup=False,
        )
        console.print(_raw_text(report.sample), markup=False, highlight=False)
        return
    console.print(
        f"Created campaign {report.name!r}: {report.requests} requests queued ({regimes}).",
        markup=False,
    )
    console.print(
        f"Check them with `foibot campaign preview {report.name}`, "
        f"then send with `foibot campaign send {report.name}`.",
        markup=False,
    )


def _raw_text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace").replace("\r\n", "\n")


def _decoded_text(raw: bytes) -> str:
    msg = message_from_bytes(raw, policy=default_policy)
    assert isinstance(msg, EmailMessage)
    lines = [f"{name}: {value}" for name, value in msg.items()]
    body = msg.get_body(preferencelist=("plain",))
    text = body.get_content() if body is not None else ""
    return "\n".join(lines) + "\n\n" + text


@app.command("preview")
def preview(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The campaign's name.", show_default=False),
    authority: str | None = typer.Option(
        None, "--authority", "-a", metavar="NAME", help="Only the request to this authority."
    ),
    decoded: bool = typer.Option(
        False, "--decoded", help="Decode headers and body (quoted-printable) for reading."
    ),
) -> None:
    """Print the exact message(s) that will be sent, headers and body. Sends nothing.

    The Date header is set again at the moment each message is sent.
    """
    items = service.preview_campaign(state(ctx).database(), name, authority)
    for index, item in enumerate(items):
        if index:
            console.print()
        console.print(
            f"----- {item.reference} to {item.authority} <{item.email}> "
            f"[{request_status(item.send_state)}] -----",
            markup=False,
        )
        text = _decoded_text(item.raw) if decoded else _raw_text(item.raw)
        console.print(text.rstrip("\n"), markup=False, highlight=False)


@app.command("list")
def list_(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print a JSON array."),
) -> None:
    """List the campaigns with their request counts by status."""
    rows = service.list_campaigns(state(ctx).database())
    if as_json:
        print_json([r.as_json() for r in rows])
        return
    if not rows:
        console.print("No campaigns yet: `foibot campaign create FILE.toml` makes one.")
        return
    table = Table("Name", "Title", "Created", "Requests", "Queued", "Sent", "Failed", "Uncertain")
    for r in rows:
        table.add_row(
            r.name,
            r.title,
            f"{r.created_at:%Y-%m-%d}",
            str(r.total),
            str(r.counts["queued"]),
            str(r.counts["awaiting_response"]),
            str(r.counts["delivery_failed"]),
            str(r.counts["uncertain"]),
        )
    console.print(table)


@app.command("status")
def status(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The campaign's name.", show_default=False),
    as_json: bool = typer.Option(
        False,
        "--json",
        help="Print one JSON object: campaign, counts, requests (reference, authority, "
        "authority_email, status, message_id ...).",
    ),
) -> None:
    """Show a campaign's requests and how many are in each status."""
    result = service.campaign_status(state(ctx).database(), name)
    if as_json:
        print_json(result.as_json())
        return
    console.print(f"Campaign {result.name}: {result.title}", markup=False)
    console.print(_counts_line(result.counts), markup=False)
    table = Table("Reference", "Authority", "Status", "Sent", "Note")
    for r in result.requests:
        table.add_row(
            r.reference,
            r.authority,
            r.status,
            _local(r.sent_at) if r.sent_at else "",
            r.last_error or "",
        )
    console.print(table)
    if result.uncertain:
        _print_uncertain(result.name, [r.reference for r in result.uncertain])


def _counts_line(counts: dict[str, int]) -> str:
    return ", ".join(f"{status.replace('_', ' ')} {n}" for status, n in counts.items())


def _print_uncertain(name: str, references: list[str]) -> None:
    console.print(
        f"Uncertain, NOT resent: {', '.join(references)}. The connection broke between "
        "the end of the message and the server's reply, so it may have been delivered. "
        "Check your Sent folder (or ask the authority), then run "
        f"`foibot campaign resolve {name} REF --delivered` or `--resend` "
        f"(or `foibot campaign send {name} --resend-uncertain` to resend them all).",
        markup=False,
        soft_wrap=True,
    )


@app.command("resolve")
def resolve(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The campaign's name.", show_default=False),
    references: list[str] = typer.Argument(
        ..., metavar="REF...", help="Uncertain request references.", show_default=False
    ),
    delivered: bool = typer.Option(
        False, "--delivered", help="It did go out (e.g. it is in your Sent folder)."
    ),
    resend: bool = typer.Option(
        False, "--resend", help="It did not go out: send it again on the next `send`."
    ),
) -> None:
    """Settle uncertain requests after checking whether they were delivered."""
    if delivered == resend:
        raise UserInputError("say what happened: --delivered or --resend (one of them)")
    done = service.resolve_uncertain(state(ctx).database(), name, references, delivered=delivered)
    verdict = "marked as sent" if delivered else "queued to be sent again"
    console.print(f"{', '.join(done)}: {verdict}.", markup=False)


@app.command("send")
def send(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The campaign's name.", show_default=False),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would be sent; send nothing."),
    limit: int | None = typer.Option(
        None, "--limit", "-n", min=1, metavar="N", help="Send at most N requests in this run."
    ),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    ignore_window: bool = typer.Option(
        False, "--ignore-window", help="Send even outside the [sending] window."
    ),
    resend_uncertain: bool = typer.Option(
        False,
        "--resend-uncertain",
        help="Send the uncertain requests again (only after checking they did not arrive).",
    ),
    retry_failed: bool = typer.Option(
        False, "--retry-failed", help="Try the requests whose delivery failed once more."
    ),
) -> None:
    """Send a campaign's queued requests, one per authority, each exactly once.

    Requests are paced ([sending] rate_per_minute) and sent only inside the sending
    window ([sending] window) unless --ignore-window. A run can be interrupted at any
    point (even kill -9) and run again: nothing is sent twice. A request whose outcome
    is unknown (the connection broke after the message, before the server's reply) is
    reported as uncertain and never resent without you saying so.
    """
    st = state(ctx)
    db, settings = st.database(), st.settings
    if not dry_run:
        _print_recovery(service.recover_interrupted(db))
    plan = service.plan_send(db, settings, name, limit=limit, ignore_window=ignore_window)
    extra = (len(plan.uncertain) if resend_uncertain else 0) + (plan.failed if retry_failed else 0)
    total = plan.queued + extra
    if dry_run:
        _print_plan(plan, limit, extra)
        return
    if total == 0:
        console.print(
            f"Nothing to send in campaign {plan.name!r}: {plan.already_sent} already sent, "
            f"{plan.failed} failed, {len(plan.uncertain)} uncertain.",
            markup=False,
        )
        if plan.uncertain:
            _print_uncertain(plan.name, plan.uncertain)
        return
    if not plan.window_open and plan.window_opens_at is not None:
        console.print(
            "Outside the sending window ([sending] window): it opens "
            f"{_local(plan.window_opens_at)}. Nothing sent; run this again then, "
            "or add --ignore-window.",
            markup=False,
        )
        return
    to_send = min(total, limit) if limit else total
    if not yes:
        if not sys.stdin.isatty():
            raise UserInputError("refusing to send without confirmation: not a terminal; add --yes")
        smtp = settings.smtp
        if not typer.confirm(
            f"Send {to_send} request(s) of campaign {plan.name!r} from "
            f"{settings.sender.name} <{settings.sender.address}> via {smtp.host}:{smtp.port}?",
            default=False,
        ):
            console.print("Nothing sent.")
            raise typer.Exit(1)
    with _progress(to_send) as listener:
        summary = service.send_campaign(
            db,
            settings,
            name,
            limit=limit,
            ignore_window=ignore_window,
            resend_uncertain=resend_uncertain,
            retry_failed=retry_failed,
            listener=listener,
        )
    _print_summary(summary, limit)
    if summary.report.error is not None:
        raise summary.report.error


def _print_recovery(recovery: Recovery) -> None:
    for item in recovery.requeued:
        console.print(f"retried after interruption: {_who(item)}", markup=False)
    for item in recovery.uncertain:
        console.print(
            f"UNCERTAIN (interrupted after the end of the message): {_who(item)}", markup=False
        )


def _print_plan(plan: service.SendPlan, limit: int | None, extra: int) -> None:
    console.print(
        f"Dry run, campaign {plan.name!r}: {plan.ready} ready, {plan.waiting} waiting to "
        f"retry, {plan.already_sent} already sent, {plan.failed} failed, "
        f"{len(plan.uncertain)} uncertain. Nothing sent.",
        markup=False,
    )
    if extra:
        console.print(f"(--resend-uncertain/--retry-failed would add {extra}.)", markup=False)
    if not plan.window_open and plan.window_opens_at is not None:
        console.print(
            f"Outside the sending window: it opens {_local(plan.window_opens_at)}.",
            markup=False,
        )
    shown = plan.next_items
    if shown:
        console.print(
            f"Would send{f' (at most {limit})' if limit else ''}:",
            markup=False,
        )
    for item in shown:
        console.print(f"  {_who(item)}  {item.detail or ''}", markup=False)


def _print_summary(summary: service.SendSummary, limit: int | None) -> None:
    report = summary.report
    if report.error is not None and not (report.sent or report.failed or report.uncertain):
        return  # the error line says it all
    status = summary.status
    console.print(
        f"Campaign {status.name}: sent {len(report.sent)}, failed {len(report.failed)}, "
        f"uncertain {len(report.uncertain)}, skipped {summary.already_sent} (already sent), "
        f"remaining {summary.remaining}.",
        markup=False,
    )
    if summary.resent_uncertain:
        console.print(
            f"Resent after an uncertain attempt: {', '.join(summary.resent_uncertain)}",
            markup=False,
        )
    for item in report.failed:
        console.print(f"FAILED {_who(item)}: {item.detail}", markup=False, soft_wrap=True)
    done = len(report.sent) + len(report.failed) + len(report.uncertain)
    if limit is not None and done >= limit and summary.remaining:
        console.print(f"Stopped after --limit {limit}.", markup=False)
    elif report.stopped == "window" and report.window_opens_at is not None:
        console.print(
            f"The sending window closed; it opens again {_local(report.window_opens_at)}.",
            markup=False,
        )
    if status.uncertain:
        _print_uncertain(status.name, [r.reference for r in status.uncertain])


@contextmanager
def _progress(total: int) -> Iterator[Listener]:
    """A progress bar on a terminal; plain lines otherwise (logs, pipes, cron)."""
    if not console.is_terminal:

        def plain(event: OutboxEvent) -> None:
            item = event.item
            if event.kind == "sent" and item:
                console.print(f"sent {_who(item)}", markup=False)
            elif event.kind == "failed" and item:
                console.print(f"FAILED {_who(item)}: {item.detail}", markup=False)
            elif event.kind == "uncertain" and item:
                console.print(f"UNCERTAIN {_who(item)}: {item.detail}", markup=False)
            elif event.kind == "retry" and item:
                console.print(
                    f"will retry {_who(item)} in {event.seconds or 0:.0f} s: {item.detail}",
                    markup=False,
                )
            elif event.kind == "recovered" and item:
                console.print(f"retried after interruption: {_who(item)}", markup=False)
            elif event.kind == "found_uncertain" and item:
                console.print(f"UNCERTAIN (interrupted): {_who(item)}", markup=False)
            elif event.kind == "waiting" and event.reason == "retry":
                console.print(f"waiting {event.seconds or 0:.0f} s to retry", markup=False)

        yield plain
        return
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[note]}"),
        console=console,
        transient=False,
    )
    task = progress.add_task("Sending", total=total, note="")

    def bar(event: OutboxEvent) -> None:
        item = event.item
        if event.kind in ("sent", "failed", "uncertain"):
            progress.advance(task)
        if event.kind == "sent" and item:
            progress.update(task, note=f"sent {item.reference} {item.authority or ''}")
        elif event.kind in ("failed", "uncertain") and item:
            progress.console.print(f"{event.kind.upper()} {_who(item)}: {item.detail}")
        elif event.kind == "retry" and item:
            progress.update(task, note=f"{item.reference}: retry in {event.seconds or 0:.0f} s")
        elif event.kind == "waiting":
            progress.update(task, note=f"next in {event.seconds or 0:.0f} s ({event.reason})")

    with progress:
        yield bar


__all__ = ["app", "err_console"]
