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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from itertools import accumulate, repeat
from operator import add
from typing import Any, NamedTuple

from foibot.domain.message import ParsedMessage

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


@dataclass(frozen=True)
class _Rule:
    name: str
    pattern: re.Pattern[str]
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
    "needs clarification": ("clarification", "information", "details"),
    "please clarify": ("please",),
    "clarification of request": ("clarification",),
    "section 1(3)": ("1(3)", "1 (3)"),
    "regulation 9(2)": ("9(2)", "9 (2)"),
    "clock stopped": ("clock", "time limit", "timelimit", "timescale"),
    "extends the deadline": ("extend",),
    "needs more time": ("time",),
    "extension to the deadline": ("extension",),
    "section 10(3)": ("10(3)", "10 (3)"),
    "regulation 7": ("reg",),
    "new due date": ("date", "deadline"),
    "cannot answer in time": ("not", "cannot"),
    "holds the information": ("hold",),
    "response enclosed": ("please",),
    "answers below": ("below", "attached", "enclosed", "as follows"),
    "see attached": ("attached",),
    "our response": ("response",),
    "refusal notice": ("refusal",),
    "information provided": ("pleased", "able to"),
    "response to request": ("response to", "reply to"),
    "does not hold": ("not hold",),
    "not held": ("not ",),
    "holds no information": ("no ",),
    "no information held": ("held",),
    "regulation 12(4)(a)": ("12(4)", "12 (4)"),
    "information not held": ("not held",),
    "exempt": ("exempt",),
    "exemption applied": ("exemption", "exception"),
    "withheld": ("withheld",),
    "not obliged": ("obliged", "required"),
    "cost limit": ("limit",),
    "neither confirm nor deny": ("neither",),
    "vexatious": ("vexatious",),
    "manifestly unreasonable": ("manifestly",),
    "refuses": ("refus", "declin", "unable"),
    "refused": ("refused",),
    "partial disclosure": ("partial", "in part", "part of", "some of"),
    "acknowledges": ("acknowledg",),
    "will respond": ("will",),
    "expect a response": ("receive", "get ", "have "),
    "request logged": ("request", "enquiry"),
    "being processed": ("being",),
    "aims to respond": ("aim",),
    "reference given": ("been",),
    "due date": ("due",),
    "we have received": ("received",),
    "information below": ("please",),
    "numbered answers follow": ("response to", "reply to", "answer to"),
    "will respond within": ("will",),
    "out of office": ("office", "away", "leave", "limited access"),
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
        rules.append(_Rule(spec[0], _rx(spec[1]), conditional_ok, questions_ok, keywords))
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
        r"\b(?:in )?(?:response|reply) to your (?:freedom of information |FOI |EIR |"
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
        r"\byour (?:freedom of information |FOI |FOIA |EIR |information )?(?:request|enquiry) "
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
_RIGHTS_KEYWORDS = (
    "unhappy", "dissatisf", "not happy", "not satisf", "right", "review", "commissioner",
    "complain", "appeal", "exhausted", "working days",
)  # fmt: skip
# Every RIGHTS match holds one of _RIGHTS_KEYWORDS, and one of these (longer, so found
# faster; in text of plain case they are just as sure to pass no rights wording by).
_RIGHTS_WORDS = (
    "if you are ", "unhappy", "dissatisf", "right ", "review", "information commissioner",
    "complain to the", "having exhausted", "wish to ", " working days",
)  # fmt: skip
_ALL_KEYWORDS = frozenset(
    {*(k for words in _KEYWORDS.values() for k in words), *_RIGHTS_KEYWORDS, *_RIGHTS_WORDS}
)
# For a keyword holding others ("not held"), the longest of them ("not "): only the
# sentences holding that one can hold it.
_SHORTER_KEYWORD = {
    word: max(shorter, key=len)
    for word, shorter in (
        (word, [k for k in sorted(_ALL_KEYWORDS) if k != word and k in word])
        for word in _ALL_KEYWORDS
    )
    if shorter
}
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
# some word, that word is looked for first with ``str.find`` (fast), and the pattern is
# only run where it can match; where a pattern can be written to start with a fixed
# character, the regex engine skips straight to those characters. Each such rewrite
# gives exactly the matches of the pattern it stands for (tests/domain/
# test_classify_fast_paths.py checks them against the plain versions).

# A case-insensitive pattern also matches "i" to "ı" and "İ" and "s" to "ſ", which
# ``str.lower`` does not map to "i" and "s" ("İ".lower() is even two characters long).
# In text without them, "word in text.lower()" is true wherever a case-insensitive
# pattern could find the word, and positions in ``text.lower()`` are positions in
# ``text``: the word pre-checks rely on that and are skipped for other text.
_ODD_CASE = ("\u0130", "\u0131", "\u017f")


def _plain_case(text: str) -> bool:
    return text.isascii() or not any(c in text for c in _ODD_CASE)


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
# Sentences end after ".", "!" or "?" and white space, at a blank line, and at a line
# break before a list item ("- ", "1. ", "a) "). That is
#     (?<=[.!?])\s+|\n\s*\n|\n(?=\s*(?:[-*•]|\d{1,2}[a-z]?[.)]|[a-h][.)])\s)
# written to start with the character the break comes after (which it captures, to
# give a ".", "!" or "?" back to its sentence), so that the scan skips to those.
_SENTENCE_END = re.compile(
    r"([.!?\n])(?:(?<=[.!?])\s+|(?<=\n)\s*\n|(?<=\n)(?=\s*(?:[-*•]|\d{1,2}[a-z]?[.)]|"
    r"[a-h][.)])\s))"
)
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-']+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
_DIGIT = re.compile(r"\d")


def strip_quoted_history(body: str, subject: str = "") -> str:
    """The message's own words: quoted history cut off, "> " lines dropped. In a
    forwarded message the forwarded part is kept and what *it* quotes is cut."""
    lower = body.lower()
    checked = _plain_case(body)
    forward = _FORWARD_MARK.search(body) if not checked or "forwarded message" in lower else None
    headers = (
        list(_QUOTE_HEADER.finditer(body))
        if not checked or any(w in lower for w in _QUOTE_HEADER_WORDS)
        else []
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
    lines = own.splitlines()
    if ">" in own:
        lines = [line for line in lines if ">" not in line or not line.lstrip().startswith(">")]
    return "\n".join(lines)


def _without_quoted_request(text: str, lower: str | None = None) -> str:
    """Drops the requester's questions that a response repeats before answering,
    when the response marks where they end ("We have processed this request ...").
    (``lower``: ``text.lower()``, when the caller has it.)"""
    # The "^" alternatives can only match at the very start (no MULTILINE): elsewhere
    # only "for the following information" can, so the search starts where that is.
    plain_case = _plain_case(text)
    if plain_case and lower is None:
        lower = text.lower()
    start = _QUOTED_REQUEST_START.match(text)
    if start is None:
        if lower is not None and plain_case:
            at = lower.find("for the following information")
            start = _QUOTED_REQUEST_START.search(text, at) if at != -1 else None
        else:
            start = _QUOTED_REQUEST_START.search(text)
    if start is None:
        return text
    ends = []
    # (a line starting right at start.end() has its newline just before)
    line = _QUOTED_REQUEST_END_LINE.search(text, start.end() - 1)
    if line is not None:
        ends.append(line.start() + 1)  # where the line starts
    if lower is not None and plain_case:  # tried only where "we have " is
        at = lower.find("we have ", start.end())
        while at != -1:
            anywhere = _QUOTED_REQUEST_END_ANYWHERE.match(text, at)
            if anywhere is not None:
                ends.append(at)
                break
            at = lower.find("we have ", at + 1)
    else:
        anywhere = _QUOTED_REQUEST_END_ANYWHERE.search(text, start.end())
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
# every contraction ends so: a cheap test that spares the slow pattern most apostrophes
_CONTRACTION_END = re.compile(r"'(?:ve|ll|re|m|t)\b", re.IGNORECASE)


def _normalise(text: str) -> str:
    if "\u2019" not in text and "'" not in text and "\u2018" not in text:
        return text
    text = text.replace("\u2019", "'").replace("\u2018", "'")
    if not _CONTRACTION_END.search(text):
        return text
    return _CONTRACTION.sub(lambda m: _CONTRACTIONS[m.group(1).lower()], text)


def _starts(parts: list[str]) -> list[int]:
    """Where each of ``parts`` starts in "\\n".join(parts) (and one past the end)."""
    return list(map(add, accumulate(map(len, parts), initial=0), range(len(parts) + 1)))


def _normalise_all(sentences: list[str]) -> list[str]:
    """``_normalise`` of each sentence: only those with an apostrophe need it."""
    whole = "\n".join(sentences)  # (a sentence holds no newline)
    apostrophes = sorted(
        i for quote in ("'", "\u2019", "\u2018") for i in _positions(whole, (quote,))
    )
    if not apostrophes:
        return sentences
    texts = list(sentences)
    starts = _starts(sentences)
    for n in dict.fromkeys(bisect_right(starts, i) - 1 for i in apostrophes):
        texts[n] = _normalise(texts[n])
    return texts


class _Index:
    """Which of some sentences hold a word (in lower case). Their text is kept in one
    string, so that a word is looked for with one ``str.find`` over the message rather
    than one per sentence."""

    def __init__(
        self,
        lowers: list[str],
        numbers: list[int] | None = None,
        present: frozenset[str] | None = None,
        whole: str | None = None,
    ) -> None:
        self.lowers = lowers
        self._numbers = numbers  # the sentences' numbers in the message (default 0, 1 ...)
        # (``whole``: this, when the caller has it; a sentence holds no newline)
        self._whole = "\n".join(lowers) if whole is None else whole
        # where each sentence starts in ``_whole`` (and one past the end)
        self._starts = _starts(lowers)
        self._word: dict[str, list[int]] = {}
        self._words: dict[tuple[str, ...], list[int]] = {}
        # (if known: the keywords that may be present, a superset of those that are)
        self.present = present

    @classmethod
    def of_message(cls, whole: str) -> _Index:
        """The index of all the sentences of a message (their lower case text joined by
        newlines). For short text (most mail), one pass over all the keywords costs less
        than a call per keyword asked about."""
        index = cls(whole.split("\n") if whole else [], whole=whole)
        if len(index._whole) < 800:
            index.present = frozenset(filter(index._whole.__contains__, _ALL_KEYWORDS))
        return index

    def holding(self, words: tuple[str, ...]) -> list[int]:
        """The numbers of the sentences holding one of ``words``, in order."""
        found = self._words.get(words)
        if found is None:
            if len(words) == 1:
                found = self._holding(words[0])
            else:
                found = sorted({i for word in words for i in self._holding(word)})
            if self._numbers is not None:
                found = [self._numbers[i] for i in found]
            self._words[words] = found
        return found

    def matching(self, pattern: re.Pattern[str]) -> list[int]:
        """The numbers of the sentences where ``pattern`` (which cannot match a newline)
        matches their lower case text, in order."""
        found = dict.fromkeys(
            bisect_right(self._starts, m.start()) - 1 for m in pattern.finditer(self._whole)
        )
        return [i if self._numbers is None else self._numbers[i] for i in found]

    def holds_any(self, words: Iterable[str]) -> bool:
        if self.present is not None and self.present.isdisjoint(words):
            return False
        return any(self._holding(word) for word in words)

    def _holding(self, word: str) -> list[int]:
        found = self._word.get(word)
        if found is None:
            base = _SHORTER_KEYWORD.get(word)
            if self.present is not None and word in _ALL_KEYWORDS and word not in self.present:
                found = []
            elif base is not None:
                # only the sentences holding a keyword that this one holds need looking at
                lowers = self.lowers
                found = [i for i in self._holding(base) if word in lowers[i]]
            else:
                found = []
                whole, starts = self._whole, self._starts
                i = whole.find(word)
                while i != -1:
                    n = bisect_right(starts, i) - 1
                    found.append(n)
                    i = whole.find(word, starts[n + 1])  # on to the next sentence
            self._word[word] = found
        return found


class _Sentences(list[_Sentence]):
    """The sentences of one message, remembering what each rule family found in them
    (the outcome rules ask again what the kind rules already asked), with an index of
    which sentences hold which keyword, so that a rule is only tried where it can match."""

    def __init__(
        self, sentences: Iterable[_Sentence], plain_case: bool, present: frozenset[str] | None
    ) -> None:
        super().__init__(sentences)
        self.cache: dict[tuple[int, bool, int], list[tuple[str, str]]] = {}
        self.plain_case = plain_case  # see ``_plain_case``
        # Rules skip the review-rights sentences, and questions unless ``questions_ok``:
        # the indexes hold only the sentences that count (less text to look through).
        self._present = present
        self._counted: _Index | None = None
        self._answerable: _Index | None = None

    @property
    def counted(self) -> _Index:
        """The index of the sentences that count for most rules."""
        if self._counted is None:
            numbers = [i for i, s in enumerate(self) if not s.rights and not s.question]
            self._counted = _Index([self[i].lower for i in numbers], numbers, self._present)
        return self._counted

    @property
    def answerable(self) -> _Index:
        """The index of the sentences that count for rules that read questions too."""
        if self._answerable is None:
            numbers = [i for i, s in enumerate(self) if not s.rights]
            self._answerable = _Index([self[i].lower for i in numbers], numbers, self._present)
        return self._answerable

    def candidates(self, rule: _Rule) -> list[_Sentence]:
        """The sentences ``rule`` may match (those holding one of its keywords)."""
        if not PRECHECK or not rule.keywords:
            return self
        if self._present is not None and self._present.isdisjoint(rule.keywords):
            return []
        index = self.answerable if rule.questions_ok else self.counted
        return [self[i] for i in index.holding(rule.keywords)]

    def may_match(self, rules: Iterable[_Rule]) -> bool:
        """False if no sentence holds a keyword of any of the rules (short mail)."""
        words, questions_ok = _family_words(rules)
        if not PRECHECK or not words:
            return True
        return (self.answerable if questions_ok else self.counted).holds_any(words)

    def head(self, n: int) -> _Sentences:
        """The first ``n`` sentences."""
        if len(self) <= n:
            return self
        return _Sentences(self[:n], self.plain_case, self._present)


# (how a sentence end found by _SENTENCE_END is written back when sentences are joined
# with " \x00 ": a ".", "!" or "?" stays with its sentence, a newline goes)
_JOIN_AFTER = {end: ("" if end == "\n" else end) + " \x00 " for end in ".!?\n"}


def _sentences(text: str) -> _Sentences:
    if "**" in text:
        lines = [ln for ln in text.splitlines() if "**" not in ln or not _BOLD_LINE.match(ln)]
    else:
        lines = text.splitlines()
    joined = "\n".join(lines)
    parts = _SENTENCE_END.split(joined)  # sentence, the character it ended on, sentence ...
    if "\x00" not in joined:
        # Every sentence is flattened (white space runs made one space, "*" and "\"
        # dropped) with one string operation over them all rather than one per sentence:
        # they are joined by a character no sentence holds (" \x00 " is a word of its own)
        # and split again after.
        parts[1::2] = map(_JOIN_AFTER.__getitem__, parts[1::2])
        flat_all = " ".join("".join(parts).replace("*", " ").replace("\\", " ").split())
        shown = list(filter(None, map(str.strip, flat_all.split("\x00"))))
    else:
        chunks = parts[::2]
        for i, end in enumerate(parts[1::2]):
            if end != "\n":
                chunks[i] += end
        shown = [
            flat
            for flat in (" ".join(c.replace("*", " ").replace("\\", " ").split()) for c in chunks)
            if flat
        ]
    texts = _normalise_all(shown)
    index = _Index.of_message("\n".join(texts).lower())
    lowers = index.lowers
    plain_case = _plain_case(joined)
    rights = [False] * len(texts)
    for i in index.holding(_RIGHTS_WORDS if plain_case else _RIGHTS_KEYWORDS):
        rights[i] = RIGHTS.search(texts[i]) is not None
    questions = [s.endswith("?") for s in shown]
    return _Sentences(
        # (tuple.__new__ makes each _Sentence without a Python call)
        map(
            tuple.__new__,
            repeat(_Sentence),
            zip(texts, rights, questions, shown, lowers, strict=True),
        ),
        plain_case,
        index.present,
    )


def _short(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _find(
    rules: Iterable[_Rule],
    sentences: list[_Sentence],
    *,
    skip_conditional: bool = True,
    per_rule: int = 3,
) -> list[tuple[str, str]]:
    """(rule name, sentence) for the sentences that count and that a rule matches (at
    most ``per_rule`` per rule)."""
    indexed = sentences if isinstance(sentences, _Sentences) else None
    family = (id(rules), skip_conditional, per_rule)
    if indexed is not None and family in indexed.cache:
        return indexed.cache[family]
    hits: list[tuple[str, str]] = []
    if indexed is not None and not indexed.may_match(rules):
        indexed.cache[family] = hits
        return hits
    plain = indexed is not None and indexed.plain_case
    seen: set[str] = set()
    for rule in rules:
        found = 0
        if isinstance(sentences, _Sentences):
            candidates: list[_Sentence] = sentences.candidates(rule)
        else:
            candidates = [
                s
                for s in sentences
                if not PRECHECK or not rule.keywords or any(k in s.lower for k in rule.keywords)
            ]
        for s in candidates:
            if s.rights or (s.question and not rule.questions_ok):
                continue
            m = rule.pattern.search(s.text)
            if m is None:
                continue
            if skip_conditional and not rule.conditional_ok and _conditional(s, m.start(), plain):
                continue
            key = f"{rule.name}|{s.text}"
            if key not in seen:
                seen.add(key)
                hits.append((rule.name, s.shown))
                found += 1
            if found >= per_rule:
                break
    if indexed is not None:
        indexed.cache[family] = hits
    return hits


# Every CONDITIONAL match holds one of these.
_CONDITIONAL_WORDS = (
    "if", "unless", "whether", "in the event", "in case", "where", "should", "may ", "might ",
)  # fmt: skip


def _conditional(sentence: _Sentence, end: int, plain_case: bool) -> bool:
    """Whether the sentence is conditional before ``end`` (where a rule matched)."""
    if plain_case:  # (most are not, and these words show it faster than the pattern)
        before = sentence.lower[:end]
        if not any(word in before for word in _CONDITIONAL_WORDS):
            return False
    return CONDITIONAL.search(sentence.text[:end]) is not None


def _keywords_of(rules: Iterable[_Rule]) -> tuple[tuple[str, ...], bool]:
    """Every keyword of the rules, or () if a rule has none (is always tried), and
    whether one reads questions too."""
    rules = tuple(rules)
    questions_ok = any(rule.questions_ok for rule in rules)
    if not all(rule.keywords for rule in rules):
        return (), questions_ok
    return tuple(dict.fromkeys(k for rule in rules for k in rule.keywords)), questions_ok


# The keywords of each rule family (module constants: their ids stay theirs).
_FAMILY_WORDS = {
    id(family): _keywords_of(family)
    for family in (
        REVIEW_RESPONSE, REVIEW_ACK, FEE, CLARIFICATION, EXTENSION, RESPONSE_FINAL, NOT_HELD,
        REFUSAL, PARTIAL, ACK, AUTO_BODY,
    )
}  # fmt: skip


def _family_words(rules: Iterable[_Rule]) -> tuple[tuple[str, ...], bool]:
    found = _FAMILY_WORDS.get(id(rules))
    return _keywords_of(rules) if found is None else found


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


def _received_date(text: str, lower_text: str) -> tuple[date | None, str | None]:
    # Every match holds a digit (the date) and its pattern's words: text without them is
    # not searched, nor are the (many) windows without them.
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
            rare = sum(lower_text.count(w) for w in ("rece", "dated", "sent", "made"))
            if found[0] is not None and rare <= 180:
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
    flat = " ".join(text.split())
    lower = flat.lower()
    windows = [(max(0, p - 130), p + 90) for p in _anchors(lower, _RECEIVED_WORDS, 60)]
    if head:
        windows = [(start, end) for start, end in windows if end <= len(flat)]
    for pattern, needs in zip(patterns, _RECEIVED_NEEDS, strict=False):
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
            for m in pattern.finditer(flat, start, end):
                when = _to_date(m)
                if when is not None:
                    return when, _short(m.group(0))
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


# In lower case, every match of _SECTION or _REGULATION holds this ("s 40", "s.40",
# "section 40", "regulation 12", "reg. 12"; a sentence's only white space is " "): one
# pass over the message finds the few sentences that can cite a section.
_CITATION_HINT = re.compile(r"[sgn]\.? ?\d")


def cited_sections(sentences: list[_Sentence]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    found: dict[str, str] = {}
    if isinstance(sentences, _Sentences) and sentences.plain_case:
        sentences = [sentences[i] for i in sentences.counted.matching(_CITATION_HINT)]
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
    own_body = strip_quoted_history(message.text, message.subject)
    own = "\n\n".join([own_body, *(a.text for a in message.attachments if a.text)])
    own_lower = own.lower()
    sentences = _sentences(_without_quoted_request(own, own_lower))
    ignored = [s for s in sentences if s.rights]
    if ignored:
        evidence["ignored"] = tuple(
            f"review-rights wording: {_short(s.shown, 120)}" for s in ignored[:3]
        )
    received_on, received_phrase = _received_date(own, own_lower)
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


def _auto_body(sentences: _Sentences) -> tuple[str, ...]:
    """What the opening sentences say of an automatic message ("I am out of the office")."""
    return _phrases(_find(AUTO_BODY, sentences.head(12), skip_conditional=False))


@dataclass
class _Decision:
    kind: str
    why: list[str]
    outcome: str | None = None
    outcome_why: list[str] = field(default_factory=list)


def _content_kind(message: ParsedMessage, sentences: list[_Sentence]) -> _Decision:
    subject = message.subject
    subject_kinds = {
        kind: f"subject: {_short(subject, 120)}"
        for kind, pattern in SUBJECT_RULES
        if pattern.search(subject)
    }
    review_subject = bool(REVIEW_CONTEXT.search(subject))

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


def _review_context(sentences: list[_Sentence]) -> bool:
    """Whether a sentence that counts speaks of an internal review."""
    maybe: Iterable[_Sentence] = sentences
    if isinstance(sentences, _Sentences) and sentences.plain_case:
        # (REVIEW_CONTEXT cannot match without "review")
        maybe = (sentences[i] for i in sentences.counted.holding(("review",)))
    return any(REVIEW_CONTEXT.search(s.text) for s in maybe if not s.rights and not s.question)


# "information not held, but best estimate is ...": an answer after all.
_QUALIFIED = _rx(r"\b(?:but|however)\b[^.?!]{0,40}\b(?:estimate|approximately|around|roughly)\b")
_NOT_SUCCESS = {"refusal notice", "does not hold"}


def _outcome(sentences: list[_Sentence]) -> tuple[str | None, list[str]]:
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
