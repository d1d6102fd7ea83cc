"""The matcher as a pure function, over an in-memory lookup: the order of methods, the
case-system rule, conflicts, and (Hypothesis) that it never files a message when two
strong methods disagree."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from random import Random

from hypothesis import assume, given
from hypothesis import strategies as st

from foibot.domain.matching import AuthorityRef, RequestRef, domain_candidates, match_message
from foibot.domain.message import DeliveryReport, ParsedMessage
from foibot.domain.references import new_reference

OURS = ("research@example.org",)
CASE_SYSTEMS = ("icasework.com", "infreemation.co.uk")


@dataclass
class FakeLookup:
    """The store, as dictionaries; records how many calls each question took."""

    requests: list[RequestRef]
    message_ids: dict[str, int] = field(default_factory=dict)
    learned: dict[tuple[int, str], None] = field(default_factory=dict)  # (request id, value)
    domains: dict[str, list[AuthorityRef]] = field(default_factory=dict)
    emails: dict[str, int] = field(default_factory=dict)  # authority email -> authority id
    closed: set[int] = field(default_factory=set)
    calls: int = 0

    def _by_id(self, request_id: int) -> RequestRef:
        return next(r for r in self.requests if r.id == request_id)

    def requests_by_message_ids(self, message_ids: Sequence[str]) -> Mapping[str, RequestRef]:
        self.calls += 1
        return {m: self._by_id(self.message_ids[m]) for m in message_ids if m in self.message_ids}

    def requests_by_references(self, references: Sequence[str]) -> Mapping[str, RequestRef]:
        self.calls += 1
        return {r.reference: r for r in self.requests if r.reference in references}

    def requests_by_their_references(
        self, values: Sequence[str], authority_ids: Collection[int] | None
    ) -> Sequence[tuple[str, RequestRef]]:
        self.calls += 1
        hits = []
        for request_id, value in self.learned:
            request = self._by_id(request_id)
            if value in values and (authority_ids is None or request.authority_id in authority_ids):
                hits.append((value, request))
        return hits

    def requests_by_recipients(
        self, addresses: Sequence[str]
    ) -> Mapping[str, Sequence[RequestRef]]:
        self.calls += 1
        return {
            a: [r for r in self.requests if r.authority_id == self.emails[a]]
            for a in addresses
            if a in self.emails
        }

    def authorities_by_domains(
        self, domains: Sequence[str]
    ) -> Mapping[str, Sequence[AuthorityRef]]:
        self.calls += 1
        return {d: self.domains[d] for d in domains if d in self.domains}

    def open_requests(self, authority_ids: Sequence[int]) -> Mapping[int, Sequence[RequestRef]]:
        self.calls += 1
        out: dict[int, list[RequestRef]] = {}
        for r in self.requests:
            if r.authority_id in authority_ids and r.id not in self.closed:
                out.setdefault(r.authority_id, []).append(r)
        return out


def refs(n: int, seed: int = 1) -> list[str]:
    rng = Random(seed)
    return [new_reference(rng) for _ in range(n)]


BARNET = AuthorityRef(1, "London Borough of Barnet")
KENT = AuthorityRef(2, "Kent County Council")
R1, R2, R3, R4 = refs(4)


def world() -> FakeLookup:
    requests = [
        RequestRef(1, R1, 1, BARNET.name),
        RequestRef(2, R2, 1, BARNET.name),
        RequestRef(3, R3, 2, KENT.name),
        RequestRef(4, R4, 1, BARNET.name),
    ]
    return FakeLookup(
        requests=requests,
        message_ids={"out1@x": 1, "out2@x": 2, "out3@x": 3},
        learned={(1, "6073489"): None, (3, "FOI-15631"): None},
        domains={
            "barnet.gov.uk": [BARNET],
            "kent.gov.uk": [KENT],
            "barnet.icasework.com": [BARNET],
        },
        emails={"foi@barnet.gov.uk": 1, "foi@kent.gov.uk": 2},
    )


def msg(**fields: object) -> ParsedMessage:
    values: dict[str, object] = {
        "message_id": "in@x",
        "in_reply_to": (),
        "references": (),
        "from_addr": "someone@elsewhere.example",
        "from_name": None,
        "to": ("research@example.org",),
        "cc": (),
        "delivered_to": (),
        "subject": "Your request",
        "date": None,
        "headers": {},
        "content_type": "text/plain",
        "text": "Hello.",
    }
    values.update(fields)
    return ParsedMessage(**values)  # type: ignore[arg-type]


def match(lookup: FakeLookup, **fields: object) -> tuple[str | None, str | None, bool]:
    result = match_message(msg(**fields), lookup, OURS, CASE_SYSTEMS)
    return (result.request.reference if result.request else None, result.method, result.conflict)


def test_each_method() -> None:
    lk = world()
    plus = f"research+{R2.lower()}@example.org"
    assert match(lk, to=(plus,)) == (R2, "plus_address", False)
    assert match(lk, delivered_to=(plus,)) == (R2, "plus_address", False)
    assert match(lk, to=(f"someone+{R2}@example.org",)) == (None, None, False)  # not our address
    assert match(lk, in_reply_to=("out1@x",)) == (R1, "in_reply_to", False)
    assert match(lk, references=("zz@x", "out3@x")) == (R3, "in_reply_to", False)
    assert match(lk, subject=f"RE: request {R4}") == (R4, "reference_subject", False)
    assert match(lk, text=f"Your reference {R4.lower().replace('-', ' ')}") == (
        R4,
        "reference_body",
        False,
    )
    assert match(lk, from_addr="jo@barnet.gov.uk", subject="Our ref: 6073489") == (
        R1,
        "their_reference",
        False,
    )
    assert match(lk, from_addr="jo@kent.gov.uk", subject="FOI 15631") == (
        R3,
        "their_reference",
        False,
    )
    report = DeliveryReport("out2@x", ("foi@barnet.gov.uk",), "5.1.1", None, "failed")
    assert match(lk, delivery_report=report, from_addr="mailer-daemon@mx.example.org") == (
        R2,
        "bounce",
        False,
    )
    # Kent has one open request: its domain alone files the message
    assert match(lk, from_addr="alex@kent.gov.uk") == (R3, "sender_domain", False)
    assert match(lk, from_addr="alex@mail.kent.gov.uk") == (R3, "sender_domain", False)


def test_strongest_method_is_named_and_agreeing_ones_are_evidence() -> None:
    lk = world()
    result = match_message(
        msg(
            in_reply_to=("out1@x",),
            subject=f"RE: {R1}",
            from_addr="jo@barnet.gov.uk",
            text="Our ref: 6073489",
        ),
        lk,
        OURS,
        CASE_SYSTEMS,
    )
    assert result.request is not None and result.request.reference == R1
    assert result.method == "in_reply_to"
    assert [s["method"] for s in result.evidence["signals"]] == [
        "in_reply_to",
        "reference_subject",
        "their_reference",
    ]


def test_mistyped_reference_is_ignored_not_misfiled() -> None:
    lk = world()
    wrong = R1[:-1] + ("2" if R1[-1] != "2" else "3")
    assert match(lk, subject=f"RE: {wrong}") == (None, None, False)


def test_their_reference_only_among_the_senders_authority() -> None:
    lk = world()
    # Kent's learned reference, quoted from a Barnet address: not filed (Barnet has several
    # open requests), but suggested
    result = match_message(
        msg(from_addr="jo@barnet.gov.uk", subject="FOI 15631"), lk, OURS, CASE_SYSTEMS
    )
    assert result.request is None
    assert R3 in [s.request.reference for s in result.suggestions]
    # from an unknown domain: suggested, never filed
    assert match(lk, from_addr="team@capita.co.uk", subject="Our ref: 6073489") == (
        None,
        None,
        False,
    )


def test_case_system_domains() -> None:
    lk = world()
    lk.closed = {2, 4}  # Barnet has one open request now
    # the case system's domain alone never counts, even configured for one authority
    assert match(lk, from_addr="noreply@barnet.icasework.com") == (None, None, False)
    # ... but with the authority's reference learned on one of its requests, it does
    assert match(lk, from_addr="noreply@barnet.icasework.com", subject="Our ref: 6073489") == (
        R1,
        "their_reference",
        False,
    )
    # bare case-system domain: unique reference and the authority named in the message
    assert match(
        lk,
        from_addr="noreply@infreemation.co.uk",
        from_name="Barnet Council",
        subject="Our ref: 6073489",
    ) == (R1, "their_reference", False)
    assert match(lk, from_addr="noreply@infreemation.co.uk", subject="Our ref: 6073489") == (
        None,
        None,
        False,
    )
    # an ordinary domain with one open request is enough
    assert match(lk, from_addr="jo@barnet.gov.uk") == (R1, "sender_domain", False)


def test_disagreeing_methods_leave_it_unmatched_with_suggestions() -> None:
    lk = world()
    result = match_message(
        msg(in_reply_to=("out1@x",), subject=f"RE: {R2}"), lk, OURS, CASE_SYSTEMS
    )
    assert (result.request, result.conflict) == (None, True)
    assert {s.request.reference for s in result.suggestions} == {R1, R2}
    assert result.suggestions[0].request.reference == R1  # the stronger method ranks first
    assert all(s.reasons for s in result.suggestions)


def test_few_questions_whatever_the_number_of_requests() -> None:
    lk = world()
    match_message(
        msg(
            in_reply_to=("out1@x",),
            subject=f"RE: {R1}",
            from_addr="jo@barnet.gov.uk",
            text="Our ref: 6073489",
        ),
        lk,
        OURS,
        CASE_SYSTEMS,
    )
    assert lk.calls <= 6


def test_domain_candidates_stop_at_public_suffixes() -> None:
    assert domain_candidates("mail.barnet.gov.uk") == ["mail.barnet.gov.uk", "barnet.gov.uk"]
    assert domain_candidates("gov.uk") == []
    assert domain_candidates("example.com") == ["example.com"]


STRONG_FIELDS = ("plus", "in_reply_to", "subject", "body", "their", "bounce")


def _signal(kind: str, request: RequestRef, lk: FakeLookup) -> dict[str, object]:
    if kind == "plus":
        return {"to": (f"research+{request.reference}@example.org",)}
    if kind == "in_reply_to":
        mid = f"out-{request.id}@x"
        lk.message_ids[mid] = request.id
        return {"in_reply_to": (mid,)}
    if kind == "subject":
        return {"subject": f"RE: {request.reference}"}
    if kind == "body":
        return {"text": f"Please quote {request.reference}."}
    if kind == "their":
        value = f"FOI-{90000 + request.id}"
        lk.learned[(request.id, value)] = None
        return {"from_addr": "jo@barnet.gov.uk", "subject": f"FOI {90000 + request.id}"}
    mid = f"bounced-{request.id}@x"
    lk.message_ids[mid] = request.id
    report = DeliveryReport(mid, (), None, None, "failed")
    return {"delivery_report": report, "from_addr": "mailer-daemon@mx.example.org"}


@given(
    st.lists(st.sampled_from(STRONG_FIELDS), min_size=2, max_size=2, unique=True),
    st.permutations([0, 1, 3]),
)
def test_never_files_when_two_strong_methods_disagree(kinds: list[str], order: list[int]) -> None:
    lk = world()
    barnet = [r for r in lk.requests if r.authority_id == 1]
    first, second = barnet[order[0] % len(barnet)], barnet[order[1] % len(barnet)]
    # a bounce's body is our own returned message: it is not read for references
    assume(not ("bounce" in kinds and ("their" in kinds or "body" in kinds)))
    fields: dict[str, object] = {}
    for kind, request in zip(kinds, (first, second), strict=True):
        for key, value in _signal(kind, request, lk).items():
            if key in fields and isinstance(value, str):
                fields[key] = f"{fields[key]} {value}"
            elif key in fields and isinstance(value, tuple):
                fields[key] = (*fields[key], *value)  # type: ignore[misc]
            else:
                fields[key] = value
    result = match_message(msg(**fields), lk, OURS, CASE_SYSTEMS)
    if first.id == second.id:
        assert result.request is not None and result.request.id == first.id
    else:
        assert result.request is None
        assert result.conflict


@given(st.sampled_from(STRONG_FIELDS), st.integers(min_value=0, max_value=2))
def test_any_single_strong_method_files_it(kind: str, pick: int) -> None:
    lk = world()
    request = [r for r in lk.requests if r.authority_id == 1][pick]
    result = match_message(msg(**_signal(kind, request, lk)), lk, OURS, CASE_SYSTEMS)
    assert result.request == request
