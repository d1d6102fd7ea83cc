"""The authority's own reference for a request ("Our ref: 6073489", "FOI 15631" ...).

Councils file our request under a reference of their own and often write back quoting
only that (subjects rewritten to "FOIA5727 - ...", replies from case-management
systems). Once learned on a request, it files later mail (DESIGN.md §2, method 4).

Two kinds of evidence are read:

- a *label* followed by a token: "Our ref: 6073489", "Reference No: 406339",
  "Information Request: 01762", "Case number: CAS-184523-K7J2M9". "Your ref" is the
  requester's (our) reference and is skipped.
- a token whose *shape* says it is an FOI reference wherever it stands: "FOI 15631",
  "FOIA5727", "FOI2016/00027", "EIR-2021-0042", "CAS-184523-K7J2M9", "15/16-514".

Normalised values are upper case, with every separator turned into "-", an alphabetic
prefix split from its digits ("FOIA5727" -> "FOIA-5727") and the leading zeros of
numeric groups dropped ("FOI2016/00027" -> "FOI-2016-27", "01762" -> "1762"), so that
the same reference written two ways compares equal. Our own references (FB-...), dates,
phone numbers, postcodes and the Acts' names ("FOIA 2000") are never taken.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass

from foibot.domain import references as ours
from foibot.domain.plain_case import plain_case

# Prefixes that only say "this is an FOI/EIR reference": "FOI-15631" and "15631" are
# the same reference written with and without it (see ``variants``).
FOI_PREFIXES = ("FOI", "FOIA", "FOISA", "FOIR", "EIR", "EIRS", "EISR", "RFI")
_DASHED_PREFIXES = tuple(f"{p}-" for p in FOI_PREFIXES)
_ACT_YEARS = {"2000", "2002", "2004"}  # "FOIA 2000", "FOISA 2002", "EIR 2004" name Acts

_SEP = r"[ \t\-/_.]"
# A reference token: an optional alphabetic prefix, digits, then more groups joined by
# "-", "/", "_" or "." (a group may mix letters and digits: "K7J2M9").
# The prefix must be written in capitals ("Our ref: FOI 15631"), so that a word after a
# label is not taken for one ("Our reference number is 7706354").
_TOKEN = rf"(?:(?-i:[A-Z]{{1,10}}){_SEP}?)?\d+(?:[\-/_.][A-Z0-9]+)*"

_LABELLED = re.compile(
    r"(?<![A-Za-z])(?P<your>your\s+)?"
    r"(?P<label>"
    r"(?:our|council|authority)\s+ref(?:erence)?(?:\s*(?:no|number|num))?\.?"
    r"|ref(?:erence)?\s*(?:no|number|num)\.?"
    r"|case\s*(?:ref(?:erence)?|no|number|id)\.?"
    r"|(?:foi|foia|foisa|eir|request|enquiry)\s*(?:ref(?:erence)?|no|number|id)\.?"
    r"|information\s+request(?:\s*(?:ref(?:erence)?|no|number))?\.?"
    r"|(?:ref(?:erence)?|case|request)(?=\s*[:#])"
    r")"
    rf"\s*(?:[:#]|\bis\b)?\s*(?P<token>{_TOKEN})(?![A-Za-z0-9])",
    re.IGNORECASE,
)

_SHAPED = re.compile(
    r"(?<![A-Za-z0-9])(?P<token>"
    r"(?:FOI|FOIA|FOISA|FOIR|EIR|EIRS|EISR|RFI)[ \-/_]?\d{2,}(?:[\-/_]\d+)*"
    r"|CAS-\d{3,}-[A-Z0-9]{4,}"
    r"|(?P<y1>\d{2})/(?P<y2>\d{2})-\d{1,6}"
    r")(?![A-Za-z0-9])",
    re.IGNORECASE,
)

_SEPARATORS = re.compile(r"[\s\-/_.:#]+")
_SEPARATOR = re.compile(r"[\s\-/_.]")
_PREFIXED = re.compile(r"([A-Z]+)(\d+)")
_NOT_DIGIT = re.compile(r"\D")
_YOUR_REF_BEFORE = re.compile(r"your\s+ref(?:erence)?\W*$")
_DATE_LIKE = re.compile(r"^\d{1,2}([/.\-])\d{1,2}\1(?:\d{2}|\d{4})$")  # 11/02/2020, not 15/16-514
_POSTCODE_OUTWARD = re.compile(r"^[A-Z]{1,2}\d[A-Z\d]?$", re.IGNORECASE)
_OURS = re.compile(r"^FB[\s\-_:#]?[2-9A-HJKMNP-Z]{6,7}$", re.IGNORECASE)


@dataclass(frozen=True)
class TheirRef:
    value: str  # normalised, e.g. "FOI-15631"
    display: str  # the token as written, e.g. "FOI 15631"
    phrase: str  # the text that matched, with its label, e.g. "Our ref: 6073489"
    labelled: bool

    def as_json(self) -> dict[str, object]:
        return {"value": self.value, "display": self.display, "phrase": self.phrase}


def normalise(token: str) -> str:
    """Upper case, separators unified to "-", prefix split from digits, leading zeros
    of numeric groups dropped. Idempotent."""
    # The two commonest shapes first, as the general way below has them (digits have no
    # case and are no separators, and a prefix of letters only has no digits to split
    # off: tests/domain/test_their_refs_fast_paths.py checks the two ways agree).
    if token.isdecimal():
        return token.lstrip("0") or "0"
    prefixed = _prefix_and_number(token)
    if prefixed is not None:
        return f"{prefixed[0].upper()}-{prefixed[1].lstrip('0') or '0'}"
    groups = [g for g in _SEPARATORS.split(token.upper()) if g]
    if groups:
        head = _PREFIXED.fullmatch(groups[0])
        if head:
            groups[0:1] = [head.group(1), head.group(2)]
    return "-".join(g.lstrip("0") or "0" if g.isdigit() else g for g in groups)


def _prefix_and_number(token: str) -> tuple[str, str] | None:
    """("FOI", "15631") for "FOI 15631": ASCII letters, a space and digits, the commonest
    shape of token after a bare number."""
    prefix, space, number = token.partition(" ")
    if space and number.isdecimal() and prefix.isascii() and prefix.isalpha():
        return prefix, number
    return None


def variants(value: str) -> tuple[str, ...]:
    """The forms under which a normalised value may have been learned: "FOI-15631"
    and "15631" are one reference with and without its FOI prefix."""
    head, _, rest = value.partition("-")
    if head in FOI_PREFIXES and rest:
        core = rest
    elif value[:1].isdigit():
        core = value
    else:
        return (value,)
    return (core, *[p + core for p in _DASHED_PREFIXES])


def _acceptable(token: str, value: str) -> bool:
    if token.isdecimal():
        # (the commonest token, a bare number: only the rule for numbers can refuse it)
        return _acceptable_number(token)
    # A prefix of letters, a space and a number ("FOI 15631") is not ours unless the
    # prefix holds "FB", and never a date, a bare number or a postcode: only the rule
    # for the Acts' names below can refuse it.
    if _prefix_and_number(token) is None or "FB" in token.upper():
        compact = _SEPARATOR.sub("", token)
        if _OURS.match(token.strip()) or ours.find_references(token):
            return False
        if _DATE_LIKE.match(token.strip()):
            return False
        if compact.isdigit() and not _acceptable_number(_NOT_DIGIT.sub("", token)):
            return False
        if _POSTCODE_OUTWARD.match(token.strip()):
            return False
    head, _, rest = value.partition("-")
    return not (head in FOI_PREFIXES and rest in _ACT_YEARS)


def _acceptable_number(digits: str) -> bool:
    """A bare number is long enough to be a reference, not a phone number or a year."""
    if len(digits.lstrip("0")) < 4 or (len(digits) >= 10 and digits.startswith("0")):
        return False
    return not (len(digits) == 4 and 1990 <= int(digits) <= 2099)


def _years_follow(y1: str, y2: str) -> bool:
    return (int(y1) + 1) % 100 == int(y2)


# Every label holds one of these words, every shaped token one of the second set (or a
# "/" between digits). Finding them (see _STEMS) and trying the patterns only near them,
# and only where a digit follows, is an order of magnitude faster than scanning the
# whole text with the patterns (a council letter mentions "request" a lot).
_LABEL_WORDS = ("ref", "case", "foi", "eir", "request", "enquiry")
_SHAPE_WORDS = ("foi", "eir", "eis", "rfi", "cas-")
# A labelled reference starts with "your" or with the first word of its label: within a
# window the pattern is only tried where one of these is (rather than at every character;
# tests/domain/test_classify_fast_paths.py checks that this finds what finditer finds).
_LABEL_STARTS = (
    "your", "our", "council", "authority", "ref", "case", "foi", "eir", "request", "enquiry",
    "information",
)  # fmt: skip
_DIGIT = re.compile(r"\d")


_DIGIT_WITHIN = 30  # a label ends within a few words: "Our reference number is 7706354"


def _ascii_lower(text: str) -> str:
    """``text.lower()`` with every character other than ASCII replaced by "?", for text
    of plain case (see ``plain_case``): where that holds a word, so does this one, and the
    other way round, at the same places.

    Lowering ASCII is much cheaper than lowering other text. In plain text every
    character lowers to one character, and none outside ASCII to an ASCII one but the
    Kelvin sign (to "k", which no word holds); and no word holds "?"
    (tests/domain/test_their_refs_fast_paths.py checks both). The digits, which the
    "?" hide, are read in the text itself, where ``text.lower()`` has its digits."""
    if text.isascii():
        return text.lower()
    return text.encode("ascii", "replace").decode("ascii").lower()


def _finder(anchor: str, words: tuple[tuple[str, int], ...]) -> re.Pattern[str]:
    """A pattern matching ``anchor`` where it stands at its offset in one of ``words``
    and a digit may follow within _DIGIT_WITHIN characters of the word's start: a digit
    or a "?", which may stand for one (see _ascii_lower). Only a pre-check: _before_digits
    checks each word and digit it finds."""
    alternatives = []
    for word, offset in words:
        before, after = word[: offset + len(anchor)], word[offset + len(anchor) :]
        within = _DIGIT_WITHIN - 1 - len(word)  # (no word holds a digit or a "?")
        alternatives.append(
            (f"(?<={re.escape(before)})" if offset else "")
            + f"(?={re.escape(after)}[\\s\\S]{{0,{within}}}?[\\d?])"
        )
    return re.compile(f"{re.escape(anchor)}(?:{'|'.join(alternatives)})")


# Where the words are with a digit soon after is the question a long text is asked
# first, and passes over it are most of the cost, so the nine words are found in four
# passes, each for an "anchor" the words hold at a known offset: "f" in "ref", "foi" and
# "rfi", "q" in "request" and "enquiry", "cas" and "ei". The regular expression engine
# skips ahead to each anchor about as fast as str.find finds a word, and rules out in the
# same pass the many places without a digit soon after ("their", "request"). (A match
# holds no more than its anchor, and no anchor can start inside another of its kind, so
# finditer misses none.)
_STEMS = tuple(
    (_finder(anchor, words), words)
    for anchor, words in (
        ("f", (("ref", 2), ("foi", 0), ("rfi", 1))),
        ("q", (("request", 2), ("enquiry", 2))),
        ("cas", (("case", 0), ("cas-", 0))),
        ("ei", (("eir", 0), ("eis", 0))),
    )
)


def _before_digits(lower: str, digits: str) -> dict[str, list[int]]:
    """Where each of _LABEL_WORDS and _SHAPE_WORDS is in ``lower`` with a digit soon
    after it in ``digits`` (text with the same positions), in order."""
    found: dict[str, list[int]] = {word: [] for _, words in _STEMS for word, _ in words}
    for finder, words in _STEMS:
        for m in finder.finditer(lower):
            for word, offset in words:
                start = m.start() - offset
                if (
                    start >= 0
                    and lower.startswith(word, start)
                    and _DIGIT.search(digits, start, start + _DIGIT_WITHIN)
                ):
                    found[word].append(start)
    return found


def _near(
    found: dict[str, list[int]], words: tuple[str, ...], before: int, after: int
) -> list[tuple[int, int]]:
    """Windows around each occurrence of ``words`` with a digit soon after the word
    (``found`` by _before_digits)."""
    return [(max(0, i - before), i + after) for word in words for i in found[word]]


def _matches(
    pattern: re.Pattern[str],
    text: str,
    windows: list[tuple[int, int]],
    at: list[int] | None = None,
) -> list[re.Match[str]]:
    """The matches of ``pattern`` in the windows. With ``at`` (positions, in order), a
    match is only tried there: the same matches as ``finditer`` if every match starts
    at one of them."""
    found: dict[int, re.Match[str]] = {}
    for start, end in windows:
        for m in (
            pattern.finditer(text, start, end)
            if at is None
            else _finditer_at(pattern, text, start, end, at)
        ):
            known = found.get(m.start())
            if known is None or m.end() > known.end():  # a window may cut a token short
                found[m.start()] = m
    return [found[k] for k in sorted(found)] if len(found) > 1 else list(found.values())


def _stretches(windows: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The windows merged where they overlap."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(windows):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _positions(lower: str, words: tuple[str, ...], stretches: list[tuple[int, int]]) -> list[int]:
    """Where ``words`` are within ``stretches``, in order."""
    at = []
    for start, end in stretches:
        stretch = lower[start:end]
        for word in words:
            if word in stretch:  # (most are not, and ``in`` costs less than a find)
                i = stretch.find(word)
                while i != -1:
                    at.append(start + i)
                    i = stretch.find(word, i + 1)
    return sorted(at)


def _shape_windows(
    lower: str, found: dict[str, list[int]], plain: bool, digits: str | None = None
) -> tuple[list[tuple[int, int]], list[int] | None]:
    """The windows where a shaped token may be, and in plain text (see ``plain_case``) the
    positions where one may start: where one of _SHAPE_WORDS is with a digit soon after
    (as ``found`` by _before_digits, or here if not given), or two digits before a "/"
    ("15/16-514"). ``digits`` is the text with the digits (see _ascii_lower), if not
    ``lower``."""
    digits = lower if digits is None else digits
    found = found or _before_digits(lower, digits)
    windows = _near(found, _SHAPE_WORDS, 2, 120)
    at = [i for word in _SHAPE_WORDS for i in found[word]] if plain else None
    slash = lower.find("/")
    while slash != -1:
        if digits[slash - 2 : slash].isdigit() and digits[slash + 1 : slash + 3].isdigit():
            windows.append((max(0, slash - 2), slash + 12))
            if at is not None:
                at.append(slash - 2)
        slash = lower.find("/", slash + 1)
    return windows, None if at is None else sorted(at)


def _finditer_at(
    pattern: re.Pattern[str], text: str, start: int, end: int, at: list[int]
) -> list[re.Match[str]]:
    """``pattern.finditer(text, start, end)`` when matches can only start at the
    positions ``at`` (and cannot be empty)."""
    matches = []
    after = start
    for i in at[bisect_left(at, start) : bisect_left(at, end)]:
        if i >= after:
            m = pattern.match(text, i, end)
            if m is not None:
                matches.append(m)
                after = m.end()
    return matches


def extract(text: str) -> list[TheirRef]:
    """Every authority reference in ``text``, in order of appearance, without repeats
    (by normalised value). Labelled ones carry their label in ``phrase``."""
    if _DIGIT.search(text) is None:
        return []  # (every reference holds a digit)
    # In plain text a match starts where ``lower`` holds a word it starts with (see
    # ``plain_case``), so the patterns are only tried there.
    plain = plain_case(text)
    if plain:
        lower, digits = _ascii_lower(text), text
    else:
        lower = digits = text.lower()
    found = _before_digits(lower, digits)
    # (start, not labelled, value, display, phrase): one hit per start and kind
    hits: list[tuple[int, bool, str, str, str]] = []
    windows = _near(found, _LABEL_WORDS, 15, 150)
    # (where a label may start, found once over each stretch of overlapping windows)
    at = _positions(lower, _LABEL_STARTS, _stretches(windows)) if plain and windows else None
    for m in _matches(_LABELLED, text, windows, at):
        if m.group("your"):
            continue
        token = m.group("token").strip()
        value = normalise(token)
        if not _acceptable(token, value):
            continue
        hits.append((m.start(), False, value, token, " ".join(m.group(0).split())))
    windows, at = _shape_windows(lower, found, plain, digits)
    for m in _matches(_SHAPED, text, windows, at):
        if m.group("y1") and not _years_follow(m.group("y1"), m.group("y2")):
            continue
        token = m.group("token").strip()
        value = normalise(token)
        if not _acceptable(token, value):
            continue
        # "Your ref: FOI 123" is still ours to skip even when the shape matches
        before = text[max(0, m.start() - 20) : m.start()].lower()
        if _YOUR_REF_BEFORE.search(before):
            continue
        hits.append((m.start(), True, value, token, token))
    refs: dict[str, TheirRef] = {}
    for _, shaped, value, display, phrase in sorted(hits):  # (labelled first at a start)
        if value not in refs:
            refs[value] = TheirRef(value, display, phrase, not shaped)
    return list(refs.values())


def extract_from(parts: Iterable[str]) -> list[TheirRef]:
    """``extract`` over several texts (subject first, then the body ...), merged."""
    merged: dict[str, TheirRef] = {}
    for part in parts:
        for ref in extract(part):
            merged.setdefault(ref.value, ref)
    return list(merged.values())
