"""Importing and listing the authorities that campaigns write to.

The CSV is validated whole before anything is written: a file with one bad row imports
nothing, and every bad row is reported with its line number.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from foibot.domain.regimes import Nation, Regime, default_regime
from foibot.errors import UserInputError
from foibot.store.db import Database, utcnow
from foibot.store.models import Authority, AuthorityDomain

REQUIRED_COLUMNS = ("name", "email")
OPTIONAL_COLUMNS = ("nation", "regime", "domains", "gss_code")


@dataclass(frozen=True)
class AuthorityRow:
    line: int
    name: str
    email: str
    nation: Nation
    regime: Regime
    domains: tuple[str, ...]
    gss_code: str | None


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


class CsvRowsError(UserInputError):
    """Several bad rows; ``problems`` has one line each, the message summarises."""

    def __init__(self, path: str, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(
            f"{path}: {len(problems)} bad row(s), nothing imported: " + "; ".join(problems)
        )


def _domain_ok(domain: str) -> bool:
    return "." in domain and "@" not in domain and " " not in domain and not domain.startswith(".")


def _email_ok(email: str) -> bool:
    local, at, domain = email.rpartition("@")
    return bool(at and local and _domain_ok(domain))


def parse_authorities_csv(text: str, source: str) -> list[AuthorityRow]:
    """Validates every row; raises CsvRowsError listing all bad rows with line numbers."""
    reader = csv.DictReader(io.StringIO(text))
    headers = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED_COLUMNS if c not in headers]
    if missing:
        raise UserInputError(f"{source}: line 1: missing column(s) {', '.join(missing)}")
    unknown = [h for h in headers if h not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    if unknown:
        raise UserInputError(
            f"{source}: line 1: unknown column(s) {', '.join(unknown)} "
            f"(expected {', '.join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)})"
        )
    reader.fieldnames = headers
    rows: list[AuthorityRow] = []
    problems: list[str] = []
    seen_names: dict[str, int] = {}
    seen_emails: dict[str, int] = {}
    for raw in reader:
        line = reader.line_num
        values = {k: (v or "").strip() for k, v in raw.items() if k is not None}
        if not any(values.values()):
            continue
        errors: list[str] = []
        name, email = values.get("name", ""), values.get("email", "").lower()
        if not name:
            errors.append("name is empty")
        if not _email_ok(email):
            errors.append(f"email {values.get('email', '')!r} is not an email address")
        nation = Nation.ENGLAND
        if values.get("nation"):
            try:
                nation = Nation.parse(values["nation"])
            except ValueError as exc:
                errors.append(str(exc))
        regime = default_regime(nation)
        if values.get("regime"):
            try:
                regime = Regime.parse(values["regime"])
            except ValueError as exc:
                errors.append(str(exc))
            else:
                if regime.is_environmental:
                    errors.append(
                        f"regime {regime.value!r}: an authority's regime is foia or foisa; "
                        'EIR/EISR are chosen per campaign (regime = "eir")'
                    )
                elif regime.is_scottish != (nation is Nation.SCOTLAND):
                    errors.append(f"regime {regime.value} does not fit nation {nation.value}")
        domains = tuple(
            d.strip().lower().lstrip("@") for d in values.get("domains", "").split(";") if d.strip()
        )
        errors += [f"domain {d!r} is not a mail domain" for d in domains if not _domain_ok(d)]
        if name and name.lower() in seen_names:
            errors.append(f"name repeats line {seen_names[name.lower()]}")
        if email and email in seen_emails:
            errors.append(f"email repeats line {seen_emails[email]}")
        seen_names.setdefault(name.lower(), line)
        seen_emails.setdefault(email, line)
        if errors:
            problems.append(f"line {line}: " + ", ".join(errors))
            continue
        rows.append(
            AuthorityRow(line, name, email, nation, regime, domains, values.get("gss_code") or None)
        )
    if problems:
        raise CsvRowsError(source, problems)
    if not rows:
        raise UserInputError(f"{source}: no authorities in the file")
    return rows


def read_csv_file(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UserInputError(f"{path}: file not found") from None
    except UnicodeDecodeError as exc:
        raise UserInputError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise UserInputError(f"{path}: cannot read: {exc.strerror}") from None


def import_authorities(db: Database, path: Path) -> ImportReport:
    """Creates or updates (matched by email) every authority in the CSV, in one
    transaction. Re-importing the same file changes nothing."""
    rows = parse_authorities_csv(read_csv_file(path), str(path))
    report = ImportReport()
    with db.transaction() as session:
        existing = {
            a.email: a
            for a in session.scalars(select(Authority).options(selectinload(Authority.domains)))
        }
        by_name = {a.name.lower(): a for a in existing.values()}
        for row in rows:
            authority = existing.get(row.email)
            clash = by_name.get(row.name.lower())
            if clash is not None and clash is not authority:
                raise UserInputError(
                    f"{path}: line {row.line}: name {row.name!r} already belongs to "
                    f"{clash.email}; nothing imported"
                )
            if authority is None:
                authority = _create(session, row)
                report.created.append(row.name)
            elif _update(authority, row):
                report.updated.append(row.name)
            else:
                report.unchanged.append(row.name)
    return report


def _wanted_domains(row: AuthorityRow) -> dict[str, str]:
    wanted = {row.email.rpartition("@")[2]: "email"}
    for domain in row.domains:
        wanted.setdefault(domain, "configured")
    return wanted


def _create(session: Session, row: AuthorityRow) -> Authority:
    now = utcnow()
    authority = Authority(
        name=row.name,
        email=row.email,
        nation=row.nation.value,
        regime=row.regime.value,
        gss_code=row.gss_code,
        created_at=now,
        updated_at=now,
    )
    authority.domains = [
        AuthorityDomain(domain=d, source=s, created_at=now) for d, s in _wanted_domains(row).items()
    ]
    session.add(authority)
    return authority


def _update(authority: Authority, row: AuthorityRow) -> bool:
    """Brings an authority in line with its CSV row; learned domains are kept."""
    changed = False
    for attr, value in (
        ("name", row.name),
        ("nation", row.nation.value),
        ("regime", row.regime.value),
        ("gss_code", row.gss_code),
    ):
        if getattr(authority, attr) != value:
            setattr(authority, attr, value)
            changed = True
    wanted = _wanted_domains(row)
    for known in list(authority.domains):
        if known.source != "learned" and known.domain not in wanted:
            authority.domains.remove(known)
            changed = True
    have = {d.domain: d for d in authority.domains}
    now = utcnow()
    for domain, source in wanted.items():
        if domain not in have:
            authority.domains.append(AuthorityDomain(domain=domain, source=source, created_at=now))
            changed = True
        elif have[domain].source != source and have[domain].source != "learned":
            have[domain].source = source
            changed = True
    if changed:
        authority.updated_at = now
    return changed


@dataclass(frozen=True)
class AuthorityView:
    name: str
    email: str
    nation: str
    regime: str
    gss_code: str | None
    domains: tuple[str, ...]

    def as_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "email": self.email,
            "nation": self.nation,
            "regime": self.regime,
            "gss_code": self.gss_code,
            "domains": list(self.domains),
        }


def list_authorities(db: Database) -> list[AuthorityView]:
    with db.transaction() as session:
        authorities = session.scalars(
            select(Authority).options(selectinload(Authority.domains)).order_by(Authority.name)
        )
        return [
            AuthorityView(
                a.name,
                a.email,
                a.nation,
                a.regime,
                a.gss_code,
                tuple(d.domain for d in a.domains),
            )
            for a in authorities
        ]
