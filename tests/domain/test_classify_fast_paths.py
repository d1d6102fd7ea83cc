"""The speed-ups in classification and reference extraction find exactly what the plain
patterns find: each is checked against the straightforward implementation it replaced,
on text built from the pieces those speed-ups depend on (odd-case letters, long runs,
sentence ends, quoted-request markers, dates, references)."""

from __future__ import annotations

import re
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from foibot.domain import classify as c
from foibot.domain import their_refs

PIECES = [
    "a", "b", "x", "1", "12", "2020", " ", "  ", "\n", "\n\n", "\t", "\r\n", ".", "!", "?", ":",
    "*", "**", "\\", "- ", "• ", "1. ", "a) ", "> ", "@", "'", "\u2019", "\u0130", "\u0131",
    "\u017f", "\u212a", "\x00", "We", "we've", "can't", "The council", " holds the information",
    " of ", "received", "receipt", "dated", "sent on", "made on", " request ", "email",
    "11 February 2020", "1st June 2021", "11/02/2020", "2020-02-11", "Response",
    "for the following information:", "You asked:", "We have processed this request under",
    "we have considered your request under", "If you are unhappy", "right to appeal",
    "information commissioner", "within 40 working days", "review", "foi@council.gov.uk",
    "casework@ico.org.uk", "section 40(2)", "s.43 (2)", "regulation 12(4)(a)", "reg 13",
    "Our ref: FOI 12345", "Your ref: FOI 999", "Reference No: 406339", "CAS-184523-K7J2M9",
    "FOI2016/00027", "15/16-514", "their 2020", "Information Request: 01762", "From: a",
    "Sent: b", "wrote:", "-----Original Message-----", "---------- Forwarded message ---------",
    # whole phrases, as the speed-ups meet them
    "\n- item\n", "\n1. first\n", "\na) second", "\n* bullet", "Thank you. ", "Why? ",
    "\n**Bold question?**\n", "Thank you for your request received on 11 February 2020.",
    "We received your request on 11/02/2020.", "your letter dated 1st June 2021",
    "request of 2020-02-11", "Request received: 2020-02-11", "receipt of your email on 3 May 2021",
    "\nFrom: A\nSent: B\n", "\nOn Mon, 1 Jan 2020, A wrote:\n", "\n-----Original Message-----\n",
    "\n____________\n", "\n---------- Forwarded message ---------\n", "\nResponse\n",
    "\nThe council holds the information requested.\n",
    "If you are unhappy, write to review@x.gov.uk.",
    "We will neither confirm nor deny under section 23(5).", "Our reference number is 7706354.",
]  # fmt: skip
texts = st.lists(st.sampled_from(PIECES), max_size=60).map("".join)
EXAMPLES = settings(max_examples=300, deadline=None)


# ---------------------------------------------------------------- the plain versions


def plain_strip_quoted_history(body: str, subject: str = "") -> str:
    forward = c._FORWARD_MARK.search(body)
    merged: list[re.Match[str]] = []
    for h in c._QUOTE_HEADER.finditer(body):
        if merged and h.start() - merged[-1].end() < 80:
            continue
        merged.append(h)
    cut_at: int | None = None
    if forward is not None or c._FORWARD_SUBJECT.match(subject):
        start = forward.end() if forward is not None else 0
        after = [h for h in merged if h.start() >= start]
        if after and after[0].start() - start < 400:
            after = after[1:]
        if after:
            cut_at = after[0].start()
    elif merged:
        cut_at = merged[0].start()
    own = body if cut_at is None else body[:cut_at]
    return "\n".join(line for line in own.splitlines() if not line.lstrip().startswith(">"))


PLAIN_QUOTED_REQUEST_END = re.compile(
    r"(?:^\W*(?:response|our response|answer|reply|decision)\W*$|we have (?:processed|"
    r"considered|dealt with) (?:this|your) request under|^\W*(?:the (?:council|authority)|we|"
    r"i can confirm (?:that )?(?:the council|we))\b[^\n]{0,60}\b(?:holds?|does not hold|do not"
    r" hold)\b)",
    re.IGNORECASE | re.MULTILINE,
)


def plain_without_quoted_request(text: str) -> str:
    start = c._QUOTED_REQUEST_START.search(text)
    if start is None:
        return text
    end = PLAIN_QUOTED_REQUEST_END.search(text, start.end())
    if end is None:
        return text
    return text[: start.end()] + "\n\n" + text[end.start() :]


PLAIN_SENTENCE_END = re.compile(
    r"(?<=[.!?])\s+|\n\s*\n|\n(?=\s*(?:[-*•]|\d{1,2}[a-z]?[.)]|[a-h][.)])\s)"
)


def plain_sentences(text: str) -> list[tuple[str, bool, bool, str, str]]:
    lines = [ln for ln in text.splitlines() if not c._BOLD_LINE.match(ln)]
    out = []
    for chunk in PLAIN_SENTENCE_END.split("\n".join(lines)):
        flat = " ".join(chunk.replace("*", " ").replace("\\", " ").split())
        if not flat:
            continue
        normal = c._normalise(flat)
        lower = normal.lower()
        rights = any(k in lower for k in c._RIGHTS_KEYWORDS) and bool(c.RIGHTS.search(normal))
        out.append((normal, rights, flat.endswith("?"), flat, lower))
    return out


def plain_received_date(text: str) -> tuple[date | None, str | None]:
    flat = " ".join(text.split())
    lower = flat.lower()
    windows = [(max(0, p - 130), p + 90) for p in c._anchors(lower, c._RECEIVED_WORDS, 60)]
    for pattern in c._RECEIVED:
        for start, end in windows:
            for m in pattern.finditer(flat, start, end):
                when = c._to_date(m)
                if when is not None:
                    return when, c._short(m.group(0))
    return None, None


def plain_review_address(text: str) -> tuple[str | None, str | None]:
    lower = text.lower()
    if "@" not in lower:
        return None, None
    for start in c._anchors(lower, c._REVIEW_ANCHORS):
        window = text[start : start + 700]
        for e in c._EMAIL.finditer(window):
            address = e.group(0).strip(".'").lower()
            domain = address.rpartition("@")[2]
            if any(domain == d or domain.endswith("." + d) for d in c.REGULATOR_DOMAINS):
                continue
            return address, c._short(" ".join(window[: e.end()].split()), 240)
    return None, None


# ---------------------------------------------------------------- the checks


@EXAMPLES
@given(texts, st.sampled_from(["Your request", "Fwd: response", "RE: FW: x"]))
def test_quoted_history(text: str, subject: str) -> None:
    assert c.strip_quoted_history(text, subject) == plain_strip_quoted_history(text, subject)


@EXAMPLES
@given(texts)
def test_quoted_request(text: str) -> None:
    expected = plain_without_quoted_request(text)
    assert c._without_quoted_request(text) == expected
    assert c._without_quoted_request(text, text.lower()) == expected


@EXAMPLES
@given(texts)
def test_sentences(text: str) -> None:
    assert [tuple(s) for s in c._sentences(text)] == plain_sentences(text)


@EXAMPLES
@given(texts, st.integers(min_value=0, max_value=3))
def test_received_date(text: str, repeat: int) -> None:
    # (repeated, to reach the long-text path, and past the anchor limits)
    text = text * (1 + repeat * 20) if repeat < 3 else " of " * 300 + text + " received" * 200
    assert c.received_date(text) == plain_received_date(text)


@EXAMPLES
@given(texts)
def test_review_address(text: str) -> None:
    assert c.review_address(text) == plain_review_address(text)


@EXAMPLES
@given(texts)
def test_cited_sections(text: str) -> None:
    sentences = c._sentences(text)
    assert c.cited_sections(sentences) == c.cited_sections(list(sentences))


@EXAMPLES
@given(texts, st.lists(st.integers(min_value=0, max_value=400), max_size=6))
def test_labelled_references(text: str, starts: list[int]) -> None:
    """Trying the label pattern only where a label can start finds what finditer finds."""
    windows = [(s, s + 150) for s in starts]
    lower = text.lower()
    if not c._plain_case(text):
        return
    fast = their_refs._matches(their_refs._LABELLED, text, windows, lower, their_refs._LABEL_STARTS)
    plain = their_refs._matches(their_refs._LABELLED, text, windows)
    assert [m.span() for m in fast] == [m.span() for m in plain]
