"""When requests may be sent: e.g. "Mon-Fri 08:00-18:00 Europe/London".

Council mail systems are shared and flag bursts; researchers also prefer requests to
land in office hours. Pure logic: the current time is always passed in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_PATTERN = re.compile(
    r"^\s*(?P<days>[A-Za-z]{3}(?:\s*-\s*[A-Za-z]{3})?(?:\s*,\s*[A-Za-z]{3}(?:\s*-\s*[A-Za-z]{3})?)*)"
    r"\s+(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})"
    r"(?:\s+(?P<tz>[A-Za-z_]+(?:/[A-Za-z_+\-0-9]+)*))?\s*$"
)


@dataclass(frozen=True)
class SendingWindow:
    weekdays: frozenset[int]  # 0 = Monday
    start: time
    end: time
    tz: ZoneInfo

    @classmethod
    def parse(cls, text: str) -> SendingWindow:
        """Parses "Mon-Fri 08:00-18:00 Europe/London"; days may be ranges or lists
        ("Mon,Wed,Fri"); the time zone defaults to Europe/London. Raises ValueError."""
        m = _PATTERN.match(text)
        if not m:
            raise ValueError(
                f"cannot read sending window {text!r} "
                '(expected e.g. "Mon-Fri 08:00-18:00 Europe/London")'
            )
        days: set[int] = set()
        for part in m["days"].split(","):
            ends = [p.strip().lower() for p in part.split("-")]
            for name in ends:
                if name not in _DAYS:
                    raise ValueError(f"unknown weekday {name!r} in sending window {text!r}")
            a, b = _DAYS.index(ends[0]), _DAYS.index(ends[-1])
            days.update(range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)])
        start, end = (_parse_time(m[k], text) for k in ("start", "end"))
        if end <= start:
            raise ValueError(f"sending window {text!r} ends before it starts")
        tzname = m["tz"] or "Europe/London"
        try:
            tz = ZoneInfo(tzname)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {tzname!r} in sending window {text!r}") from None
        return cls(frozenset(days), start, end, tz)

    def is_open(self, at: datetime) -> bool:
        local = at.astimezone(self.tz)
        return local.weekday() in self.weekdays and self.start <= local.time() < self.end

    def next_open(self, at: datetime) -> datetime:
        """The first instant at or after ``at`` when the window is open (aware datetime)."""
        if self.is_open(at):
            return at
        local = at.astimezone(self.tz)
        for offset in range(8):
            day = (local + timedelta(days=offset)).date()
            if day.weekday() not in self.weekdays:
                continue
            opening = datetime.combine(day, self.start, tzinfo=self.tz)
            if opening >= local:
                return opening
        raise AssertionError("a window with at least one weekday opens within 8 days")


def _parse_time(value: str, text: str) -> time:
    hours, minutes = (int(x) for x in value.split(":"))
    if hours == 24 and minutes == 0:
        return time(23, 59, 59)
    if not (0 <= hours < 24 and 0 <= minutes < 60):
        raise ValueError(f"bad time {value!r} in sending window {text!r}")
    return time(hours, minutes)
