"""`foibot authorities ...`: the public authorities campaigns write to."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from foibot.cli.common import console, print_json, state
from foibot.services import authorities as service

app = typer.Typer(help="Import and list public authorities.", no_args_is_help=True)


@app.command("import")
def import_(
    ctx: typer.Context,
    file: Path = typer.Argument(
        ...,
        help="CSV with columns name, email [, nation, regime, domains, gss_code].",
        show_default=False,
    ),
) -> None:
    """Import authorities from a CSV file (re-importing updates them, matched by email).

    Columns: name and email are required; nation (England, Wales, Scotland, Northern
    Ireland; default England); regime (foia or foisa; default from the nation); domains
    (extra sender domains, separated by ';'); gss_code. Every row is checked first: if
    any row is bad, all bad rows are listed with their line numbers and nothing is
    imported.
    """
    report = service.import_authorities(state(ctx).database(), file)
    console.print(
        f"Imported {file}: {len(report.created)} new, {len(report.updated)} updated, "
        f"{len(report.unchanged)} unchanged."
    )


@app.command("list")
def list_(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print a JSON array."),
) -> None:
    """List the authorities, with their nation, regime and known mail domains."""
    rows = service.list_authorities(state(ctx).database())
    if as_json:
        print_json([r.as_json() for r in rows])
        return
    if not rows:
        console.print("No authorities yet: `foibot authorities import FILE.csv` adds them.")
        return
    table = Table("Name", "Email", "Nation", "Regime", "Domains")
    for r in rows:
        table.add_row(r.name, r.email, r.nation, r.regime.upper(), ", ".join(r.domains))
    console.print(table)
    console.print(f"{len(rows)} authorities.")
