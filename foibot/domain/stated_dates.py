"""Dates an authority states in prose: "we now expect to respond by 14 April 2023",
"a response will be sent no later than 14/04/2023" (pure)."""

from __future__ import annotations

import re
from datetime import date

_MONTHS = {
    m: i
    for i, m in enumerate(
        [
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        ],
        start=1,
    )
}
_MONTHS.update({k[:3]: v for k, v in list(_MONTHS.items())})
_MONTHS["sept"] = 9

_LEAD = (
    r"(?:respond(?:\s+to\s+you)?|response|reply|answer|provide\s+(?:you\s+with\s+)?"
    r"(?:a|our|the)?\s*(?:full\s+)?(?:response|answer|information)|extend\w*[^.]{0,80}?)"
    r"[^.]{0,60}?\b(?:by|until|on\s+or\s+before|no\s+later\s+than|before)\s+"
    r"(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day,?\s+)?"
)
_WORDY = re.compile(
    _LEAD + r"(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?([A-Za-z]{3,9})\.?,?\s+(\d{4})", re.IGNORECASE
)
_NUMERIC = re.compile(_LEAD + r"(\d{1,2})[/.](\d{1,2})[/.](\d{4})", re.IGNORECASE)


def extension_date(text: str, *, not_before: date | None = None) -> date | None:
    """The new response date an extension notice gives, or None. UK day-first order;
    a date before ``not_before`` (e.g. the request's receipt) is ignored."""
    found: list[date] = []
    for m in _WORDY.finditer(text):
        month = _MONTHS.get(m.group(2).lower())
        if month is not None:
            found.extend(_make(int(m.group(3)), month, int(m.group(1))))
    for m in _NUMERIC.finditer(text):
        found.extend(_make(int(m.group(3)), int(m.group(2)), int(m.group(1))))
    found = [d for d in found if not_before is None or d >= not_before]
    return max(found) if found else None


def _make(year: int, month: int, day: int) -> list[date]:
    try:
        return [date(year, month, day)]
    except ValueError:
        return []
