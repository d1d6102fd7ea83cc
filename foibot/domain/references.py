"""foibot's own request references: ``FB-7K3M9Q5``.

Six random characters and one check character, from an alphabet without the
look-alikes 0/O, 1/I/L (DESIGN.md §2). The alphabet has 31 symbols, a prime, so the
position-weighted check character catches every single mistyped character and every
swap of two adjacent characters: a mistyped reference is rejected, never misfiled.
References are case-insensitive and tolerate separators ("fb 7k3m 9qx").
"""

from __future__ import annotations

import re
from random import Random

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
PREFIX = "FB"
BODY_LENGTH = 6
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}
_MODULUS = len(ALPHABET)  # 31, prime
_SEPARATOR = re.compile(r"[\s\-_:#]")

# In free text: the prefix, an optional separator, then seven symbols (separators
# inside are allowed: people write "FB-7K3 M9QX"). Checked before it counts. (The
# pattern starts with the prefix and looks behind it after, rather than before: the
# regex engine then skips ahead to each "fb" instead of trying every position.)
_IN_TEXT = re.compile(
    r"FB(?<![A-Za-z0-9]FB)[\s\-_:#]?((?:[2-9A-HJKMNP-Za-hjkmnp-z][\s\-]?){6}[2-9A-HJKMNP-Za-hjkmnp-z])(?![A-Za-z0-9])",
    re.IGNORECASE,
)


def check_character(body: str) -> str:
    """The check character for a body of valid symbols (upper case)."""
    total = 0
    for weight, ch in enumerate(body, 2):
        total += weight * _VALUE[ch]
    return ALPHABET[total % _MODULUS]


def new_reference(rng: Random) -> str:
    """A fresh reference; ``rng`` is injected (the service passes ``secrets.SystemRandom``)."""
    body = "".join(rng.choice(ALPHABET) for _ in range(BODY_LENGTH))
    return f"{PREFIX}-{body}{check_character(body)}"


def normalise(text: str) -> str | None:
    """The canonical form (e.g. ``FB-7K3M9Q5``) of a reference typed any which way, or
    None if it is not a valid reference (wrong length, foreign symbol, or bad check
    character)."""
    compact = _SEPARATOR.sub("", text).upper()
    if len(compact) == len(PREFIX) + BODY_LENGTH + 1 and compact.startswith(PREFIX):
        compact = compact[len(PREFIX) :]
    if len(compact) != BODY_LENGTH + 1 or not _VALUE.keys() >= set(compact):
        return None
    body, check = compact[:-1], compact[-1]
    if check_character(body) != check:
        return None
    return f"{PREFIX}-{body}{check}"


def is_valid(text: str) -> bool:
    return normalise(text) is not None


def find_references(text: str) -> list[str]:
    """Every valid reference in ``text``, canonical, in order of appearance, without
    repeats. Candidates failing the check character are ignored."""
    found: list[str] = []
    # Most text holds no reference, so a substring test comes first: "FB" in any case is
    # "fb" in the text's UTF-8 lower-cased as bytes (ASCII letters only). One test, and
    # cheaper than lower-casing the text itself, which is slow once it is not all ASCII.
    if b"fb" not in text.encode("utf-8", "surrogatepass").lower():
        return found
    for match in _IN_TEXT.finditer(text):
        ref = normalise(match.group(1))
        if ref is not None and ref not in found:
            found.append(ref)
    return found
