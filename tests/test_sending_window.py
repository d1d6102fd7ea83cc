from __future__ import annotations

from datetime import UTC, datetime

import pytest

from foibot.domain.sending_window import SendingWindow

W = SendingWindow.parse("Mon-Fri 08:00-18:00 Europe/London")


@pytest.mark.parametrize(
    ("at", "open_"),
    [
        (datetime(2026, 11, 23, 8, 0, tzinfo=UTC), True),  # Mon 08:00 GMT
        (datetime(2026, 11, 23, 7, 59, tzinfo=UTC), False),
        (datetime(2026, 7, 6, 7, 30, tzinfo=UTC), True),  # Mon 08:30 BST
        (datetime(2026, 7, 6, 17, 0, tzinfo=UTC), False),  # 18:00 BST: closed
        (datetime(2026, 11, 21, 12, 0, tzinfo=UTC), False),  # Saturday
    ],
)
def test_is_open(at: datetime, open_: bool) -> None:
    assert W.is_open(at) is open_


def test_next_open_skips_the_weekend() -> None:
    saturday = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
    assert W.next_open(saturday) == datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    friday_evening = datetime(2026, 11, 20, 19, 0, tzinfo=UTC)
    assert W.next_open(friday_evening) == datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def test_lists_and_wrapping_ranges() -> None:
    assert SendingWindow.parse("Mon,Wed,Fri 09:00-17:00").weekdays == frozenset({0, 2, 4})
    assert SendingWindow.parse("Sat-Mon 09:00-17:00 UTC").weekdays == frozenset({5, 6, 0})


@pytest.mark.parametrize(
    "text", ["weekdays 9-5", "Mon-Fri 09:00", "Mon-Fux 09:00-17:00", "Mon-Fri 25:00-26:00"]
)
def test_bad_windows(text: str) -> None:
    with pytest.raises(ValueError):
        SendingWindow.parse(text)
