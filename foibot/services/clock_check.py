"""The daily clock check: notes, once each, the requests that became overdue, whose
response falls due within a week, or whose review window closes within 10 working days.

The notices are rows of ``clock_notices``, unique per request, kind and date, so each
is recorded once even when several daemons check at the same moment.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.exc import IntegrityError

from foibot.domain.calendar import calendar_for
from foibot.domain.lifecycle import Status
from foibot.services.requests import list_requests
from foibot.store.db import Database, utcnow
from foibot.store.models import ClockNotice

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Notice:
    reference: str
    authority: str
    what: str  # "overdue" | "due_soon" | "review_closing"
    on: date  # the date it is about (due date, or last day to ask for a review)


def check_clocks(db: Database, today: date) -> list[Notice]:
    """Records and returns the notices that are new today."""
    wanted: list[tuple[int, Notice]] = []
    for v in list_requests(db, today=today):
        s = v.state
        if s.overdue and s.due is not None:
            wanted.append((v.id, Notice(v.reference, v.authority, "overdue", s.due)))
        elif (
            s.status is Status.AWAITING_RESPONSE
            and s.due is not None
            and today <= s.due <= today + timedelta(days=7)
        ):
            wanted.append((v.id, Notice(v.reference, v.authority, "due_soon", s.due)))
        closes = s.review_request_deadline
        if (
            closes is not None
            and s.review_requested_on is None
            and s.status is Status.RESPONDED
            and today <= closes <= calendar_for(v.regime).add_working_days(today, 10)
        ):
            wanted.append((v.id, Notice(v.reference, v.authority, "review_closing", closes)))
    if not wanted:
        return []
    new: list[Notice] = []
    with db.transaction() as session:
        for rid, notice in wanted:
            try:
                with session.begin_nested():  # a savepoint: a duplicate undoes only itself
                    session.add(
                        ClockNotice(
                            request_id=rid,
                            what=notice.what,
                            about=notice.on,
                            noticed_on=today,
                            created_at=utcnow(),
                        )
                    )
                    session.flush()
            except IntegrityError:
                continue  # noticed before (or by another daemon just now)
            new.append(notice)
    for n in new:
        log.info(
            "%s %s (%s): %s %s",
            n.reference,
            n.authority,
            n.what.replace("_", " "),
            "date",
            n.on.isoformat(),
        )
    return new
