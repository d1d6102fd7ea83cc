"""UK legal dates. Statutory days are counted in UK local time: a request emailed at
00:30 BST on 1 June was received on 1 June, though it is still 31 May in UTC."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

UK = ZoneInfo("Europe/London")


def local_date(moment: datetime) -> date:
    """The Europe/London calendar date of an aware datetime."""
    if moment.tzinfo is None:
        raise ValueError(f"local_date needs an aware datetime, got {moment!r}")
    return moment.astimezone(UK).date()
