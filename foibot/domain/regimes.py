"""The four access-to-information regimes and the nations that decide between them.

FOIA 2000 and EIR 2004 apply to authorities in England, Wales and Northern Ireland;
FOISA 2002 and EISR 2004 apply to Scottish public authorities. The environmental
regimes (EIR/EISR) are chosen per request (campaign option), the nation per authority.
"""

from __future__ import annotations

from enum import StrEnum


class Nation(StrEnum):
    ENGLAND = "England"
    WALES = "Wales"
    SCOTLAND = "Scotland"
    NORTHERN_IRELAND = "Northern Ireland"

    @classmethod
    def parse(cls, text: str) -> Nation:
        """Accepts the nation's name in any case, or a common short form (e.g. "NI")."""
        key = " ".join(text.strip().lower().replace("_", " ").split())
        aliases = {
            "england": cls.ENGLAND,
            "eng": cls.ENGLAND,
            "wales": cls.WALES,
            "wls": cls.WALES,
            "cymru": cls.WALES,
            "scotland": cls.SCOTLAND,
            "sct": cls.SCOTLAND,
            "northern ireland": cls.NORTHERN_IRELAND,
            "ni": cls.NORTHERN_IRELAND,
            "nir": cls.NORTHERN_IRELAND,
        }
        try:
            return aliases[key]
        except KeyError:
            names = ", ".join(n.value for n in cls)
            raise ValueError(f"unknown nation {text!r} (expected one of: {names})") from None


class Regime(StrEnum):
    FOIA = "foia"
    EIR = "eir"
    FOISA = "foisa"
    EISR = "eisr"

    @classmethod
    def parse(cls, text: str) -> Regime:
        try:
            return cls(text.strip().lower())
        except ValueError:
            names = "|".join(r.value for r in cls)
            raise ValueError(f"unknown regime {text!r} (expected {names})") from None

    @property
    def is_scottish(self) -> bool:
        return self in (Regime.FOISA, Regime.EISR)

    @property
    def is_environmental(self) -> bool:
        return self in (Regime.EIR, Regime.EISR)

    @property
    def act_name(self) -> str:
        """The full name of the legislation, as a letter would cite it."""
        return {
            Regime.FOIA: "Freedom of Information Act 2000",
            Regime.EIR: "Environmental Information Regulations 2004",
            Regime.FOISA: "Freedom of Information (Scotland) Act 2002",
            Regime.EISR: "Environmental Information (Scotland) Regulations 2004",
        }[self]

    @property
    def short_name(self) -> str:
        return {
            Regime.FOIA: "FOIA",
            Regime.EIR: "EIR",
            Regime.FOISA: "FOISA",
            Regime.EISR: "EISR",
        }[self]


def default_regime(nation: Nation) -> Regime:
    """The general regime for an authority of this nation (FOISA in Scotland, else FOIA)."""
    return Regime.FOISA if nation is Nation.SCOTLAND else Regime.FOIA


def request_regime(authority_regime: Regime, environmental: bool) -> Regime:
    """The regime a request falls under: the environmental twin of the authority's regime
    when the campaign asks for environmental information."""
    if not environmental:
        return authority_regime
    return Regime.EISR if authority_regime.is_scottish else Regime.EIR
