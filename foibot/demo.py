"""`foibot demo`: the whole pipeline in a sandbox, with no mail account and no network.

A local SMTP server (aiosmtpd, loopback) receives the requests; a Maildir in the demo
folder is the inbox; a dozen example councils "answer" over the following simulated
weeks with the shapes real councils send (acknowledgements with their own references,
an out-of-office, a bounce, a clarification request, responses like the real fixtures,
an s12 refusal, a reply from a case-system no-reply address, and one council that never
answers). foibot then polls, files, classifies, works out the clocks, drafts the review
requests and writes the digest — through the same service functions as the CLI.
"""

from __future__ import annotations

import mailbox
import socket
import tempfile
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from foibot.config import Settings, load_settings
from foibot.paths import templates_dir
from foibot.services import authorities as authorities_service
from foibot.services import campaigns as campaigns_service
from foibot.services import digest as digest_service
from foibot.services import review as review_service
from foibot.services.poll import poll_once
from foibot.services.requests import list_requests
from foibot.store import migrate
from foibot.store.db import Database, utcnow
from foibot.timezone import UK, local_date

Say = Callable[[str], None]

AUTHORITIES_CSV = """name,email,nation,domains
London Borough of Barnet,foi@barnet.gov.uk,England,
Leicester City Council,info.requests@leicester.gov.uk,England,
Cardiff Council,foi@cardiff.gov.uk,Wales,
City of Edinburgh Council,foi@edinburgh.gov.uk,Scotland,
Glasgow City Council,foi@glasgow.gov.uk,Scotland,glasgow.icasework.com
Belfast City Council,foi@belfastcity.gov.uk,Northern Ireland,
Manchester City Council,foi@manchester.gov.uk,England,
Bristol City Council,foi@bristol.gov.uk,England,
Kent County Council,foi@kent.gov.uk,England,
Norfolk County Council,foi@norfolk.gov.uk,England,
Swansea Council,foi@swansea.gov.uk,Wales,
Nowhere District Council,foi@nowhere-district.gov.uk,England,
"""

CAMPAIGN_TOML = '''name = "remote-working-devices"
title = "Council staff devices and remote working"
authorities = "all"
body = """
Please provide the following information:

1. How many laptops did the council issue to staff for remote working between
   1 March 2020 and 31 March 2020?
2. How many of those laptops were newly purchased, and at what total cost?
3. Which video-conferencing software does the council use for internal meetings?
"""
'''

FIXTURE_000 = "000_ce2ee234e5fe9bb0.txt"  # Barnet, numbered answers, review paragraph


@dataclass
class SentRecord:
    to: str
    message_id: str
    subject: str


@dataclass
class Sink:
    """The councils' side of SMTP: records every request foibot sends."""

    received: list[SentRecord] = field(default_factory=list)

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        from email import message_from_bytes
        from email.policy import default

        msg = message_from_bytes(envelope.content, policy=default)
        for rcpt in envelope.rcpt_tos:
            self.received.append(
                SentRecord(rcpt.lower(), str(msg["Message-ID"]).strip("<>"), str(msg["Subject"]))
            )
        return "250 OK"


@dataclass
class DemoResult:
    folder: Path
    database_url: str
    campaign: str
    sent: int
    expected: dict[str, tuple[str | None, str]]  # Message-ID -> (our reference, kind)
    filed: dict[str, tuple[str | None, str | None, str | None]]  # Message-ID -> (ref, method, kind)
    drafts: list[Path]
    digest_html: Path
    as_of: date
    overdue: list[str]


class _Council:
    """Writes one council's replies into the Maildir, dated on simulated days."""

    def __init__(self, box: mailbox.Maildir, start: datetime, expected: dict[str, Any]) -> None:
        self.box, self.start, self.expected = box, start, expected

    def reply(
        self,
        *,
        day: int,
        sender: str,
        to: str,
        subject: str,
        body: str,
        reference: str | None,
        kind: str,
        in_reply_to: str | None = None,
        headers: dict[str, str] | None = None,
        name: str | None = None,
    ) -> None:
        when = datetime.combine(
            local_date(self.start) + timedelta(days=day), time(10, 30), tzinfo=UK
        )
        msg = EmailMessage(policy=SMTP)
        msg["From"] = f"{name} <{sender}>" if name else sender
        msg["To"] = to
        msg["Subject"] = subject
        msg["Date"] = format_datetime(when)
        message_id = make_msgid("reply", sender.rpartition("@")[2])
        msg["Message-ID"] = message_id
        if in_reply_to:
            msg["In-Reply-To"] = f"<{in_reply_to}>"
            msg["References"] = f"<{in_reply_to}>"
        for key, value in (headers or {}).items():
            msg[key] = value
        msg.set_content(body)
        self.box.add(msg.as_bytes(policy=SMTP))
        self.expected[message_id.strip("<>")] = (reference, kind)

    def bounce(self, *, day: int, to: str, failed: SentRecord, reference: str) -> None:
        when = datetime.combine(local_date(self.start) + timedelta(days=day), time(9, 0), tzinfo=UK)
        boundary = "=_demo_dsn_boundary"
        message_id = make_msgid("dsn", "mx.example.net")
        raw = (
            f"From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\r\n"
            f"To: {to}\r\nSubject: Undelivered Mail Returned to Sender\r\n"
            f"Date: {format_datetime(when)}\r\nMessage-ID: {message_id}\r\n"
            f"Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
            f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"'
            f"\r\n\r\n--{boundary}\r\nContent-Type: text/plain\r\n\r\n"
            f"This is the mail system at host mx.example.net.\r\n\r\n"
            f"I'm sorry to have to inform you that your message could not be delivered.\r\n\r\n"
            f"<{failed.to}>: host mx.nowhere-district.gov.uk said: 550 5.1.1 User unknown\r\n"
            f"\r\n--{boundary}\r\nContent-Type: message/delivery-status\r\n\r\n"
            f"Reporting-MTA: dns; mx.example.net\r\n\r\n"
            f"Final-Recipient: rfc822; {failed.to}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
            f"Diagnostic-Code: smtp; 550 5.1.1 User unknown\r\n"
            f"\r\n--{boundary}\r\nContent-Type: text/rfc822-headers\r\n\r\n"
            f"Message-ID: <{failed.message_id}>\r\nTo: {failed.to}\r\n"
            f"Subject: {failed.subject}\r\n\r\n--{boundary}--\r\n"
        )
        self.box.add(raw.encode("ascii"))
        self.expected[message_id.strip("<>")] = (reference, "bounce")


def _fixture_text(name: str) -> str:
    for folder in (
        Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "council-responses",
        templates_dir() / "demo",
    ):
        path = folder / name
        if path.is_file():
            return path.read_text(encoding="utf-8")
    return (
        "Dear requester,\n\nPlease find our response below.\n\n1. 120 laptops.\n"
        "2. 80 were new, at a cost of £64,000.\n3. Microsoft Teams.\n\nIf you are "
        "unhappy with this response you may ask for an internal review within 40 "
        "working days.\n"
    )


def _write_config(folder: Path, smtp_port: int) -> Path:
    config = folder / "config" / "foibot.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(
        textwrap.dedent(f"""\
        # written by `foibot demo`: a sandbox with a local SMTP server and a Maildir inbox
        database_url = "sqlite:///{folder / "foibot.db"}"
        storage_dir = "{folder / "data"}"
        [sender]
        name = "A. Researcher"
        address = "research@example.org"
        [smtp]
        host = "127.0.0.1"
        port = {smtp_port}
        security = "none"
        [sending]
        rate_per_minute = 0
        [inbox]
        maildir = "{folder / "Maildir"}"
        [digest]
        recipients = ["research@example.org"]
        """),
        encoding="utf-8",
    )
    return config


def run_demo(folder: Path | None = None, say: Say = print) -> DemoResult:
    """Runs the whole demo; returns what happened so a test can check it."""
    root = folder or Path(tempfile.mkdtemp(prefix="foibot-demo-"))
    root.mkdir(parents=True, exist_ok=True)
    sink = Sink()
    port = _free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        config = _write_config(root, port)
        settings = load_settings(config)
        db = Database(settings.database_url)
        try:
            return _play(root, settings, db, sink, say)
        finally:
            db.dispose()
    finally:
        controller.stop()


def _play(root: Path, settings: Settings, db: Database, sink: Sink, say: Say) -> DemoResult:
    assert settings.maildir is not None
    migrate.upgrade(db)
    inbox = mailbox.Maildir(settings.maildir, create=True)

    say(
        f"[bold]1.[/bold] Sandbox in {root}: SQLite database, a local SMTP server on "
        f"127.0.0.1:{settings.smtp.port}, a Maildir inbox."
    )
    csv_path = root / "authorities.csv"
    csv_path.write_text(AUTHORITIES_CSV, encoding="utf-8")
    report = authorities_service.import_authorities(db, csv_path)
    say(
        f"[bold]2.[/bold] Imported {len(report.created)} councils "
        "(England, Wales, Scotland, Northern Ireland)."
    )

    campaign_path = root / "campaign.toml"
    campaign_path.write_text(CAMPAIGN_TOML, encoding="utf-8")
    created = campaigns_service.create_campaign(db, settings, campaign_path)
    name = "remote-working-devices"
    say(
        f"[bold]3.[/bold] Created campaign {name!r}: {_count(created)} requests rendered "
        "and queued, each with its own reference."
    )

    summary = campaigns_service.send_campaign(db, settings, name)
    sent_at = utcnow()
    say(
        f"[bold]4.[/bold] Sent {len(summary.report.sent)} requests through SMTP; the "
        f"councils' server received {len(sink.received)}."
    )

    status = campaigns_service.campaign_status(db, name)
    by_authority = {r.authority: r for r in status.requests}
    sent_by_to = {s.to: s for s in sink.received}
    expected: dict[str, tuple[str | None, str]] = {}
    council = _Council(inbox, sent_at, expected)

    def ref(authority: str) -> str:
        return by_authority[authority].reference

    def mid(authority: str) -> str:
        return sent_by_to[by_authority[authority].authority_email].message_id

    def subj(authority: str) -> str:
        return sent_by_to[by_authority[authority].authority_email].subject

    _councils_reply(council, ref, mid, subj, sent_by_to, by_authority)
    say(
        f"[bold]5.[/bold] The councils answered over the next five weeks: "
        f"{len(expected)} messages are waiting in the Maildir."
    )

    poll = poll_once(db, settings)
    filed = {o.message_id or "": (o.request, o.method, o.kind) for o in poll.outcomes}
    say(f"[bold]6.[/bold] Polled the inbox: {poll.summary()}")
    for message_id, (want_ref, want_kind) in expected.items():
        got_ref, method, kind = filed.get(message_id, (None, None, None))
        mark = "[green]✓[/green]" if (got_ref, kind) == (want_ref, want_kind) else "[red]✗[/red]"
        say(f"   {mark} {kind or '?':<22} -> {got_ref or 'unmatched':<11} ({method or '-'})")

    as_of = local_date(sent_at) + timedelta(days=35)
    views = list_requests(db, today=as_of)
    overdue = [v.authority for v in views if v.state.overdue]
    say(
        f"[bold]7.[/bold] Clocks as of {as_of:%d %B %Y} (five weeks on): "
        + ", ".join(f"{s}: {n}" for s, n in _status_counts(views).items())
    )
    for v in views:
        if v.state.overdue:
            say(
                f"   [red]overdue[/red] {v.authority}: due {v.state.due}, "
                f"{v.days_late} working days late"
            )

    drafts: list[Path] = []
    for authority, why in (
        ("Manchester City Council", "the s12 refusal"),
        ("Kent County Council", "the late response"),
    ):
        draft = review_service.draft_review(db, settings, ref(authority), today=as_of)
        path = review_service.save_draft_eml(draft, root / "drafts")
        drafts.append(path)
        say(
            f"[bold]8.[/bold] Drafted an internal review for {why} ({authority}, ground "
            f"{draft.ground.value}): {path}"
        )

    digest_html = root / "digest.html"
    digest_service.preview(db, settings, digest_html, today=as_of, since=as_of - timedelta(days=35))
    say(
        f"[bold]9.[/bold] Wrote the weekly digest: {digest_html} (open it in a browser) "
        f"and {digest_html.with_suffix('.txt')}"
    )
    say(
        f"Look around: FOIBOT_CONFIG={root / 'config' / 'foibot.toml'} bin/foibot requests "
        f"list --as-of {as_of}"
    )
    return DemoResult(
        root,
        settings.database_url,
        name,
        len(sink.received),
        expected,
        filed,
        drafts,
        digest_html,
        as_of,
        overdue,
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _count(report: Any) -> int:
    for attr in ("created", "requests", "count"):
        value = getattr(report, attr, None)
        if isinstance(value, int):
            return value
        if isinstance(value, list | tuple):
            return len(value)
    return 0


def _status_counts(views: list[Any]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for v in views:
        counts[v.state.status.value] = counts.get(v.state.status.value, 0) + 1
    return counts


def _councils_reply(
    c: _Council,
    ref: Callable[[str], str],
    mid: Callable[[str], str],
    subj: Callable[[str], str],
    sent_by_to: dict[str, SentRecord],
    by_authority: dict[str, Any],
) -> None:
    me = "research@example.org"
    # Barnet: acknowledgement with its own reference, then the real response (fixture
    # 000) quoting only that reference: filed by the reference it learned.
    c.reply(
        day=1,
        sender="foi@barnet.gov.uk",
        to=me,
        reference=ref("London Borough of Barnet"),
        kind="acknowledgement",
        subject=f"RE: {subj('London Borough of Barnet')}",
        in_reply_to=mid("London Borough of Barnet"),
        body="Dear A. Researcher,\n\nThank you for your request for information, which "
        "we received on the date of your email. Our ref: 6073489.\n\nWe will respond "
        "within 20 working days.\n\nInformation Management Team\nLondon Borough of Barnet\n",
    )
    c.reply(
        day=9,
        sender="foi@barnet.gov.uk",
        to=me,
        reference=ref("London Borough of Barnet"),
        kind="response",
        subject="Freedom of Information Request - Our ref: 6073489",
        body=_fixture_text(FIXTURE_000),
    )
    # Leicester: a straight response, threaded by In-Reply-To.
    c.reply(
        day=12,
        sender="info.requests@leicester.gov.uk",
        to=me,
        reference=ref("Leicester City Council"),
        kind="response",
        subject=f"RE: {subj('Leicester City Council')}",
        in_reply_to=mid("Leicester City Council"),
        body="Dear A. Researcher,\n\nThank you for your request. Our response is below.\n\n"
        "1. 212 laptops were issued to staff for remote working in March 2020.\n"
        "2. 150 were newly purchased, at a total cost of £97,500.\n"
        "3. Microsoft Teams.\n\nIf you are unhappy with the way your request has been "
        "handled you can request a review within 40 working days by writing to "
        "info.requests@leicester.gov.uk.\n\nInformation Governance\n",
    )
    # Cardiff: out of office from a named officer (adds no event), then the answer.
    c.reply(
        day=0,
        sender="j.evans@cardiff.gov.uk",
        to=me,
        name="Jane Evans",
        reference=ref("Cardiff Council"),
        kind="auto_reply",
        subject=f"Automatic reply: {subj('Cardiff Council')}",
        in_reply_to=mid("Cardiff Council"),
        headers={"Auto-Submitted": "auto-replied"},
        body="I am out of the office until Monday with no access to email.\n",
    )
    c.reply(
        day=14,
        sender="foi@cardiff.gov.uk",
        to=me,
        reference=ref("Cardiff Council"),
        kind="response",
        subject=f"RE: {subj('Cardiff Council')}",
        in_reply_to=mid("Cardiff Council"),
        body="Dear Sir/Madam,\n\nThe council does not hold this information. Laptops "
        "are issued by our IT partner, and no record of remote-working issue was kept.\n\n"
        "If you are dissatisfied you may request an internal review within 40 working "
        "days.\n",
    )
    # Bristol: asks for clarification, quoting our reference in the body only.
    c.reply(
        day=3,
        sender="foi@bristol.gov.uk",
        to=me,
        reference=ref("Bristol City Council"),
        kind="clarification_request",
        subject="Your information request",
        body=f"Dear A. Researcher,\n\nRe: your request {ref('Bristol City Council')}.\n\n"
        "Before we can answer, please could you clarify what you mean by 'staff': does "
        "this include agency workers and councillors?\n\nWe will not be able to progress "
        "your request until we receive your clarification.\n",
    )
    # Manchester: an s12 refusal with its own reference.
    c.reply(
        day=15,
        sender="foi@manchester.gov.uk",
        to=me,
        reference=ref("Manchester City Council"),
        kind="response",
        subject=f"FOI 15631 - {subj('Manchester City Council')}",
        in_reply_to=mid("Manchester City Council"),
        body="Dear A. Researcher,\n\nFOI 15631\n\nWe estimate that the cost of complying "
        "with your request would exceed the appropriate limit of £450. We are therefore "
        "refusing your request under section 12 of the Freedom of Information Act 2000. "
        "This letter acts as a refusal notice under section 17.\n\nYou may be able to "
        "narrow your request. If you are not satisfied you may ask for an internal review "
        "within 40 working days by writing to foi@manchester.gov.uk.\n",
    )
    # Glasgow (FOISA): a reply from a case-management system's no-reply address.
    c.reply(
        day=10,
        sender="noreply@glasgow.icasework.com",
        to=me,
        reference=ref("Glasgow City Council"),
        kind="response",
        subject=f"Information Request: 01762 [{ref('Glasgow City Council')}]",
        body="Dear A. Researcher,\n\nInformation Request: 01762\n\nIn response to your "
        "request under the Freedom of Information (Scotland) Act 2002:\n\n1. 95 laptops.\n"
        "2. 40 were newly purchased at a cost of £30,000.\n3. Microsoft Teams.\n\nIf you "
        "are unhappy you may require a review within 40 working days.\n",
    )
    # Edinburgh (FOISA): an acknowledgement quoting its own reference, then the answer.
    c.reply(
        day=2,
        sender="foi@edinburgh.gov.uk",
        to=me,
        reference=ref("City of Edinburgh Council"),
        kind="acknowledgement",
        subject=f"RE: {subj('City of Edinburgh Council')}",
        in_reply_to=mid("City of Edinburgh Council"),
        body="Thank you for your request, which we received and will respond to within "
        "20 working days. Our reference is FOI2016/00027.\n",
    )
    c.reply(
        day=16,
        sender="foi@edinburgh.gov.uk",
        to=me,
        reference=ref("City of Edinburgh Council"),
        kind="response",
        subject="FOI2016/00027 - response",
        body="Dear A. Researcher,\n\nOur reference: "
        "FOI2016/00027\n\nPlease find our response to your request below.\n\n1. 140 "
        "laptops.\n2. 60 were newly purchased, at a cost of £45,000.\n3. Microsoft Teams."
        "\n\nIf you are dissatisfied you may require a review within 40 working days.\n",
    )
    # Nowhere District Council: the address bounces.
    failed = sent_by_to[by_authority["Nowhere District Council"].authority_email]
    c.bounce(day=0, to=me, failed=failed, reference=ref("Nowhere District Council"))
    # Norfolk: a public-interest extension to a date of its own.
    new_due = local_date(c.start) + timedelta(days=50)
    c.reply(
        day=18,
        sender="foi@norfolk.gov.uk",
        to=me,
        reference=ref("Norfolk County Council"),
        kind="extension_notice",
        subject=f"RE: {subj('Norfolk County Council')}",
        in_reply_to=mid("Norfolk County Council"),
        body="Dear A. Researcher,\n\nWe are considering the public interest test in "
        "relation to section 43 (commercial interests) and need to extend the time for "
        "our response under section 10(3) of the Act. We now expect to respond by "
        f"{new_due.day} {new_due:%B %Y}.\n",
    )
    # Belfast answers in full; Swansea acknowledges and then answers late.
    c.reply(
        day=20,
        sender="foi@belfastcity.gov.uk",
        to=me,
        reference=ref("Belfast City Council"),
        kind="response",
        subject=f"RE: {subj('Belfast City Council')}",
        in_reply_to=mid("Belfast City Council"),
        body="Dear A. Researcher,\n\nPlease find the information you requested below.\n\n"
        "1. 310 laptops.\n2. 200 were new, costing £150,000 in total.\n3. Zoom.\n\n"
        "You may request an internal review within 40 working days.\n",
    )
    c.reply(
        day=1,
        sender="foi@swansea.gov.uk",
        to=me,
        reference=ref("Swansea Council"),
        kind="acknowledgement",
        subject=f"RE: {subj('Swansea Council')}",
        in_reply_to=mid("Swansea Council"),
        body="Thank you for your request for information, which was received by the "
        "council. Reference No: 406339. We aim to respond within 20 working days.\n",
    )
    c.reply(
        day=31,
        sender="foi@swansea.gov.uk",
        to=me,
        reference=ref("Swansea Council"),
        kind="response",
        subject="Reference No: 406339 - response",
        body="Dear A. Researcher,\n\nReference No: 406339\n\nWe apologise for the delay. "
        "1. 77 laptops. 2. All 77 were new, at a cost of £61,600. 3. Microsoft Teams.\n\n"
        "You may ask for an internal review within 40 working days.\n",
    )
    # Kent never answers: it will be late.


__all__ = ["DemoResult", "run_demo"]
