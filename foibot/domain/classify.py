"""What an incoming message is: rule-based, explainable classification (DESIGN.md §2).

Every decision keeps the phrases that caused it (``Classification.evidence``), so a
user can see *why* a reply counted as a refusal, and a wrong rule can be found.

The text read is the message's own words: quoted history ("-----Original Message-----",
"On ... wrote:", "> " lines) is cut off, except that a forwarded message's forwarded
part is kept (it *is* the reply). Within it, three kinds of sentence are ignored for
the kind and outcome, because the real council replies show them to mislead:

- the review-rights paragraph that every response carries ("If you are unhappy ...
  you can request a review within the next 40 working days ..."): it must not make a
  response a review response. It is where the review address is read from.
- our own questions, repeated in the response (question sentences, bold lines, and
  the block between "for the following information:" and "We have processed this
  request ..."/"Response"): "How many requests did you refuse under s12?" is not a
  refusal.
- conditional boilerplate ("If we need clarification we will contact you", "If the
  information is not held we will tell you"): said of what *might* happen.

Kinds are decided in this order: bounce, auto-reply, then review response, review
acknowledgement, fee notice, clarification request, extension notice, response,
acknowledgement, other. An auto-reply or an acknowledgement is never a response.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import accumulate, compress, repeat
from operator import add, or_
from typing import Any, NamedTuple

import ahocorasick_rs

from foibot.domain.message import ParsedMessage
from foibot.domain.plain_case import plain_case as _plain_case

KINDS = (
    "acknowledgement",
    "auto_reply",
    "bounce",
    "clarification_request",
    "extension_notice",
    "fee_notice",
    "response",
    "review_acknowledgement",
    "review_response",
    "other",
)
OUTCOMES = ("successful", "partially_successful", "not_held", "refused")


@dataclass(frozen=True)
class Classification:
    kind: str
    outcome: str | None = None
    sections: tuple[str, ...] = ()
    received_on: date | None = None
    review_address: str | None = None
    # decision -> the phrases that caused it ("kind", "outcome", "sections", ...)
    evidence: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "outcome": self.outcome,
            "sections": list(self.sections),
            "received_on": self.received_on.isoformat() if self.received_on else None,
            "review_address": self.review_address,
            "evidence": {k: list(v) for k, v in self.evidence.items()},
        }


# --------------------------------------------------------------------------- rules


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


def _lower_case_twin(pattern: re.Pattern[str]) -> re.Pattern[str]:
    """``pattern`` (case-insensitive, written in lower case) made case-sensitive: in text
    of plain case (see ``_plain_case``) it matches ``text.lower()`` exactly where
    ``pattern`` matches ``text``, and a case-sensitive search is about twice as fast."""
    if re.search("[A-Z]", re.sub(r"\\.|\(\?P[<=]\w+>?", "", pattern.pattern)):  # (not names)
        raise ValueError(f"not written in lower case: {pattern.pattern}")
    return re.compile(pattern.pattern, pattern.flags & ~re.IGNORECASE)


@dataclass(frozen=True)
class _Rule:
    name: str
    pattern: re.Pattern[str]
    lower_pattern: re.Pattern[str]  # ``pattern`` for text in lower case (``_lower_case_twin``)
    conditional_ok: bool = False  # True: still counts inside "if ..." sentences
    questions_ok: bool = False  # True: counts in a question too ("Could you clarify ...?")
    # Cheap pre-check: the rule can only match a sentence containing one of these (lower
    # case). Most sentences contain none, so most regex searches are never made.
    keywords: tuple[str, ...] = ()


# The words each rule cannot match without (by rule name; a rule without an entry is
# always tried). test_classify checks that the pre-check changes no decision.
_KEYWORDS: dict[str, tuple[str, ...]] = {
    "review completed": ("review",),
    "review outcome": ("review",),
    "review decision": ("uphold", "upheld", "overturn", "revers", "vary", "varied"),
    "reviewed the handling": ("reviewed",),
    "internal review response": ("internal review",),
    "review request received": ("review", "complaint"),
    "review request logged": ("review",),
    "review will be completed": ("review",),
    "review will be carried out": ("review",),
    "fees notice": ("fee",),
    "fee payable": ("£",),
    "section 9 fee": ("fee",),
    "pay before release": ("payment",),
    "asks to clarify": ("could you", "can you", "would you", "will you"),
    "needs clarification": (
        "clarification",
        "further information",
        "more information",
        "more details",
        "further details",
    ),
    "please clarify": ("please",),
    "clarification of request": ("clarification",),
    "section 1(3)": ("(3)",),
    "regulation 9(2)": ("(2)",),
    "clock stopped": ("clock", "time limit", "timelimit", "timescale"),
    "extends the deadline": ("extend",),
    "needs more time": ("time",),
    "extension to the deadline": ("extension",),
    "section 10(3)": ("(3)",),
    "regulation 7": ("regulation 7", "regulation7", "reg 7", "reg7", "reg. 7", "reg.7"),
    "new due date": ("date", "deadline"),
    "cannot answer in time": ("not", "cannot", "unable"),
    "holds the information": ("hold",),
    "response enclosed": ("please",),
    "answers below": ("below", "attached", "enclosed", "as follows"),
    "see attached": ("attached",),
    "our response": ("response",),
    "refusal notice": ("refusal",),
    "information provided": ("pleased", "able to"),
    "response to request": ("response to", "reply to"),
    "does not hold": ("not hold",),
    "not held": (
        "not held",
        "not recorded",
        "not logged",
        "not collected",
        "not captured",
        "not kept",
    ),
    "holds no information": ("no ",),
    "no information held": ("held",),
    "regulation 12(4)(a)": ("(4)",),
    "information not held": ("not held",),
    "exempt": ("exempt",),
    "exemption applied": ("exemption", "exception"),
    "withheld": ("withheld",),
    "not obliged": ("not obliged", "not required"),
    "cost limit": ("limit",),
    "neither confirm nor deny": ("neither",),
    "vexatious": ("vexatious",),
    "manifestly unreasonable": ("manifestly",),
    "refuses": ("refus", "declin", "unable"),
    "refused": ("refused",),
    "partial disclosure": ("partial", "in part", "part of", "some of"),
    "acknowledges": ("acknowledg",),
    "will respond": ("will",),
    "expect a response": tuple(
        f"{a} {noun}"
        for a in ("a", "our", "the")
        for noun in ("response", "reply", "answer", "decision")
    ),
    "request logged": tuple(
        f"{noun} {verb}"
        for noun in ("request", "enquiry")
        for verb in ("has been", "is being", "was", "is now being")
    ),
    "being processed": ("being",),
    "aims to respond": ("aim",),
    "reference given": ("been",),
    "due date": ("due",),
    "we have received": ("received",),
    "information below": ("please",),
    "numbered answers follow": ("response to", "reply to", "answer to"),
    "will respond within": ("will",),
    "out of office": ("out of", "away", "leave", "not in the office", "limited access"),
    "automated message": ("automat",),
    "unmonitored": ("monitored",),
}
PRECHECK = True  # tests switch it off to show that it changes nothing


def _rules(
    *specs: tuple[str, str] | tuple[str, str, bool], questions_ok: bool = False
) -> tuple[_Rule, ...]:
    rules = []
    for spec in specs:
        conditional_ok = bool(spec[2]) if len(spec) > 2 else False
        keywords = _KEYWORDS.get(spec[0], ())
        pattern = _rx(spec[1])
        rules.append(
            _Rule(
                spec[0], pattern, _lower_case_twin(pattern), conditional_ok, questions_ok, keywords
            )
        )
    return tuple(rules)


_WE = r"(?:we|i|the (?:council|authority|department|trust|board|reviewer|panel))"

REVIEW_RESPONSE = _rules(
    (
        "review completed",
        rf"\b{_WE} (?:have |has )?(?:now )?(?:completed|concluded|carried out|conducted|"
        r"undertaken|finished) (?:an?|the|my|our|this) (?:internal )?review",
    ),
    (
        "review outcome",
        r"\b(?:the )?(?:outcome|result|findings?|conclusion|decision) of (?:the|your|this|my|our)"
        r" (?:internal )?review (?:is|was|has been|are)\b",
    ),
    (
        "review decision",
        r"\b(?:i|we|the (?:review|reviewer|panel)) (?:have |has )?(?:decided to )?"
        r"(?:uphold|upheld|overturn(?:ed)?|partially upheld|reverse[ds]?|vary|varied) "
        r"(?:the |our |your )?(?:original )?(?:decision|response|refusal|complaint|handling)",
    ),
    (
        "reviewed the handling",
        rf"\b{_WE} (?:have |has )?(?:now )?reviewed (?:the handling of )?(?:your|the|our) "
        r"(?:request|original (?:response|decision)|response|decision)",
    ),
    ("internal review response", r"\binternal review (?:response|decision|outcome|result)\b"),
)

REVIEW_ACK = _rules(
    (
        "review request received",
        rf"\b{_WE} (?:have |has )?(?:received|acknowledge|are acknowledging) (?:receipt of )?"
        r"your (?:request for an? (?:internal )?review|(?:internal )?review request|"
        r"complaint)",
        True,
    ),
    (
        "review request logged",
        r"\byour (?:request for an? (?:internal )?review|(?:internal )?review request) "
        r"(?:has been|was|is being) (?:received|logged|passed|allocated|registered|acknowledged)",
        True,
    ),
    (
        "review will be completed",
        r"\b(?:aim|expect|intend|endeavour|hope) to (?:complete|respond to|conclude|finish) "
        r"(?:the|your|this) (?:internal )?review\b",
        True,
    ),
    (
        "review will be carried out",
        r"\b(?:the|your|an) (?:internal )?review will be (?:carried out|conducted|completed|"
        r"undertaken)",
        True,
    ),
)

FEE = _rules(
    ("fees notice", r"\bfees? notice\b"),
    (
        "fee payable",
        r"(?:£\s?\d[\d,]*(?:\.\d{2})?[^.?!]{0,120}\b(?:fee|payment|payable|charge|cheque|"
        r"disbursements?)\b|\b(?:fee|payment|charge)s? of £\s?\d[\d,]*(?:\.\d{2})?)"
        r"(?![^.?!]*\b(?:appropriate|cost) limit)",
    ),
    ("section 9 fee", r"\b(?:section|s\.?)\s?9\b[^.?!]{0,80}\bfee"),
    (
        "pay before release",
        r"\b(?:on|upon|following|once we have) receiv(?:ed|ing|t of) (?:the |your )?payment\b",
    ),
)

CLARIFICATION = _rules(
    (
        "asks to clarify",
        r"\b(?:could|can|would|will) you (?:please )?(?:clarify|confirm exactly|specify|"
        r"explain (?:what|which)|tell us (?:what|which|exactly)|narrow|refine|let us know "
        r"(?:what|which|exactly)|provide (?:more|further|additional) (?:details|information))\b",
    ),
    (
        "needs clarification",
        rf"\b{_WE} (?:need|require|would need|would require|seek|are seeking|must ask for) "
        r"(?:some |further |more |additional )?(?:clarification|further information|"
        r"more information|more details|further details)\b",
    ),
    (
        "please clarify",
        r"\bplease (?:could you |can you )?(?:clarify|specify|confirm) (?:what|which|whether|"
        r"exactly|how|if|the|your)\b",
    ),
    (
        "clarification of request",
        r"\b(?:request|seek|need|require)(?:ing)? (?:some )?clarification (?:of|on|about|"
        r"regarding) (?:your|the|this) request\b",
    ),
    ("section 1(3)", r"\b(?:section|s\.?)\s?1\s?\(3\)"),
    ("regulation 9(2)", r"\b(?:regulation|reg\.?)\s?9\s?\(2\)"),
    (
        "clock stopped",
        r"\b(?:the )?(?:20 working day |statutory )?(?:clock|time ?limit|timescale) "
        r"(?:has been|is|will be) (?:stopped|paused|on hold)\b",
    ),
    questions_ok=True,
)

EXTENSION = _rules(
    (
        "extends the deadline",
        r"\b(?:extend|extending|extended) (?:the |our )?(?:deadline|time ?(?:limit|frame|scale)|"
        r"(?:response |due )?(?:date|time|deadline)|period|time for (?:our )?response)",
    ),
    (
        "needs more time",
        rf"\b{_WE} (?:will )?(?:need|require|take|requires?) (?:some )?(?:more|additional|"
        r"further|extra) time\b",
    ),
    (
        "extension to the deadline",
        r"\bextension (?:to|of) (?:the )?(?:deadline|time|response|date|period|"
        r"(?:20 working )?days?)",
    ),
    ("section 10(3)", r"\b(?:section|s\.?)\s?10\s?\(3\)"),
    ("regulation 7", r"\b(?:regulation|reg\.?)\s?7\s?(?:\(1\))?(?![\d(])"),
    (
        "new due date",
        r"\b(?:new|revised|extended) (?:target |response |due )?(?:date|deadline)\b",
    ),
    (
        "cannot answer in time",
        r"\b(?:will not|won't|are unable to|cannot|can't|not be able to) (?:be able to )?"
        r"(?:respond|reply|provide (?:a|our|the) response)[^.?!]{0,40}\b(?:within|by) "
        r"(?:the )?(?:20|twenty|statutory|deadline)",
    ),
)

# A response for sure: what it says it holds, provides, refuses or does not hold.
RESPONSE_FINAL = _rules(
    (
        "holds the information",
        r"(?<!not )(?<!n't )(?<!never )\b(?:holds?|does hold|do hold) (?:the|some|all|this|that|"
        r"part of the) "
        r"(?:of the )?(?:information|data|records?)\b(?! (?:you have requested )?is exempt)",
    ),
    (
        "response enclosed",
        r"\bplease (?:find|see) (?:attached|below|enclosed|herewith|the attached)[^.?!]{0,40}"
        r"\b(?:response|reply|answer|information|letter|documents?|data|spreadsheet|figures|"
        r"appendix|appendices|copy|copies|files?|policy|policies|report)s?\b",
    ),
    (
        "answers below",
        r"\b(?:the )?(?:answers?|responses?|reply|information)(?: to your (?:questions?|"
        r"request))? (?:is|are) (?:set out |provided |given )?(?:below|attached|enclosed|"
        r"as follows)",
    ),
    ("see attached", r"^\W*see (?:the )?attached\W*$"),
    (
        "information below",
        r"\bplease (?:find|see) (?:the |our )?(?:information|answers?|responses?|details|"
        r"figures)(?: (?:that )?you(?: have)? requested| requested)? (?:below|attached|"
        r"enclosed|as follows)\b",
    ),
    (
        "numbered answers follow",
        r"^(?:in )?(?:response|reply|answer) to your (?:\w+ ){0,8}?request\b[^.?!]{0,120}:$",
    ),
    (
        "our response",
        r"\b(?:our|my|the council's|this) (?:full |formal )?response (?:to your request )?"
        r"(?:is|can be found|follows|will be found)\b",
    ),
    ("refusal notice", r"\brefusal notice\b"),
    (
        "information provided",
        r"\b(?:i am|we are) (?:pleased|able) to (?:provide|supply|enclose|release|send)\b",
    ),
    (
        "response to request",
        r"\b(?:in )?(?:response|reply) to your (?:freedom of information |foi |eir |"
        r"information )?request\b[^.?!]{0,80}\b(?:please find|i can|we can|i am|we are|"
        r"attached|below|the council)",
    ),
    (
        "does not hold",
        r"\b(?:does|do|did) not hold (?:the|any|this|that|these|those|some|such|all)"
        r" ?(?:of the |requested )?(?:information|data|records?|details)",
    ),
)

NOT_HELD = _rules(
    (
        "not held",
        r"\b(?:information|data|figures?|records?|details|it) (?:is |are |was |were )?"
        r"not (?:held|recorded|logged|collected|captured|kept)\b",
    ),
    (
        "does not hold",
        r"\b(?:does|do|did) not hold (?:the|any|this|that|these|those|some|such|all)"
        r" ?(?:of the |requested )?(?:information|data|records?|details)",
    ),
    (
        "holds no information",
        r"\b(?:holds?|have|has) no (?:recorded )?(?:information|data|records)\b",
    ),
    ("no information held", r"\bno (?:recorded )?(?:information|data|records) (?:is |are )?held\b"),
    ("regulation 12(4)(a)", r"\b(?:regulation|reg\.?)\s?12\s?\(4\)\s?\(a\)"),
    ("information not held", r"\binformation not held\b"),
)

REFUSAL = _rules(
    ("refusal notice", r"\brefusal notice\b"),
    (
        "exempt",
        r"\b(?:is|are|being|considered|deemed) (?:therefore )?exempt(?:ed)? (?:from disclosure )?"
        r"(?:under|by virtue of|in accordance with)\b",
    ),
    (
        "exemption applied",
        r"\b(?:apply|applying|applied|rely|relying|engage[sd]?) (?:on )?(?:the )?"
        r"(?:exemption|exception)s?\b",
    ),
    ("withheld", r"\b(?:is|are|been|being|will be) withheld\b"),
    ("not obliged", r"\bnot (?:obliged|required) to (?:comply|provide|disclose|release|confirm)"),
    ("cost limit", r"\bexceed(?:s|ed|ing)? the (?:appropriate |cost |fees )?limit\b"),
    ("cost limit", r"\b(?:appropriate|cost) limit\b[^.?!]{0,60}\b(?:exceed|refus|not obliged)"),
    ("neither confirm nor deny", r"\bneither confirm nor deny\b"),
    ("vexatious", r"\b(?:is|as|considered|deemed) (?:being )?vexatious\b"),
    ("manifestly unreasonable", r"\bmanifestly unreasonable\b"),
    (
        "refuses",
        rf"\b{_WE} (?:are|am|have|has|must)? ?(?:therefore )?(?:refus(?:e|ed|ing)|"
        r"declin(?:e|ed|ing)|unable to (?:provide|disclose|release|supply|comply))\b",
    ),
    ("refused", r"\b(?:request|information) (?:is|has been|was) (?:therefore )?refused\b"),
)

PARTIAL = _rules(
    (
        "partial disclosure",
        r"\b(?:partially|in part|part of the information|some of the information)\b"
        r"[^.?!]{0,60}\b(?:provid|disclos|releas|held|exempt|withheld)",
    ),
)

ACK = _rules(
    ("acknowledges", r"\backnowledg(?:e|es|ing|ement of) (?:the )?(?:receipt of )?your\b", True),
    (
        "will respond",
        rf"\b{_WE} will (?:aim to |endeavour to |try to )?(?:respond|reply|provide (?:you with )?"
        r"(?:a|our|the) (?:response|reply|information)|send (?:you )?(?:a|our|the) "
        r"(?:response|reply)|deal with (?:your|the|this) request|be in touch)[^.?!]{0,80}"
        r"\b(?:within|by|no later than|promptly|before)\b",
        True,
    ),
    (
        "expect a response",
        r"\b(?:should|will|can expect to|may expect to) (?:receive|get|have) (?:a|our|the) "
        r"(?:response|reply|answer|decision)[^.?!]{0,60}\b(?:within|by|no later than|before)\b",
        True,
    ),
    (
        "request logged",
        r"\byour (?:freedom of information |foi |foia |eir |information )?(?:request|enquiry) "
        r"(?:has been|is being|was|is now being) (?:logged|registered|allocated|passed|forwarded|"
        r"received and|assigned|recorded)",
        True,
    ),
    ("being processed", r"\b(?:is|are|now) being (?:processed|dealt with|handled)\b", True),
    (
        "will respond within",
        r"\bwill (?:aim to |endeavour to |try to )?(?:respond|reply)(?: to(?: it| you| your "
        r"request| this)?)? (?:promptly and )?(?:within|by) (?:the )?(?:20|twenty|statutory)",
        True,
    ),
    (
        "aims to respond",
        rf"\b{_WE} (?:will )?aim to (?:respond|reply|provide|send)[^.?!]{{0,80}}\b(?:within|by|"
        r"no later than)\b",
        True,
    ),
    (
        "reference given",
        r"\b(?:has|have) been (?:given|allocated|assigned) (?:the )?(?:reference|case|request) "
        r"(?:number|no|ref)?",
        True,
    ),
    (
        "due date",
        r"\b(?:response|reply)? ?(?:is )?due (?:date )?(?:is|will be|on|by)\b",
        True,
    ),
    (
        "we have received",
        rf"\b{_WE} (?:have |has )?received your (?:\w+ ){{0,3}}(?:request|email)"
        r"[^.?!]{0,80}\b(?:will|within)\b",
        True,
    ),
)

AUTO_BODY = _rules(
    (
        "out of office",
        r"\b(?:(?:i am|i'm|i will be) (?:currently )?(?:out of (?:the )?office|away|on (?:annual )?"
        r"leave|not in the office)|out of (?:the )?office (?:until|from|on)|limited access to "
        r"(?:my )?e-?mail)",
        True,
    ),
    (
        "automated message",
        r"\bthis is an? automat(?:ed|ic) (?:response|reply|message|e-?mail|acknowledgement)\b",
        True,
    ),
    (
        "unmonitored",
        r"\bthis (?:mailbox|e-?mail address|inbox) is (?:not|no longer) monitored\b",
        True,
    ),
)

RIGHTS = _rx(
    r"\b(?:if you are (?:unhappy|dissatisfied|not (?:happy|satisfied))|if you (?:remain )?"
    r"(?:unhappy|dissatisfied)|you (?:have|may have) the right to|right to (?:request|ask for|"
    r"seek) (?:a|an)(?: internal)? review|request (?:a|an)(?: internal)? review within|you (?:can|"
    r"may) (?:request|ask for|seek) (?:a|an)(?: internal)? review|information commissioner|"
    r"complain to the|right of appeal|right to appeal|having exhausted|wish to (?:complain|"
    r"appeal|request a review)|dissatisfied with the (?:handling|outcome|response)|"
    r"(?:apply|appeal) to the (?:scottish )?information commissioner|within (?:40|forty) "
    r"working days)"
)
_RIGHTS_LOWER = _lower_case_twin(RIGHTS)
_RIGHTS_KEYWORDS = (
    "unhappy", "dissatisf", "not happy", "not satisf", "right", "review", "commissioner",
    "complain", "appeal", "exhausted", "working days",
)  # fmt: skip
# Every RIGHTS match holds one of _RIGHTS_KEYWORDS, and one of these (in text of plain
# case they are just as sure to pass no rights wording by, and fewer sentences that are
# not rights wording hold them): "if you are unhappy|dissatisfied|not happy|not satisfied",
# "if you (remain) unhappy|dissatisfied", "dissatisfied with the ...", "(you have) the
# right to ...", "right of appeal", "request a review within", "you can request a
# review", "wish to request a review", "(apply to the) information commissioner",
# "complain to the", "having exhausted", "wish to complain|appeal", "within 40|forty
# working days".
_RIGHTS_WORDS = (
    "unhappy", "dissatisf", "not happy", "not satisf", "right ", "review",
    "information commissioner", "complain to the", "having exhausted", "wish to complain",
    "wish to appeal", "40 working days", "forty working days",
)  # fmt: skip
_ALL_KEYWORDS = frozenset(
    {*(k for words in _KEYWORDS.values() for k in words), *_RIGHTS_KEYWORDS, *_RIGHTS_WORDS}
)
# All the keywords are found in one pass over a message's text (an Aho-Corasick automaton),
# where one ``str.find`` per keyword read a council's response some hundred times over.
_KEYWORD_LIST = tuple(sorted(_ALL_KEYWORDS))
_KEYWORD_FINDER = ahocorasick_rs.AhoCorasick(
    _KEYWORD_LIST, implementation=ahocorasick_rs.Implementation.DFA
)


def _keyword_sentences(whole: str, starts: list[int]) -> dict[str, list[int]]:
    """For each keyword (``_ALL_KEYWORDS``) in ``whole``, the numbers of the parts it is in,
    in order (the parts start at ``starts``, and no keyword spans two: they hold no
    newline)."""
    found: dict[str, list[int]] = {}
    words = _KEYWORD_LIST
    # (overlapping matches are given in the order they end: a keyword's, in order)
    for k, start, _ in _KEYWORD_FINDER.find_matches_as_indexes(whole, overlapping=True):
        n = bisect_right(starts, start) - 1
        numbers = found.get(words[k])
        if numbers is None:
            found[words[k]] = [n]
        elif numbers[-1] != n:
            numbers.append(n)
    return found


REVIEW_CONTEXT = _rx(
    r"\b(?:internal review|review of (?:the|our|your) (?:handling|response|decision|"
    r"original)|reviewed the handling|review request|request for a review)\b"
)
CONDITIONAL = _rx(
    r"\b(?:if|unless|whether|in the event|in case|where)\b|^\W*should\b|\bshould (?:we|you|it|"
    r"the|a|an|there|any)\b|\b(?:may|might) (?:need|have|charge|be|require|ask|extend|contact)\b"
)

SUBJECT_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("acknowledgement", _rx(r"\backnowledg")),
    ("clarification_request", _rx(r"\bclarification (?:required|needed|request)|\bplease clarify")),
    ("extension_notice", _rx(r"\b(?:extension|extended deadline|deadline extended)\b")),
    ("fee_notice", _rx(r"\bfees? notice\b")),
    ("response", _rx(r"\b(?:response|disclosure|outcome|decision)\b")),
)

# The words each subject rule cannot match without (in lower case).
_SUBJECT_WORDS = {
    "acknowledgement": ("acknowledg",),
    "clarification_request": ("clarif",),
    "extension_notice": ("exten",),
    "fee_notice": ("notice",),
    "response": ("response", "disclosure", "outcome", "decision"),
}

AUTO_SUBJECT = _rx(
    r"^\s*(?:(?:re|fw|fwd):\s*)*(?:automatic reply|auto(?:matic)?[ -]?(?:reply|response)|"
    r"out of (?:the )?office|autoreply|abwesenheit|absence|on leave|away from (?:the|my) office)"
)

# Regulators' addresses are where to complain, not where to ask for a review.
REGULATOR_DOMAINS = ("ico.org.uk", "itspublicknowledge.info", "foi.scot", "ico.gsi.gov.uk")

# ------------------------------------------------------------------ text handling
#
# Speed (classification runs on every incoming message): most of the patterns below
# may start at any line start, or start with a lookbehind, so a regex scan tries them
# at every character of a council letter. Where a pattern can only match text holding
# some word, that word is looked for first (the rules' keywords all at once, by an
# Aho-Corasick automaton: ``_Index``; other words with ``str.find``), and the pattern is
# only run where it can match; where a pattern can be written to start with a fixed
# character, the regex engine skips straight to those characters; and in text of plain
# case, a pattern's case-sensitive twin reads the lower case text (``_lower_case_twin``).
# Each such rewrite gives exactly the matches of the pattern it stands for (tests/domain/
# test_classify_fast_paths.py checks them against the plain versions). (One regex
# alternation of all the keywords costs more than a ``str.find`` per keyword: the regex
# engine tries it at nearly every character. The automaton reads the text once.)


def _positions(lower: str, words: Iterable[str]) -> list[int]:
    """Where ``words`` occur (by word, then in order)."""
    found = []
    for word in words:
        i = lower.find(word)
        while i != -1:
            found.append(i)
            i = lower.find(word, i + 1)
    return found


_QUOTE_HEADER = re.compile(
    r"^[ \t]*(?:-{2,}[ \t]*Original Message[ \t]*-{2,}.*$|_{8,}[ \t]*$|On [^\n]{4,300}"
    r" wrote:[ \t]*$|From:[ \t][^\n]+\n(?:[^\n]+\n){0,3}?[ \t]*(?:Sent|Date):[ \t][^\n]+$)",
    re.IGNORECASE | re.MULTILINE,
)
_QUOTE_HEADER_WORDS = ("original message", "________", "wrote:", "from:")  # one is in any match
_FORWARD_MARK = re.compile(
    r"^[ \t]*(?:-{2,}[ \t]*Forwarded message[ \t]*-{2,}|Begin forwarded message:)",
    re.IGNORECASE | re.MULTILINE,
)
_FORWARD_SUBJECT = re.compile(r"^\s*(?:(?:re|aw):\s*)*(?:fw|fwd|forward)\s*:", re.IGNORECASE)
_BOLD_LINE = re.compile(r"^\s*(?:[-*•]\s*)?(?:\\\*\s*)?\*{2,}.*\*{2,}\s*$")
_QUOTED_REQUEST_START = _rx(
    r"(?:for the following information\s*:|^\s*you (?:asked|requested|wrote)(?: for)?\s*:|"
    r"^\s*your request(?: was| read)?\s*:|^\s*(?:in your request )?you asked:?\s*$)"
)
# Where the repeated questions end: a line saying "Response" (or "Answer" ...), "We have
# processed this request under ...", or a line starting "The council holds ...". Two
# patterns, so that each starts with a fixed character: the line ones are written from
# the newline before the line.
_QUOTED_REQUEST_END_LINE = re.compile(
    r"\n(?:\W*(?:response|our response|answer|reply|decision)\W*$|\W*(?:the (?:council|"
    r"authority)|we|i can confirm (?:that )?(?:the council|we))\b[^\n]{0,60}\b(?:holds?|"
    r"does not hold|do not hold)\b)",
    re.IGNORECASE | re.MULTILINE,
)
_QUOTED_REQUEST_END_ANYWHERE = re.compile(
    r"we have (?:processed|considered|dealt with) (?:this|your) request under", re.IGNORECASE
)
_QUOTED_REQUEST_TWINS = tuple(
    map(
        _lower_case_twin,
        (_QUOTED_REQUEST_START, _QUOTED_REQUEST_END_LINE, _QUOTED_REQUEST_END_ANYWHERE),
    )
)
# Sentences end after ".", "!" or "?" and white space, at a blank line, and at a line
# break before a list item ("- ", "1. ", "a) "):
_SENTENCE_END = re.compile(
    r"(?<=[.!?])\s+|\n\s*\n|\n(?=\s*(?:[-*•]|\d{1,2}[a-z]?[.)]|[a-h][.)])\s)"
)
# The same ends, marked with " \x00 " one kind at a time by patterns that start with a
# fixed character, which a scan skips to (_SENTENCE_END is tried at every character).
# They mark the same ends: the white space after a ".", "!" or "?" is one end whatever
# it holds, and the blank lines and line breaks before list items left are the same.
_SENTENCE_ENDS = (
    (".", re.compile(r"\.\s+"), ". \x00 "),
    ("!", re.compile(r"!\s+"), "! \x00 "),
    ("?", re.compile(r"\?\s+"), "? \x00 "),
    ("\n", re.compile(r"\n(?:\s*\n|(?=\s*(?:[-*•]|\d{1,2}[a-z]?[.)]|[a-h][.)])\s))"), " \x00 "),
)
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-']+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
_DIGIT = re.compile(r"\d")


def strip_quoted_history(body: str, subject: str = "") -> str:
    """The message's own words: quoted history cut off, "> " lines dropped. In a
    forwarded message the forwarded part is kept and what *it* quotes is cut."""
    return _strip_quoted_history(body, subject, body.lower(), _plain_case(body))


def _strip_quoted_history(body: str, subject: str, lower: str, checked: bool) -> str:
    """``strip_quoted_history`` given ``body.lower()`` and ``_plain_case(body)``."""
    forward = _FORWARD_MARK.search(body) if not checked or "forwarded message" in lower else None
    headers = (
        list(_QUOTE_HEADER.finditer(body)) if not checked or _may_have_quote_header(lower) else []
    )
    merged: list[re.Match[str]] = []
    for h in headers:  # "____" then "From: ... Sent: ..." is one separator
        if merged and h.start() - merged[-1].end() < 80:
            continue
        merged.append(h)
    cut_at: int | None = None
    if forward is not None or _FORWARD_SUBJECT.match(subject):
        start = forward.end() if forward is not None else 0
        after = [h for h in merged if h.start() >= start]
        # the first header block after the mark introduces the forwarded message
        if after and after[0].start() - start < 400:
            after = after[1:]
        if after:
            cut_at = after[0].start()
    elif merged:
        cut_at = merged[0].start()
    own = body if cut_at is None else body[:cut_at]
    if _joined_lines(own) and not _has_quote_line(own):
        return own  # (what the lines below would make of it: most letters)
    lines = own.splitlines()
    if ">" in own:
        lines = [line for line in lines if ">" not in line or not line.lstrip().startswith(">")]
    return "\n".join(lines)


def _may_have_quote_header(lower: str) -> bool:
    """Whether ``lower`` holds one of ``_QUOTE_HEADER_WORDS``. The two that end with a
    colon are looked for at the colons, which are few ("Our ref:", "Response:"): that is
    faster than looking for each through the text."""
    if "original message" in lower or ("_" in lower and "________" in lower):
        return True
    colon = lower.find(":")
    while colon != -1:
        if lower.endswith(("wrote", "from"), 0, colon):
            return True
        colon = lower.find(":", colon + 1)
    return False


# The line breaks of ``str.splitlines`` but "\n".
_OTHER_LINE_BREAKS = ("\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029")


def _joined_lines(text: str) -> bool:
    """Whether ``"\\n".join(text.splitlines())`` is ``text``: its only line breaks are
    newlines, and it does not end with one."""
    return not text.endswith("\n") and not any(map(text.__contains__, _OTHER_LINE_BREAKS))


def _has_quote_line(text: str) -> bool:
    """Whether a line of ``text`` (whose only line breaks are newlines) starts with ">"
    after white space. (Most ">" are in "<http://...>", and few.)"""
    at = text.find(">")
    while at != -1:
        line_start = text.rfind("\n", 0, at) + 1
        if line_start == at or text[line_start:at].isspace():
            return True
        at = text.find(">", at + 1)
    return False


def _without_quoted_request(
    text: str, lower: str | None = None, plain_case: bool | None = None
) -> str:
    """Drops the requester's questions that a response repeats before answering,
    when the response marks where they end ("We have processed this request ...").
    (``lower``: ``text.lower()``, ``plain_case``: ``_plain_case(text)``, when the caller
    has them.)"""
    if plain_case is None:
        plain_case = _plain_case(text)
    if plain_case:  # (the lower-case twins read the lower case text, at the same places)
        src = text.lower() if lower is None else lower
        start_at, line_at, anywhere_at = _QUOTED_REQUEST_TWINS
    else:
        src = text
        start_at, line_at = _QUOTED_REQUEST_START, _QUOTED_REQUEST_END_LINE
        anywhere_at = _QUOTED_REQUEST_END_ANYWHERE
    # The "^" alternatives can only match at the very start (no MULTILINE): elsewhere
    # only "for the following information" can, so the search starts where that is.
    start = start_at.match(src)
    if start is None:
        if plain_case:
            at = src.find("for the following information")
            start = start_at.search(src, at) if at != -1 else None
        else:
            start = start_at.search(src)
    if start is None:
        return text
    ends = []
    # (a line starting right at start.end() has its newline just before)
    line = line_at.search(src, start.end() - 1)
    if line is not None:
        ends.append(line.start() + 1)  # where the line starts
    if plain_case:  # tried only where "we have " is
        at = src.find("we have ", start.end())
        while at != -1:
            if anywhere_at.match(src, at) is not None:
                ends.append(at)
                break
            at = src.find("we have ", at + 1)
    else:
        anywhere = anywhere_at.search(src, start.end())
        if anywhere is not None:
            ends.append(anywhere.start())
    if not ends:
        return text
    return text[: start.end()] + "\n\n" + text[min(ends) :]


class _Sentence(NamedTuple):
    text: str  # normalised for the rules: straight apostrophes, contractions expanded
    rights: bool
    question: bool
    shown: str  # as written, for the evidence
    lower: str = ""  # ``text`` in lower case, for the keyword pre-checks


_CONTRACTIONS = {
    "we've": "we have",
    "we'll": "we will",
    "we're": "we are",
    "i've": "i have",
    "i'll": "i will",
    "i'm": "i am",
    "can't": "cannot",
    "won't": "will not",
    "don't": "do not",
    "doesn't": "does not",
    "didn't": "did not",
    "isn't": "is not",
    "aren't": "are not",
    "wasn't": "was not",
    "haven't": "have not",
    "hasn't": "has not",
    "couldn't": "could not",
}
_CONTRACTION = re.compile(
    r"\b(" + "|".join(re.escape(c) for c in _CONTRACTIONS) + r")\b", re.IGNORECASE
)
# Every contraction ends so, a few letters after it starts (_expand_contractions).
_CONTRACTION_END = re.compile(r"'(?:ve|ll|re|m|t)\b", re.IGNORECASE)
_BEFORE_APOSTROPHE = max(c.index("'") for c in _CONTRACTIONS)


def _normalise(text: str) -> str:
    if "\u2019" not in text and "'" not in text and "\u2018" not in text:
        return text
    return _expand_contractions(text.replace("\u2019", "'").replace("\u2018", "'"))


def _expand_contractions(text: str) -> str:
    """``_CONTRACTION.sub(_expanded, text)``. The pattern starts with a word boundary, so
    a search tries it at every character: it is only tried at the few places that can
    start a contraction, just before an apostrophe that ends one (found fast: a pattern
    that starts with a fixed character is skipped to it)."""
    parts: list[str] = []
    done = 0  # (``text`` up to here is in ``parts``)
    for end in _CONTRACTION_END.finditer(text):
        apostrophe = end.start()
        for start in range(max(done, apostrophe - _BEFORE_APOSTROPHE), apostrophe):
            contraction = _CONTRACTION.match(text, start)  # (\b sees the text before)
            if contraction is not None:
                parts += (text[done:start], _expanded(contraction))
                done = contraction.end()
                break
    if not parts:
        return text
    parts.append(text[done:])
    return "".join(parts)


def _expanded(contraction: re.Match[str]) -> str:
    # (a capital dotted I lower-cases to two characters: "DİDN'T" is no key, kept as is)
    return _CONTRACTIONS.get(contraction.group(1).lower(), contraction.group(1))


def _starts(parts: list[str]) -> list[int]:
    """Where each of ``parts`` starts in "\\n".join(parts) (and one past the end)."""
    return list(map(add, accumulate(map(len, parts), initial=0), range(len(parts) + 1)))


class _Index:
    """Which sentences of a message hold a word (in lower case). Their text is kept in one
    string, in which all the keywords (``_ALL_KEYWORDS``) are found in one pass, and any
    other word with one ``str.find`` over the message rather than one per sentence, each
    only once. (An index ``without`` some sentences keeps the keywords' sentences among
    the others only.)"""

    def __init__(self, texts: list[str]) -> None:
        joined = "\n".join(texts)  # (a sentence holds no newline)
        if joined.isascii():
            self.whole = joined.lower()  # the sentences' lower case text, joined by newlines
            self.lowers = self.whole.split("\n") if texts else []  # (each sentence's)
        else:  # (lowering other text is far slower, and most of its sentences are ASCII)
            self.lowers = list(map(str.lower, texts))
            self.whole = "\n".join(self.lowers)
        self._starts = _starts(self.lowers)  # where each starts in ``whole`` (and one past)
        # the number of the sentence that starts at each of ``_starts``
        self._numbers: Sequence[int] = range(len(self.lowers))
        # word -> the numbers of the sentences holding it (every keyword there, at once)
        self._word = _keyword_sentences(self.whole, self._starts)
        self._words: dict[tuple[str, ...], list[int]] = {}
        # the keywords present: no others are (for an index ``without`` some sentences,
        # those of the index it was made from)
        self.present = frozenset(self._word)
        # (for an index ``without`` some sentences: the one it was made from, and which of
        # its sentences are kept)
        self._all: _Index | None = None
        self._kept: list[bool] = []

    def without(self, dropped: list[bool]) -> _Index:
        """This index without the ``dropped`` sentences: a word is only looked for in the
        text of the others (their numbers stay those they have here)."""
        if not any(dropped):
            return self
        kept = [not drop for drop in dropped]
        index = _Index.__new__(_Index)  # (``__init__`` would work out what is known here)
        index.lowers = self.lowers  # (by sentence number, as here)
        kept_lowers = list(compress(self.lowers, kept))
        index.whole = "\n".join(kept_lowers)
        index._starts = _starts(kept_lowers)
        index._numbers = list(compress(self._numbers, kept))
        index._word, index._words = {}, {}
        index.present = self.present  # (a keyword that no sentence holds, these do not)
        index._all, index._kept = self, kept
        return index

    def holding(self, words: tuple[str, ...]) -> list[int]:
        """The numbers of the sentences holding one of ``words``, in order."""
        found = self._words.get(words)
        if found is not None:
            return found
        if len(words) == 1:
            found = self._holding(words[0])
        else:
            lists = [numbers for numbers in map(self._holding, words) if numbers]
            # (mostly at most one of the words is there)
            found = sorted(set().union(*lists)) if len(lists) > 1 else lists[0] if lists else []
        self._words[words] = found
        return found

    def matching(self, patterns: Iterable[re.Pattern[str]]) -> list[int]:
        """The numbers of the sentences where one of ``patterns`` (which cannot match a
        newline) matches, in order."""
        starts, numbers = self._starts, self._numbers
        return sorted(
            {
                numbers[bisect_right(starts, m.start()) - 1]
                for pattern in patterns
                for m in pattern.finditer(self.whole)
            }
        )

    def _holding(self, word: str) -> list[int]:
        found = self._word.get(word)
        if found is None:
            every = self._all
            if word in _ALL_KEYWORDS:
                if every is None or word not in self.present:
                    found = []  # (all the keywords there were found at once)
                else:  # which of the sentences holding it are kept
                    kept = self._kept
                    found = [i for i in every._word[word] if kept[i]]
            else:
                found = []
                whole, starts, numbers = self.whole, self._starts, self._numbers
                i = whole.find(word)
                while i != -1:
                    n = bisect_right(starts, i) - 1
                    found.append(numbers[n])
                    i = whole.find(word, starts[n + 1])  # on to the next sentence
            self._word[word] = found
        return found


class _Sentences(list[_Sentence]):
    """The sentences of one message (or its first few), remembering what each rule family
    found in them (the outcome rules ask again what the kind rules already asked), with
    the index of the message's sentences, so that a rule is only tried where it can match."""

    def __init__(
        self, sentences: Iterable[_Sentence], plain_case: bool, index: _Index, counting: _Index
    ) -> None:
        super().__init__(sentences)
        self.cache: dict[tuple[int, bool, int], list[tuple[str, str]]] = {}
        self.plain_case = plain_case  # see ``_plain_case``
        self.word_index = index  # of all the sentences
        # Of those that are neither rights sentences nor questions: most rules skip both,
        # and so do the callers of ``holding`` and ``matching``, so the words they look for
        # are looked for through less text (a third less in a council's response).
        self.counting_index = counting

    def holding(self, words: tuple[str, ...]) -> list[_Sentence]:
        """The sentences holding one of ``words`` (in lower case), but for rights
        sentences and questions."""
        return self._numbered(self.counting_index.holding(words))

    def matching(self, patterns: Iterable[re.Pattern[str]]) -> list[_Sentence]:
        """The sentences whose lower case text one of ``patterns`` matches, but for rights
        sentences and questions."""
        return self._numbered(self.counting_index.matching(patterns))

    def _numbered(self, numbers: list[int]) -> list[_Sentence]:
        if len(self) < len(self.word_index.lowers):  # (the first few: see ``head``)
            numbers = numbers[: bisect_left(numbers, len(self))]
        return [self[i] for i in numbers]

    def head(self, n: int) -> _Sentences:
        """The first ``n`` sentences."""
        if len(self) <= n:
            return self
        return _Sentences(self[:n], self.plain_case, self.word_index, self.counting_index)


# The characters but " " and "\n" that ``str.split`` takes for white space (``str.isspace``):
# those in ASCII text, and the others.
_OTHER_ASCII_SPACE: tuple[str, ...] = ("\t", "\x0b", "\x0c", "\r", "\x1c", "\x1d", "\x1e", "\x1f")
_OTHER_SPACE = (
    *_OTHER_ASCII_SPACE, "\x85", "\xa0", "\u1680", *map(chr, range(0x2000, 0x200B)),
    "\u2028", "\u2029", "\u202f", "\u205f", "\u3000",
)  # fmt: skip
_SPACE_RUN = re.compile("  +")  # (two spaces or more)


def _one_spaced(text: str) -> str:
    """``" ".join(text.split())``: each run of white space made one space, none at either
    end. In text whose only white space is " " and newlines (most letters; those of other
    than ASCII too, with their dashes and curly quotes) this is done without taking the
    text apart into words, which is several times faster."""
    if text.isascii():
        others = _OTHER_ASCII_SPACE
    elif len(text) >= 1000:  # (in shorter text, looking for 27 characters costs more)
        others = _OTHER_SPACE
    else:
        return " ".join(text.split())
    if any(map(text.__contains__, others)):
        return " ".join(text.split())
    text = text.replace("\n", " ")
    if "  " in text:
        # (the pattern starts with a fixed text, which a scan skips to: one pass, where
        # replacing "  " until none is left takes two or more over a letter)
        text = _SPACE_RUN.sub(" ", text)
    return text.strip(" ")


def _sentences(text: str, plain_case: bool = False, newlines_only: bool = False) -> _Sentences:
    """The sentences of ``text`` (``plain_case``: if ``_plain_case(text)`` is known to be
    true; ``newlines_only``: if its only line breaks are known to be newlines)."""
    # (splitting such text at newlines is ``splitlines``, but for a newline at the end)
    simple = newlines_only and not text.endswith("\n")
    if "**" in text:
        lines = text.split("\n") if simple else text.splitlines()
        joined = "\n".join(ln for ln in lines if "**" not in ln or not _BOLD_LINE.match(ln))
    else:
        joined = text if simple else "\n".join(text.splitlines())
    plain_case = plain_case or _plain_case(joined)  # (``joined`` holds no other characters)
    if "\x00" not in joined:
        # Every sentence is flattened (white space runs made one space, "*" and "\"
        # dropped) with one string operation over them all rather than one per sentence:
        # they are marked off by a character no sentence holds (" \x00 " is a word of its
        # own) and split apart after.
        for end, pattern, mark in _SENTENCE_ENDS:
            if end in joined:
                joined = pattern.sub(mark, joined)
        flat_all = _one_spaced(joined.replace("*", " ").replace("\\", " "))
        shown = list(filter(None, map(str.strip, flat_all.split("\x00"))))
        # ``_normalise`` of each, done to them all at once (no contraction spans a mark)
        normal = _expand_contractions(flat_all.replace("\u2019", "'").replace("\u2018", "'"))
        texts = shown
        if normal != flat_all:
            texts = list(filter(None, map(str.strip, normal.split("\x00"))))
    else:
        chunks = _SENTENCE_END.split(joined)
        shown = [
            flat
            for flat in (" ".join(c.replace("*", " ").replace("\\", " ").split()) for c in chunks)
            if flat
        ]
        texts = list(map(_normalise, shown))
    index = _Index(texts)
    lowers = index.lowers
    rights = [False] * len(texts)
    if PRECHECK and plain_case:
        for i in index.holding(_RIGHTS_WORDS):
            rights[i] = _RIGHTS_LOWER.search(lowers[i]) is not None
    else:
        for i in index.holding(_RIGHTS_KEYWORDS):
            rights[i] = RIGHTS.search(texts[i]) is not None
    questions = list(map(str.endswith, shown, repeat("?")))
    counting = index.without(list(map(or_, rights, questions)))
    return _Sentences(
        # (tuple.__new__ makes each _Sentence without a Python call)
        map(
            tuple.__new__,
            repeat(_Sentence),
            zip(texts, rights, questions, shown, lowers, strict=True),
        ),
        plain_case,
        index,
        counting,
    )


def _short(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _find(
    rules: tuple[_Rule, ...],
    sentences: _Sentences,
    *,
    skip_conditional: bool = True,
    per_rule: int = 3,
) -> list[tuple[str, str]]:
    """(rule name, sentence) for the sentences that count and that a rule matches (at
    most ``per_rule`` per rule)."""
    index = sentences.word_index
    present = index.present
    if PRECHECK:
        family_words = _FAMILY_WORDS.get(id(rules))
        if family_words is not None and present.isdisjoint(family_words):
            return []  # (text without a keyword of these rules: known at once)
    family = (id(rules), skip_conditional, per_rule)
    hits = sentences.cache.get(family)
    if hits is not None:
        return hits
    hits = sentences.cache[family] = []
    # (rules that skip questions need only look for their words where they count)
    counting = sentences.counting_index
    # (in text of plain case, the rules' lower-case twins read the lower case text)
    lower = PRECHECK and sentences.plain_case
    everything = range(len(sentences))
    head = len(sentences) < len(index.lowers)  # (see ``_Sentences.head``)
    seen: set[tuple[str, str]] = set()
    for rule in rules:
        numbers: Iterable[int] = everything
        if PRECHECK and rule.keywords:
            if present.isdisjoint(rule.keywords):
                continue
            numbers = (index if rule.questions_ok else counting).holding(rule.keywords)
            if head:
                numbers = [i for i in numbers if i < len(sentences)]
        pattern = rule.lower_pattern if lower else rule.pattern
        found = 0
        for i in numbers:
            s = sentences[i]
            if s.rights or (s.question and not rule.questions_ok):
                continue
            m = pattern.search(s.lower if lower else s.text)
            if m is None:
                continue
            if skip_conditional and not rule.conditional_ok and _conditional(s, m.start(), lower):
                continue
            key = (rule.name, s.text)
            if key not in seen:
                seen.add(key)
                hits.append((rule.name, s.shown))
                found += 1
            if found >= per_rule:
                break
    return hits


# Every CONDITIONAL match holds one of these.
_CONDITIONAL_WORDS = (
    "if", "unless", "whether", "in the event", "in case", "where", "should", "may ", "might ",
)  # fmt: skip


def _conditional(sentence: _Sentence, end: int, plain_case: bool) -> bool:
    """Whether the sentence is conditional before ``end`` (where a rule matched)."""
    if plain_case:  # (most are not, and these words show it faster than the pattern)
        before = sentence.lower[:end]
        if not any(map(before.__contains__, _CONDITIONAL_WORDS)):
            return False
    return CONDITIONAL.search(sentence.text[:end]) is not None


# The keywords of each rule family, if every rule of it has some (by the family's id: the
# families are module constants).
_FAMILY_WORDS = {
    id(family): frozenset(k for rule in family for k in rule.keywords)
    for family in (
        REVIEW_RESPONSE, REVIEW_ACK, FEE, CLARIFICATION, EXTENSION, RESPONSE_FINAL, NOT_HELD,
        REFUSAL, PARTIAL, ACK, AUTO_BODY,
    )
    if all(rule.keywords for rule in family)
}  # fmt: skip


def _phrases(hits: list[tuple[str, str]]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(f"{name}: {_short(text)}" for name, text in hits))


# ------------------------------------------------------------------ extractors

_MONTHS = {
    m: i
    for i, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for m in names
}
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_DATE = (
    r"(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day,?\s+)?(?:"
    rf"(?P<d1>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<m1>{_MONTH})\.?,?\s+(?P<y1>\d{{4}})"
    rf"|(?P<m2>{_MONTH})\.?\s+(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<y2>\d{{4}})"
    r"|(?P<d3>\d{1,2})[/.\-](?P<m3>\d{1,2})[/.\-](?P<y3>\d{4}|\d{2})(?!\d)"
    r"|(?P<y4>\d{4})-(?P<m4>\d{2})-(?P<d4>\d{2})"
    r")"
)
_RECEIVED = [
    _rx(
        r"\b(?:request|e-?mail|letter|correspondence|application)\b[^.?!]{0,80}?\b"
        r"(?:received|receipt)(?:\s+(?:by|at)\s+(?:us|the council|this office|[\w ]{1,40}))?"
        rf"(?:\s+(?:on|of|dated))?\s*:?\s+{_DATE}"
    ),
    _rx(rf"\b(?:we|the council|i) received (?:your|the|this)\b[^.?!]{{0,60}}?\bon\s+{_DATE}"),
    _rx(rf"\b(?:received|receipt)(?:\s+(?:on|of))?\s+{_DATE}"),
    _rx(rf"\b(?:request|e-?mail|letter)\s+(?:dated|of|sent on|made on)\s+{_DATE}"),
]


_RECEIVED_TWINS = [_lower_case_twin(pattern) for pattern in _RECEIVED]


def _to_date(m: re.Match[str]) -> date | None:
    g = m.groupdict()
    try:
        if g.get("d1"):
            return date(int(g["y1"]), _MONTHS[g["m1"].lower().rstrip(".")], int(g["d1"]))
        if g.get("d2"):
            return date(int(g["y2"]), _MONTHS[g["m2"].lower().rstrip(".")], int(g["d2"]))
        if g.get("d3"):
            year = int(g["y3"])
            year = year + 2000 if year < 100 else year
            return date(year, int(g["m3"]), int(g["d3"]))  # UK order: day/month/year
        if g.get("y4"):
            return date(int(g["y4"]), int(g["m4"]), int(g["d4"]))
    except (ValueError, KeyError):
        return None
    return None


def _anchors(lower: str, words: Iterable[str], limit: int = 40) -> list[int]:
    """Where ``words`` occur (str.find is far faster than a case-insensitive regex scan;
    the patterns are then only tried near these places)."""
    found: list[int] = []
    for word in words:
        i = lower.find(word)
        while i != -1 and len(found) < 4 * limit:
            found.append(i)
            i = lower.find(word, i + 1)
    return sorted(found)[:limit]


_RECEIVED_WORDS = ("receiv", "receipt", "dated", "sent on", "made on", " of ")


# The words each of the _RECEIVED patterns cannot match without.
_RECEIVED_NEEDS = (
    ("received", "receipt"),
    ("received",),
    ("received", "receipt"),
    ("request", "mail", "letter"),
)


def received_date(text: str) -> tuple[date | None, str | None]:
    """The date the authority says it received the request, and the phrase."""
    return _received_date(text, text.lower())


def _received_date(
    text: str, lower_text: str, checked: bool | None = None
) -> tuple[date | None, str | None]:
    # Every match holds a digit (the date) and its pattern's words: text without them is
    # not searched, nor are the (many) windows without them.
    if checked is None:
        checked = _plain_case(text)
    if _DIGIT.search(text) is None or (checked and not _may_say_received(lower_text)):
        return None, None
    if checked and len(text) > 2 * _RECEIVED_HEAD:
        # Letters say when they received the request near their start. The windows
        # wholly within the (flattened) start of the text are the first windows of the
        # whole text, the same ones, as long as the rarer anchor words leave room for
        # 60 " of " under the limit of 240 in _anchors: if the first pattern gives a date
        # in one of them, that is the answer, and the rest of the text need not be read.
        space = _SPACE.search(text, _RECEIVED_HEAD)
        if space is not None:
            found = _received_in(text[: space.start()], checked, _RECEIVED[:1], head=True)
            # ("rece" is in "receiv" and "receipt", "sent on" and "made on" are flattened)
            if (
                found[0] is not None
                and sum(lower_text.count(w) for w in ("rece", "dated", "sent", "made")) <= 180
            ):
                return found
    return _received_in(text, checked, _RECEIVED)


_AFTER_REQUEST = re.compile(r"\s+(?:dated|of|sent|made)")


def _may_say_received(lower: str) -> bool:
    """Whether a _RECEIVED pattern can match (in text of plain case): all but the last
    need "received" or "receipt", and that one "request", "mail" or "letter" followed by
    "dated", "of", "sent on" or "made on"."""
    if "received" in lower or "receipt" in lower:
        return True
    for word in ("request", "mail", "letter"):
        i = lower.find(word)
        while i != -1:
            if _AFTER_REQUEST.match(lower, i + len(word)):
                return True
            i = lower.find(word, i + 1)
    return False


_RECEIVED_HEAD = 1500  # characters
_SPACE = re.compile(r"\s")


def _received_in(
    text: str, checked: bool, patterns: Iterable[re.Pattern[str]], head: bool = False
) -> tuple[date | None, str | None]:
    """``received_date`` with ``patterns``; with ``head``, only in the windows that end
    within ``text`` (the start of a longer text, cut at white space)."""
    flat = _one_spaced(text)
    lower = flat.lower()
    windows = [(max(0, p - 130), p + 90) for p in _anchors(lower, _RECEIVED_WORDS, 60)]
    if head:
        windows = [(start, end) for start, end in windows if end <= len(flat)]
    for pattern, twin, needs in zip(patterns, _RECEIVED_TWINS, _RECEIVED_NEEDS, strict=False):
        words_at = sorted(_positions(lower, needs)) if checked else None
        if words_at == []:
            continue
        for start, end in windows:
            if words_at is not None:
                i = bisect_left(words_at, start)
                if i == len(words_at) or words_at[i] >= end:
                    continue
            if _DIGIT.search(flat, start, end) is None:
                continue
            # (in text of plain case, the pattern's lower-case twin reads ``lower``)
            for m in (twin if checked else pattern).finditer(
                lower if checked else flat, start, end
            ):
                when = _to_date(m)
                if when is not None:
                    return when, _short(flat[m.start() : m.end()])
    return None, None


_REVIEW_ANCHORS = ("review", "dissatisf", "unhappy", "not satisfied", "complain")


def review_address(text: str) -> tuple[str | None, str | None]:
    """The address to ask for an internal review: the first email address (not a
    regulator's) within a few lines after the review-rights wording."""
    return _review_address(text, text.lower())


def _review_address(text: str, lower: str) -> tuple[str | None, str | None]:
    if "@" not in lower:
        return None, None
    for start in _anchors(lower, _REVIEW_ANCHORS):
        if text.find("@", start, start + 700) == -1:
            continue  # no address in this window (the usual case)
        window = text[start : start + 700]
        # (no address starts before the white space preceding the first "@")
        at = window.find("@")
        from_ = max(window.rfind(" ", 0, at), window.rfind("\n", 0, at)) + 1
        for e in _EMAIL.finditer(window, from_):
            address = e.group(0).strip(".'").lower()
            domain = address.rpartition("@")[2]
            if any(domain == d or domain.endswith("." + d) for d in REGULATOR_DOMAINS):
                continue
            phrase = " ".join(window[: e.end()].split())
            return address, _short(phrase, 240)
    return None, None


_SECTION = _rx(
    r"\b(?:sections?|s\.|s(?=\s?\d)|ss\.?)\s?(?P<list>\d{1,2}A?(?:\s?\(\s?[0-9a-z]{1,4}\s?\))*"
    r"(?:\s*(?:,|and|&|or|/)\s*(?:s\.?\s?)?\d{1,2}A?(?:\s?\(\s?[0-9a-z]{1,4}\s?\))*)*)"
)
_REGULATION = _rx(
    r"\b(?:regulations?|regs?\.?)\s?(?P<list>\d{1,2}(?:\s?\(\s?[0-9a-z]{1,4}\s?\))*"
    r"(?:\s*(?:,|and|&|or|/)\s*\d{1,2}(?:\s?\(\s?[0-9a-z]{1,4}\s?\))*)*)"
)
_ONE = re.compile(r"(\d{1,2}A?)((?:\s?\(\s?[0-9a-z]{1,4}\s?\))*)", re.IGNORECASE)
# Sections that refuse or limit (FOIA Part II exemptions, s12 cost, s14 vexatious;
# FOISA s12, s14, s25-s41). Procedural ones (s1, s10, s16, s17, s45, s50 ...) are not.
_CITED_SECTIONS = {"12", "14", *(str(n) for n in range(21, 45)), "22A"}
_CITED_REGULATIONS = {"12", "13"}


# In lower case, every match of _SECTION or _REGULATION holds one of these: "section 40"
# and "regulation 12" end in "ion", "sections 40", "s.40", "ss 40" and "regs. 12" in "s",
# and "reg. 12" in "eg" (a sentence's only white space is " "). A pattern that starts with
# a fixed text is scanned for far faster than one that starts with a class ("[sgn]"):
# three passes over the message find the few sentences that can cite a section.
_CITATION_HINTS = (
    re.compile(r"s\.? ?\d"),
    re.compile(r"ion ?\d"),
    re.compile(r"eg\.? ?\d"),
)


def cited_sections(sentences: list[_Sentence]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    found: dict[str, str] = {}
    if isinstance(sentences, _Sentences) and sentences.plain_case:
        sentences = sentences.matching(_CITATION_HINTS)
    for s in sentences:
        if s.rights or s.question:
            continue
        for pattern, prefix, allowed in (
            (_SECTION, "s", _CITED_SECTIONS),
            (_REGULATION, "reg", _CITED_REGULATIONS),
        ):
            for m in pattern.finditer(s.text):
                for one in _ONE.finditer(m.group("list")):
                    number = one.group(1).upper()
                    if number not in allowed:
                        continue
                    subs = re.sub(r"\s", "", one.group(2)).lower()
                    if prefix == "reg" and number == "12" and not subs:
                        continue  # "regulation 12" alone names no exception
                    found.setdefault(f"{prefix}{number}{subs}", _short(s.shown))
    return tuple(found), tuple(f"{k}: {v}" for k, v in found.items())


# ------------------------------------------------------------------ auto / bounce


def auto_signals(message: ParsedMessage) -> tuple[list[str], bool]:
    """Header and subject evidence of an automatic message; the flag says whether it
    is an automatic *reply* (out of office) rather than machine-generated mail (which
    a case-management system's acknowledgement or response may well be)."""
    signals: list[str] = []
    replied = False
    auto = (message.header("auto-submitted") or "").strip().lower()
    if auto and not auto.startswith("no"):
        signals.append(f"Auto-Submitted: {auto}")
        replied = replied or auto.startswith("auto-replied")
    for name in ("x-autoreply", "x-autorespond", "x-autoresponder"):
        value = message.header(name)
        if value is not None and value.strip().lower() not in ("no", "false", "0"):
            signals.append(f"{name}: {value.strip()}"[:120])
            replied = True
    precedence = (message.header("precedence") or "").strip().lower()
    if precedence == "auto_reply":
        signals.append("Precedence: auto_reply")
        replied = True
    if AUTO_SUBJECT.search(message.subject):
        signals.append(f"subject: {_short(message.subject, 120)}")
        replied = True
    return signals, replied


_BOUNCE_SENDERS = ("mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon")


def bounce_signals(message: ParsedMessage) -> list[str]:
    signals: list[str] = []
    content_type = (message.header("content-type") or "").lower()
    if message.content_type == "multipart/report" and "delivery-status" in content_type:
        signals.append("Content-Type: multipart/report; report-type=delivery-status")
    failed = message.header("x-failed-recipients")
    if failed:
        signals.append(f"X-Failed-Recipients: {_short(failed, 120)}")
    local = (message.from_addr or "").partition("@")[0].lower()
    if local in _BOUNCE_SENDERS:
        signals.append(f"From: {message.from_addr}")
    return signals


# ------------------------------------------------------------------ the decision


def classify(message: ParsedMessage) -> Classification:
    """Kind, outcome, cited sections, the date they say they received the request
    and the review address, each with the phrases that decided it."""
    evidence: dict[str, tuple[str, ...]] = {}
    own, own_lower, plain_case = _own_text(message)
    sentences = _sentences(
        _without_quoted_request(own, own_lower, plain_case),
        plain_case,
        # (``strip_quoted_history`` joins lines with newlines; attachments' text is as is)
        newlines_only=not any(a.text for a in message.attachments),
    )
    ignored = [s for s in sentences if s.rights]
    if ignored:
        evidence["ignored"] = tuple(
            f"review-rights wording: {_short(s.shown, 120)}" for s in ignored[:3]
        )
    received_on, received_phrase = _received_date(own, own_lower, plain_case)
    address, address_phrase = _review_address(own, own_lower)
    if received_phrase:
        evidence["received_on"] = (received_phrase,)
    if address_phrase:
        evidence["review_address"] = (address_phrase,)

    def result(decision: _Decision) -> Classification:
        evidence["kind"] = tuple(dict.fromkeys(decision.why))
        if decision.outcome_why:
            evidence["outcome"] = tuple(dict.fromkeys(decision.outcome_why))
        sections: tuple[str, ...] = ()
        if decision.kind in ("response", "review_response", "extension_notice", "fee_notice"):
            sections, section_phrases = cited_sections(sentences)
            if section_phrases:
                evidence["sections"] = section_phrases
        return Classification(
            decision.kind, decision.outcome, sections, received_on, address, dict(evidence)
        )

    bounce = bounce_signals(message)
    report = message.delivery_report
    if report is not None and report.action not in (None, "failed"):
        # a delay or success notice: automatic, but the message was not lost
        return result(_Decision("auto_reply", [*bounce, f"delivery report: {report.action}"]))
    if bounce:
        return result(_Decision("bounce", bounce))
    content_type = (message.header("content-type") or "").lower()
    if message.content_type == "multipart/report" and "disposition-notification" in content_type:
        return result(_Decision("auto_reply", ["read receipt (disposition-notification)"]))

    auto, auto_replied = auto_signals(message)
    auto_subject = AUTO_SUBJECT.search(message.subject) is not None
    # (what the opening says of an automatic message is only read where it can matter)
    auto_body = _auto_body(sentences) if auto_subject or auto else ()
    if auto_subject or (auto and auto_body):
        return result(_Decision("auto_reply", [*auto, *auto_body]))

    decision = _content_kind(message, sentences)
    if auto:
        # An automatic *reply* (out of office, X-Autoreply ...) is an auto-reply
        # whatever it says. Machine-generated mail ("Auto-Submitted: auto-generated",
        # RFC 3834) is how case-management systems send acknowledgements and
        # responses: what it says counts, and when it says nothing it is an auto-reply.
        if not auto_replied and decision.kind != "other":
            decision.why[:0] = auto
            return result(decision)
        return result(_Decision("auto_reply", [*auto, *auto_body]))
    if decision.kind == "other":
        auto_body = _auto_body(sentences)
        if auto_body:
            return result(_Decision("auto_reply", list(auto_body)))
    return result(decision)


def _own_text(message: ParsedMessage) -> tuple[str, str, bool]:
    """The message's own words (``strip_quoted_history``) and its attachments' text, that
    in lower case, and whether it is of plain case (see ``_plain_case``)."""
    body = message.text
    body_lower = body.lower()
    body_plain = _plain_case(body)
    own = _strip_quoted_history(body, message.subject, body_lower, body_plain)
    attached = [a.text for a in message.attachments if a.text]
    if attached:
        own = "\n\n".join([own, *attached])
    plain_case = (body_plain and not attached) or _plain_case(own)
    if not attached and len(body_lower) == len(body) and body.startswith(own):
        # No character had a longer lower case, so lowering was done character by
        # character, and what follows ``own`` in the body (if anything) is a line break,
        # which no lower case depends on (a final sigma looks past letters only): this
        # is ``own.lower()``.
        return own, body_lower[: len(own)], plain_case
    return own, own.lower(), plain_case


def _auto_body(sentences: _Sentences) -> tuple[str, ...]:
    """What the opening sentences say of an automatic message ("I am out of the office")."""
    return _phrases(_find(AUTO_BODY, sentences.head(12), skip_conditional=False))


@dataclass
class _Decision:
    kind: str
    why: list[str]
    outcome: str | None = None
    outcome_why: list[str] = field(default_factory=list)


def _content_kind(message: ParsedMessage, sentences: _Sentences) -> _Decision:
    subject = message.subject
    # (in a subject of plain case, a rule is only tried if it holds the rule's words)
    lower = subject.lower() if PRECHECK and _plain_case(subject) else None
    subject_kinds = {
        kind: f"subject: {_short(subject, 120)}"
        for kind, pattern in SUBJECT_RULES
        if (lower is None or any(map(lower.__contains__, _SUBJECT_WORDS[kind])))
        and pattern.search(subject)
    }
    review_subject = (lower is None or "review" in lower) and bool(REVIEW_CONTEXT.search(subject))

    review_response = _find(REVIEW_RESPONSE, sentences)
    if review_response:
        # (no outcome: a review answers about the original response, and whether it
        # upheld it is for the user to read; the outcome rules would read its summary)
        return _Decision("review_response", list(_phrases(review_response)))
    review_ack = _find(REVIEW_ACK, sentences)
    if review_ack:
        return _Decision("review_acknowledgement", list(_phrases(review_ack)))

    final = _find(RESPONSE_FINAL, sentences)
    refusal = _find(REFUSAL, sentences)
    # A response that says what it holds or provides is a response, even if it
    # mentions time, fees or asks a question on the way.
    if not final:
        for kind, rules in (
            ("fee_notice", FEE),
            ("clarification_request", CLARIFICATION),
            ("extension_notice", EXTENSION),
        ):
            hits = _find(rules, sentences)
            from_subject = [subject_kinds[kind]] if kind in subject_kinds else []
            if hits:
                return _Decision(kind, [*_phrases(hits), *from_subject])
            if from_subject and not refusal:
                return _Decision(kind, from_subject)

    if final or refusal:
        outcome, outcome_why = _outcome(sentences)
        why = [*_phrases(final), *_phrases(refusal)]
        if review_subject:
            return _Decision("review_response", [f"subject: {_short(subject, 120)}", *why])
        return _Decision("response", why, outcome, outcome_why)
    ack = _find(ACK, sentences)
    if ack or "acknowledgement" in subject_kinds:
        why = list(_phrases(ack))
        if "acknowledgement" in subject_kinds:
            why.append(subject_kinds["acknowledgement"])
        if review_subject or _review_context(sentences):
            return _Decision("review_acknowledgement", ["review context", *why])
        return _Decision("acknowledgement", why)
    not_held = _find(NOT_HELD, sentences)
    if not_held:
        return _Decision("response", list(_phrases(not_held)), "not_held", list(_phrases(not_held)))
    if "response" in subject_kinds and any(not s.rights and not s.question for s in sentences):
        outcome, outcome_why = _outcome(sentences)
        return _Decision("response", [subject_kinds["response"]], outcome, outcome_why)
    return _Decision("other", [])


def _review_context(sentences: _Sentences) -> bool:
    """Whether a sentence that counts speaks of an internal review."""
    maybe: list[_Sentence] = sentences
    if sentences.plain_case:  # (REVIEW_CONTEXT cannot match without "review")
        maybe = sentences.holding(("review",))
    return any(REVIEW_CONTEXT.search(s.text) for s in maybe if not s.rights and not s.question)


# "information not held, but best estimate is ...": an answer after all.
_QUALIFIED = _rx(r"\b(?:but|however)\b[^.?!]{0,40}\b(?:estimate|approximately|around|roughly)\b")
_NOT_SUCCESS = {"refusal notice", "does not hold"}


def _outcome(sentences: _Sentences) -> tuple[str | None, list[str]]:
    success = [h for h in _find(RESPONSE_FINAL, sentences) if h[0] not in _NOT_SUCCESS]
    not_held = _find(NOT_HELD, sentences)
    qualified = [h for h in not_held if _QUALIFIED.search(h[1])]
    not_held = [h for h in not_held if h not in qualified]
    refusal = _find(REFUSAL, sentences)
    partial = _find(PARTIAL, sentences)
    why = [
        *(f"provided - {p}" for p in _phrases(success)),
        *(f"not held - {p}" for p in _phrases(not_held)),
        *(f"refused - {p}" for p in _phrases(refusal)),
        *(f"partial - {p}" for p in _phrases(partial)),
        *(f"answered with an estimate - {p}" for p in _phrases(qualified)),
    ]
    if success and (not_held or refusal or partial):
        return "partially_successful", why
    if success:
        return "successful", why
    if refusal:
        return "refused", why
    if not_held:
        return "not_held", why
    return None, why
