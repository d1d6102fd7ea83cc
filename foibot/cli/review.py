"""`foibot review ...`: internal review requests."""

from __future__ import annotations

from pathlib import Path

import typer

from foibot.cli.common import console, state
from foibot.services import review as service

GROUND = typer.Option(
    None,
    "--ground",
    metavar="late|refused|partial|not-held|other",
    help="Why you ask for a review (default: from the request's state).",
)
NOTE = typer.Option(None, "--note", help="A paragraph of your own to add.")

app = typer.Typer(help="Draft and send internal review requests.", no_args_is_help=True)


@app.command()
def draft(
    ctx: typer.Context,
    reference: str = typer.Argument(..., metavar="REF", help="Our reference, e.g. FB-7K3M9Q5."),
    ground: str | None = GROUND,
    note: str | None = NOTE,
    save: bool = typer.Option(
        False,
        "--save",
        help="Save the draft as an .eml file to edit "
        "in a mail client (in storage_dir/drafts, or --out).",
    ),
    out: Path | None = typer.Option(
        None, "--out", metavar="PATH", help="With --save: the file or folder to write."
    ),
    force: bool = typer.Option(
        False,
        "--force",
        help="Draft even when the review window has closed (authorities may accept late requests).",
    ),
) -> None:
    """Draft an internal review request and print it.

    The ground defaults from the request: no response by the due date -> late; refused
    -> challenge each cited section; not held -> ask which searches were made; partly
    answered -> partial. Letters come from templates/reviews/GROUND.txt.j2. The draft is
    addressed to the review address in the authority's response if there was one.
    """
    settings = state(ctx).settings
    result = service.draft_review(
        state(ctx).database(), settings, reference, ground=ground, note=note, force=force
    )
    console.print(f"To: {result.to_name} <{result.to_addr}>", markup=False)
    console.print(f"Subject: {result.mail.subject}", markup=False)
    console.print("")
    console.print(result.mail.body, markup=False)
    console.print(
        f"[dim]Ground: {result.ground.value}; the authority should answer by "
        f"{result.answer_due:%d %B %Y} if sent today.[/dim]"
    )
    if save:
        if out is None and settings.imap_ is not None:
            folder = service.save_draft_imap(result, settings)
            console.print(
                f"Saved the draft in your IMAP folder {folder!r}: edit it there, "
                "and send it from your mail client or with `foibot review send`.",
                markup=False,
            )
        else:
            target = service.save_draft_eml(result, out or settings.storage_dir / "drafts")
            console.print(f"Saved the draft to {target}", markup=False)


@app.command()
def send(
    ctx: typer.Context,
    reference: str = typer.Argument(..., metavar="REF", help="Our reference, e.g. FB-7K3M9Q5."),
    ground: str | None = GROUND,
    note: str | None = NOTE,
    edited: Path | None = typer.Option(
        None,
        "--from-file",
        metavar="FILE.eml",
        help="Send the subject and text of a draft you edited (saved with `review draft --save`).",
    ),
    force: bool = typer.Option(
        False, "--force", help="Send even when the review window has closed."
    ),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Send the internal review request through the outbox and start the review clock.

    The letter is the one `review draft` shows (or your edited .eml with --from-file).
    It goes out exactly once, threaded to the authority's response, and the date the
    server accepts it starts the authority's review deadline.
    """
    app_state = state(ctx)
    settings = app_state.settings
    db = app_state.database()
    result = service.draft_review(db, settings, reference, ground=ground, note=note, force=force)
    if edited is not None:
        result = service.edited_draft(result, edited, settings)
    if not yes:
        import sys

        if not sys.stdin.isatty():
            from foibot.errors import UserInputError

            raise UserInputError("not a terminal: add --yes to send without confirmation")
        console.print(
            f"To: {result.to_name} <{result.to_addr}>\nSubject: "
            f"{result.mail.subject}\n\n{result.mail.body}",
            markup=False,
        )
        typer.confirm("Send this review request now?", abort=True)
    report = service.send_review(db, settings, result)
    if report.sent:
        console.print(
            f"Sent the review request for {result.reference} to {result.to_addr}; "
            f"the authority should answer by {result.answer_due:%d %B %Y}.",
            markup=False,
        )
    elif report.error is not None:
        from foibot.errors import TransportError

        raise TransportError(
            f"the review request is queued but could not be sent yet: {report.error}"
        )
    else:
        console.print(
            f"The review request for {result.reference} is queued; it will go "
            "at the next send (e.g. by the daemon).",
            markup=False,
        )
