"""`foibot deadline`: one statutory clock, worked out from a start date."""

from __future__ import annotations

import typer

from foibot.cli.common import console, parse_iso_date, print_json
from foibot.domain.clocks import ClockKind, ClockNotApplicable, Deadline
from foibot.domain.clocks import deadline as compute
from foibot.domain.regimes import Regime
from foibot.errors import UserInputError

_REGIMES = "|".join(r.value for r in Regime)
_CLOCKS = "|".join(c.value for c in ClockKind)


def deadline(
    date: str = typer.Argument(
        ...,
        metavar="DATE",
        show_default=False,
        help="Start date, YYYY-MM-DD: the day the request was received (response, "
        "extension), the response date (review-request), the day the review request was "
        "received (review-response), or the review outcome (regulator).",
    ),
    regime: str = typer.Option(
        "foia",
        "--regime",
        "-r",
        metavar=_REGIMES,
        help="foia (FOIA 2000), eir (EIR 2004), foisa (FOISA 2002, Scotland), "
        "eisr (EISR 2004, Scotland).",
    ),
    clock: str = typer.Option("response", "--clock", "-k", metavar=_CLOCKS, help="Which clock."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Work out a statutory deadline on the right UK working-day calendar.

    FOIA and EIR count working days on the union of bank holidays in every part of
    the UK (FOIA s.10(6)); FOISA and EISR on Scottish bank holidays only (FOISA s.73).
    The start day is day 0, even on a weekend or holiday.

    Example: foibot deadline 2020-02-11 --regime foia --clock response
    """
    start = parse_iso_date(date, "date")
    try:
        which_regime = Regime.parse(regime)
    except ValueError as exc:
        raise UserInputError(str(exc)) from None
    try:
        which_clock = ClockKind(clock.strip().lower())
    except ValueError:
        raise UserInputError(f"unknown clock {clock!r} (expected {_CLOCKS})") from None
    try:
        result = compute(start, which_regime, which_clock)
    except ClockNotApplicable as exc:
        raise UserInputError(str(exc)) from None
    except ValueError as exc:
        raise UserInputError(str(exc)) from None
    if as_json:
        print_json(deadline_json(result))
    else:
        _print_text(result)


def deadline_json(d: Deadline) -> dict[str, object]:
    return {
        "start": d.start.isoformat(),
        "regime": d.regime.value,
        "clock": d.clock.value,
        "working_days": d.working_days,
        "due": d.due.isoformat(),
        "due_weekday": d.due.strftime("%A"),
        "calendar": d.calendar_name,
        "basis": d.basis,
        "holidays_skipped": [day.isoformat() for day, _ in d.holidays_skipped],
        "holidays_skipped_named": [
            {"date": day.isoformat(), "name": name} for day, name in d.holidays_skipped
        ],
    }


def _print_text(d: Deadline) -> None:
    span = f"{d.working_days} working days" if d.working_days is not None else "the period"
    console.print(
        f"{d.regime.short_name} {d.clock.value} clock from {d.start:%A %d %B %Y} "
        f"({d.basis}): [bold]due {d.due:%A %d %B %Y}[/bold] ({d.due.isoformat()})."
    )
    console.print(f"Counted {span} on the {d.calendar_name} calendar.")
    if d.holidays_skipped:
        console.print("Holidays skipped:")
        for day, name in d.holidays_skipped:
            console.print(f"  {day.isoformat()} {day:%a}  {name}")
    elif d.working_days is not None:
        console.print("No bank holidays fell in the period.")
