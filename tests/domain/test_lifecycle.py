"""Status, outcome and clocks derived from a request's event log (pure)."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from foibot.domain.lifecycle import EventKind as K
from foibot.domain.lifecycle import EventRecord, Outcome, Status, derive_state
from foibot.domain.regimes import Regime


def ev(kind: K, on: str, seq: int = 0, **data: object) -> EventRecord:
    return EventRecord(kind, date.fromisoformat(on), data, seq=seq)


def test_nothing_sent_is_queued() -> None:
    s = derive_state(Regime.FOIA, [], date(2026, 1, 1))
    assert (s.status, s.due, s.overdue) == (Status.QUEUED, None, False)


def test_acknowledged_then_answered_on_time_barnet_2020() -> None:
    # DESIGN.md worked example 1: received 2020-02-11, due 2020-03-10, answered 02-24
    log = [
        ev(K.SENT, "2020-02-11"),
        ev(K.ACKNOWLEDGED, "2020-02-12"),
        ev(K.RESPONSE, "2020-02-24", outcome="partially_successful", sections=["s21"]),
    ]
    s = derive_state(Regime.FOIA, log, date(2020, 3, 30))
    assert s.status is Status.RESPONDED and s.outcome is Outcome.PARTIALLY_SUCCESSFUL
    assert (s.received, s.due, s.responded_on) == (
        date(2020, 2, 11),
        date(2020, 3, 10),
        date(2020, 2, 24),
    )
    assert s.on_time is True and s.overdue is False
    assert s.review_request_deadline == date(2020, 4, 23)
    assert s.sections == ("s21",)


def test_acknowledgement_alone_never_closes_and_late_is_overdue() -> None:
    log = [ev(K.SENT, "2020-02-11"), ev(K.ACKNOWLEDGED, "2020-02-12")]
    assert derive_state(Regime.FOIA, log, date(2020, 3, 10)).overdue is False  # due day
    late = derive_state(Regime.FOIA, log, date(2020, 3, 11))
    assert late.status is Status.AWAITING_RESPONSE and late.overdue is True
    assert late.outcome is None and late.review_request_deadline is None


def test_clarification_restarts_a_full_20_days_from_its_receipt() -> None:
    log = [ev(K.SENT, "2022-05-10"), ev(K.CLARIFICATION_REQUESTED, "2022-05-12")]
    waiting = derive_state(Regime.FOIA, log, date(2022, 7, 1))
    assert waiting.status is Status.AWAITING_CLARIFICATION and waiting.overdue is False
    log.append(ev(K.CLARIFICATION_SENT, "2022-05-16"))
    s = derive_state(Regime.FOIA, log, date(2022, 6, 1))
    # 20 WD after Mon 16 May 2022, skipping 2 and 3 June (Spring BH, Jubilee)
    assert s.status is Status.AWAITING_RESPONSE and s.due == date(2022, 6, 15)
    assert s.original_due == date(2022, 6, 9)


def test_fee_notice_pauses_the_clock_until_paid() -> None:
    log = [ev(K.SENT, "2023-02-20"), ev(K.FEE_NOTICE, "2023-03-01")]
    paused = derive_state(Regime.FOIA, log, date(2023, 4, 30))
    assert paused.clock_paused_since == date(2023, 3, 1)
    assert paused.due is None and paused.overdue is False
    log.append(ev(K.FEE_PAID, "2023-03-08"))
    s = derive_state(Regime.FOIA, log, date(2023, 3, 9))
    # due 2023-03-21 (17 Mar St Patrick's Day skipped on the UK union calendar), plus the
    # 5 working days 2, 3, 6, 7, 8 March the notice was unpaid
    assert (s.original_due, s.due) == (date(2023, 3, 21), date(2023, 3, 28))


def test_foia_public_interest_extension_uses_the_stated_date_else_the_ceiling() -> None:
    base = [ev(K.SENT, "2023-02-20")]
    stated = derive_state(
        Regime.FOIA,
        [*base, ev(K.EXTENSION_NOTICE, "2023-03-20", new_due="2023-04-14")],
        date(2023, 4, 1),
    )
    assert stated.due == date(2023, 4, 14) and stated.extended and not stated.notes
    ceiling = derive_state(
        Regime.FOIA, [*base, ev(K.EXTENSION_NOTICE, "2023-03-20")], date(2023, 4, 1)
    )
    # 40 WD: skips St Patrick's Day, Good Friday 7 Apr and Easter Monday 10 Apr
    assert ceiling.due == date(2023, 4, 20)
    beyond = derive_state(
        Regime.FOIA,
        [*base, ev(K.EXTENSION_NOTICE, "2023-03-20", new_due="2023-06-30")],
        date(2023, 4, 1),
    )
    assert beyond.due == date(2023, 6, 30) and "ICO's 40-working-day ceiling" in beyond.notes[0]


def test_eir_extension_is_40_days_and_foisa_has_none() -> None:
    eir = derive_state(
        Regime.EIR,
        [ev(K.SENT, "2023-02-20"), ev(K.EXTENSION_NOTICE, "2023-03-01", new_due="2023-03-31")],
        date(2023, 3, 1),
    )
    assert eir.due == date(2023, 4, 20)  # reg 7: 40 WD, whatever date they state
    foisa = derive_state(
        Regime.FOISA,
        [ev(K.SENT, "2023-02-20"), ev(K.EXTENSION_NOTICE, "2023-03-01")],
        date(2023, 3, 1),
    )
    assert foisa.due == date(2023, 3, 20) and not foisa.extended
    assert "FOISA has no extension" in foisa.notes[0]


def test_scottish_request_uses_the_scottish_calendar_and_review_from_due() -> None:
    log = [ev(K.SENT, "2023-04-03")]
    # Easter Monday 10 Apr 2023 is not a Scottish bank holiday: FOISA due a day earlier
    assert derive_state(Regime.FOIA, log, date(2023, 4, 4)).due == date(2023, 5, 4)
    foisa = derive_state(Regime.FOISA, log, date(2023, 5, 10))
    assert foisa.due == date(2023, 5, 3) and foisa.overdue is True
    # FOISA s.20(5): no response, so 40 WD from the due date
    assert derive_state(
        Regime.FOISA, [ev(K.SENT, "2023-02-20")], date(2023, 3, 21)
    ).review_request_deadline == date(2023, 5, 18)


def test_review_requested_acknowledged_answered() -> None:
    log = [
        ev(K.SENT, "2020-04-07"),
        ev(K.RESPONSE, "2020-04-09", outcome="refused", sections=["s12"]),
        ev(K.REVIEW_REQUESTED, "2020-05-01"),
        ev(K.REVIEW_ACKNOWLEDGED, "2020-05-04"),
    ]
    s = derive_state(Regime.FOIA, log, date(2020, 6, 3))
    assert s.status is Status.REVIEW_REQUESTED
    assert s.review_response_due == date(2020, 6, 2) and s.review_overdue is True
    assert s.outcome is Outcome.REFUSED and s.review_request_deadline == date(2020, 6, 10)
    log.append(ev(K.REVIEW_RESPONSE, "2020-06-01", outcome="successful"))
    done = derive_state(Regime.FOIA, log, date(2020, 6, 3))
    assert done.status is Status.REVIEW_RESPONDED and done.review_outcome is Outcome.SUCCESSFUL
    assert done.regulator_deadline == date(2020, 7, 13)  # ICO: 6 weeks
    eir = derive_state(Regime.EIR, log[:3], date(2020, 5, 2))
    assert eir.review_response_due == date(2020, 6, 30)  # reg 11(4): 40 WD


def test_delivery_failure_then_resend() -> None:
    log = [ev(K.SENT, "2022-05-10"), ev(K.DELIVERY_FAILED, "2022-05-10", seq=1)]
    assert derive_state(Regime.FOIA, log, date(2022, 5, 11)).status is Status.DELIVERY_FAILED
    log.append(ev(K.SENT, "2022-05-12", seq=2))
    s = derive_state(Regime.FOIA, log, date(2022, 5, 13))
    assert s.status is Status.AWAITING_RESPONSE and s.received == date(2022, 5, 12)


def test_user_corrections_win() -> None:
    log = [
        ev(K.SENT, "2020-02-11"),
        ev(K.RESPONSE, "2020-02-24", outcome="refused"),
        ev(K.OUTCOME_SET, "2020-02-25", outcome="partially_successful"),
        ev(K.STATUS_SET, "2020-02-26", status="closed"),
    ]
    s = derive_state(Regime.FOIA, log, date(2020, 3, 1))
    assert s.status is Status.CLOSED and s.outcome is Outcome.PARTIALLY_SUCCESSFUL
    withdrawn = derive_state(
        Regime.FOIA, [ev(K.SENT, "2020-02-11"), ev(K.WITHDRAWN, "2020-02-12")], date(2020, 9, 1)
    )
    assert withdrawn.status is Status.WITHDRAWN and withdrawn.overdue is False


def test_late_response_is_not_on_time() -> None:
    s = derive_state(
        Regime.FOIA,
        [ev(K.SENT, "2020-02-11"), ev(K.RESPONSE, "2020-03-11", outcome="successful")],
        date(2020, 3, 12),
    )
    assert s.on_time is False and s.due == date(2020, 3, 10)


starts = st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 1, 1))
offsets = st.integers(min_value=0, max_value=120)


@given(starts, offsets, offsets)
def test_events_in_any_recording_order_give_the_same_state(start: date, a: int, b: int) -> None:
    from datetime import timedelta

    log = [
        ev(K.SENT, start.isoformat()),
        ev(K.ACKNOWLEDGED, (start + timedelta(days=a)).isoformat(), seq=1),
        ev(K.RESPONSE, (start + timedelta(days=a + b)).isoformat(), seq=2, outcome="successful"),
    ]
    today = start + timedelta(days=300)
    assert derive_state(Regime.FOIA, log, today) == derive_state(
        Regime.FOIA, list(reversed(log)), today
    )


@given(starts, st.integers(min_value=0, max_value=400))
def test_overdue_exactly_when_past_due_without_response(start: date, after: int) -> None:
    from datetime import timedelta

    today = start + timedelta(days=after)
    s = derive_state(Regime.FOIA, [ev(K.SENT, start.isoformat())], today)
    assert s.due is not None and s.overdue is (today > s.due)
    assert derive_state(Regime.FOISA, [ev(K.SENT, start.isoformat())], today).due <= s.due
