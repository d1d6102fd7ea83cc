"""The `foibot` command line: a thin layer over ``foibot.services``.

Errors foibot knows about (``FoibotError``) become one line on stderr and the error's
exit code; usage errors exit 2; anything unexpected is one line too (the traceback only
with FOIBOT_DEBUG=1), so no traceback reaches a user by accident.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
import typer

from foibot import __version__
from foibot.cli import authorities, campaign, db, deadline, demo, digest, messages, review, run
from foibot.cli import inbox as inbox_cli
from foibot.cli import requests as requests_cli
from foibot.cli import results as results_cli
from foibot.cli.common import AppState, err_console
from foibot.errors import FoibotError

app = typer.Typer(
    name="foibot",
    help="Run Freedom of Information campaigns against UK public authorities by email: "
    "send templated requests, file and classify the replies, keep the statutory clocks.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        print(f"foibot {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    config: Path | None = typer.Option(
        None,
        "--config",
        "-c",
        metavar="PATH",
        help="Config file (else $FOIBOT_CONFIG, else ./config/foibot.toml).",
    ),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """foibot: FOI campaigns by email."""
    ctx.obj = AppState(config_path=config)
    ctx.call_on_close(ctx.obj.close)


app.command("deadline")(deadline.deadline)
app.command("demo")(demo.demo)
app.command("digest")(digest.digest)
app.command("run")(run.run)
app.add_typer(authorities.app, name="authorities")
app.add_typer(campaign.app, name="campaign")
app.add_typer(db.app, name="db")
app.add_typer(inbox_cli.app, name="inbox")
app.add_typer(requests_cli.app, name="requests")
app.add_typer(messages.app, name="messages")
app.add_typer(review.app, name="review")
app.command("calendar")(results_cli.calendar)
campaign.app.command("questions")(results_cli.questions)
campaign.app.command("export")(results_cli.export)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `foibot` console script and `python -m foibot`."""
    try:
        code = app(args=argv, prog_name="foibot", standalone_mode=False)
    except click.exceptions.UsageError as exc:
        hint = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx else ""
        err_console.print(f"foibot: error: {exc.format_message()}{hint}", markup=False)
        sys.exit(2)
    except click.exceptions.Abort:
        err_console.print("foibot: aborted")
        sys.exit(130)
    except FoibotError as exc:
        err_console.print(f"foibot: error: {exc}", markup=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err_console.print("foibot: interrupted")
        sys.exit(130)
    except Exception as exc:
        if os.environ.get("FOIBOT_DEBUG"):
            raise
        err_console.print(
            f"foibot: internal error: {type(exc).__name__}: {exc} "
            "(set FOIBOT_DEBUG=1 to see the traceback, and please report it)",
            markup=False,
            soft_wrap=True,
        )
        sys.exit(70)
    sys.exit(code if isinstance(code, int) else 0)
