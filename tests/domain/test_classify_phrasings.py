"""Everyday council phrasings that must classify right (seen in the demo's replies)."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from foibot.domain.classify import classify
from foibot.mail.parse import parse_message


def kind_of(subject: str, body: str) -> tuple[str, str | None]:
    msg = EmailMessage()
    msg["From"] = "foi@council.gov.uk"
    msg["Subject"] = subject
    msg.set_content(body)
    c = classify(parse_message(msg.as_bytes()))
    return c.kind, c.outcome


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "Thank you for your request, which we received and will respond to within 20 "
            "working days. Our reference is FOI2016/00027.",
            ("acknowledgement", None),
        ),
        (
            "Dear A. Researcher,\n\nInformation Request: 01762\n\nIn response to your request "
            "under the Freedom of Information (Scotland) Act 2002:\n\n1. 95 laptops.\n2. 40 were "
            "newly purchased.\n3. Microsoft Teams.\n\nIf you are unhappy you may require a "
            "review within 40 working days.",
            ("response", "successful"),
        ),
        (
            "Dear A. Researcher,\n\nPlease find the information you requested below.\n\n1. 310 "
            "laptops.\n2. 200 were new.\n3. Zoom.\n\nYou may request an internal review within "
            "40 working days.",
            ("response", "successful"),
        ),
        # and an acknowledgement that promises an answer is still not a response
        (
            "Thank you. We will respond to your request within 20 working days.",
            ("acknowledgement", None),
        ),
        (
            "Dear A. Researcher,\n\nWe are unable to respond within the statutory 20 working "
            "days. We apologise for the delay.\n\nInformation Governance",
            ("extension_notice", None),
        ),
        (  # (its lower case is no contraction foibot knows: read as written)
            "WE DİDN'T RECEIVE IT UNTIL MONDAY.\n\nThe council holds the information "
            "requested.\n\n1. 95 laptops.",
            ("response", "successful"),
        ),
    ],
)
def test_phrasings(body: str, expected: tuple[str, str | None]) -> None:
    assert kind_of("RE: Freedom of Information request", body) == expected
