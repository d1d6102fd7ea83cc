"""Campaigns: create (render and queue every request), preview, send, list, status.

``create_campaign`` renders every authority's message when the campaign is created, so
a template error (an unknown variable, a syntax error) surfaces then, naming the
template line, and never as a half-sent campaign. Each request gets its own reference
and its exact bytes (with a fixed Message-ID) go into the outbox; sending is
``foibot.services.outbox``'s job, and only once ``send_campaign`` releases them.
"""

from __future__ import annotations

import difflib
import secrets
import tomllib
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from random import Random
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from foibot.config import SenderSettings, Settings
from foibot.domain import request_status as states
from foibot.domain.campaign_spec import (
    AuthorityChoice,
    CampaignSpec,
    CampaignSpecError,
    parse_campaign,
    select_authorities,
)
from foibot.domain.references import find_references, new_reference
from foibot.domain.regimes import Nation, Regime, request_regime
from foibot.errors import NotFoundError, UserInputError
from foibot.mail.compose import compose, new_message_id
from foibot.render import CompiledTemplate, compile_template, read_template, shipped_template_path
from foibot.services import outbox
from foibot.store.db import Database, utcnow
from foibot.store.models import Authority, Campaign, Message, Request

DEFAULT_LETTER = "requests/foi-request.txt.j2"
DEFAULT_SUBJECT = "requests/foi-request.subject.j2"


# --- what templates see -------------------------------------------------------------
# Plain frozen objects: the sandbox lets a template read their fields and nothing else.


@dataclass(frozen=True)
class AuthorityContext:
    name: str
    email: str
    nation: str


@dataclass(frozen=True)
class CampaignContext:
    name: str
    title: str


@dataclass(frozen=True)
class SenderContext:
    name: str
    address: str
    reply_to: str  # where replies should go: the plus address when configured


@dataclass(frozen=True)
class RegimeContext:
    code: str  # "foia", "eir", "foisa", "eisr"
    short_name: str  # "FOIA" ...
    act_name: str  # "Freedom of Information Act 2000" ...
    environmental: bool
    scottish: bool


def regime_context(regime: Regime) -> RegimeContext:
    return RegimeContext(
        code=regime.value,
        short_name=regime.short_name,
        act_name=regime.act_name,
        environmental=regime.is_environmental,
        scottish=regime.is_scottish,
    )


@dataclass(frozen=True)
class Letter:
    subject: str
    body: str


class LetterRenderer:
    """Renders one campaign's subject and letter for any authority."""

    def __init__(
        self,
        *,
        campaign: CampaignContext,
        sender: SenderSettings,
        subject: CompiledTemplate,
        letter: CompiledTemplate,
        body: CompiledTemplate | None,
        variables: Mapping[str, Any],
    ) -> None:
        self.campaign, self.sender = campaign, sender
        self.subject, self.letter, self.body = subject, letter, body
        self.variables = dict(variables)

    def render(self, authority: AuthorityChoice, regime: Regime, reference: str) -> Letter:
        reply_to = (
            self.sender.plus_address(reference)
            if self.sender.reply_to_plus
            else self.sender.address
        )
        context: dict[str, Any] = {
            "authority": AuthorityContext(authority.name, authority.email, authority.nation.value),
            "reference": reference,
            "campaign": self.campaign,
            "sender": SenderContext(self.sender.name, self.sender.address, reply_to),
            "law": regime.act_name,
            "regime": regime_context(regime),
            "vars": self.variables,
        }
        if self.body is not None:
            context["body"] = self.body.render(context)
        subject = " ".join(self.subject.render(context).split())
        if not subject:
            raise UserInputError(f"template {self.subject.name}: the subject comes out empty")
        text = self.letter.render(context)
        if not text.strip():
            raise UserInputError(f"template {self.letter.name}: the letter comes out empty")
        return with_reference(Letter(subject, text), reference)


def with_reference(letter: Letter, reference: str) -> Letter:
    """Makes sure the reference is in the Subject (prefixed) and in the body (a line
    added at the end) whatever the template did: replies are filed by it."""
    subject, body = letter.subject, letter.body
    if reference not in find_references(subject):
        subject = f"[{reference}] {subject}"
    if reference not in find_references(body):
        note = f"Our reference: {reference} (please quote it in your reply)"
        body = body.rstrip("\n") + f"\n\n{note}\n"
    return Letter(subject, body)


# --- create -------------------------------------------------------------------------


@dataclass(frozen=True)
class CreateReport:
    name: str
    title: str
    requests: int
    by_regime: dict[str, int]
    dry_run: bool
    sample: bytes  # the first message's bytes


class _DryRun(Exception):
    def __init__(self, report: CreateReport) -> None:
        self.report = report


def read_campaign_file(path: Path) -> CampaignSpec:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserInputError(f"{path}: campaign file not found") from None
    except IsADirectoryError:
        raise UserInputError(f"{path}: is a folder, not a campaign file") from None
    except tomllib.TOMLDecodeError as exc:
        raise UserInputError(f"{path}: not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise UserInputError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise UserInputError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        return parse_campaign(data)
    except CampaignSpecError as exc:
        raise UserInputError(f"{path}: {exc}") from None


def _templates(
    spec: CampaignSpec, path: Path
) -> tuple[CompiledTemplate, CompiledTemplate, CompiledTemplate | None, str]:
    """(subject, letter, body or None, the letter's name for the record)."""
    if spec.template is not None:
        letter_path = Path(spec.template).expanduser()
        if not letter_path.is_absolute():
            letter_path = path.parent / letter_path
        if not letter_path.is_file():
            raise UserInputError(
                f"{path}: template {spec.template!r} not found (looked for {letter_path})"
            )
        letter = read_template(letter_path, spec.template)
        letter_name = spec.template
        body = None
    else:
        letter = read_template(shipped_template_path(DEFAULT_LETTER), DEFAULT_LETTER)
        letter_name = DEFAULT_LETTER
        assert spec.body is not None
        body = compile_template(spec.body, f"{path.name} body")
    if spec.subject is not None:
        subject = compile_template(spec.subject, f"{path.name} subject")
    else:
        subject = read_template(shipped_template_path(DEFAULT_SUBJECT), DEFAULT_SUBJECT)
    return subject, letter, body, letter_name


def create_campaign(
    db: Database,
    settings: Settings,
    path: Path,
    *,
    dry_run: bool = False,
    rng: Random | None = None,
) -> CreateReport:
    """Reads a campaign file, renders every authority's request and queues them, all in
    one transaction: on any error nothing is stored. ``dry_run`` renders and reports
    but stores nothing."""
    spec = read_campaign_file(path)
    subject, letter, body, letter_name = _templates(spec, path)
    renderer = LetterRenderer(
        campaign=CampaignContext(spec.name, spec.title),
        sender=settings.sender,
        subject=subject,
        letter=letter,
        body=body,
        variables=spec.variables,
    )
    rng = rng or secrets.SystemRandom()
    for _attempt in range(3):
        try:
            with db.transaction() as session:
                report = _create(session, settings, spec, path, renderer, letter_name, rng)
                if dry_run:
                    raise _DryRun(replace(report, dry_run=True))
                return report
        except _DryRun as done:
            return done.report
        except IntegrityError:
            # Another create took the name, or (very rarely) a reference, meanwhile.
            with db.transaction() as session:
                _check_name_free(session, spec.name, path)
    raise UserInputError(f"{path}: could not allocate unique references; try again")


def _check_name_free(session: Session, name: str, path: Path) -> None:
    existing = session.scalar(select(Campaign).where(Campaign.name == name))
    if existing is not None:
        count = session.scalar(
            select(func.count()).select_from(Request).where(Request.campaign_id == existing.id)
        )
        raise UserInputError(
            f"{path}: campaign name {name!r} is already used (created "
            f"{existing.created_at:%Y-%m-%d}, {count} requests); choose another name"
        )


def _create(
    session: Session,
    settings: Settings,
    spec: CampaignSpec,
    path: Path,
    renderer: LetterRenderer,
    letter_name: str,
    rng: Random,
) -> CreateReport:
    _check_name_free(session, spec.name, path)
    rows = session.scalars(select(Authority).order_by(Authority.name)).all()
    choices = [
        AuthorityChoice(a.name, a.email, Nation.parse(a.nation), Regime.parse(a.regime))
        for a in rows
    ]
    try:
        chosen = select_authorities(spec.selection, choices)
    except CampaignSpecError as exc:
        raise UserInputError(f"{path}: {exc}") from None
    by_email = {a.email: a for a in rows}
    now = utcnow()
    campaign = Campaign(
        name=spec.name,
        title=spec.title,
        environmental=spec.environmental,
        subject_template=renderer.subject.source,
        body_template=renderer.letter.source,
        template_name=letter_name,
        body=spec.body,
        variables=_jsonable(spec.variables),
        selection=spec.selection.as_json(),
        source_path=str(path.resolve()),
        created_at=now,
    )
    session.add(campaign)
    session.flush()
    references = _new_references(session, len(chosen), rng)
    sender = settings.sender
    by_regime: Counter[str] = Counter()
    sample = b""
    for choice, reference in zip(chosen, references, strict=True):
        authority = by_email[choice.email]
        regime = request_regime(choice.regime, spec.environmental)
        try:
            letter = renderer.render(choice, regime, reference)
        except UserInputError as exc:
            raise UserInputError(f"{path}: {exc} (for {choice.name})") from None
        mail = compose(
            from_name=sender.name,
            from_addr=sender.address,
            to_name=authority.name,
            to_addr=authority.email,
            subject=letter.subject,
            body=letter.body,
            date=now,
            message_id=new_message_id(reference, sender.address),
            reply_to=sender.plus_address(reference) if sender.reply_to_plus else None,
        )
        request = Request(
            campaign_id=campaign.id,
            authority_id=authority.id,
            reference=reference,
            regime=regime.value,
            created_at=now,
        )
        session.add(request)
        session.flush()
        outbox.enqueue(session, mail, purpose="request", request_id=request.id, now=now, held=True)
        by_regime[regime.short_name] += 1
        sample = sample or mail.raw
    return CreateReport(
        name=spec.name,
        title=spec.title,
        requests=len(chosen),
        by_regime=dict(sorted(by_regime.items())),
        dry_run=False,
        sample=sample,
    )


def _new_references(session: Session, count: int, rng: Random) -> list[str]:
    """``count`` fresh references, unique among themselves and in the database."""
    chosen: list[str] = []
    taken: set[str] = set()
    while len(chosen) < count:
        batch = {new_reference(rng) for _ in range(count - len(chosen))} - taken
        clash = set(session.scalars(select(Request.reference).where(Request.reference.in_(batch))))
        for ref in sorted(batch - clash):
            chosen.append(ref)
            taken.add(ref)
        taken |= clash
    rng.shuffle(chosen)
    return chosen


def _jsonable(value: Any) -> Any:
    """TOML values as JSON can store them (dates become ISO strings)."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


# --- looking campaigns up -----------------------------------------------------------


def get_campaign(session: Session, name: str) -> Campaign:
    campaign = session.scalar(select(Campaign).where(Campaign.name == name.strip()))
    if campaign is not None:
        return campaign
    names = list(session.scalars(select(Campaign.name)))
    close = difflib.get_close_matches(name, names, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    if not names:
        hint = " (there are no campaigns yet: `foibot campaign create FILE.toml`)"
    raise NotFoundError(f"no campaign named {name!r}{hint}")


def campaign_scope(db: Database, name: str) -> tuple[outbox.Scope, str]:
    """The outbox scope of a campaign, and its title."""
    with db.transaction() as session:
        campaign = get_campaign(session, name)
        return outbox.Scope(campaign_id=campaign.id, purposes=("request",)), campaign.title


# --- preview ------------------------------------------------------------------------


@dataclass(frozen=True)
class PreviewItem:
    reference: str
    authority: str
    email: str
    send_state: str | None
    raw: bytes


def preview_campaign(db: Database, name: str, authority: str | None = None) -> list[PreviewItem]:
    """The stored messages, exactly as they will be sent (the Date header is set again
    when each is sent)."""
    with db.transaction() as session:
        campaign = get_campaign(session, name)
        query = (
            select(Request.reference, Authority.name, Authority.email, Message)
            .join(Authority, Authority.id == Request.authority_id)
            .join(Message, Message.request_id == Request.id)
            .where(
                Request.campaign_id == campaign.id,
                Message.direction == "out",
                Message.purpose == "request",
            )
            .order_by(Authority.name)
        )
        rows = session.execute(query).all()
        if authority is not None:
            rows = _pick_authority(rows, authority, campaign.name)
        return [
            PreviewItem(ref, auth_name, email, message.send_state, message.raw.data)
            for ref, auth_name, email, message in rows
            if message.raw is not None
        ]


def _pick_authority(rows: Sequence[Any], wanted: str, campaign: str) -> list[Any]:
    """The row for one authority, named by its full name, its email, the request's
    reference, or a part of its name that fits only one of them (any case)."""
    key = " ".join(wanted.split()).casefold()
    exact = [r for r in rows if key in (r[1].casefold(), r[2].casefold(), r[0].casefold())]
    if exact:
        return exact
    partial = [r for r in rows if key in r[1].casefold()]
    if len(partial) == 1:
        return partial
    if partial:
        names = ", ".join(r[1] for r in partial[:5])
        raise UserInputError(f"{wanted!r} fits several authorities ({names}); be more precise")
    close = difflib.get_close_matches(wanted, [r[1] for r in rows], n=1, cutoff=0.5)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise NotFoundError(f"campaign {campaign!r} has no request to {wanted!r}{hint}")


# --- list and status ----------------------------------------------------------------


def _empty_counts() -> dict[str, int]:
    return dict.fromkeys(states.REQUEST_STATUSES, 0)


@dataclass(frozen=True)
class CampaignSummary:
    name: str
    title: str
    created_at: datetime
    environmental: bool
    total: int
    counts: dict[str, int]

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "created_at": self.created_at.isoformat(),
            "environmental": self.environmental,
            "requests": self.total,
            "counts": self.counts,
        }


def list_campaigns(db: Database) -> list[CampaignSummary]:
    with db.transaction() as session:
        campaigns = session.scalars(select(Campaign).order_by(Campaign.created_at)).all()
        rows = session.execute(
            select(Request.campaign_id, Message.send_state, func.count())
            .join(Message, Message.request_id == Request.id)
            .where(Message.direction == "out", Message.purpose == "request")
            .group_by(Request.campaign_id, Message.send_state)
        ).all()
        counts: dict[int, dict[str, int]] = {}
        for campaign_id, send_state, n in rows:
            bucket = counts.setdefault(campaign_id, _empty_counts())
            bucket[states.request_status(send_state)] += n
        return [
            CampaignSummary(
                c.name,
                c.title,
                c.created_at,
                c.environmental,
                sum(counts.get(c.id, {}).values()),
                counts.get(c.id, _empty_counts()),
            )
            for c in campaigns
        ]


@dataclass(frozen=True)
class RequestRow:
    reference: str
    authority: str
    authority_email: str
    regime: str
    status: str
    send_state: str | None
    message_id: str | None  # as sent; None before sending
    sent_at: datetime | None
    attempts: int
    last_error: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "authority": self.authority,
            "authority_email": self.authority_email,
            "regime": self.regime,
            "status": self.status,
            "send_state": self.send_state,
            "message_id": self.message_id,
            "sent_at": self.sent_at.isoformat() if self.sent_at else None,
            "attempts": self.attempts,
            "last_error": self.last_error,
        }


@dataclass(frozen=True)
class CampaignStatus:
    name: str
    title: str
    created_at: datetime
    counts: dict[str, int]
    requests: list[RequestRow] = field(default_factory=list)

    @property
    def uncertain(self) -> list[RequestRow]:
        return [r for r in self.requests if r.status == "uncertain"]

    def as_json(self) -> dict[str, Any]:
        return {
            "campaign": self.name,
            "title": self.title,
            "created_at": self.created_at.isoformat(),
            "counts": self.counts,
            "requests": [r.as_json() for r in self.requests],
        }


# A request message carries its Message-ID into the status once it may have gone out.
_MAY_HAVE_GONE = (states.SENT, states.FINAL, states.UNCERTAIN)


def campaign_status(db: Database, name: str) -> CampaignStatus:
    with db.transaction() as session:
        campaign = get_campaign(session, name)
        rows = session.execute(
            select(Request, Authority.name, Authority.email, Message)
            .join(Authority, Authority.id == Request.authority_id)
            .outerjoin(
                Message,
                (Message.request_id == Request.id)
                & (Message.direction == "out")
                & (Message.purpose == "request"),
            )
            .where(Request.campaign_id == campaign.id)
            .order_by(Authority.name)
        ).all()
        counts = _empty_counts()
        requests: list[RequestRow] = []
        for request, authority, email, message in rows:
            send_state = message.send_state if message is not None else None
            status = states.request_status(send_state)
            counts[status] += 1
            requests.append(
                RequestRow(
                    reference=request.reference,
                    authority=authority,
                    authority_email=email,
                    regime=request.regime,
                    status=status,
                    send_state=send_state,
                    message_id=(
                        message.message_id
                        if message is not None and send_state in _MAY_HAVE_GONE
                        else None
                    ),
                    sent_at=message.sent_at if message is not None else None,
                    attempts=message.attempts if message is not None else 0,
                    last_error=message.last_error if message is not None else None,
                )
            )
        return CampaignStatus(campaign.name, campaign.title, campaign.created_at, counts, requests)


# --- send ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SendPlan:
    name: str
    title: str
    ready: int  # queued or held, and ready now
    waiting: int  # queued, backing off after a transient failure
    already_sent: int
    uncertain: list[str]
    failed: int
    next_items: list[outbox.OutboxItem]  # the first ones that would go (for --dry-run)
    window_open: bool
    window_opens_at: datetime | None

    @property
    def queued(self) -> int:
        return self.ready + self.waiting


def plan_send(
    db: Database,
    settings: Settings,
    name: str,
    *,
    now: datetime | None = None,
    limit: int | None = None,
    ignore_window: bool = False,
) -> SendPlan:
    """What ``send`` would do now, without doing it."""
    now = now or utcnow()
    scope, title = campaign_scope(db, name)
    status = campaign_status(db, name)
    with db.transaction() as session:
        pending = session.execute(
            select(Message, Request.reference, Authority.name)
            .join(Request, Request.id == Message.request_id)
            .join(Authority, Authority.id == Request.authority_id)
            .where(*scope.where(), Message.send_state.in_((states.QUEUED, states.HELD)))
            .order_by(Message.id)
        ).all()
        # released ones first (they go first), then the held ones in creation order
        pending = sorted(pending, key=lambda row: (row[0].send_state == states.HELD, row[0].id))
        ready = [
            (m, ref, auth)
            for m, ref, auth in pending
            if m.not_before is None or m.not_before <= now
        ]
        items = [
            outbox.OutboxItem(m.id, ref, auth, ", ".join(m.to_addrs or []), m.message_id, m.subject)
            for m, ref, auth in ready[: limit if limit is not None else len(ready)]
        ]
    window = None if ignore_window else settings.sending.window
    is_open = window is None or window.is_open(now)
    return SendPlan(
        name=status.name,
        title=title,
        ready=len(ready),
        waiting=len(pending) - len(ready),
        already_sent=status.counts["awaiting_response"],
        uncertain=[r.reference for r in status.uncertain],
        failed=status.counts["delivery_failed"],
        next_items=items,
        window_open=is_open,
        window_opens_at=None if is_open or window is None else window.next_open(now),
    )


@dataclass(frozen=True)
class SendSummary:
    report: outbox.DrainReport
    already_sent: int  # sent before this run: skipped
    status: CampaignStatus  # after the run
    resent_uncertain: list[str]
    retried_failed: list[str]

    @property
    def remaining(self) -> int:
        return self.status.counts["queued"]


def send_campaign(
    db: Database,
    settings: Settings,
    name: str,
    *,
    limit: int | None = None,
    ignore_window: bool = False,
    resend_uncertain: bool = False,
    retry_failed: bool = False,
    listener: outbox.Listener | None = None,
    clock: outbox.Clock | None = None,
    transport_factory: Callable[[], outbox.Transport] | None = None,
    backoff: outbox.Backoff | None = None,
    worker: outbox.Worker | None = None,
) -> SendSummary:
    """Releases a campaign's held requests (at most ``limit``) and sends what is queued
    through the outbox (see ``drain_outbox``): paced, in the window, exactly once."""
    scope, _title = campaign_scope(db, name)
    before = campaign_status(db, name)
    found = recover_interrupted(db)  # before the requeue below, so "final" is seen as such
    resent = outbox.requeue_uncertain(db, scope) if resend_uncertain else []
    retried = outbox.requeue_failed(db, scope) if retry_failed else []
    # Created requests wait "held" until now: release as many as this run may send (none
    # outside the window), so a daemon running meanwhile sends no more than was asked.
    window = None if ignore_window else settings.sending.window
    if window is None or window.is_open((clock or outbox.SystemClock()).now()):
        wanted = None if limit is None else limit - outbox.count_queued(db, scope)
        if wanted is None or wanted > 0:
            outbox.release_held(db, scope, wanted)
    report = outbox.drain_outbox(
        db,
        settings,
        scope=scope,
        transport_factory=transport_factory,
        limit=limit,
        ignore_window=ignore_window,
        clock=clock,
        listener=listener,
        backoff=backoff,
        worker=worker,
    )
    report.recovered[:0] = found.requeued
    report.found_uncertain[:0] = found.uncertain
    return SendSummary(
        report=report,
        already_sent=before.counts["awaiting_response"],
        status=campaign_status(db, name),
        resent_uncertain=resent,
        retried_failed=retried,
    )


def recover_interrupted(db: Database) -> outbox.Recovery:
    """Takes back what senders that died left half-done (see ``outbox``): messages caught
    before the end of their DATA are queued again, those caught after it are uncertain."""
    return outbox.recover_abandoned(db, now=utcnow(), me=outbox.Worker.current())


def resolve_uncertain(
    db: Database, name: str, references: Sequence[str], *, delivered: bool
) -> list[str]:
    """The user's verdict on uncertain requests, after checking (e.g. the Sent folder):
    ``delivered`` marks them sent; otherwise they are queued to be sent again."""
    from foibot.domain.references import normalise

    refs: list[str] = []
    for text in references:
        ref = normalise(text)
        if ref is None:
            raise UserInputError(f"{text!r} is not a foibot reference (like FB-7K3M9Q5)")
        refs.append(ref)
    scope, _title = campaign_scope(db, name)
    status = campaign_status(db, name)
    known = {r.reference: r for r in status.requests}
    for ref in refs:
        if ref not in known:
            raise NotFoundError(f"campaign {name!r} has no request {ref}")
        if known[ref].status != "uncertain":
            raise UserInputError(f"{ref} is not uncertain (it is {known[ref].status})")
    if delivered:
        return outbox.confirm_uncertain_sent(db, scope, refs)
    return outbox.requeue_uncertain(db, scope, refs)


__all__ = [
    "DEFAULT_LETTER",
    "DEFAULT_SUBJECT",
    "CampaignStatus",
    "CampaignSummary",
    "CreateReport",
    "LetterRenderer",
    "PreviewItem",
    "SendPlan",
    "SendSummary",
    "campaign_status",
    "create_campaign",
    "list_campaigns",
    "plan_send",
    "preview_campaign",
    "recover_interrupted",
    "resolve_uncertain",
    "send_campaign",
]
