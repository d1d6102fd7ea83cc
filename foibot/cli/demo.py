"""`foibot demo`: see the whole pipeline work, in a sandbox."""

from __future__ import annotations

from pathlib import Path

import typer

from foibot.cli.common import console


def demo(
    folder: Path | None = typer.Option(
        None,
        "--dir",
        metavar="PATH",
        help="Where to put the sandbox (default: a new "
        "temporary folder, kept so you can look at it).",
    ),
) -> None:
    """Run a self-contained demo: no mail account, no network, under a minute.

    It starts a local SMTP server and a Maildir inbox, loads a dozen example councils,
    sends them a campaign, plays the councils' replies over five simulated weeks
    (acknowledgements, an out-of-office, a bounce, a clarification request, responses,
    an s12 refusal, an extension, a case-system reply, one council that never answers),
    then polls, files, classifies, works out the clocks, drafts two internal reviews and
    writes the weekly digest. It prints each step and where to look.
    """
    if folder is not None and folder.exists() and any(folder.iterdir()):
        from foibot.errors import UserInputError

        raise UserInputError(f"{folder} is not empty; give an empty or new folder to --dir")
    from foibot.demo import run_demo  # imported here: it brings in the SMTP server

    run_demo(folder, say=lambda line: console.print(line, highlight=False))
