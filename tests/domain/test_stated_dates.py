from __future__ import annotations

from datetime import date

import pytest

from foibot.domain.stated_dates import extension_date


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("We now expect to respond by 14 April 2023.", date(2023, 4, 14)),
        ("we will provide a full response no later than Friday 14th April 2023", date(2023, 4, 14)),
        (
            "We need to extend the deadline until 3 May 2023 to consider the public interest.",
            date(2023, 5, 3),
        ),
        ("A response will be sent on or before 14/04/2023.", date(2023, 4, 14)),
        ("We aim to reply by 5 Sept 2023", date(2023, 9, 5)),
        # no new date stated: the ICO ceiling applies instead
        ("We need more time to consider the public interest test.", None),
        # a date that is not a response date (their receipt of the request)
        ("We received your request on 20 February 2023.", None),
        # an impossible date is ignored, not guessed
        ("We will respond by 31 April 2023.", None),
    ],
)
def test_extension_date(text: str, expected: date | None) -> None:
    assert extension_date(text, not_before=date(2023, 2, 20)) == expected


def test_dates_before_the_request_are_ignored() -> None:
    text = "Your request of 1 February 2023 ... we will respond by 1 January 2023"
    assert extension_date(text, not_before=date(2023, 2, 20)) is None
