"""The daily clock check notes each overdue / due-soon / review-closing request once."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from foibot.services.clock_check import check_clocks
from foibot.store.db import Database
from foibot.store.models import ClockNotice
from tests import factories as f


def test_notices_are_recorded_once(db: Database) -> None:
    with db.transaction() as s:
        c = f.campaign(s)
        late = f.request(
            s, c, f.authority(s, "Late Council", "foi@late.gov.uk"), sent_on=date(2026, 10, 1)
        )  # due 29 Oct
        f.request(
            s, c, f.authority(s, "Soon Council", "foi@soon.gov.uk"), sent_on=date(2026, 10, 28)
        )  # due 25 Nov
        answered = f.request(
            s, c, f.authority(s, "Answered Council", "foi@ans.gov.uk"), sent_on=date(2026, 9, 1)
        )
        f.event(s, answered, "response", date(2026, 9, 29), outcome="refused")  # review by 24 Nov
        late_ref = late.reference
    first = check_clocks(db, date(2026, 11, 23))
    assert sorted((n.authority, n.what, n.on) for n in first) == [
        ("Answered Council", "review_closing", date(2026, 11, 24)),
        ("Late Council", "overdue", date(2026, 10, 29)),
        ("Soon Council", "due_soon", date(2026, 11, 25)),
    ]
    assert [n.reference for n in first if n.what == "overdue"] == [late_ref]
    assert check_clocks(db, date(2026, 11, 23)) == []
    assert check_clocks(db, date(2026, 11, 24)) == []  # still the same facts
    with db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(ClockNotice)) == 3
