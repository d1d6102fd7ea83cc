"""Which request an incoming message belongs to (DESIGN.md §2), as a pure function.

The methods, strongest first; each that finds something records its evidence:

1. ``plus_address``: our plus address (``research+FB-7K3M9Q5@...``) in To, Cc,
   Delivered-To, X-Original-To or Envelope-To;
2. ``in_reply_to``: In-Reply-To (then References) naming one of our Message-IDs;
3. ``reference_subject`` / ``reference_body``: our reference in the subject, then in the
   body or attachments (the check character is verified, so a mistyped reference is
   ignored, never misfiled);
4. ``their_reference``: the authority's own reference learned from earlier messages,
   looked up only among requests to the authority the sender's domain belongs to;
5. ``bounce``: a delivery report naming one of our Message-IDs, or the address one of
   our requests was sent to;
6. ``sender_domain``: the sender's domain belongs to exactly one authority, and that
   authority has exactly one open request. Only then.

Methods 1-5 are "strong": if they name different requests the message is left
unmatched with ``conflict=True`` (a misfiled reply is worse than an unmatched one).

Case-management systems (iCasework, Infreemation, eCase ...) send for many councils
from their own domains. Such a domain is never enough by itself (method 6 ignores it);
it counts as the authority only when another strong signal agrees: the authority's own
reference learned on one of its requests, and, when the domain is the system's bare
domain that no authority is configured with, the authority also named in the message.

In a bounce the body is our own returned message, so only the subject is searched for
our reference there; the report itself (method 5) says which message failed.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from foibot.domain import references, their_refs
from foibot.domain.message import ParsedMessage

METHODS = (
    "plus_address",
    "in_reply_to",
    "reference_subject",
    "reference_body",
    "their_reference",
    "bounce",
    "sender_domain",
    "manual",
)
STRONG = METHODS[:6]

# Public mail services: a reply from one of these says nothing about the authority,
# so `inbox assign` never learns them as an authority's domain.
WEBMAIL_DOMAINS = frozenset(
    {
        "aol.com",
        "btinternet.com",
        "gmail.com",
        "gmx.com",
        "gmx.co.uk",
        "googlemail.com",
        "hotmail.co.uk",
        "hotmail.com",
        "icloud.com",
        "live.co.uk",
        "live.com",
        "mail.com",
        "me.com",
        "msn.com",
        "outlook.com",
        "proton.me",
        "protonmail.com",
        "sky.com",
        "talktalk.net",
        "virginmedia.com",
        "yahoo.co.uk",
        "yahoo.com",
    }
)
# Second-level registries: "gov.uk" is never an authority's domain.
_PUBLIC_SUFFIXES = frozenset(
    {"gov.uk", "co.uk", "org.uk", "ac.uk", "nhs.uk", "police.uk", "sch.uk", "ltd.uk",
     "me.uk", "net.uk", "plc.uk", "gov.scot", "gov.wales", "llyw.cymru"}
)  # fmt: skip


# The records below use slots (no instance dict): a batch of mail keeps hundreds of
# them alive at once, and fewer, smaller objects mean less work for the cyclic GC.
@dataclass(frozen=True, slots=True)
class RequestRef:
    id: int
    reference: str  # "FB-7K3M9Q5"
    authority_id: int
    authority_name: str


@dataclass(frozen=True, slots=True)
class AuthorityRef:
    id: int
    name: str


class RequestLookup(Protocol):
    """What the matcher may ask the store. Every method takes a batch, so that an
    implementation answers each in one query."""

    def requests_by_message_ids(self, message_ids: Sequence[str]) -> Mapping[str, RequestRef]:
        """Our outgoing messages' Message-IDs (without <>) -> their request."""
        ...

    def requests_by_references(self, references: Sequence[str]) -> Mapping[str, RequestRef]:
        """Our canonical references ("FB-...") -> the request."""
        ...

    def requests_by_their_references(
        self, values: Sequence[str], authority_ids: Collection[int] | None
    ) -> Sequence[tuple[str, RequestRef]]:
        """(learned value, request) for learned authority references among ``values``,
        limited to requests to ``authority_ids`` (None: any authority)."""
        ...

    def requests_by_recipients(
        self, addresses: Sequence[str]
    ) -> Mapping[str, Sequence[RequestRef]]:
        """Lower-case addresses our requests were sent to -> those requests."""
        ...

    def authorities_by_domains(
        self, domains: Sequence[str]
    ) -> Mapping[str, Sequence[AuthorityRef]]:
        """Mail domains -> the authorities known to use them."""
        ...

    def open_requests(self, authority_ids: Sequence[int]) -> Mapping[int, Sequence[RequestRef]]:
        """Authority id -> its open requests (sent, not closed or withdrawn)."""
        ...


@dataclass(frozen=True, slots=True)
class Suggestion:
    request: RequestRef
    score: int
    reasons: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "request": self.request.reference,
            "authority": self.request.authority_name,
            "score": self.score,
            "why": list(self.reasons),
        }


@dataclass(frozen=True, slots=True)
class MatchResult:
    request: RequestRef | None
    method: str | None
    evidence: dict[str, Any]
    conflict: bool = False
    suggestions: tuple[Suggestion, ...] = ()


@dataclass(slots=True)
class _Signal:
    method: str
    requests: dict[int, RequestRef]
    detail: str

    def as_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "requests": sorted(r.reference for r in self.requests.values()),
            "detail": self.detail,
        }


@dataclass(slots=True)
class _Signals:
    strong: list[_Signal] = field(default_factory=list)
    hints: dict[int, tuple[RequestRef, int, list[str]]] = field(default_factory=dict)

    def add(self, method: str, requests: Sequence[RequestRef], detail: str) -> None:
        if requests:
            self.strong.append(_Signal(method, {r.id: r for r in requests}, detail))

    def hint(self, request: RequestRef, score: int, reason: str) -> None:
        known = self.hints.get(request.id)
        if known is None:
            self.hints[request.id] = (request, score, [reason])
        else:
            reasons = known[2] if reason in known[2] else [*known[2], reason]
            self.hints[request.id] = (request, max(known[1], score) + 5, reasons)


def domain_matches(domain: str, suffixes: Collection[str]) -> bool:
    """True when ``domain`` is one of ``suffixes`` or a subdomain of one."""
    if not domain.endswith(tuple(suffixes)):
        return False  # (the usual answer, found in one test)
    return any(domain == s or domain.endswith("." + s) for s in suffixes)


def domain_candidates(domain: str) -> list[str]:
    """The domain and its parents, most specific first, never a bare public suffix:
    "mail.barnet.gov.uk" -> ["mail.barnet.gov.uk", "barnet.gov.uk"]."""
    out = []
    candidate = domain.lower().strip(".")
    while "." in candidate and candidate not in _PUBLIC_SUFFIXES:
        out.append(candidate)
        candidate = candidate.partition(".")[2]  # its parent
    return out


_PLUS = re.compile(r"^(?P<local>[^+@]+)\+(?P<tag>[^@]+)@(?P<domain>.+)$")
_AUTHORITY_NOISE = re.compile(
    r"\b(?:london borough of|royal borough of|city of|county of|metropolitan|borough|county|"
    r"district|city|council|the|of|and)\b",
    re.IGNORECASE,
)


def authority_core_name(name: str) -> str:
    """ "London Borough of Barnet" -> "barnet"; "Leicester City Council" -> "leicester"."""
    return " ".join(_AUTHORITY_NOISE.sub(" ", name).lower().split())


def _names_authority(message: ParsedMessage, authority_name: str) -> bool:
    core = authority_core_name(authority_name)
    if len(core) < 3:
        return False
    haystack = " ".join([message.from_name or "", message.subject, message.text[:3000]]).lower()
    return re.search(rf"(?<![a-z]){re.escape(core)}(?![a-z])", haystack) is not None


@dataclass(frozen=True, slots=True)
class LookupKeys:
    """What matching a message will ask the store about: worked out once, so that a
    caller filing many messages can fetch the answers for all of them together."""

    plus_refs: dict[str, str]  # our reference -> the plus address it came in
    subject_refs: list[str]
    body_refs: list[str]
    references: list[str]  # all our references, for ``requests_by_references``
    message_ids: list[str]  # In-Reply-To, References, a bounce's original Message-ID
    domains: list[str]  # the sender's domain and its parents
    text_refs: list[their_refs.TheirRef]  # the authority's references in the message
    their_values: list[str]  # ... in every form they may have been learned under
    phrases: dict[str, str]  # each of those forms -> how the message put it


def lookup_keys(
    parsed: ParsedMessage,
    our_addresses: Collection[str] = (),
    found_references: Sequence[their_refs.TheirRef] | None = None,
) -> LookupKeys:
    """The keys ``match_message`` looks up for ``parsed`` (see its arguments)."""
    ours = {a.lower() for a in our_addresses}
    is_bounce = parsed.delivery_report is not None
    plus_refs: dict[str, str] = {}
    for address in (*parsed.to, *parsed.cc, *parsed.delivered_to):
        if "+" not in address:
            continue  # (the pattern needs one: a cheaper test first)
        m = _PLUS.match(address.lower())
        if m is None:
            continue
        if ours and f"{m.group('local')}@{m.group('domain')}" not in ours:
            continue
        ref = references.normalise(m.group("tag"))
        if ref is not None:
            plus_refs.setdefault(ref, address)
    subject_refs = references.find_references(parsed.subject)
    body_refs = [] if is_bounce else references.find_references(parsed.full_text)
    ids = list(dict.fromkeys([*parsed.in_reply_to, *parsed.references]))
    report = parsed.delivery_report
    if report is not None and report.original_message_id:
        ids.append(report.original_message_id)
    if is_bounce:  # the text is our own returned message
        text_refs = their_refs.extract_from([parsed.subject])
    elif found_references is not None:
        text_refs = list(found_references)
    else:
        text_refs = their_refs.extract_from([parsed.subject, parsed.full_text])
    # (For a form two references share, the phrase of the last: their_values keep the
    # order in which forms first appear.)
    phrases: dict[str, str] = {}
    for theirs in text_refs:
        for value in their_refs.variants(theirs.value):
            phrases[value] = theirs.phrase
    sender_domain = parsed.sender_domain
    return LookupKeys(
        plus_refs=plus_refs,
        subject_refs=subject_refs,
        body_refs=body_refs,
        references=list(dict.fromkeys([*plus_refs, *subject_refs, *body_refs])),
        message_ids=ids,
        domains=domain_candidates(sender_domain) if sender_domain else [],
        text_refs=text_refs,
        their_values=list(phrases),
        phrases=phrases,
    )


def match_message(
    parsed: ParsedMessage,
    lookup: RequestLookup,
    our_addresses: Collection[str] = (),
    case_system_domains: Collection[str] = (),
    found_references: Sequence[their_refs.TheirRef] | None = None,
    keys: LookupKeys | None = None,
) -> MatchResult:
    """The request ``parsed`` belongs to, how that was decided and why; or none, with
    up to three ranked suggestions for the unmatched queue. ``found_references``: the
    authority references in its subject and text, if the caller has them already;
    ``keys``: ``lookup_keys`` of the message, if the caller has worked them out."""
    signals = _Signals()
    if keys is None:
        keys = lookup_keys(parsed, our_addresses, found_references)
    plus_refs, subject_refs, body_refs = keys.plus_refs, keys.subject_refs, keys.body_refs
    # 1. plus address and 3. our references, looked up together
    by_ref = lookup.requests_by_references(keys.references) if keys.references else {}
    for ref, address in plus_refs.items():
        signals.add("plus_address", [by_ref[ref]] if ref in by_ref else [], address)

    # 2. In-Reply-To, then References
    report = parsed.delivery_report
    by_id = lookup.requests_by_message_ids(keys.message_ids) if keys.message_ids else {}
    # (A signal naming no request is not added: the ``if``s only skip building those.)
    if by_id:
        replied = [by_id[i] for i in parsed.in_reply_to if i in by_id]
        if replied:
            signals.add("in_reply_to", replied, "In-Reply-To: " + ", ".join(parsed.in_reply_to))
        else:
            named = [by_id[i] for i in parsed.references if i in by_id]
            signals.add("in_reply_to", named, "References names our message")

    if subject_refs:
        found_subject = [by_ref[r] for r in subject_refs if r in by_ref]
        signals.add("reference_subject", found_subject, ", ".join(subject_refs))
    if body_refs:
        found_body = [by_ref[r] for r in body_refs if r in by_ref]
        signals.add("reference_body", found_body, ", ".join(body_refs))

    # 4. the authority's own reference, among requests to the sender's authority
    sender_domain = parsed.sender_domain
    authorities: list[AuthorityRef] = []
    domain_used: str | None = None
    if sender_domain:
        candidates = keys.domains
        known = lookup.authorities_by_domains(candidates) if candidates else {}
        for candidate in candidates:
            if known.get(candidate):
                authorities, domain_used = list(known[candidate]), candidate
                break
    case_system = bool(sender_domain) and domain_matches(sender_domain or "", case_system_domains)
    text_refs = keys.text_refs
    values = keys.their_values
    hits: Sequence[tuple[str, RequestRef]] = ()
    # Requests to any authority that learned one of the references: for the case-system
    # rule, and for suggestions when the sender's own authority gave nothing.
    anywhere: Sequence[tuple[str, RequestRef]] | None = None
    if text_refs:
        scope = [a.id for a in authorities]
        if scope:
            hits = lookup.requests_by_their_references(values, scope)
            if hits:
                shown = keys.phrases
                detail = "; ".join(
                    sorted({f"{shown[v]} (learned on {r.reference})" for v, r in hits})
                )
                if case_system:
                    detail += f"; case-system sender {sender_domain} configured for the authority"
                signals.add("their_reference", [r for _, r in hits], detail)
        if case_system and not scope:
            # A case system's own domain: the reference must be unique across all
            # requests and the message must name that request's authority.
            anywhere = lookup.requests_by_their_references(values, None)
            requests = {r.id: r for _, r in anywhere}
            if len(requests) == 1:
                only = next(iter(requests.values()))
                if _names_authority(parsed, only.authority_name):
                    value = next(v for v, r in anywhere if r.id == only.id)
                    signals.add(
                        "their_reference",
                        [only],
                        f"{keys.phrases[value]} (learned on {only.reference}); "
                        f"case-system sender {sender_domain}, message names {only.authority_name}",
                    )

    # 5. bounce
    recipients_of: dict[int, RequestRef] = {}
    if report is not None:
        bounced: list[RequestRef] = []
        detail = ""
        failed = ", ".join(report.recipients) or "no recipient given"
        if report.original_message_id and report.original_message_id in by_id:
            bounced = [by_id[report.original_message_id]]
            detail = f"report names our Message-ID {report.original_message_id} ({failed})"
        elif report.recipients:
            by_recipient = lookup.requests_by_recipients(list(report.recipients))
            recipients_of = {r.id: r for rs in by_recipient.values() for r in rs}
            if len(recipients_of) == 1:
                bounced = list(recipients_of.values())
                detail = "report names the recipient " + ", ".join(report.recipients)
        signals.add("bounce", bounced, detail)

    # Decide among the strong methods.
    decisive = [s for s in signals.strong if len(s.requests) == 1]
    chosen = {next(iter(s.requests)) for s in decisive}
    ambiguous = [s for s in signals.strong if len(s.requests) > 1]
    evidence: dict[str, Any] = {"signals": [s.as_json() for s in signals.strong]}
    if sender_domain:
        evidence["sender_domain"] = sender_domain
        if authorities:
            evidence["sender_authorities"] = [a.name for a in authorities]
        if case_system:
            evidence["case_system"] = True

    if len(chosen) == 1 and all(next(iter(chosen)) in s.requests for s in ambiguous):
        request_id = next(iter(chosen))
        first = decisive[0]  # the strongest: signals are added in the order of STRONG
        request = first.requests[request_id]
        evidence["method"] = first.method
        if authorities and request.authority_id not in {a.id for a in authorities}:
            evidence["note"] = f"sender domain {sender_domain} is known for another authority"
        return MatchResult(request, first.method, evidence)

    # Not filed: the hints for its suggestions (only now, as a filed message needs none).
    if text_refs and not hits:
        if anywhere is None:
            anywhere = lookup.requests_by_their_references(values, None)
        for value, request in anywhere:
            signals.hint(
                request, 60, f"mentions {keys.phrases[value]}, the authority's reference for it"
            )
    for request in recipients_of.values():
        signals.hint(request, 50, "the bounce names its recipient")
    for s in signals.strong:
        for request in s.requests.values():
            signals.hint(request, 100 - 5 * STRONG.index(s.method), f"{s.method}: {s.detail}")
    if len(chosen) > 1 or (chosen and ambiguous):
        evidence["conflict"] = [s.as_json() for s in signals.strong]
        return MatchResult(None, None, evidence, True, _suggest(signals))

    # 6. sender domain: one authority, one open request, never a case system's domain
    if authorities and not case_system and not ambiguous:
        open_by_authority = lookup.open_requests([a.id for a in authorities])
        open_requests = [r for a in authorities for r in open_by_authority.get(a.id, ())]
        if len(authorities) == 1 and len(open_requests) == 1:
            request = open_requests[0]
            evidence["method"] = "sender_domain"
            evidence["signals"].append(
                {
                    "method": "sender_domain",
                    "requests": [request.reference],
                    "detail": f"{domain_used} belongs to {authorities[0].name}, "
                    "which has one open request",
                }
            )
            return MatchResult(request, "sender_domain", evidence)
        for request in open_requests:
            signals.hint(
                request,
                40,
                f"sender domain {domain_used} belongs to {request.authority_name} "
                f"({len(open_requests)} open requests)",
            )
    elif authorities and case_system:
        open_by_authority = lookup.open_requests([a.id for a in authorities])
        for a in authorities:
            for request in open_by_authority.get(a.id, ()):
                signals.hint(
                    request, 35, f"case-system sender {domain_used} is configured for {a.name}"
                )
    return MatchResult(None, None, evidence, False, _suggest(signals))


def _suggest(signals: _Signals) -> tuple[Suggestion, ...]:
    ranked = sorted(signals.hints.values(), key=lambda h: (-h[1], h[0].reference))
    return tuple(Suggestion(r, score, tuple(reasons)) for r, score, reasons in ranked[:3])
