"""Rule-based classification, on the five real council replies and on the traps
around them: repeated questions, review-rights paragraphs, conditional boilerplate,
auto-replies and bounces."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from foibot.domain.classify import classify, received_date, review_address
from foibot.domain.message import DeliveryReport, ParsedMessage

COUNCIL = Path(__file__).resolve().parent.parent / "fixtures" / "council-responses"


def message(
    text: str,
    subject: str = "RE: Freedom of Information request FB-XA4KN8N",
    headers: dict[str, str] | None = None,
    **fields: object,
) -> ParsedMessage:
    values: dict[str, object] = {
        "message_id": "m@example.gov.uk",
        "in_reply_to": (),
        "references": (),
        "from_addr": "foi@barnet.gov.uk",
        "from_name": None,
        "to": ("research@example.org",),
        "cc": (),
        "delivered_to": (),
        "subject": subject,
        "date": None,
        "headers": {k.lower(): (v,) for k, v in (headers or {}).items()},
        "content_type": "text/plain",
        "text": text,
    }
    values.update(fields)
    return ParsedMessage(**values)  # type: ignore[arg-type]


def council(n: int) -> str:
    return sorted(COUNCIL.glob(f"{n:03d}_*.txt"))[0].read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("n", "outcome", "received", "address"),
    [
        (0, "partially_successful", date(2020, 2, 11), "foi@barnet.gov.uk"),
        (1, "partially_successful", None, "info.requests@leicester.gov.uk"),
        (2, "successful", date(2020, 4, 7), "foi@barnet.gov.uk"),
        (3, "successful", date(2020, 5, 15), "foi@barnet.gov.uk"),
        (4, "successful", date(2022, 5, 10), "foi@barnet.gov.uk"),
    ],
)
def test_real_council_responses(n: int, outcome: str, received: date | None, address: str) -> None:
    c = classify(message(council(n)))
    assert c.kind == "response"  # never review_response, despite the review-rights paragraph
    assert c.outcome == outcome
    assert c.received_on == received
    assert c.review_address == address
    assert c.sections == ()  # "section 17.1" and "section 1.1" are procedural
    assert c.evidence["kind"] and c.evidence["outcome"]
    assert any("review-rights wording" in e for e in c.evidence["ignored"])


def test_the_evidence_quotes_the_deciding_phrases() -> None:
    c = classify(message(council(1)))
    outcome = " ".join(c.evidence["outcome"])
    assert "The Council holds the information requested." in outcome
    assert "refusal notice under section 17.1" in outcome
    leicester = classify(message(council(3)))
    assert any("answered with an estimate" in e for e in leicester.evidence["outcome"])


def test_repeated_questions_are_not_answers() -> None:
    text = (
        "Thank you for your request received on 3 March 2021, for the following information:\n\n"
        "1. How many requests did you refuse under section 12 or section 14 last year?\n\n"
        "2. Is any information withheld under section 43(2)?\n\n"
        "We have processed this request under the Freedom of Information Act 2000.\n\n"
        "Response\n\nThe council holds the information requested.\n\n1. 42 and 3.\n\n2. None.\n"
    )
    c = classify(message(text))
    assert (c.kind, c.outcome, c.sections) == ("response", "successful", ())


def test_conditional_boilerplate_is_not_a_decision() -> None:
    ack = (
        "Thank you for your request for information, received on 11 February 2020. We will "
        "respond within 20 working days. If we need clarification we will contact you. If "
        "the information is not held we will tell you. Should a fee be payable, for example "
        "£10 for photocopying, we will send you a fees notice."
    )
    c = classify(message(ack))
    assert c.kind == "acknowledgement"
    assert c.outcome is None


@pytest.mark.parametrize(
    ("headers", "subject"),
    [
        ({"Auto-Submitted": "auto-replied"}, "Re: your email"),
        ({"X-Autoreply": "yes"}, "Re: your email"),
        ({"X-Autorespond": "true"}, "Re: your email"),
        ({"Precedence": "auto_reply"}, "Re: your email"),
        ({}, "Automatic reply: Freedom of Information request"),
        ({}, "Out of Office: FOI"),
    ],
)
def test_auto_replies(headers: dict[str, str], subject: str) -> None:
    # Even with response-like words: an auto-reply never counts as a response.
    c = classify(message("Thank you. Please find attached our response policy.", subject, headers))
    assert c.kind == "auto_reply"
    assert c.evidence["kind"]


def test_auto_submitted_no_is_not_automatic() -> None:
    c = classify(message("Please find attached our response.", "FOI", {"Auto-Submitted": "no"}))
    assert c.kind == "response"


def test_case_system_mail_is_read_for_what_it_says() -> None:
    headers = {"Auto-Submitted": "auto-generated"}
    ack = classify(
        message(
            "Your request has been logged and we will respond within 20 working days.",
            "Request 01762",
            headers,
        )
    )
    assert ack.kind == "acknowledgement"
    response = classify(
        message(
            "Manchester City Council does not hold the information you requested.",
            "Request 01762",
            headers,
        )
    )
    assert (response.kind, response.outcome) == ("response", "not_held")
    nothing = classify(message("There is an update on your case.", "Case update", headers))
    assert nothing.kind == "auto_reply"


def test_bounces_and_delivery_reports() -> None:
    report = DeliveryReport("m@x", ("foi@x.gov.uk",), "5.1.1", "550 user unknown", "failed")
    bounce = classify(
        message(
            "Please find attached our response.",
            "Undelivered Mail",
            delivery_report=report,
            from_addr="mailer-daemon@mail.example.org",
        )
    )
    assert bounce.kind == "bounce"
    delayed = DeliveryReport("m@x", ("foi@x.gov.uk",), "4.4.1", None, "delayed")
    assert (
        classify(message("still trying", "Delayed Mail", delivery_report=delayed)).kind
        == "auto_reply"
    )
    failed_header = classify(
        message("x", "Mail delivery failed", {"X-Failed-Recipients": "foi@x.gov.uk"})
    )
    assert failed_header.kind == "bounce"


def test_kinds_from_their_wording() -> None:
    cases = {
        "clarification_request": "Before we can process it, could you please clarify which years "
        "you mean?",
        "extension_notice": "We need more time to consider the public interest. Under section "
        "10(3) we are extending the deadline to 7 April 2020.",
        "fee_notice": "The cost of photocopying is £42.50. This is a fees notice: please send "
        "payment of £42.50.",
        "review_acknowledgement": "We acknowledge receipt of your request for an internal review. "
        "We aim to complete the review within 20 working days.",
        "review_response": "I have now completed the internal review. I have decided to uphold the "
        "original decision.",
        "acknowledgement": "We have received your request and will respond within 20 working days.",
        "other": "Our newsletter for March is out.",
    }
    for kind, text in cases.items():
        assert classify(message(text, "Your request")).kind == kind, text


def test_a_response_that_asks_nothing_is_not_a_clarification() -> None:
    text = (
        "The council holds the information requested.\n\n"
        "1. Please could you confirm whether you hold formal policies? (Y/N)\n\nNo."
    )
    assert classify(message(text)).kind == "response"


@pytest.mark.parametrize(
    ("text", "outcome", "sections"),
    [
        (
            "The names are withheld under section 40(2) and prices are exempt under section 43(2). "
            "The rest of the information is attached.",
            "partially_successful",
            ("s40(2)", "s43(2)"),
        ),
        (
            "The cost of compliance would exceed the appropriate limit under section 12. We are "
            "not obliged to comply.",
            "refused",
            ("s12",),
        ),
        (
            "We will neither confirm nor deny whether the information is held, under sections "
            "23(5) and 24(2).",
            "refused",
            ("s23(5)", "s24(2)"),
        ),
        (
            "We consider the request manifestly unreasonable under regulation 12(4)(b) and the "
            "rest is excepted under regulation 12(5)(e).",
            "refused",
            ("reg12(4)(b)", "reg12(5)(e)"),
        ),
        ("The council does not hold the information you requested.", "not_held", ()),
        ("Under regulation 12(4)(a) the information is not held.", "not_held", ("reg12(4)(a)",)),
        ("The request is vexatious under s.14(1) and is refused.", "refused", ("s14(1)",)),
    ],
)
def test_outcomes_and_sections(text: str, outcome: str, sections: tuple[str, ...]) -> None:
    c = classify(message(text))
    assert (c.kind, c.outcome, c.sections) == ("response", outcome, sections)
    if sections:
        assert c.evidence["sections"]


@pytest.mark.parametrize(
    ("text", "when"),
    [
        ("Thank you for your request received on 11 February 2020.", date(2020, 2, 11)),
        ("Your request, which we received on Tuesday 11th February 2020, ...", date(2020, 2, 11)),
        ("We received your request on 11/02/2020.", date(2020, 2, 11)),
        ("Your email of 3 March 2021 was received on 4 March 2021.", date(2021, 3, 4)),
        ("Thank you for your request dated February 11, 2020.", date(2020, 2, 11)),
        ("Request received: 2020-02-11", date(2020, 2, 11)),
        ("Your request was received on 31 February 2020.", None),  # no such day
        ("We will respond by 10 March 2020.", None),
    ],
)
def test_received_dates(text: str, when: date | None) -> None:
    assert received_date(text)[0] == when


def test_review_address_is_not_the_regulators() -> None:
    text = (
        "If you are unhappy you can complain to the Information Commissioner at "
        "casework@ico.org.uk, or ask us for an internal review at review@council.gov.uk."
    )
    assert review_address(text)[0] == "review@council.gov.uk"
    assert review_address("Contact us at foi@council.gov.uk.")[0] is None


def test_the_keyword_precheck_changes_no_decision(monkeypatch: pytest.MonkeyPatch) -> None:
    """The keyword index only skips regex searches that could not match."""
    from foibot.domain import classify as module
    from foibot.mail.parse import parse_message
    from tests.inbox.conftest import EML

    messages = [parse_message(p.read_bytes()) for p in sorted(EML.glob("*.eml"))]
    messages += [message(council(n)) for n in range(5)]
    fast = [classify(m) for m in messages]
    monkeypatch.setattr(module, "PRECHECK", False)
    slow = [classify(m) for m in messages]
    assert fast == slow
