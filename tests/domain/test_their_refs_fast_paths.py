"""The speed-ups in finding authorities' references find exactly what the straightforward
way finds (see test_classify_fast_paths.py for the house style): the words found by
anchors and a pre-check for digits, an ASCII stand-in for lowering text of other than
ASCII, and the shortcuts for the commonest tokens in ``normalise`` and ``_acceptable``.
The straightforward way is the module as it was before them, kept here."""

from __future__ import annotations

import re

from hypothesis import example, given, settings
from hypothesis import strategies as st

from foibot.domain import references as ours
from foibot.domain import their_refs as tr
from foibot.domain.plain_case import ODD_CASE, plain_case

EXAMPLES = settings(max_examples=400, deadline=None)

PIECES = [
    "a", "B", "x", " ", "  ", "\n", "\t", ".", ":", "#", "-", "/", "_", "?", ",", "(", "'",
    "1", "12", "2020", "07", "0303 123 1113", "11/02/2020", "15/16-514", "11/13-45", "9/",
    "/1", "12/3", "\u0661\u0662\u0663\u0664\u0665", "\u00b2", "\u00b2/\u00b3", "\u2460",
    "\u0130", "\u0131", "\u017f", "\u212a", "\u00a0", "\u2019", "\u00e9", "\u2028", "\u3000",
    "ref", "Ref", "REF", "reference", "Reference No: ", "ref no. 0406339", "Our ref: ",
    "our reference number is ", "Your ref: ", "your ", "your request ", "Council ref ",
    "authority reference ", "case", "Case ", "cas", "CAS-184523-K7J2M9", "cas-1", "Case ref: ",
    "FOI", "foi", "FOI 15631", "FOIA5727", "FOI2016/00027", "FOIA 2000", "FOISA 2002", "foi-",
    "EIR", "eir", "their", "EIR/2021/0042", "EIR 2004", "eis", "EISR-", "rfi", "RFI 1234",
    "request", "Request", "Information Request: 01762", "information request", "request:",
    "enquiry", "Enquiry no ", "q", "qu", "quest", "refoi", "eiref", "eirfi", "caseref",
    "caseis", "casenquiry", "FB-XA4KN8N", "FB 2345678", "fb", "SK9 5AF", "NW9",
    "6073489", "0406339", "01762", "123", "1999", "20201", "\u0130nformation request: 1234",
]  # fmt: skip
texts = st.lists(st.sampled_from(PIECES), max_size=40).map("".join)
# (a reference in digits other than ASCII, which the ASCII stand-in hides: found only if
# the digits are looked for in the text itself)
OTHER_DIGITS = st.sampled_from(["\u0661\u0662\u0663\u0664\u0665", "\uff11\uff12\uff13\uff14"])


# ---------------------------------------------------------------- the plain versions

_DIGIT = re.compile(r"\d")
LABEL_WORDS = ("ref", "case", "foi", "eir", "request", "enquiry")
SHAPE_WORDS = ("foi", "eir", "eis", "rfi", "cas-")


def plain_normalise(token: str) -> str:
    groups = [g for g in tr._SEPARATORS.split(token.upper()) if g]
    if groups:
        head = tr._PREFIXED.fullmatch(groups[0])
        if head:
            groups[0:1] = [head.group(1), head.group(2)]
    return "-".join(g.lstrip("0") or "0" if g.isdigit() else g for g in groups)


def plain_acceptable(token: str, value: str) -> bool:
    compact = tr._SEPARATOR.sub("", token)
    if tr._OURS.match(token.strip()) or ours.find_references(token):
        return False
    if tr._DATE_LIKE.match(token.strip()):
        return False
    digits = tr._NOT_DIGIT.sub("", token)
    if compact.isdigit():
        if len(digits.lstrip("0")) < 4 or (len(digits) >= 10 and digits.startswith("0")):
            return False
        if len(digits) == 4 and 1990 <= int(digits) <= 2099:
            return False
    head, _, rest = value.partition("-")
    if head in tr.FOI_PREFIXES and rest in tr._ACT_YEARS:
        return False
    return not tr._POSTCODE_OUTWARD.match(token.strip())


def plain_before_digits(lower: str) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for word in dict.fromkeys(LABEL_WORDS + SHAPE_WORDS):
        found[word] = []
        i = lower.find(word)
        while i != -1:
            if _DIGIT.search(lower, i, i + 30):
                found[word].append(i)
            i = lower.find(word, i + 1)
    return found


def plain_matches(
    pattern: re.Pattern[str], text: str, windows: list[tuple[int, int]]
) -> list[re.Match[str]]:
    found: dict[int, re.Match[str]] = {}
    for start, end in windows:
        for m in pattern.finditer(text, start, end):
            known = found.get(m.start())
            if known is None or m.end() > known.end():
                found[m.start()] = m
    return [found[k] for k in sorted(found)]


def plain_extract(text: str) -> list[tr.TheirRef]:
    if _DIGIT.search(text) is None:
        return []
    lower = text.lower()
    found = plain_before_digits(lower)
    hits: list[tuple[int, tr.TheirRef]] = []
    windows = [(max(0, i - 15), i + 150) for w in LABEL_WORDS for i in found[w]]
    for m in plain_matches(tr._LABELLED, text, windows):
        if m.group("your"):
            continue
        token = m.group("token").strip()
        value = plain_normalise(token)
        if plain_acceptable(token, value):
            phrase = " ".join(m.group(0).split())
            hits.append((m.start(), tr.TheirRef(value, token, phrase, True)))
    windows = [(max(0, i - 2), i + 120) for w in SHAPE_WORDS for i in found[w]]
    slash = lower.find("/")
    while slash != -1:
        if lower[slash - 2 : slash].isdigit() and lower[slash + 1 : slash + 3].isdigit():
            windows.append((max(0, slash - 2), slash + 12))
        slash = lower.find("/", slash + 1)
    for m in plain_matches(tr._SHAPED, text, windows):
        if m.group("y1") and not tr._years_follow(m.group("y1"), m.group("y2")):
            continue
        token = m.group("token").strip()
        value = plain_normalise(token)
        if not plain_acceptable(token, value):
            continue
        if tr._YOUR_REF_BEFORE.search(text[max(0, m.start() - 20) : m.start()].lower()):
            continue
        hits.append((m.start(), tr.TheirRef(value, token, token, False)))
    refs: dict[str, tr.TheirRef] = {}
    for _, ref in sorted(hits, key=lambda h: (h[0], not h[1].labelled)):
        refs.setdefault(ref.value, ref)
    return list(refs.values())


# ---------------------------------------------------------------- the checks


@EXAMPLES
@given(texts, st.integers(min_value=0, max_value=2))
@example("Our ref: \u0661\u0662\u0663\u0664\u0665 \u00e9", 0)
@example("FOI \u0661\u0662\u0663\u0664\u0665 \u2019", 0)
@example("\u00e9 \u0661\u0665/\u0661\u0666-\u0665\u0661\u0664", 0)
def test_extract(text: str, repeat: int) -> None:
    # (repeated, for windows that overlap and texts longer than a window)
    text = text * (1 + repeat * 4)
    assert tr.extract(text) == plain_extract(text)


@EXAMPLES
@given(texts, OTHER_DIGITS, texts)
def test_extract_digits_other_than_ascii(before: str, digits: str, after: str) -> None:
    text = f"{before}\u2019 {digits} {after}"
    assert tr.extract(text) == plain_extract(text)


@EXAMPLES
@given(texts)
def test_words_before_digits(text: str) -> None:
    lower = text.lower()
    assert tr._before_digits(lower, lower) == plain_before_digits(lower)
    if plain_case(text):
        assert tr._before_digits(tr._ascii_lower(text), text) == plain_before_digits(lower)


def test_the_ascii_stand_in_rests_on_these_facts() -> None:
    """Outside ASCII, no character of plain case (see ``plain_case``) lowers to other than one
    character, nor to an ASCII one but the Kelvin sign (to "k"), nor changes whether it
    is a digit (``\\d`` or ``str.isdigit``) by lowering; no word looked for holds "k" or
    "?"; and digits have no case and are no separators (for ``normalise``)."""
    for ch in map(chr, range(0x80, 0x110000)):
        low = ch.lower()
        if ch not in ODD_CASE:
            assert len(low) == 1
            assert not low.isascii() or (ch, low) == ("\u212a", "k")
            assert low.isdigit() == ch.isdigit()
            assert bool(_DIGIT.match(low)) == bool(_DIGIT.match(ch))
        if ch.isdigit():
            assert ch.upper() == ch and not tr._SEPARATORS.match(ch)
        assert ch.isdecimal() == bool(_DIGIT.match(ch))
    words = [w for _, ws in tr._STEMS for w, _ in ws] + list(tr._LABEL_STARTS) + ["/"]
    assert sorted({w for _, ws in tr._STEMS for w, _ in ws}) == sorted(
        set(tr._LABEL_WORDS + tr._SHAPE_WORDS)
    )
    assert not any("k" in w or "?" in w or _DIGIT.search(w) for w in words)


TOKEN_PIECES = [
    "FOI", "foi", "Foi", "FB", "fb", "F", "B", "EIR", "A", "x", "\u017f", "\u0131", "\u212a",
    "\u00e9", " ", "  ", "-", "/", "_", ".", ":", "#", "\t", "0", "00", "1", "2000", "2004",
    "1995", "12", "1234", "07700900123", "0123456789", "\u0661\u0662", "\u00b2", "2345678",
]  # fmt: skip
tokens = st.lists(st.sampled_from(TOKEN_PIECES), min_size=1, max_size=6).map("".join)
# (and the shape the shortcuts take, and those they must not: "FB 2345678" is ours)
prefixed = st.builds(
    "{}{}{}".format,
    st.sampled_from(["FOI", "foi", "Foia", "FB", "xFB", "FBI", "EIR", "\u017fo", "A1", ""]),
    st.sampled_from([" ", "  ", "-", ""]),
    st.sampled_from(["2345678", "0012345", "2000", "12", "\u0661\u0662\u0663\u0664", "\u00b2"]),
)


@EXAMPLES
@given(tokens | prefixed)
@example("foi 0012345")
@example("FB 2345678")
def test_normalise_and_acceptable(token: str) -> None:
    value = plain_normalise(token)
    assert tr.normalise(token) == value
    assert tr._acceptable(token, value) == plain_acceptable(token, value)
