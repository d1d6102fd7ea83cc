"""Our references: unambiguous alphabet, check character, found in free text."""

from __future__ import annotations

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
