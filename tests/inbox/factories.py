"""The world the inbox fixtures were written against: authorities, campaigns, requests
and our outgoing request messages, written directly through the models.

Everything is deterministic (references come from a seeded generator, Message-IDs from
the placeholder names), because the committed .eml fixtures quote them:
``tests/fixtures/eml/make_corpus.py`` imports this module to write them, and the tests
build the same world in a fresh database before ingesting them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from random import Random

from sqlalchemy.orm import Session

from foibot.domain.references import new_reference
from foibot.domain.regimes import Nation, Regime, default_regime, request_regime
from foibot.store.db import Database
from foibot.store.models import Authority, AuthorityDomain, Campaign, Event, Message, Request

OUR_ADDRESS = "research@example.org"
OUR_NAME = "A. Researcher"
NOW = datetime(2021, 1, 4, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class AuthoritySpec:
    name: str
    email: str
    domains: tuple[str, ...] = ()  # configured extra sender domains
    nation: str = "England"


@dataclass(frozen=True)
class CampaignSpec:
    title: str
    questions: str
    environmental: bool = False


@dataclass(frozen=True)
class RequestSpec:
    authority: str
    campaign: str
    sent_on: date | None  # None: still queued, never sent


AUTHORITIES: dict[str, AuthoritySpec] = {
    "barnet": AuthoritySpec("London Borough of Barnet", "foi@barnet.gov.uk"),
    "leicester": AuthoritySpec("Leicester City Council", "info.requests@leicester.gov.uk"),
    "manchester": AuthoritySpec(
        "Manchester City Council", "foi@manchester.gov.uk", ("manchester.icasework.com",)
    ),
    "camden": AuthoritySpec("London Borough of Camden", "foi@camden.gov.uk"),
    "kent": AuthoritySpec("Kent County Council", "foi@kent.gov.uk"),
    "glasgow": AuthoritySpec("Glasgow City Council", "foi@glasgow.gov.uk", (), "Scotland"),
    "bristol": AuthoritySpec("Bristol City Council", "foi@bristol.gov.uk"),
    "leeds": AuthoritySpec("Leeds City Council", "foi@leeds.gov.uk", ("leeds.ecase.co.uk",)),
    "cornwall": AuthoritySpec("Cornwall Council", "foi@cornwall.gov.uk"),
    "sheffield": AuthoritySpec("Sheffield City Council", "foi@sheffield.gov.uk"),
    "cardiff": AuthoritySpec("Cardiff Council", "foi@cardiff.gov.uk", (), "Wales"),
    "york": AuthoritySpec("City of York Council", "foi@york.gov.uk"),
}

CAMPAIGNS: dict[str, CampaignSpec] = {
    "remote-workers": CampaignSpec(
        "Remote and flexible workers' devices",
        "1. How many of your employees work with children or vulnerable people?\n"
        "2. How many of them are remote or flexible workers?\n"
        "3. Which devices do you provide them with?",
    ),
    "covid-devices": CampaignSpec(
        "Remote working during the Covid-19 lockdown",
        "1. Breakdown of the number of new devices purchased.\n"
        "2. Detail on remote working software and licences purchased.",
    ),
    "content-services": CampaignSpec(
        "Digitalisation of citizens' records",
        "1. How much of the information you store for local citizens is digitalised?",
    ),
    "digital-contact": CampaignSpec(
        "Digital contact arrangements for children in care",
        "1. Do you have formal policies on digital or online contact arrangements?",
    ),
    "air-quality": CampaignSpec(
        "Air quality monitoring near schools",
        "1. The locations of your air quality monitoring stations within 500m of a school.",
        environmental=True,
    ),
}

REQUESTS: dict[str, RequestSpec] = {
    "barnet_remote": RequestSpec("barnet", "remote-workers", date(2020, 2, 11)),
    "barnet_covid": RequestSpec("barnet", "covid-devices", date(2020, 4, 7)),
    "barnet_content": RequestSpec("barnet", "content-services", date(2020, 5, 15)),
    "barnet_contact": RequestSpec("barnet", "digital-contact", date(2022, 5, 10)),
    "leicester_remote": RequestSpec("leicester", "remote-workers", date(2020, 2, 11)),
    "manchester_remote": RequestSpec("manchester", "remote-workers", date(2020, 2, 11)),
    "camden_remote": RequestSpec("camden", "remote-workers", date(2020, 2, 11)),
    "camden_contact": RequestSpec("camden", "digital-contact", date(2022, 5, 10)),
    "kent_remote": RequestSpec("kent", "remote-workers", date(2020, 2, 11)),
    "kent_contact": RequestSpec("kent", "digital-contact", date(2022, 5, 10)),
    "glasgow_remote": RequestSpec("glasgow", "remote-workers", date(2020, 2, 11)),
    "bristol_remote": RequestSpec("bristol", "remote-workers", date(2020, 2, 11)),
    "leeds_remote": RequestSpec("leeds", "remote-workers", date(2020, 2, 11)),
    "leeds_air": RequestSpec("leeds", "air-quality", date(2021, 3, 1)),
    "cornwall_remote": RequestSpec("cornwall", "remote-workers", date(2020, 2, 11)),
    "sheffield_remote": RequestSpec("sheffield", "remote-workers", date(2020, 2, 11)),
    "cardiff_remote": RequestSpec("cardiff", "remote-workers", date(2020, 2, 11)),
    "york_remote": RequestSpec("york", "remote-workers", None),  # queued, never sent
}


def reference_for(placeholder: str) -> str:
    return new_reference(Random(f"foibot-corpus:{placeholder}"))


def message_id_for(placeholder: str) -> str:
    """The Message-ID (without <>) of our outgoing request for ``placeholder``."""
    return f"{reference_for(placeholder).lower()}.{placeholder.replace('_', '-')}@mail.example.org"


def subject_for(placeholder: str) -> str:
    spec = REQUESTS[placeholder]
    title = CAMPAIGNS[spec.campaign].title
    return f"Freedom of Information request {reference_for(placeholder)}: {title}"


def request_body(placeholder: str) -> str:
    spec = REQUESTS[placeholder]
    authority = AUTHORITIES[spec.authority]
    act = (
        "the Environmental Information Regulations 2004"
        if CAMPAIGNS[spec.campaign].environmental
        else "the Freedom of Information (Scotland) Act 2002"
        if authority.nation == "Scotland"
        else "the Freedom of Information Act 2000"
    )
    return (
        f"Dear {authority.name},\n\n"
        f"Under {act}, please provide the following information:\n\n"
        f"{CAMPAIGNS[spec.campaign].questions}\n\n"
        f"Please quote our reference {reference_for(placeholder)} in your reply.\n\n"
        f"Yours faithfully,\n{OUR_NAME}\n"
    )


@dataclass
class World:
    request_ids: dict[str, int] = field(default_factory=dict)
    references: dict[str, str] = field(default_factory=dict)
    authority_ids: dict[str, int] = field(default_factory=dict)

    def placeholder(self, reference: str | None) -> str | None:
        if reference is None:
            return None
        return next(p for p, r in self.references.items() if r == reference)

    def placeholder_of_id(self, request_id: int) -> str:
        return next(p for p, i in self.request_ids.items() if i == request_id)


def _authority(session: Session, spec: AuthoritySpec) -> Authority:
    nation = Nation.parse(spec.nation)
    row = Authority(
        name=spec.name,
        email=spec.email,
        nation=nation.value,
        regime=default_regime(nation).value,
        created_at=NOW,
        updated_at=NOW,
    )
    domains = {spec.email.rpartition("@")[2]: "email", **{d: "configured" for d in spec.domains}}
    row.domains = [AuthorityDomain(domain=d, source=s, created_at=NOW) for d, s in domains.items()]
    session.add(row)
    return row


def build_world(db: Database, only: set[str] | None = None) -> World:
    """Creates the authorities, campaigns, requests and outgoing request messages
    (``only``: just these request placeholders and what they need)."""
    world = World()
    wanted = {p: s for p, s in REQUESTS.items() if only is None or p in only}
    with db.transaction() as session:
        authorities = {
            key: _authority(session, spec)
            for key, spec in AUTHORITIES.items()
            if any(s.authority == key for s in wanted.values())
        }
        campaigns = {}
        for key, spec in CAMPAIGNS.items():
            campaigns[key] = Campaign(
                name=key,
                title=spec.title,
                environmental=spec.environmental,
                subject_template="Freedom of Information request {{ request.reference }}: "
                "{{ campaign.title }}",
                body_template="{{ body }}",
                template_name="requests/default.txt",
                body=spec.questions,
                created_at=NOW,
            )
            session.add(campaigns[key])
        session.flush()
        for placeholder, spec in wanted.items():
            authority = authorities[spec.authority]
            campaign = campaigns[spec.campaign]
            regime = request_regime(Regime(authority.regime), campaign.environmental)
            request = Request(
                campaign_id=campaign.id,
                authority_id=authority.id,
                reference=reference_for(placeholder),
                regime=regime.value,
                created_at=NOW,
            )
            session.add(request)
            session.flush()
            sent_at = (
                datetime.combine(spec.sent_on, time(9, 30), tzinfo=UTC) if spec.sent_on else None
            )
            session.add(
                Message(
                    direction="out",
                    request_id=request.id,
                    purpose="request",
                    message_id=message_id_for(placeholder),
                    from_addr=OUR_ADDRESS,
                    to_addrs=[authority.email],
                    subject=subject_for(placeholder),
                    body_text=request_body(placeholder),
                    send_state="sent" if spec.sent_on else "queued",
                    sent_at=sent_at,
                    created_at=NOW,
                )
            )
            if spec.sent_on:
                session.add(
                    Event(
                        request_id=request.id,
                        kind="sent",
                        occurred_on=spec.sent_on,
                        recorded_at=NOW,
                    )
                )
            world.request_ids[placeholder] = request.id
            world.references[placeholder] = request.reference
            world.authority_ids[spec.authority] = authority.id
    return world
