"""Our references: unambiguous alphabet, check character, found in free text."""

from __future__ import annotations

import re
from random import Random

from hypothesis import given
from hypothesis import strategies as st

from foibot.domain import references as refs

seeds = st.integers(min_value=0, max_value=2**32)


def test_shape() -> None:
    ref = refs.new_reference(Random(1))
    assert ref.startswith("FB-") and len(ref) == 10
    assert not set(ref[3:]) & set("01OIL")


@given(seeds)
def test_round_trip_in_any_case_and_spacing(seed: int) -> None:
    ref = refs.new_reference(Random(seed))
    assert refs.normalise(ref) == ref
    assert refs.normalise(ref.lower()) == ref
    assert refs.normalise(ref.replace("-", " ")) == ref
    assert refs.normalise(ref[3:]) == ref
    assert refs.find_references(f"Re: your request {ref.lower()}, thanks") == [ref]


@given(seeds, st.integers(min_value=3, max_value=9), st.sampled_from(refs.ALPHABET))
def test_any_single_mistyped_character_is_rejected(seed: int, pos: int, ch: str) -> None:
    ref = refs.new_reference(Random(seed))
    typo = ref[:pos] + ch + ref[pos + 1 :]
    if typo != ref:
        assert refs.normalise(typo) is None
        assert refs.find_references(f"ref {typo}") == []


@given(seeds, st.integers(min_value=3, max_value=8))
def test_any_adjacent_swap_is_rejected(seed: int, pos: int) -> None:
    ref = refs.new_reference(Random(seed))
    swapped = ref[:pos] + ref[pos + 1] + ref[pos] + ref[pos + 2 :]
    if swapped != ref:
        assert refs.normalise(swapped) is None


def test_not_found_inside_other_words_or_with_foreign_symbols() -> None:
    ref = refs.new_reference(Random(7))
    assert refs.find_references(f"XFB-{ref[3:]}") == []
    assert refs.find_references("FB-0OIL123") == []
    assert refs.find_references(f"{ref} and again {ref}") == [ref]


# The plain pattern find_references used before it was made to skip ahead to "fb".
PLAIN = re.compile(
    r"(?<![A-Za-z0-9])FB[\s\-_:#]?((?:[2-9A-HJKMNP-Za-hjkmnp-z][\s\-]?){6}[2-9A-HJKMNP-Za-hjkmnp-z])(?![A-Za-z0-9])",
    re.IGNORECASE,
)


def plain_find_references(text: str) -> list[str]:
    found: list[str] = []
    for match in PLAIN.finditer(text):
        ref = refs.normalise(match.group(1))
        if ref is not None and ref not in found:
            found.append(ref)
    return found


@given(
    st.lists(
        st.one_of(
            seeds.map(lambda s: refs.new_reference(Random(s))),
            seeds.map(lambda s: refs.new_reference(Random(s)).lower().replace("-", " ")),
            st.sampled_from(
                ["fb", "FB", "fB", "x", "9", " ", "-", ":", "#", "\n", "\u017f", "\u212a", "é"]
            ),
        ),
        max_size=12,
    ).map("".join)
)
def test_finds_what_the_plain_pattern_finds(text: str) -> None:
    assert refs.find_references(text) == plain_find_references(text)
