"""`foibot db ...`: the database schema."""

from __future__ import annotations

import typer

from foibot.cli.common import console, print_json, state
from foibot.store import migrate

app = typer.Typer(help="Create or upgrade the database schema.", no_args_is_help=True)


@app.command()
def upgrade(ctx: typer.Context) -> None:
    """Create the schema in an empty database, or bring an existing one up to date.

    The database is `database_url` from the config file, or FOIBOT_DATABASE_URL.
    Safe to run any number of times.
    """
    db = state(ctx).database(create=False)
    before = migrate.current_revision(db)
    migrate.upgrade(db)
    after = migrate.current_revision(db)
    if before == after:
        console.print(f"Database {db.safe_url} is up to date (schema {after}).")
    else:
        console.print(f"Database {db.safe_url} upgraded: {before or 'empty'} -> {after}.")


@app.command()
def status(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Show which database is used and whether its schema is current."""
    db = state(ctx).database(create=False)
    current, head = migrate.current_revision(db), migrate.head_revision(db)
    if as_json:
        print_json(
            {
                "database": db.safe_url,
                "current": current,
                "head": head,
                "up_to_date": current == head,
            }
        )
        return
    verdict = "up to date" if current == head else "needs `foibot db upgrade`"
    console.print(f"Database {db.safe_url}: schema {current or 'none'} ({verdict}).")
