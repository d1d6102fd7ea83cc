"""More speed-ups in reading a message's text, each checked against the straightforward
way it replaced (see test_classify_fast_paths.py for the others): contractions expanded
only near apostrophes, quoted lines looked for only at ">", text of other than ASCII
lowered a sentence at a time, the quote header words looked for at the colons, and all
the keywords a text holds found in one pass (an Aho-Corasick automaton)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from foibot.domain import classify as c

EXAMPLES = settings(max_examples=300, deadline=None)

CONTRACTION_PIECES = [
    *c._CONTRACTIONS, *(k.upper() for k in c._CONTRACTIONS), "We've", "CAN'T", "Don't",
    "'", "'ve", "'t", "'m", "'re", "'ll", "n't", "i", "I", "s", "we", "x", "couldn", "doesn",
    " ", ".", "\x00", "\n", "-", "_", "1", "\u0130", "\u0131", "\u017f", "\u212a", "\u03a3",
    "\u2013", "DİDN'T", "doe\u017fn't", "i\u017fn't", "we'vex", "xwe've", "we''ve", "can'tt",
]  # fmt: skip
contraction_texts = st.lists(st.sampled_from(CONTRACTION_PIECES), max_size=30).map("".join)

LINE_PIECES = [
    "a", "B", " ", "  ", "\t", "\n", "\n\n", "\r", "\r\n", "\x0b", "\x0c", "\x1c", "\x1d",
    "\x1e", "\x85", "\u2028", "\u2029", "\u00a0", ">", "> x", " > y", "<http://x.gov.uk/>",
    "a > b", "\u3000>", "\u2013", "\u0130",
]  # fmt: skip
line_texts = st.lists(st.sampled_from(LINE_PIECES), max_size=30).map("".join)

SENTENCE_PIECES = [
    "a", "B", " ", "\n", "\n\n", ".", "?", "!", "- ", "1. ", "**", "**Bold?**", "\u2013",
    "\u2019", "we've", "CAN'T", "\u0130", "\u03a3", "\u00c9t\u00c9", "stra\u00dfe",
    "If you are unhappy", "review", "not held", "The council holds the information.",
    "information commissioner", "\x00",
]  # fmt: skip
sentence_texts = st.lists(st.sampled_from(SENTENCE_PIECES), max_size=40).map("".join)


@EXAMPLES
@given(contraction_texts)
def test_expand_contractions(text: str) -> None:
    assert c._expand_contractions(text) == c._CONTRACTION.sub(c._expanded, text)


@EXAMPLES
@given(contraction_texts.map(lambda t: t.replace("'", "\u2019")) | contraction_texts)
def test_normalise(text: str) -> None:
    straight = text.replace("\u2019", "'").replace("\u2018", "'")
    assert c._normalise(text) == c._CONTRACTION.sub(c._expanded, straight)


@EXAMPLES
@given(line_texts)
def test_joined_lines(text: str) -> None:
    assert c._joined_lines(text) == ("\n".join(text.splitlines()) == text)


@EXAMPLES
@given(line_texts.map(lambda t: "\n".join(t.splitlines())))
def test_has_quote_line(text: str) -> None:
    expected = any(line.lstrip().startswith(">") for line in text.splitlines())
    assert c._has_quote_line(text) == expected


@EXAMPLES
@given(sentence_texts)
def test_sentences_of_newline_text(text: str) -> None:
    """Text whose only line breaks are newlines (as ``strip_quoted_history`` makes it)
    has the sentences it has when that is not known."""
    text = "\n".join(text.splitlines())
    fast = c._sentences(text, newlines_only=True)
    assert [tuple(s) for s in fast] == [tuple(s) for s in c._sentences(text)]


@EXAMPLES
@given(st.lists(sentence_texts.map(lambda t: " ".join(t.split())).filter(bool), max_size=8))
def test_index_lowers(texts: list[str]) -> None:
    """Lowering the sentences one at a time (in text of other than ASCII) is lowering
    them all at once."""
    index = c._Index(texts)
    whole = "\n".join(texts).lower()
    assert index.whole == whole
    assert index.lowers == (whole.split("\n") if texts else [])


HEADER_PIECES = [
    "wrote:", "wrote", "from:", "from", ":", " :", "_", "____", "________", "original message",
    "original", " message", "a", " ", "\n", "re: x", "our ref: 1",
]  # fmt: skip


@EXAMPLES
@given(st.lists(st.sampled_from(HEADER_PIECES), max_size=20).map("".join))
def test_may_have_quote_header(lower: str) -> None:
    expected = any(word in lower for word in c._QUOTE_HEADER_WORDS)
    assert c._may_have_quote_header(lower) == expected


KEYWORD_PIECES = [
    *sorted(c._ALL_KEYWORDS), " ", "x", "\n", "not", "hel", "d", "revie", "w", "\u00e9", "\u2019",
    "\U0001f600",
]  # fmt: skip


@EXAMPLES
@given(st.lists(st.sampled_from(KEYWORD_PIECES), max_size=12).map("".join))
def test_every_keyword_held_is_found(text: str) -> None:
    """The keywords found in one pass are all the keywords held, however they overlap."""
    assert c._keyword_sentences(text, [0]).keys() == {k for k in c._ALL_KEYWORDS if k in text}


@EXAMPLES
@given(st.lists(st.lists(st.sampled_from(KEYWORD_PIECES), max_size=6).map("".join), max_size=8))
def test_keyword_sentences(parts: list[str]) -> None:
    """Each keyword's parts, by number and in order, in text of any characters (the
    automaton's places are places in the string, not in its UTF-8 bytes)."""
    parts = [part.replace("\n", " ") for part in parts]
    starts = c._starts(parts)
    expected: dict[str, list[int]] = {}
    for n, part in enumerate(parts):
        for k in sorted(c._ALL_KEYWORDS):
            if k in part:
                expected.setdefault(k, []).append(n)
    assert c._keyword_sentences("\n".join(parts), starts) == expected


SPACE_PIECES = [
    "a", "B", " ", "  ", "   ", "\n", "\n\n", " \n ", "\t", "\r", "\x1f", "\x85", "\u00a0",
    "\u1680", "\u2000", "\u2009", "\u200a", "\u200b", "\u2028", "\u202f", "\u3000", "\u2013",
    "\u2019", "\u00e9", "\x00", "*",
]  # fmt: skip


def test_other_space_is_all_other_white_space() -> None:
    """``_one_spaced`` takes text without ``_OTHER_SPACE`` for text whose only white
    space is " " and newlines: that is every other character ``str.split`` splits at."""
    splitting = {ch for ch in map(chr, range(0x110000)) if len(f"a{ch}b".split()) == 2}
    assert set(c._OTHER_SPACE) == splitting - {" ", "\n"}
    assert set(c._OTHER_ASCII_SPACE) == {ch for ch in c._OTHER_SPACE if ch.isascii()}


@EXAMPLES
@given(st.lists(st.sampled_from(SPACE_PIECES), max_size=40).map("".join))
def test_one_spaced_of_other_than_ascii(text: str) -> None:
    # (text of other than ASCII is looked through for white space from 1,000 characters)
    for whole in (text, text * (1000 // max(len(text), 1) + 1)):
        assert c._one_spaced(whole) == " ".join(whole.split())
