"""What the weekly digest says, worked out from request states (pure).

Per campaign: counts by status and outcome, new responses in the period, overdue
requests, responses due in the next 7 days, review windows closing within 10 working
days, reviews awaiting an answer, delivery failures; and, once for all campaigns, the
unmatched messages waiting for the user. Rendering is the template's job.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from foibot.domain.calendar import calendar_for
from foibot.domain.lifecycle import RequestState, Status
from foibot.domain.regimes import Regime

DUE_SOON_DAYS = 7  # calendar days
REVIEW_CLOSING_WORKING_DAYS = 10


@dataclass(frozen=True)
class DigestRequest:
    """What the digest needs to know of one request."""

    reference: str
    campaign: str
    campaign_title: str
    authority: str
    regime: Regime
    state: RequestState
    days_late: int
    response_summary: str | None = None  # one line from the latest response
    failure: str | None = None  # the server's reply for a delivery failure


@dataclass(frozen=True)
class UnmatchedLine:
    id: int
    from_addr: str | None
    subject: str | None
    received: date | None
    suggestion: str | None = None


@dataclass(frozen=True)
class Bar:
    label: str
    count: int
    percent: int  # of the campaign's requests, for the visual bar


@dataclass
class CampaignDigest:
    name: str
    title: str
    total: int
    statuses: list[Bar] = field(default_factory=list)
    outcomes: list[Bar] = field(default_factory=list)
    new_responses: list[DigestRequest] = field(default_factory=list)
    overdue: list[DigestRequest] = field(default_factory=list)
    due_soon: list[DigestRequest] = field(default_factory=list)
    review_closing: list[DigestRequest] = field(default_factory=list)
    reviews_waiting: list[DigestRequest] = field(default_factory=list)
    delivery_failures: list[DigestRequest] = field(default_factory=list)

    @property
    def has_news(self) -> bool:
        return any(
            (
                self.new_responses,
                self.overdue,
                self.due_soon,
                self.review_closing,
                self.reviews_waiting,
                self.delivery_failures,
            )
        )


@dataclass
class Digest:
    today: date
    since: date
    campaigns: list[CampaignDigest]
    unmatched: list[UnmatchedLine]

    @property
    def is_empty(self) -> bool:
        return not self.campaigns and not self.unmatched


_STATUS_ORDER = [s.value for s in Status]


def _bars(counter: Counter[str], total: int, order: Sequence[str]) -> list[Bar]:
    keys = sorted(counter, key=lambda k: (order.index(k) if k in order else len(order), k))
    return [Bar(k, counter[k], round(100 * counter[k] / total) if total else 0) for k in keys]


def build_digest(
    requests: Iterable[DigestRequest],
    unmatched: Sequence[UnmatchedLine],
    *,
    today: date,
    since: date,
) -> Digest:
    """Groups requests by campaign (in order of first appearance) into the sections."""
    by_campaign: dict[str, list[DigestRequest]] = {}
    for r in requests:
        by_campaign.setdefault(r.campaign, []).append(r)
    campaigns = []
    for name, rows in by_campaign.items():
        d = CampaignDigest(name=name, title=rows[0].campaign_title, total=len(rows))
        d.statuses = _bars(Counter(r.state.status.value for r in rows), len(rows), _STATUS_ORDER)
        outcomes = Counter(r.state.outcome.value for r in rows if r.state.outcome)
        d.outcomes = _bars(
            outcomes, len(rows), ["successful", "partially_successful", "not_held", "refused"]
        )
        for r in rows:
            s = r.state
            if s.responded_on is not None and since <= s.responded_on <= today:
                d.new_responses.append(r)
            if s.overdue:
                d.overdue.append(r)
            elif (
                s.status is Status.AWAITING_RESPONSE
                and s.due is not None
                and today <= s.due <= today + timedelta(days=DUE_SOON_DAYS)
            ):
                d.due_soon.append(r)
            closes = s.review_request_deadline
            if (
                closes is not None
                and s.review_requested_on is None
                and s.status in (Status.RESPONDED, Status.AWAITING_RESPONSE)
                and today
                <= closes
                <= calendar_for(r.regime).add_working_days(today, REVIEW_CLOSING_WORKING_DAYS)
            ):
                d.review_closing.append(r)
            if s.status is Status.REVIEW_REQUESTED:
                d.reviews_waiting.append(r)
            if s.status is Status.DELIVERY_FAILED:
                d.delivery_failures.append(r)
        d.new_responses.sort(key=lambda r: (r.state.responded_on or today, r.authority))
        d.overdue.sort(key=lambda r: (-r.days_late, r.authority))
        d.due_soon.sort(key=lambda r: (r.state.due or today, r.authority))
        d.review_closing.sort(key=lambda r: (r.state.review_request_deadline or today, r.authority))
        d.reviews_waiting.sort(key=lambda r: (r.state.review_response_due or today, r.authority))
        campaigns.append(d)
    return Digest(today=today, since=since, campaigns=campaigns, unmatched=list(unmatched))
