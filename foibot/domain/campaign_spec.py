"""A campaign file (TOML), read into a validated spec, and the choice of authorities.

Pure: the caller reads the file and the authorities; this module only checks the
shape of the data and picks authorities. Errors are ``CampaignSpecError`` (a
``ValueError``) with one line naming the key; the service adds the file name.

A campaign file::

    name = "parking-income-2024"          # slug: a-z, 0-9 and "-"
    title = "Parking income 2023/24"
    body = '''1. How much did the council receive ...'''   # or: template = "letter.txt.j2"
    subject = "..."                        # optional Jinja2 template for the Subject
    authorities = "all"                    # or ["Barnet", ...] or { nation = ["England"] }
    regime = "eir"                         # optional: environmental information
    [vars]                                 # optional, for the templates
    year = "2023/24"
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from foibot.domain.regimes import Nation, Regime

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,98}[a-z0-9])?$")
KNOWN_KEYS = ("name", "title", "body", "template", "subject", "authorities", "regime", "vars")
FILTER_KEYS = ("nation", "regime", "exclude")
# `regime` in a campaign file: environmental or not. Which Act applies within each
# family is decided per authority by its nation (FOIA/FOISA, EIR/EISR).
_ENVIRONMENTAL = {"eir": True, "eisr": True, "foi": False, "foia": False, "foisa": False}


class CampaignSpecError(ValueError):
    """A campaign file is wrong; the message is one line naming the key."""


@dataclass(frozen=True)
class Selection:
    """Which authorities a campaign writes to.

    ``kind`` is "all", "names" (an explicit list) or "filters" (a table of filters);
    filters combine with AND, values inside one filter with OR.
    """

    kind: str
    names: tuple[str, ...] = ()
    nations: frozenset[Nation] = frozenset()
    regimes: frozenset[Regime] = frozenset()
    exclude: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        """What is stored on the campaign, to show later how it was chosen."""
        data: dict[str, Any] = {"kind": self.kind}
        if self.names:
            data["names"] = list(self.names)
        if self.nations:
            data["nation"] = sorted(n.value for n in self.nations)
        if self.regimes:
            data["regime"] = sorted(r.value for r in self.regimes)
        if self.exclude:
            data["exclude"] = list(self.exclude)
        return data


@dataclass(frozen=True)
class CampaignSpec:
    name: str
    title: str
    body: str | None  # the user's questions, wrapped by the shipped default letter
    template: str | None  # path of the user's own letter template, relative to the file
    subject: str | None  # a Subject template; None: the shipped default
    selection: Selection
    environmental: bool
    variables: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AuthorityChoice:
    """The little the selection needs to know about an authority."""

    name: str
    email: str
    nation: Nation
    regime: Regime


def parse_campaign(data: Mapping[str, Any]) -> CampaignSpec:
    """Checks a campaign file's TOML data; raises CampaignSpecError on the first problem."""
    unknown = [k for k in data if k not in KNOWN_KEYS]
    if unknown:
        raise CampaignSpecError(
            f"unknown key {unknown[0]!r} (misspelt? expected {', '.join(KNOWN_KEYS)})"
        )
    name = _string(data, "name", required=True)
    assert name is not None
    if not SLUG.match(name):
        raise CampaignSpecError(
            f"name {name!r} must be a slug: lower-case letters, digits and '-', "
            "starting and ending with a letter or digit, at most 100 characters"
        )
    title = _string(data, "title", required=True)
    assert title is not None
    if len(title) > 300:
        raise CampaignSpecError("title must be at most 300 characters")
    body = _string(data, "body")
    template = _string(data, "template")
    if body is not None and template is not None:
        raise CampaignSpecError(
            "give either body (your questions, put into the default letter) "
            "or template (your own letter), not both"
        )
    if body is None and template is None:
        raise CampaignSpecError(
            "body or template is required: body = the request text (your questions), "
            "or template = the path of your own Jinja2 letter template"
        )
    subject = _string(data, "subject")
    if "authorities" not in data:
        raise CampaignSpecError(
            'authorities is required: "all", a list of names, or a table such as '
            '{ nation = ["England"] }'
        )
    selection = parse_selection(data["authorities"])
    environmental = False
    if "regime" in data:
        value = data["regime"]
        key = value.strip().lower() if isinstance(value, str) else None
        if key not in _ENVIRONMENTAL:
            raise CampaignSpecError(
                f'regime must be "eir" (environmental information: EIR 2004, or EISR 2004 '
                f'for Scottish authorities) or "foi" (the default), not {value!r}'
            )
        environmental = _ENVIRONMENTAL[key]
    variables = data.get("vars", {})
    if not isinstance(variables, Mapping):
        raise CampaignSpecError("vars must be a table ([vars])")
    return CampaignSpec(
        name=name,
        title=title,
        body=body,
        template=template,
        subject=subject,
        selection=selection,
        environmental=environmental,
        variables=dict(variables),
    )


def parse_selection(value: Any) -> Selection:
    """``"all"``, a list of authority names, or a table of filters."""
    if isinstance(value, str):
        if value.strip().lower() == "all":
            return Selection("all")
        raise CampaignSpecError(
            f'authorities must be "all", a list of names or a table of filters, not {value!r} '
            '(for one authority write ["Its Name"])'
        )
    if isinstance(value, list):
        names = _names(value, "authorities")
        if not names:
            raise CampaignSpecError("authorities is an empty list")
        return Selection("names", names=names)
    if isinstance(value, Mapping):
        unknown = [k for k in value if k not in FILTER_KEYS]
        if unknown:
            raise CampaignSpecError(
                f"authorities: unknown filter {unknown[0]!r} (expected {', '.join(FILTER_KEYS)})"
            )
        nations: set[Nation] = set()
        for text in _one_or_many(value.get("nation"), "authorities.nation"):
            try:
                nations.add(Nation.parse(text))
            except ValueError as exc:
                raise CampaignSpecError(f"authorities.nation: {exc}") from None
        regimes: set[Regime] = set()
        for text in _one_or_many(value.get("regime"), "authorities.regime"):
            try:
                regime = Regime.parse(text)
            except ValueError as exc:
                raise CampaignSpecError(f"authorities.regime: {exc}") from None
            if regime.is_environmental:
                raise CampaignSpecError(
                    "authorities.regime filters on the authority's own regime (foia or "
                    'foisa); for environmental information write regime = "eir" at the top'
                )
            regimes.add(regime)
        exclude = _names(value.get("exclude", []), "authorities.exclude")
        if not nations and not regimes and not exclude:
            raise CampaignSpecError(
                'authorities: the table has no filter; write authorities = "all" to mean all'
            )
        return Selection(
            "filters", nations=frozenset(nations), regimes=frozenset(regimes), exclude=exclude
        )
    raise CampaignSpecError(
        f'authorities must be "all", a list of names or a table of filters, not {value!r}'
    )


def select_authorities(
    selection: Selection, authorities: Sequence[AuthorityChoice]
) -> list[AuthorityChoice]:
    """The authorities a selection picks, in the order given. Names (in a list or in
    ``exclude``) match an authority's name or email, ignoring case; a name that matches
    nothing is an error (with a suggestion), never silently skipped."""
    by_key: dict[str, AuthorityChoice] = {}
    for authority in authorities:
        by_key[_key(authority.name)] = authority
        by_key[_key(authority.email)] = authority

    def lookup(names: Iterable[str], where: str) -> list[AuthorityChoice]:
        found: list[AuthorityChoice] = []
        problems: list[str] = []
        for name in names:
            match = by_key.get(_key(name))
            if match is None:
                problems.append(_unknown(name, [a.name for a in authorities]))
            elif match in found:
                problems.append(f"{match.name!r} is listed twice")
            else:
                found.append(match)
        if problems:
            raise CampaignSpecError(f"{where}: " + "; ".join(problems))
        return found

    if selection.kind == "all":
        chosen = list(authorities)
    elif selection.kind == "names":
        wanted = lookup(selection.names, "authorities")
        chosen = [a for a in authorities if a in wanted]
    else:
        excluded = lookup(selection.exclude, "authorities.exclude")
        chosen = [
            a
            for a in authorities
            if (not selection.nations or a.nation in selection.nations)
            and (not selection.regimes or a.regime in selection.regimes)
            and a not in excluded
        ]
    if not chosen:
        if not authorities:
            raise CampaignSpecError(
                "there are no authorities yet: import them first with "
                "`foibot authorities import FILE.csv`"
            )
        raise CampaignSpecError("authorities: the selection matches no authority")
    return chosen


def _key(text: str) -> str:
    return " ".join(text.split()).casefold()


def _unknown(name: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    if not close:
        lowered = {k.casefold(): k for k in known}
        hits = difflib.get_close_matches(name.casefold(), list(lowered), n=1, cutoff=0.6)
        close = [lowered[h] for h in hits]
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown authority {name!r}{hint}"


def _string(data: Mapping[str, Any], key: str, *, required: bool = False) -> str | None:
    if key not in data:
        if required:
            raise CampaignSpecError(f"{key} is required but missing")
        return None
    value = data[key]
    if not isinstance(value, str):
        raise CampaignSpecError(f"{key} must be a string, not {value!r}")
    if not value.strip():
        raise CampaignSpecError(f"{key} must not be empty")
    return value.strip() if key in ("name", "title", "template") else value


def _names(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise CampaignSpecError(f"{where} must be a list of authority names")
    return tuple(v.strip() for v in value)


def _one_or_many(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise CampaignSpecError(f"{where} must be a string or a list of strings, not {value!r}")
