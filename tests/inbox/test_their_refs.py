"""The authority's own reference: the formats councils use, normalised, and the things
that look like references but are not."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from foibot.domain import their_refs
from foibot.domain.references import new_reference

COUNCIL = Path(__file__).resolve().parent.parent / "fixtures" / "council-responses"


@pytest.mark.parametrize(
    ("text", "value", "phrase"),
    [
        ("Our ref: 6073489", "6073489", "Our ref: 6073489"),
        ("OUR REF 6073489", "6073489", "OUR REF 6073489"),
        ("Our reference: 7706354", "7706354", "Our reference: 7706354"),
        ("Our reference number is 7706354.", "7706354", "Our reference number is 7706354"),
        ("RE: FOI 15631 - your request", "FOI-15631", "FOI 15631"),
        ("foi-15631", "FOI-15631", "foi-15631"),
        ("FOIA5727 - Remote working", "FOIA-5727", "FOIA5727"),
        ("Information Request: 01762", "1762", "Information Request: 01762"),
        ("FOI2016/00027", "FOI-2016-27", "FOI2016/00027"),
        ("Reference No: 406339", "406339", "Reference No: 406339"),
        ("ref no. 0406339", "406339", "ref no. 0406339"),
        ("15/16-514 Response", "15-16-514", "15/16-514"),
        ("CAS-184523-K7J2M9", "CAS-184523-K7J2M9", "CAS-184523-K7J2M9"),
        (
            "Case reference: CAS-184523-K7J2M9",
            "CAS-184523-K7J2M9",
            "Case reference: CAS-184523-K7J2M9",
        ),
        ("EIR/2021/0042 environmental", "EIR-2021-42", "EIR/2021/0042"),
    ],
)
def test_formats(text: str, value: str, phrase: str) -> None:
    found = their_refs.extract(text)
    assert [r.value for r in found] == [value]
    assert found[0].phrase == phrase


@pytest.mark.parametrize(
    "text",
    [
        "Please quote our reference FB-XA4KN8N in your reply.",  # ours
        "Your ref: FB-XA4KN8N",
        "Your reference: 12345678",  # the requester's, not theirs
        "Your ref: FOI 15631",
        "Telephone 0303 123 1113 or 020 8359 2000",
        "Wycliffe House, Water Lane, Wilmslow, Cheshire, SK9 5AF; NW9 4EW",
        "dated 24/02/2020 and 11.02.2020",
        "This letter is a refusal notice under section 17.1; see also s40(2) and section 43.",
        "under the Freedom of Information Act 2000 (FOIA 2000), FOISA 2002 and EIR 2004",
        "Reference: 2020",  # a year alone
        "Ref: 12",  # too short to be anything
        "11/13-45 and 15/17-3",  # not consecutive years
    ],
)
def test_not_references(text: str) -> None:
    assert their_refs.extract(text) == []


def test_the_real_council_replies() -> None:
    found = {
        p.name[:3]: [r.value for r in their_refs.extract(p.read_text(encoding="utf-8"))]
        for p in sorted(COUNCIL.glob("*.txt"))
    }
    assert found == {
        "000": ["6073489"],
        "001": [],
        "002": ["6234788"],
        "003": ["6299088"],
        "004": ["8268329"],
    }


def test_variants_cover_the_prefix_written_or_not() -> None:
    assert "15631" in their_refs.variants("FOI-15631")
    assert "FOIA-5727" in their_refs.variants("5727")
    assert their_refs.variants("CAS-184523-K7J2M9") == ("CAS-184523-K7J2M9",)


_GROUP = st.one_of(
    st.integers(min_value=0, max_value=10**7).map(str),
    st.text(alphabet="ABCDEFGHJKMNPQRSTUVWXYZ23456789", min_size=1, max_size=6),
)
_TOKENS = st.builds(
    lambda prefix, groups: prefix + "-".join(groups),
    st.sampled_from(["", "FOI", "FOIA", "EIR", "CAS-", "IR-"]),
    st.lists(_GROUP, min_size=1, max_size=4),
)


@given(_TOKENS)
def test_normalise_is_idempotent(token: str) -> None:
    once = their_refs.normalise(token)
    assert their_refs.normalise(once) == once


@given(_TOKENS, st.sampled_from([" ", "/", "_", ".", " / "]))
def test_case_and_separators_do_not_matter(token: str, separator: str) -> None:
    expected = their_refs.normalise(token)
    assert their_refs.normalise(token.lower()) == expected
    assert their_refs.normalise(token.replace("-", separator)) == expected


@given(st.integers(min_value=1, max_value=10**9), st.integers(min_value=0, max_value=4))
def test_leading_zeros_do_not_matter(number: int, zeros: int) -> None:
    assert their_refs.normalise("FOI " + "0" * zeros + str(number)) == f"FOI-{number}"
    assert their_refs.normalise("0" * zeros + str(number)) == str(number)


@given(
    st.integers(min_value=1000, max_value=99_999_999),
    st.integers(min_value=1000, max_value=99_999_999),
)
def test_different_numbers_stay_different(a: int, b: int) -> None:
    assert (their_refs.normalise(f"FOI {a}") == their_refs.normalise(f"FOI {b}")) == (a == b)


@given(
    st.integers(min_value=10_000, max_value=99_999_999),
    st.sampled_from(
        ["Our ref: {}", "Reference No: {}", "Information Request: {}", "FOI {}", "FOIA{}"]
    ),
    st.text(alphabet=st.characters(blacklist_categories=["Cs", "Nd", "Lu", "Ll"]), max_size=30),
)
def test_extracted_from_surrounding_text(number: int, template: str, noise: str) -> None:
    text = f"{noise} {template.format(number)} {noise}"
    values = [r.value for r in their_refs.extract(text)]
    assert values and values[0].endswith(str(number))


@given(st.randoms(use_true_random=False))
def test_our_own_references_are_never_theirs(rng: object) -> None:
    ours = new_reference(rng)  # type: ignore[arg-type]
    for text in (
        f"Reference: {ours}",
        f"Our ref: {ours}",
        f"Case ref: {ours.replace('-', ' ')}",
        ours,
    ):
        assert their_refs.extract(text) == []
