"""Internal review requests: drafted from the request's state, saved for editing, sent
through the outbox.

The letter comes from ``templates/reviews/<ground>.txt.j2`` (editable by the user), is
addressed to the review address the authority gave in its response (else its FOI
address), and its subject keeps the authority's reference before ours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select

from foibot.config import Settings
from foibot.domain.review import (
    Ground,
    ReviewNotAllowed,
    check_window,
    default_ground,
    review_answer_due,
    review_subject,
    section_notes,
)
from foibot.errors import UserInputError
from foibot.mail.compose import OutgoingMail, compose, new_message_id
from foibot.render import read_template, shipped_template_path
from foibot.services.requests import RequestView, find_request, show_request
from foibot.store.db import Database, utcnow
from foibot.store.models import Authority, Message
from foibot.timezone import local_date


@dataclass(frozen=True)
class ReviewDraft:
    reference: str
    ground: Ground
    to_addr: str
    to_name: str
    answer_due: date
    mail: OutgoingMail
    in_reply_to: str | None
    template: str


def _long(d: date | None) -> str:
    return f"{d.day} {d:%B %Y}" if d else ""


def _original(view: RequestView) -> tuple[str, str | None, list[str]]:
    """The subject of our request, and the Message-IDs to thread the review under."""
    ours = [
        m for m in view.messages if m.direction == "out" and (m.purpose or "request") == "request"
    ]
    subject = ours[0].subject if ours and ours[0].subject else view.reference
    theirs = [
        m
        for m in view.messages
        if m.direction == "in"
        and m.message_id
        and m.kind in ("response", "acknowledgement", "refusal")
    ]
    last = theirs[-1].message_id if theirs else (ours[0].message_id if ours else None)
    thread = [m.message_id for m in (*ours[:1], *theirs[-1:]) if m.message_id]
    return subject, last, thread


def draft_review(
    db: Database,
    settings: Settings,
    reference: str,
    *,
    ground: str | None = None,
    note: str | None = None,
    force: bool = False,
    today: date | None = None,
    templates: Path | None = None,
) -> ReviewDraft:
    """Renders the internal review request for a request. Refuses (UserInputError) when
    the review window has closed, unless ``force``."""
    now = utcnow()
    day = today or local_date(now)
    view = show_request(db, reference, today=day)
    state = view.state
    if not force:
        try:
            check_window(state, day)
        except ReviewNotAllowed as exc:
            raise UserInputError(
                f"{view.reference}: not drafting a review: {exc} (use --force to draft anyway)"
            ) from None
    chosen = _ground(ground) if ground else default_ground(state)
    with db.transaction() as session:
        request = find_request(session, view.reference)
        authority = session.get(Authority, request.authority_id)
        assert authority is not None
        nation = authority.nation
        title = request.campaign.title
        response_evidence = (
            session.scalar(
                select(Message.classification)
                .where(
                    Message.request_id == request.id,
                    Message.direction == "in",
                    Message.kind == "response",
                )
                .order_by(Message.id.desc())
                .limit(1)
            )
            or {}
        )
    regime = view.regime
    answer_due = review_answer_due(regime, day)
    subject_line, in_reply_to, thread = _original(view)
    their = view.their_references[-1] if view.their_references else None
    to_addr = view.review_address or view.authority_email
    context: dict[str, Any] = {
        "authority": {"name": view.authority, "email": view.authority_email, "nation": nation},
        "sender": {"name": settings.sender.name, "address": settings.sender.address},
        "reference": view.reference,
        "their_reference": their,
        "campaign": {"name": view.campaign},
        "regime": {
            "short_name": regime.short_name,
            "act_name": regime.act_name,
            "environmental": regime.is_environmental,
            "scottish": regime.is_scottish,
        },
        "law": regime.act_name,
        "received": _long(state.received),
        "due": _long(state.due),
        "responded": _long(state.responded_on),
        "days_late": view.days_late,
        "answer_due": _long(answer_due),
        "sections": [
            {"section": n.section, "title": n.title, "challenge": n.challenge}
            for n in section_notes(regime, state.sections)
        ],
        "note": note or "",
        "original_subject": subject_line,
        "request_title": title,
        "their_words": their_words(response_evidence),
        "ground": chosen.value,
    }
    folder = templates or shipped_template_path("reviews")
    template_path = folder / f"{chosen.value}.txt.j2"
    body = read_template(template_path, f"reviews/{chosen.value}.txt.j2").render(context)
    mail = compose(
        from_name=settings.sender.name,
        from_addr=settings.sender.address,
        to_name=view.authority,
        to_addr=to_addr,
        subject=review_subject(their, view.reference),
        body=body,
        date=now,
        message_id=new_message_id(view.reference, settings.sender.address),
        reply_to=settings.sender.plus_address(view.reference)
        if settings.sender.reply_to_plus
        else None,
        in_reply_to=in_reply_to,
        references=tuple(thread),
    )
    return ReviewDraft(
        view.reference,
        chosen,
        to_addr,
        view.authority,
        answer_due,
        mail,
        in_reply_to,
        str(template_path),
    )


def their_words(evidence: dict[str, Any], limit: int = 3) -> list[str]:
    """The authority's own sentences about what it did not provide (not held, refused,
    withheld), from the classification evidence of its response."""
    words: list[str] = []
    for phrase in (evidence.get("evidence") or {}).get("outcome", []):
        label, _, sentence = str(phrase).partition(": ")
        if sentence and not label.startswith("provided") and sentence not in words:
            words.append(sentence.strip())
    return words[:limit]


def _ground(value: str) -> Ground:
    try:
        return Ground(value.strip().lower().replace("_", "-"))
    except ValueError:
        names = "|".join(g.value for g in Ground)
        raise UserInputError(f"unknown ground {value!r} (expected {names})") from None


def save_draft_eml(draft: ReviewDraft, path: Path) -> Path:
    """Writes the draft as an .eml file the user can open and edit in a mail client.
    ``path`` is the file, or a folder (existing, or any path not ending in .eml)."""
    is_file = path.suffix.lower() == ".eml" and not path.is_dir()
    target = path if is_file else path / f"review-{draft.reference}.eml"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(draft.mail.raw)
    except OSError as exc:
        raise UserInputError(f"cannot write the draft to {target}: {exc.strerror}") from None
    return target


def pending_review(db: Database, reference: str) -> Message | None:
    """The review request already queued or sent for this request, if any."""
    with db.transaction() as session:
        request = find_request(session, reference)
        return session.scalar(
            select(Message).where(
                Message.request_id == request.id,
                Message.direction == "out",
                Message.purpose == "review_request",
            )
        )


def save_draft_imap(draft: ReviewDraft, settings: Settings) -> str:
    """Appends the draft to the IMAP Drafts folder; returns the folder's name."""
    from foibot.mail.imap import ImapMailbox

    return ImapMailbox(settings.imap).append_draft(draft.mail.raw)


def edited_draft(draft: ReviewDraft, path: Path, settings: Settings) -> ReviewDraft:
    """The draft with the subject and text the user edited in an .eml file (addresses,
    Message-ID and threading stay foibot's)."""
    from email import message_from_bytes
    from email.message import EmailMessage
    from email.policy import default

    try:
        parsed = message_from_bytes(path.read_bytes(), policy=default)
    except OSError as exc:
        raise UserInputError(f"cannot read {path}: {exc.strerror}") from None
    assert isinstance(parsed, EmailMessage)
    part = parsed.get_body(preferencelist=("plain",))
    if part is None:
        raise UserInputError(f"{path}: no plain-text part to send")
    body = part.get_content()
    subject = str(parsed.get("Subject") or draft.mail.subject)
    mail = compose(
        from_name=settings.sender.name,
        from_addr=draft.mail.from_addr,
        to_name=draft.to_name,
        to_addr=draft.to_addr,
        subject=" ".join(subject.split()),
        body=body,
        date=draft.mail.date,
        message_id=draft.mail.message_id,
        reply_to=draft.mail.reply_to,
        in_reply_to=draft.in_reply_to,
    )
    return ReviewDraft(
        draft.reference,
        draft.ground,
        draft.to_addr,
        draft.to_name,
        draft.answer_due,
        mail,
        draft.in_reply_to,
        str(path),
    )


def queue_review(db: Database, draft: ReviewDraft) -> int:
    """Puts the review request in the outbox (not held: it goes at the next send);
    returns the outgoing message's id. Refuses a second review request."""
    from foibot.services import outbox

    if pending_review(db, draft.reference) is not None:
        raise UserInputError(f"{draft.reference}: a review request is already queued or sent")
    with db.transaction() as session:
        request = find_request(session, draft.reference)
        message = outbox.enqueue(
            session, draft.mail, purpose="review_request", request_id=request.id, now=utcnow()
        )
        session.flush()
        return message.id


def send_review(db: Database, settings: Settings, draft: ReviewDraft) -> Any:
    """Queues the review request and sends it through the outbox (exactly once, like
    requests); the "review_requested" event that starts the review clock is recorded
    when the server accepts it."""
    from foibot.services import outbox

    queue_review(db, draft)
    return outbox.drain_outbox(
        db, settings, scope=outbox.Scope(purposes=("review_request",)), ignore_window=True
    )
