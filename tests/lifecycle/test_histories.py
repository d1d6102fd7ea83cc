"""Whole request histories through the real ingest path: council emails in, events and
clocks out (DESIGN.md §1). Each reply is a realistic email threaded to our request."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid
from pathlib import Path

import pytest

from foibot.config import Settings, parse_settings
from foibot.services import review as review_service
from foibot.services.ingest import ingest_raw
from foibot.services.requests import RequestView, record_event, show_request
from foibot.store.db import Database
from foibot.store.models import Request
from tests import factories as f

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "council-responses"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return parse_settings(
        {
            "sender": {"name": "A. Researcher", "address": "research@example.org"},
            "storage_dir": str(tmp_path / "data"),
        },
        None,
    )


class History:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        authority: str,
        email: str,
        sent_on: date,
        nation: str = "England",
    ) -> None:
        self.db, self.settings, self.email = db, settings, email
        with db.transaction() as s:
            camp = f.campaign(s, f"c-{email.split('@')[1].split('.')[0]}")
            auth = f.authority(s, authority, email, nation)
            req: Request = f.request(s, camp, auth, sent_on=sent_on)
            self.reference = req.reference
            self.our_id = req.messages[0].message_id
            self.subject = req.messages[0].subject

    def reply(
        self,
        on: date,
        body: str,
        *,
        subject: str | None = None,
        thread: bool = True,
        sender: str | None = None,
    ) -> str:
        msg = EmailMessage(policy=SMTP)
        msg["From"] = sender or self.email
        msg["To"] = "research@example.org"
        msg["Subject"] = subject or f"RE: {self.subject}"
        msg["Date"] = format_datetime(datetime.combine(on, time(11, 15), tzinfo=UTC))
        msg["Message-ID"] = make_msgid("council", self.email.rpartition("@")[2])
        if thread:
            msg["In-Reply-To"] = f"<{self.our_id}>"
        msg.set_content(body)
        outcome = ingest_raw(self.db, self.settings, msg.as_bytes(), "test")
        assert outcome.request == self.reference, outcome
        assert outcome.kind is not None
        return outcome.kind

    def state(self, today: date) -> RequestView:
        return show_request(self.db, self.reference, today=today)


ACK = (
    "Dear A. Researcher,\n\nThank you for your request for information, which we "
    "received on {day}. Our ref: {ref}.\n\nWe will respond within 20 working days.\n\n"
    "Information Governance Team\n"
)


def test_acknowledged_then_answered_on_time_from_the_barnet_fixture(
    db: Database, settings: Settings
) -> None:
    h = History(db, settings, "London Borough of Barnet", "foi@barnet.gov.uk", date(2020, 2, 11))
    assert h.reply(date(2020, 2, 12), ACK.format(day="11 February 2020", ref="6073489")) == (
        "acknowledgement"
    )
    v = h.state(date(2020, 2, 20))
    assert (v.state.status.value, v.state.due) == ("awaiting_response", date(2020, 3, 10))
    assert v.their_references == ("6073489",)
    # the response quotes only their reference: filed by what the acknowledgement taught
    text = (FIXTURES / "000_ce2ee234e5fe9bb0.txt").read_text()
    kind = h.reply(
        date(2020, 2, 24), text, subject="Information request - Our ref: 6073489", thread=False
    )
    assert kind == "response"
    v = h.state(date(2020, 3, 1))
    assert v.state.status.value == "responded" and v.state.on_time is True
    assert v.state.outcome is not None
    assert v.state.review_request_deadline == date(2020, 4, 23)
    assert v.review_address == "foi@barnet.gov.uk"


def test_an_auto_reply_adds_no_event(db: Database, settings: Settings) -> None:
    h = History(db, settings, "Cardiff Council", "foi@cardiff.gov.uk", date(2022, 5, 10))
    msg_kind = h.reply(
        date(2022, 5, 10),
        "I am out of the office until Monday.",
        subject=f"Automatic reply: {h.subject}",
    )
    assert msg_kind == "auto_reply"
    v = h.state(date(2022, 5, 11))
    assert [e.kind.value for e in v.events] == ["sent"]


def test_clarification_restarts_the_clock(db: Database, settings: Settings) -> None:
    h = History(db, settings, "Bristol City Council", "foi@bristol.gov.uk", date(2022, 5, 10))
    kind = h.reply(
        date(2022, 5, 12),
        "Dear A. Researcher,\n\nBefore we can deal with your "
        "request, please could you clarify what you mean by 'staff'? We will not "
        "be able to progress your request until we receive your clarification.\n",
    )
    assert kind == "clarification_request"
    assert h.state(date(2022, 5, 13)).state.status.value == "awaiting_clarification"
    record_event(db, h.reference, "clarification_sent", on=date(2022, 5, 16))
    v = h.state(date(2022, 5, 17))
    # a full 20 WD from 16 May 2022, skipping 2 and 3 June (Spring BH and the Jubilee)
    assert (v.state.status.value, v.state.due) == ("awaiting_response", date(2022, 6, 15))


def test_fee_notice_pauses_until_paid(db: Database, settings: Settings) -> None:
    h = History(db, settings, "Kent County Council", "foi@kent.gov.uk", date(2023, 2, 20))
    kind = h.reply(
        date(2023, 3, 1),
        "Dear A. Researcher,\n\nFees notice: under section 9 of "
        "the Freedom of Information Act a fee of £25.00 is payable for the "
        "disbursements (photocopying and postage). We will not process your "
        "request until the fee has been paid.\n",
    )
    assert kind == "fee_notice"
    paused = h.state(date(2023, 3, 30)).state
    assert paused.clock_paused_since == date(2023, 3, 1) and paused.overdue is False
    record_event(db, h.reference, "fee_paid", on=date(2023, 3, 8))
    assert h.state(date(2023, 3, 9)).state.due == date(2023, 3, 28)


def test_public_interest_extension_takes_their_date(db: Database, settings: Settings) -> None:
    h = History(db, settings, "Norfolk County Council", "foi@norfolk.gov.uk", date(2023, 2, 20))
    kind = h.reply(
        date(2023, 3, 17),
        "Dear A. Researcher,\n\nWe are considering the public "
        "interest test in relation to section 43 and need to extend the time for our "
        "response under section 10(3) of the Act. We now expect to respond by "
        "14 April 2023.\n",
    )
    assert kind == "extension_notice"
    v = h.state(date(2023, 3, 31)).state
    assert v.extended and v.due == date(2023, 4, 14) and v.overdue is False


def test_late_with_no_response_drafts_a_late_review(db: Database, settings: Settings) -> None:
    h = History(
        db, settings, "Leicester City Council", "info.requests@leicester.gov.uk", date(2022, 5, 10)
    )
    h.reply(date(2022, 5, 11), ACK.format(day="10 May 2022", ref="FOI 15631"))
    v = h.state(date(2022, 6, 20)).state
    assert v.overdue and v.due == date(2022, 6, 9)
    draft = review_service.draft_review(db, settings, h.reference, today=date(2022, 6, 20))
    assert draft.ground.value == "late"
    assert (
        draft.mail.subject
        == f"Internal review request — their ref FOI 15631 — our ref {h.reference}"
    )
    words = " ".join(draft.mail.body.split())  # the letter is wrapped at 76 columns
    assert "by 9 June 2022" in words and "7 working days late" in words


def test_s12_refusal_drafts_a_review_challenging_s12(db: Database, settings: Settings) -> None:
    h = History(db, settings, "Manchester City Council", "foi@manchester.gov.uk", date(2022, 5, 10))
    kind = h.reply(
        date(2022, 5, 25),
        "Dear A. Researcher,\n\nWe estimate that the cost of "
        "complying with your request would exceed the appropriate limit of £450. We "
        "are therefore refusing your request under section 12 of the Freedom of "
        "Information Act 2000. This letter acts as a refusal notice under section "
        "17.\n\nIf you are not satisfied you may ask for an internal review within 40 "
        "working days by writing to foi.reviews@manchester.gov.uk.\n",
    )
    assert kind == "response"
    v = h.state(date(2022, 6, 1))
    assert v.state.outcome is not None and v.state.outcome.value == "refused"
    assert "s12" in v.state.sections
    draft = review_service.draft_review(db, settings, h.reference, today=date(2022, 6, 1))
    assert draft.ground.value == "refused"
    assert draft.to_addr == "foi.reviews@manchester.gov.uk"
    assert "s12 (cost of compliance exceeds the appropriate limit)" in " ".join(
        draft.mail.body.split()
    )


def test_review_requested_acknowledged_answered(db: Database, settings: Settings) -> None:
    h = History(db, settings, "Swansea Council", "foi@swansea.gov.uk", date(2022, 5, 10))
    h.reply(
        date(2022, 5, 25),
        "Dear A. Researcher,\n\nWe are refusing your request under "
        "section 43 (commercial interests).\n",
    )
    record_event(db, h.reference, "review_requested", on=date(2022, 6, 1))
    kind = h.reply(
        date(2022, 6, 2),
        "Dear A. Researcher,\n\nThank you for your request for "
        "an internal review, which we received on 1 June 2022. We aim to complete "
        "the review within 20 working days.\n",
    )
    assert kind == "review_acknowledgement"
    v = h.state(date(2022, 6, 10)).state
    assert v.status.value == "review_requested" and v.review_response_due == date(2022, 7, 1)
    kind = h.reply(
        date(2022, 6, 20),
        "Dear A. Researcher,\n\nInternal review outcome: I have "
        "reviewed the handling of your request. I uphold the original decision to "
        "withhold the information under section 43.\n\nIf you remain dissatisfied "
        "you may complain to the Information Commissioner's Office.\n",
    )
    assert kind == "review_response"
    done = h.state(date(2022, 6, 21)).state
    assert done.status.value == "review_responded"
    assert done.regulator_deadline == date(2022, 8, 1)  # ICO: 6 weeks after 20 June


def test_scottish_request_follows_foisa_and_the_scottish_calendar(
    db: Database, settings: Settings
) -> None:
    h = History(
        db,
        settings,
        "City of Edinburgh Council",
        "foi@edinburgh.gov.uk",
        date(2023, 4, 3),
        nation="Scotland",
    )
    v = h.state(date(2023, 4, 4))
    assert v.regime.value == "foisa"
    assert v.state.due == date(2023, 5, 3)  # Easter Monday is not a Scottish bank holiday
    late = h.state(date(2023, 5, 10)).state
    assert late.overdue and late.review_request_deadline == date(2023, 6, 30)
