"""The weekly digest: built from every request's derived state, rendered as text and
HTML from ``templates/digest/``, previewed to a file or mailed.

"Sent once" is a database fact: a digest is claimed by inserting a ``DigestRun`` row
whose period key is unique, so two daemons (or a daemon restarted after a missed slot)
cannot both send the same week's digest.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

from jinja2 import StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from foibot.config import WEEKDAYS, DigestSettings, Settings
from foibot.domain.digest import Digest, DigestRequest, UnmatchedLine, build_digest
from foibot.errors import UserInputError
from foibot.mail.smtp import SmtpTransport
from foibot.paths import templates_dir
from foibot.services import outbox
from foibot.services.requests import RequestView, list_requests
from foibot.store.db import Database, utcnow
from foibot.store.models import Campaign, DigestRun, Message
from foibot.timezone import local_date

log = logging.getLogger(__name__)

COLOURS = {
    "queued": "#9ca3af",
    "awaiting_response": "#2563eb",
    "awaiting_clarification": "#7c3aed",
    "delivery_failed": "#b91c1c",
    "responded": "#059669",
    "review_requested": "#d97706",
    "review_responded": "#0d9488",
    "withdrawn": "#6b7280",
    "closed": "#374151",
    "successful": "#059669",
    "partially_successful": "#65a30d",
    "not_held": "#d97706",
    "refused": "#b91c1c",
}


@dataclass(frozen=True)
class RenderedDigest:
    digest: Digest
    subject: str
    text: str
    html: str


def _fmt(d: date | None) -> str:
    return f"{d:%a} {d.day} {d:%b %Y}" if d else "-"


def _environment(autoescape: bool) -> ImmutableSandboxedEnvironment:
    return ImmutableSandboxedEnvironment(
        undefined=StrictUndefined,
        autoescape=autoescape,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def collect(db: Database, *, today: date, since: date) -> Digest:
    views = list_requests(db, today=today)
    with db.transaction() as session:
        titles = {
            name: title for name, title in session.execute(select(Campaign.name, Campaign.title))
        }
        summaries = _response_summaries(session, views)
        failures: dict[int, str | None] = {
            request_id: error
            for request_id, error in session.execute(
                select(Message.request_id, Message.last_error).where(
                    Message.direction == "out", Message.send_state == "delivery_failed"
                )
            )
            if request_id is not None
        }
        unmatched_rows = session.execute(
            select(Message.id, Message.from_addr, Message.subject, Message.date, Message.created_at)
            .where(Message.direction == "in", Message.request_id.is_(None))
            .order_by(Message.id)
        ).all()
    requests = [
        DigestRequest(
            reference=v.reference,
            campaign=v.campaign,
            campaign_title=titles.get(v.campaign, v.campaign),
            authority=v.authority,
            regime=v.regime,
            state=v.state,
            days_late=v.days_late,
            response_summary=summaries.get(v.id),
            failure=failures.get(v.id),
        )
        for v in views
    ]
    unmatched = [
        UnmatchedLine(r.id, r.from_addr, r.subject, local_date(r.date or r.created_at))
        for r in unmatched_rows
    ]
    return build_digest(requests, unmatched, today=today, since=since)


def _response_summaries(session: Any, views: list[RequestView]) -> dict[int, str]:
    """One line per responded request: what the response said, from its classification."""
    rows = session.execute(
        select(Message.request_id, Message.subject, Message.classification)
        .where(Message.direction == "in", Message.kind == "response")
        .order_by(Message.id)
    ).all()
    out: dict[int, str] = {}
    for request_id, subject, evidence in rows:
        evidence = evidence or {}
        summary = evidence.get("summary")
        if not summary:
            phrases = evidence.get("outcome_evidence") or []
            summary = f"“{phrases[0]}”" if phrases else (subject or "")
        out[request_id] = str(summary)[:160]
    return out


def render(digest: Digest, settings: Settings, templates: Path | None = None) -> RenderedDigest:
    folder = templates or templates_dir() / "digest"
    context = {
        "digest": digest,
        "fmt": _fmt,
        "colours": COLOURS,
        "sender": {"name": settings.sender_.name if settings.sender_ else "you"},
    }
    try:
        text_source = (folder / "digest.txt.j2").read_text(encoding="utf-8")
        html_source = (folder / "digest.html.j2").read_text(encoding="utf-8")
    except OSError as exc:
        raise UserInputError(f"digest template missing in {folder}: {exc.strerror}") from None
    text = _environment(False).from_string(text_source).render(context)
    html = _environment(True).from_string(html_source).render(context)
    overdue = sum(len(c.overdue) for c in digest.campaigns)
    new = sum(len(c.new_responses) for c in digest.campaigns)
    subject = f"foibot digest {_fmt(digest.today)}: {new} new response{'s' if new != 1 else ''}"
    if overdue:
        subject += f", {overdue} overdue"
    return RenderedDigest(digest, subject, text, html)


def compose_digest(
    rendered: RenderedDigest, settings: Settings, recipients: list[str], now: datetime
) -> EmailMessage:
    msg = EmailMessage(policy=SMTP)
    msg["From"] = f"{settings.sender.name} <{settings.sender.address}>"
    msg["To"] = ", ".join(recipients)
    msg["Subject"] = rendered.subject
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = make_msgid("digest", settings.sender.address.rpartition("@")[2])
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to this, please
    msg.set_content(rendered.text, charset="utf-8")
    msg.add_alternative(rendered.html, subtype="html", charset="utf-8")
    return msg


def period_start(settings: DigestSettings, moment: datetime) -> datetime:
    """The most recent scheduled digest time at or before ``moment`` (aware)."""
    local = moment.astimezone(settings.timezone)
    weekday = WEEKDAYS.index(settings.weekday)
    day = local.date() - timedelta(days=(local.weekday() - weekday) % 7)
    slot = datetime.combine(day, settings.time, tzinfo=settings.timezone)
    if slot > local:
        slot -= timedelta(days=7)
    return slot


@dataclass(frozen=True)
class DigestOutcome:
    period: str
    sent: bool
    reason: str
    recipients: tuple[str, ...] = ()
    subject: str | None = None


def send_due_digest(
    db: Database,
    settings: Settings,
    *,
    now: datetime | None = None,
    force: bool = False,
    since: date | None = None,
) -> DigestOutcome:
    """Sends the digest for the latest scheduled slot unless it was already sent (or is
    being sent by another process). ``force`` sends anyway, keyed to this moment."""
    moment = now or utcnow()
    digest_settings = settings.digest
    slot = period_start(digest_settings, moment)
    period = moment.isoformat(timespec="seconds") if force else slot.date().isoformat()
    with db.transaction() as session:
        done = session.scalar(select(DigestRun).where(DigestRun.period == period))
        if done is not None and done.sent_at is not None:
            return DigestOutcome(period, False, f"already sent at {done.sent_at:%Y-%m-%d %H:%M}")
    me = outbox.Worker.current()
    token = me.token()
    try:
        with db.transaction() as session:
            existing = session.scalar(select(DigestRun).where(DigestRun.period == period))
            if existing is None:
                session.add(DigestRun(period=period, claimed_by=token, created_at=utcnow()))
            elif existing.sent_at is not None:
                return DigestOutcome(period, False, "already sent")
            elif (
                existing.error is not None
                or outbox.owner_is_gone(existing.claimed_by, me)
                or existing.created_at < utcnow() - outbox.DEFAULT_STALE_AFTER
            ):
                # A failed attempt, or a claim whose process died (same host) or is
                # stale (another host): take it over, on condition that nobody else
                # has meanwhile (two daemons may both see the same dead claim). A
                # daemon killed after the server took the digest but before it was
                # marked sent may send it again: a repeated digest is a lesser harm
                # than a lost one.
                taken = session.execute(
                    update(DigestRun)
                    .where(
                        DigestRun.period == period,
                        DigestRun.sent_at.is_(None),
                        DigestRun.claimed_by == existing.claimed_by,
                    )
                    .values(claimed_by=token, error=None, created_at=utcnow())
                    .execution_options(synchronize_session=False)
                )
                if getattr(taken, "rowcount", 0) != 1:
                    return DigestOutcome(period, False, "claimed by another process")
            else:
                return DigestOutcome(period, False, f"being sent by {existing.claimed_by}")
    except IntegrityError:
        return DigestOutcome(period, False, "claimed by another process")
    today = local_date(moment)
    start = since or (slot.date() - timedelta(days=7) if not force else today - timedelta(7))
    rendered = render(collect(db, today=today, since=start), settings)
    recipients = list(digest_settings.recipients)
    message = compose_digest(rendered, settings, recipients, moment)
    try:
        with SmtpTransport(settings.smtp) as smtp:
            smtp.send(settings.sender.address, recipients, message.as_bytes(policy=SMTP))
    except Exception as exc:
        with db.transaction() as session:
            session.execute(
                update(DigestRun).where(DigestRun.period == period).values(error=str(exc)[:2000])
            )
        raise
    with db.transaction() as session:
        session.execute(
            update(DigestRun)
            .where(DigestRun.period == period)
            .values(sent_at=utcnow(), recipients=recipients, message_id=message["Message-ID"])
        )
    return DigestOutcome(period, True, "sent", tuple(recipients), rendered.subject)


def preview(
    db: Database,
    settings: Settings,
    path: Path,
    *,
    today: date | None = None,
    since: date | None = None,
) -> RenderedDigest:
    """Writes the HTML digest to ``path`` (and the text part next to it) for a browser."""
    day = today or local_date(utcnow())
    rendered = render(collect(db, today=day, since=since or day - timedelta(days=7)), settings)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(rendered.html, encoding="utf-8")
        path.with_suffix(".txt").write_text(rendered.text, encoding="utf-8")
    except OSError as exc:
        raise UserInputError(f"cannot write the preview to {path}: {exc.strerror}") from None
    return rendered


__all__ = [
    "DigestOutcome",
    "RenderedDigest",
    "collect",
    "compose_digest",
    "period_start",
    "preview",
    "render",
    "send_due_digest",
]
