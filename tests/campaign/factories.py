"""Realistic test data for campaigns: UK councils (real place names), config files and
campaign files, and a clock that does not sleep."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any


def _words(text: str) -> list[str]:
    return text.split()


ENGLAND = _words("""
Barnet Leicester Manchester Bristol Leeds Sheffield Liverpool Birmingham Coventry
Nottingham Derby Southampton Portsmouth Plymouth Exeter Norwich Ipswich Cambridge Oxford
Reading Brighton York Hull Sunderland Newcastle Gateshead Durham Carlisle Lancaster
Preston Blackpool Bolton Wigan Stockport Salford Oldham Rochdale Bury Wakefield Bradford
Kirklees Calderdale Doncaster Rotherham Barnsley Lincoln Peterborough Luton Milton-Keynes
Northampton Swindon Bath Gloucester Worcester Hereford Shrewsbury Stoke Wolverhampton
Walsall Dudley Sandwell Solihull Warwick Canterbury Dover Maidstone Medway Southend
Colchester Chelmsford Basildon Watford Stevenage Slough Windsor Guildford Woking Crawley
Hastings Eastbourne Chichester Winchester Salisbury Bournemouth Poole Weymouth Truro
Torbay Taunton Yeovil Cheltenham Harrogate Scarborough Darlington Hartlepool Redcar
""")
WALES = _words("""Cardiff Swansea Newport Wrexham Conwy Gwynedd Powys Ceredigion Pembrokeshire
Carmarthenshire Bridgend Caerphilly Torfaen Monmouthshire""")
SCOTLAND = _words("""Glasgow Edinburgh Aberdeen Dundee Stirling Perth Inverness Falkirk Fife
Highland Moray Angus Renfrewshire Inverclyde Midlothian""")
NORTHERN_IRELAND = _words("Belfast Derry Lisburn Newry Armagh Antrim Causeway")

KINDS = [
    ("City Council", "city"),
    ("Borough Council", "borough"),
    ("District Council", "district"),
    ("County Council", "county"),
    ("Town Council", "town"),
]


@dataclass(frozen=True)
class AuthorityRow:
    name: str
    email: str
    nation: str


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def councils(n: int) -> list[AuthorityRow]:
    """``n`` distinct councils, mixing the four nations roughly as the UK does."""
    pools = [("England", ENGLAND), ("Wales", WALES), ("Scotland", SCOTLAND)]
    pools.append(("Northern Ireland", NORTHERN_IRELAND))
    order: list[tuple[str, str]] = []
    longest = max(len(p) for _, p in pools)
    for i in range(longest):
        for nation, places in pools:
            if i < len(places):
                order.append((nation, places[i]))
    rows: list[AuthorityRow] = []
    for kind, short in KINDS:
        for nation, place in order:
            if len(rows) == n:
                return rows
            display = place.replace("-", " ")
            rows.append(
                AuthorityRow(f"{display} {kind}", f"foi@{_slug(place)}-{short}.gov.uk", nation)
            )
    if len(rows) < n:
        raise ValueError(f"at most {len(rows)} councils available")
    return rows


def write_authorities(path: Path, rows: list[AuthorityRow]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["name", "email", "nation"])
        for r in rows:
            writer.writerow([r.name, r.email, r.nation])
    return path


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    text = str(value)
    if "\n" in text:
        return '"""\n' + text.replace("\\", "\\\\").replace('"""', '\\"""') + '"""'
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_config(
    path: Path,
    *,
    database_url: str,
    smtp_section: str,
    reply_to_plus: bool = True,
    rate_per_minute: float = 0,
    window: str | None = None,
    max_attempts: int = 5,
) -> Path:
    lines = [
        f"database_url = {toml_value(database_url)}",
        "",
        "[sender]",
        'name = "A. Researcher"',
        'address = "research@example.org"',
        f"reply_to_plus = {toml_value(reply_to_plus)}",
        "",
        smtp_section,
        "[sending]",
        f"rate_per_minute = {rate_per_minute}",
        f"max_attempts = {max_attempts}",
    ]
    if window:
        lines.append(f"window = {toml_value(window)}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


QUESTIONS = """1. The total income {{ authority.name }} received from parking charges in
   {{ vars.year }}.
2. The number of Penalty Charge Notices issued in {{ vars.year }}, and how many were
   cancelled on appeal.
3. The name of any contractor that carries out parking enforcement for you.
"""


def write_campaign(path: Path, **fields: Any) -> Path:
    """A campaign file; defaults give a valid campaign to all authorities."""
    data: dict[str, Any] = {
        "name": "parking-2024",
        "title": "Parking income 2023/24",
        "body": QUESTIONS,
        "authorities": "all",
    }
    data.update(fields)
    variables = data.pop("vars", {"year": "2023/24"})
    lines = [f"{k} = {toml_value(v)}" for k, v in data.items() if v is not None]
    lines.append("")
    lines.append("[vars]")
    lines += [f"{k} = {toml_value(v)}" for k, v in variables.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class FakeClock:
    """Time that moves only when someone sleeps."""

    def __init__(self, start: datetime) -> None:
        self.t = start
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += timedelta(seconds=seconds)
