"""`foibot messages ...`: correct how a reply was classified."""

from __future__ import annotations

import typer

from foibot.cli.common import console, state
from foibot.services import events

app = typer.Typer(help="Correct the classification of incoming messages.", no_args_is_help=True)


@app.command()
def reclassify(
    ctx: typer.Context,
    message: str = typer.Argument(
        ...,
        metavar="MESSAGE",
        help="The message's number (from `requests show` or `inbox unmatched`) or its Message-ID.",
    ),
    kind: str = typer.Option(
        ...,
        "--kind",
        help="acknowledgement, auto_reply, bounce, "
        "clarification_request, extension_notice, fee_notice, response, "
        "review_acknowledgement, review_response or other.",
    ),
    outcome: str | None = typer.Option(
        None,
        "--outcome",
        help="For a response: successful, partially_successful, not_held or refused.",
    ),
) -> None:
    """Set a message's kind (and outcome) by hand.

    The events the message had added to its request are superseded by the corrected
    ones, so the request's status and clocks follow the correction.
    """
    m = events.reclassify_message(state(ctx).database(), message, kind=kind, outcome=outcome)
    extra = f", outcome {m.outcome}" if m.outcome else ""
    console.print(f"Message {m.id} is now {m.kind}{extra}.")
