"""The iCalendar export, parsed back with the ``icalendar`` package."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from icalendar import Calendar

from foibot.services.calendar_export import export_calendar
from foibot.services.requests import show_request
from foibot.store.db import Database
from tests.results import factories as f

TODAY = date(2020, 5, 20)
NOW = datetime(2020, 5, 20, 9, 0, tzinfo=UTC)


@pytest.fixture
def refs(db: Database) -> dict[str, str]:
    """Requests in every state a clock can be in, on 20 May 2020 (dates from DESIGN.md's
    worked examples where there is one)."""
    out = {}
    with db.transaction() as s:
        camp = f.campaign(s, "remote-workers", "1. How many?")
        other = f.campaign(s, "parking", "1. How many fines?")

        def req(key: str, name: str, sent: date, *, regime: str = "foia", c: object = camp):
            auth = f.authority(s, name, f"foi@{key}.gov.uk", regime=regime)
            r = f.request(s, c, auth, sent=sent, regime=regime)  # type: ignore[arg-type]
            out[key] = r.reference
            return r

        req("awaiting", "Barnet", date(2020, 5, 15))  # due 2020-06-15
        answered = req("answered", "Leicester", date(2020, 4, 7))  # due 2020-05-07
        f.response(s, answered, "1. 45", day=date(2020, 4, 9))  # review by 2020-06-10
        review = req("review", "Camden", date(2020, 2, 11))
        f.response(s, review, "1. refused", day=date(2020, 2, 24), outcome="refused")
        f.event(s, review, "review_requested", date(2020, 4, 1))  # answer due 2020-05-01
        withdrawn = req("withdrawn", "Hackney", date(2020, 5, 1))
        f.event(s, withdrawn, "withdrawn", date(2020, 5, 4))
        req("scottish", "Glasgow", date(2020, 3, 2), regime="foisa")  # overdue, no answer
        req("parking", "Leeds", date(2020, 5, 18), c=other)
    return out


def events(data: bytes) -> dict[str, object]:
    calendar = Calendar.from_ical(data)
    return {str(e["UID"]): e for e in calendar.walk("VEVENT")}


def test_every_open_clock_is_an_all_day_event(db: Database, refs: dict[str, str]) -> None:
    result = export_calendar(db, campaign="remote-workers", today=TODAY, now=NOW)
    found = events(result.data)
    a, b, c, d, e = (refs[k] for k in ("awaiting", "answered", "review", "withdrawn", "scottish"))
    glasgow = show_request(db, e, today=TODAY).state
    expected = {
        f"{a}-response-due@foibot": (date(2020, 6, 15), "CONFIRMED"),
        f"{b}-response-due@foibot": (date(2020, 5, 7), "CANCELLED"),  # answered
        f"{b}-review-window@foibot": (date(2020, 6, 10), "CONFIRMED"),
        f"{c}-response-due@foibot": (date(2020, 3, 10), "CANCELLED"),
        f"{c}-review-window@foibot": (date(2020, 4, 23), "CANCELLED"),  # review asked for
        f"{c}-review-response-due@foibot": (date(2020, 5, 1), "CONFIRMED"),
        f"{d}-response-due@foibot": (date(2020, 6, 2), "CANCELLED"),  # withdrawn
        # FOISA s.20(5): no response, so the review window runs from the due date
        f"{e}-response-due@foibot": (glasgow.due, "CONFIRMED"),
        f"{e}-review-window@foibot": (glasgow.review_request_deadline, "CONFIRMED"),
    }
    got = {
        uid: (ev.decoded("DTSTART"), str(ev["STATUS"]))  # type: ignore[attr-defined]
        for uid, ev in found.items()
    }
    assert got == expected
    assert (result.open, result.cancelled, result.requests) == (5, 4, 5)
    for ev in found.values():
        start, end = ev.decoded("DTSTART"), ev.decoded("DTEND")  # type: ignore[attr-defined]
        assert type(start) is date and (end - start).days == 1  # all-day, one day
    overdue = found[f"{e}-response-due@foibot"]
    assert str(overdue["SUMMARY"]) == f"OVERDUE: FOI response due: Glasgow ({e})"  # type: ignore[index]
    window = found[f"{b}-review-window@foibot"]
    assert str(window["SUMMARY"]) == f"Last day to ask for a review: Leicester ({b})"  # type: ignore[index]
    description = str(window["DESCRIPTION"])  # type: ignore[index]
    assert "Authority: Leicester <foi@answered.gov.uk>" in description
    assert f"Request: {b} (campaign remote-workers)" in description
    assert "Responded: 2020-04-09" in description


def test_reexport_keeps_uids_and_raises_the_sequence(db: Database, refs: dict[str, str]) -> None:
    first = events(export_calendar(db, today=TODAY, now=NOW).data)
    later = datetime(2020, 5, 27, 9, 0, tzinfo=UTC)
    second = events(export_calendar(db, today=date(2020, 5, 27), now=later).data)
    assert set(first) == set(second)
    assert f"{refs['parking']}-response-due@foibot" in first  # all campaigns without --campaign
    for uid in first:
        assert int(second[uid]["SEQUENCE"]) > int(first[uid]["SEQUENCE"])  # type: ignore[index]
    # the same moment gives the same file
    again = export_calendar(db, today=TODAY, now=NOW).data
    assert again == export_calendar(db, today=TODAY, now=NOW).data


def test_a_review_window_that_ran_out_is_left_alone(db: Database, refs: dict[str, str]) -> None:
    late = events(export_calendar(db, today=date(2020, 6, 11), now=NOW).data)
    assert f"{refs['answered']}-review-window@foibot" not in late  # 2020-06-10 has passed
    assert f"{refs['answered']}-response-due@foibot" in late


def test_calendar_header(db: Database, refs: dict[str, str]) -> None:
    calendar = Calendar.from_ical(export_calendar(db, campaign="parking", now=NOW).data)
    assert str(calendar["PRODID"]) == "-//foibot//foibot deadlines//EN"
    assert str(calendar["X-WR-CALNAME"]) == "foibot: parking"
    assert [str(e["UID"]) for e in calendar.walk("VEVENT")] == [
        f"{refs['parking']}-response-due@foibot"
    ]
