"""What an internal review request should argue, from the request's state (pure).

The ground defaults from what happened: no response by the due date -> ``late``;
refused -> ``refused`` (challenge each cited exemption); information not held ->
``not-held`` (ask what searches were made); partly answered -> ``partial``. The letter
itself is a Jinja2 template per ground in ``templates/reviews/`` that users may edit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from foibot.domain.clocks import ClockKind, deadline
from foibot.domain.lifecycle import Outcome, RequestState, Status
from foibot.domain.regimes import Regime


class Ground(StrEnum):
    LATE = "late"
    REFUSED = "refused"
    PARTIAL = "partial"
    NOT_HELD = "not-held"
    OTHER = "other"


class ReviewNotAllowed(ValueError):
    """Drafting is refused (e.g. the review window has closed); ``--force`` overrides."""


def default_ground(state: RequestState) -> Ground:
    if state.responded_on is None:
        return Ground.LATE if state.overdue else Ground.OTHER
    return (
        {
            Outcome.REFUSED: Ground.REFUSED,
            Outcome.NOT_HELD: Ground.NOT_HELD,
            Outcome.PARTIALLY_SUCCESSFUL: Ground.PARTIAL,
        }.get(state.outcome, Ground.OTHER)
        if state.outcome
        else Ground.OTHER
    )


def check_window(state: RequestState, today: date) -> None:
    """Raises ReviewNotAllowed when the requester's 40-working-day window has closed,
    or when a review was already asked for."""
    if state.status in (Status.WITHDRAWN, Status.CLOSED):
        raise ReviewNotAllowed(f"the request is {state.status.value}")
    if state.review_requested_on is not None:
        raise ReviewNotAllowed(f"a review was already requested on {state.review_requested_on}")
    closes = state.review_request_deadline
    if closes is not None and today > closes:
        since = (
            f"the response of {state.responded_on}"
            if state.responded_on
            else f"the due date {state.due}"
        )
        raise ReviewNotAllowed(
            f"the review window closed on {closes} (40 working days after {since})"
        )
    if state.responded_on is None and not state.overdue:
        due = f" (due {state.due})" if state.due else ""
        raise ReviewNotAllowed(f"the authority has not responded and is not late yet{due}")


@dataclass(frozen=True)
class SectionNote:
    section: str  # as cited, e.g. "s40(2)"
    title: str
    challenge: str  # what to ask the reviewer to reconsider


# FOIA 2000 (and the EIR exceptions) as councils cite them. The challenge text is what a
# careful requester asks of the reviewer; it is a starting point the user edits.
_FOIA_NOTES: dict[str, tuple[str, str]] = {
    "s12": (
        "cost of compliance exceeds the appropriate limit",
        "Please provide a breakdown of the estimate (the activities and the time each "
        "would take) and, under section 16, advise how the request could be refined to "
        "fall within the limit.",
    ),
    "s14": (
        "vexatious or repeated request",
        "The request is a focused request for information of clear public interest; "
        "please explain what about it is vexatious.",
    ),
    "s21": (
        "information reasonably accessible by other means",
        "Please give the precise location (a link to the page or document) of the "
        "information you say is already accessible.",
    ),
    "s22": (
        "information intended for future publication",
        "Please state the date of the intended publication and why it is reasonable "
        "to withhold the information until then.",
    ),
    "s31": (
        "law enforcement",
        "Please explain the specific prejudice disclosure would cause and how the "
        "public interest test was weighed.",
    ),
    "s36": (
        "prejudice to the effective conduct of public affairs",
        "Please confirm who the qualified person is, when their opinion was given, and "
        "how the public interest test was weighed.",
    ),
    "s40": (
        "personal information",
        "I do not seek anyone's personal data: aggregated or anonymised figures, or the "
        "information with names removed, would meet my request.",
    ),
    "s41": (
        "information provided in confidence",
        "Please explain how disclosure would be an actionable breach of confidence.",
    ),
    "s42": (
        "legal professional privilege",
        "Please explain whether privilege has been waived and how the public interest "
        "test was weighed.",
    ),
    "s43": (
        "commercial interests",
        "Please identify whose commercial interests would be prejudiced, how, and how "
        "the public interest in transparency about public spending was weighed.",
    ),
    "12(4)(b)": (
        "manifestly unreasonable request",
        "Please explain the burden, offer advice and assistance under regulation 9, "
        "and show how the public interest test was weighed.",
    ),
    "12(5)(e)": (
        "confidentiality of commercial or industrial information",
        "Please show how each element of the exception is met and how the "
        "presumption in favour of disclosure (reg 12(2)) was applied.",
    ),
}
# FOISA 2002 numbers its exemptions differently.
_FOISA_NOTES: dict[str, tuple[str, str]] = {
    "s12": _FOIA_NOTES["s12"],
    "s14": _FOIA_NOTES["s14"],
    "s25": ("information otherwise accessible", _FOIA_NOTES["s21"][1]),
    "s27": ("information intended for future publication", _FOIA_NOTES["s22"][1]),
    "s30": (
        "prejudice to effective conduct of public affairs",
        "Please explain the substantial prejudice disclosure would cause and how the "
        "public interest test was weighed.",
    ),
    "s33": ("commercial interests and the economy", _FOIA_NOTES["s43"][1]),
    "s36": ("confidentiality", _FOIA_NOTES["s41"][1]),
    "s38": ("personal information", _FOIA_NOTES["s40"][1]),
}


def section_notes(regime: Regime, sections: list[str] | tuple[str, ...]) -> list[SectionNote]:
    table = _FOISA_NOTES if regime is Regime.FOISA else _FOIA_NOTES
    notes = []
    for cited in sections:
        key = cited if cited in table else re.sub(r"\(.*", "", cited)
        title, challenge = table.get(
            key,
            (
                "exemption cited",
                "Please explain how the exemption applies to each part of the information "
                "withheld and, if it is qualified, how the public interest test was weighed.",
            ),
        )
        notes.append(SectionNote(cited, title, challenge))
    return notes


def review_answer_due(regime: Regime, sent_on: date) -> date:
    """When the authority must finish the review if it receives our request on
    ``sent_on`` (FOIA 20 WD, EIR 40 WD, FOISA/EISR 20 WD)."""
    return deadline(sent_on, regime, ClockKind.REVIEW_RESPONSE).due


def review_subject(their_reference: str | None, our_reference: str) -> str:
    """Keeps the authority's own reference first, so their case system files it."""
    if their_reference:
        return f"Internal review request — their ref {their_reference} — our ref {our_reference}"
    return f"Internal review request — our ref {our_reference}"
