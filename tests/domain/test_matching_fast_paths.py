"""The speed-ups in matching's helpers give what the straightforward versions they
replaced give (see tests/domain/test_classify_fast_paths.py for the pattern ones)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from foibot.domain import matching, their_refs
from foibot.domain.message import ParsedMessage

LABELS = ["gov", "uk", "co", "barnet", "mail", "icasework", "com", "", "GOV", "Uk", "ecase"]
domains = st.lists(st.sampled_from(LABELS), min_size=1, max_size=5).map(".".join)
EXAMPLES = settings(max_examples=300, deadline=None)


def plain_domain_candidates(domain: str) -> list[str]:
    labels = domain.lower().strip(".").split(".")
    out = []
    for i in range(len(labels) - 1):
        candidate = ".".join(labels[i:])
        if candidate in matching._PUBLIC_SUFFIXES:
            break
        out.append(candidate)
    return out


@EXAMPLES
@given(domains)
def test_domain_candidates(domain: str) -> None:
    assert matching.domain_candidates(domain) == plain_domain_candidates(domain)


@EXAMPLES
@given(domains, st.lists(domains, max_size=4))
def test_domain_matches(domain: str, suffixes: list[str]) -> None:
    plain = any(domain == s or domain.endswith("." + s) for s in suffixes)
    assert matching.domain_matches(domain, suffixes) == plain
    assert matching.domain_matches(domain, tuple(suffixes)) == plain


VALUES = ["FOI-15631", "15631", "EIR-15631", "FOIA-5727", "CAS-184523-K7J2M9", "15-16-514",
          "RFI-2016-27", "FOI-2016-27", "2016-27"]  # fmt: skip
refs = st.lists(
    st.builds(
        their_refs.TheirRef,
        st.sampled_from(VALUES),
        st.just("display"),
        st.sampled_from(["Our ref: 1", "FOI 1", "Case number: 2"]),
        st.booleans(),
    ),
    max_size=4,
)


@EXAMPLES
@given(refs)
def test_their_values_and_phrases(text_refs: list[their_refs.TheirRef]) -> None:
    """One loop gives the forms in order of first appearance, each with the phrase of
    the last reference having it."""
    keys = matching.lookup_keys(
        ParsedMessage(
            message_id=None, in_reply_to=(), references=(), from_addr=None, from_name=None,
            to=(), cc=(), delivered_to=(), subject="", date=None, headers={},
            content_type="text/plain", text="",
        ),
        found_references=text_refs,
    )  # fmt: skip
    values = list(dict.fromkeys(v for r in text_refs for v in their_refs.variants(r.value)))
    assert keys.their_values == values
    assert keys.phrases == {v: r.phrase for r in text_refs for v in their_refs.variants(r.value)}


@EXAMPLES
@given(st.sampled_from(VALUES))
def test_variants(value: str) -> None:
    head, _, rest = value.partition("-")
    if head in their_refs.FOI_PREFIXES and rest:
        plain: tuple[str, ...] = (rest, *(f"{p}-{rest}" for p in their_refs.FOI_PREFIXES))
    elif value[:1].isdigit():
        plain = (value, *(f"{p}-{value}" for p in their_refs.FOI_PREFIXES))
    else:
        plain = (value,)
    assert their_refs.variants(value) == plain
