"""`foibot run`: the daemon."""

from __future__ import annotations

import typer

from foibot.cli.common import state
from foibot.errors import UserInputError
from foibot.heap import freeze_startup_heap


def run(
    ctx: typer.Context,
    log_format: str = typer.Option(
        "text",
        "--log-format",
        metavar="text|json",
        help="Log lines on stderr: human-readable text, or JSON lines for a log collector.",
    ),
    log_level: str = typer.Option(
        "info", "--log-level", metavar="LEVEL", help="debug, info, warning or error."
    ),
) -> None:
    """Run foibot as a daemon: poll the inbox (IMAP IDLE where offered), send what the
    outbox holds at the campaign pace, check the clocks daily and mail the weekly digest.

    Stop it with SIGTERM or Ctrl-C: it finishes the unit of work in hand and exits 0.
    `config/foibot.service` is a systemd unit for it.
    """
    if log_format not in ("text", "json"):
        raise UserInputError(f"--log-format must be text or json, not {log_format!r}")
    if log_level.lower() not in ("debug", "info", "warning", "error"):
        raise UserInputError(
            f"--log-level must be debug, info, warning or error, not {log_level!r}"
        )
    from foibot.daemon import Daemon, configure_logging  # the scheduler, only when run

    configure_logging(log_format, log_level)
    app_state = state(ctx)
    daemon = Daemon(app_state.database(), app_state.settings)
    freeze_startup_heap()
    raise typer.Exit(daemon.run_forever())
