"""Ingest throughput: the whole pipeline against a bare mail-parser parse.

5,000 generated replies (acknowledgements, responses quoting the real council letters,
HTML-only mail, auto-replies, a few PDF attachments, unmatched mail) against 1,000 open
requests to 200 authorities. The pipeline as `inbox poll` and `inbox import` run it
(``ingest_batch`` over batches of ``BATCH_MESSAGES``: raw bytes committed, parse,
classify, match, store message + attachments + learned references + events, into SQLite
in a temporary folder) is timed against ``mailparser.parse_from_bytes`` over the same
bytes, in the same run, in turns (a batch of each at a time). Target: the pipeline costs
at most twice the bare parse. Both are timed after the start-up heap is frozen, as
those commands do (``foibot.heap``).

Run with ``python bench/bench_ingest.py`` (``--profile`` adds where the time goes;
``--messages N`` for a quicker run; ``--one-by-one`` files each message in its own
transactions, with ``ingest_raw``, as when a single message arrives; ``--no-freeze``
leaves the start-up heap to the garbage collector). Prints figures only; nothing is
asserted.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import random
import re
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

import mailparser

from foibot.config import parse_settings
from foibot.domain.references import new_reference
from foibot.heap import freeze_startup_heap
from foibot.services.ingest import BATCH_MESSAGES, IngestOutcome, ingest_batch, ingest_raw
from foibot.store import migrate
from foibot.store.db import Database
from foibot.store.models import Authority, AuthorityDomain, Campaign, Message, Request

SEED = 20200211
AUTHORITIES = 200
CAMPAIGNS = 5  # every authority gets one request per campaign: 1,000 requests
OUR = "research@example.org"
COUNCIL = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "council-responses"
NOW = datetime(2021, 1, 4, 9, 0, tzinfo=UTC)


def build_requests(db: Database, rng: random.Random) -> list[dict[str, str]]:
    requests = []
    with db.transaction() as session:
        campaigns = [
            Campaign(name=f"campaign-{c}", title=f"Campaign {c}", subject_template="s",
                     body_template="b", template_name="t", created_at=NOW)
            for c in range(CAMPAIGNS)
        ]  # fmt: skip
        session.add_all(campaigns)
        session.flush()
        for a in range(AUTHORITIES):
            domain = f"council{a}.gov.uk"
            authority = Authority(name=f"Council {a}", email=f"foi@{domain}", nation="England",
                                  regime="foia", created_at=NOW, updated_at=NOW)  # fmt: skip
            authority.domains = [AuthorityDomain(domain=domain, source="email", created_at=NOW)]
            session.add(authority)
            session.flush()
            for c, campaign in enumerate(campaigns):
                ref = new_reference(rng)
                request = Request(campaign_id=campaign.id, authority_id=authority.id,
                                  reference=ref, regime="foia", created_at=NOW)  # fmt: skip
                session.add(request)
                session.flush()
                message_id = f"{ref.lower()}.{a}.{c}@mail.example.org"
                session.add(
                    Message(direction="out", request_id=request.id, purpose="request",
                            message_id=message_id, from_addr=OUR, to_addrs=[authority.email],
                            subject=f"Freedom of Information request {ref}: Campaign {c}",
                            send_state="sent", sent_at=NOW, created_at=NOW)
                )  # fmt: skip
                requests.append({"ref": ref, "domain": domain, "message_id": message_id,
                                 "their": f"FOI {10000 + a * 10 + c}"})  # fmt: skip
    return requests


def tiny_pdf(text: str) -> bytes:
    lines = [text[i : i + 90] for i in range(0, len(text), 90)][:50]
    stream = (
        b"BT /F1 10 Tf 12 TL 50 800 Td\n"
        + b"".join(
            b"("
            + line.encode("latin-1", "replace")
            .replace(b"\\", b"")
            .replace(b"(", b"")
            .replace(b")", b"")
            + b") Tj T*\n"
            for line in lines
        )
        + b"ET\n"
    )
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> "
        b">> /Contents 5 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"endstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 6\n0000000000 65535 f \n" + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size 6 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def generate(requests: list[dict[str, str]], count: int, rng: random.Random) -> list[bytes]:
    letters = [p.read_text(encoding="utf-8") for p in sorted(COUNCIL.glob("*.txt"))]
    acked: list[dict[str, str]] = []

    def letter(r: dict[str, str]) -> str:  # a real letter, carrying this request's reference
        return re.sub(r"Our ref: \d+", f"Our ref: {r['their']}", rng.choice(letters))

    out = []
    start = datetime(2020, 2, 12, 9, 0, tzinfo=UTC)
    for n in range(count):
        r = rng.choice(requests)
        m = EmailMessage(policy=SMTP)
        m["Received"] = (
            f"from mail.{r['domain']} by mx.example.org; {start:%a, %d %b %Y %H:%M:%S +0000}"
        )
        m["From"] = f"FOI Team <foi@{r['domain']}>"
        m["To"] = OUR
        m["Date"] = (start + timedelta(minutes=n)).strftime("%a, %d %b %Y %H:%M:%S +0000")
        m["Message-ID"] = f"<bench-{n}@{r['domain']}>"
        shape = rng.random()
        if shape < 0.25:  # acknowledgement, replying in the thread, teaching their reference
            m["Subject"] = f"RE: Freedom of Information request {r['ref']}"
            m["In-Reply-To"] = f"<{r['message_id']}>"
            m.set_content(
                f"Dear A. Researcher,\n\nOur ref: {r['their']}\n\nThank you for your request "
                "received on 11 February 2020. We will respond within 20 working days.\n"
            )
            acked.append(r)
        elif shape < 0.55 and acked:  # a response quoting only their reference
            r = rng.choice(acked)
            m.replace_header("From", f"Officer <officer@{r['domain']}>")
            m["Subject"] = f"{r['their']} - response"
            m.set_content(f"Dear A. Researcher,\n\n{letter(r)}\n")
        elif shape < 0.70:  # HTML-only response with our reference in the subject
            m["Subject"] = f"Your request {r['ref']}"
            body = "".join(f"<p>{p}</p>" for p in letter(r).split("\n\n"))
            m.set_content(f"<html><body>{body}</body></html>", subtype="html")
        elif shape < 0.80:  # auto-reply
            m["Subject"] = f"Automatic reply: Freedom of Information request {r['ref']}"
            m["Auto-Submitted"] = "auto-replied"
            m.set_content("I am out of the office until Monday with limited access to email.\n")
        elif shape < 0.82:  # the answer only in a PDF, to our plus address
            m.replace_header("To", f"research+{r['ref']}@example.org")
            m["Subject"] = "Freedom of Information response"
            m.set_content("Please find attached our response.\n")
            m.add_attachment(tiny_pdf(letter(r)[:3000]), maintype="application",
                             subtype="pdf", filename="response.pdf")  # fmt: skip
        else:  # from a named officer, no reference: stays unmatched (5 open requests)
            m.replace_header("From", f"Officer <officer@{r['domain']}>")
            m["Subject"] = "Your recent email"
            m.set_content("Dear A. Researcher,\n\nWe will be in touch shortly.\n")
        out.append(m.as_bytes())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument(
        "--profile",
        nargs="?",
        const="cumulative",
        choices=["cumulative", "tottime"],
        help="show where the pipeline's time goes (sorted by cumulative time, or tottime)",
    )
    parser.add_argument(
        "--one-by-one",
        action="store_true",
        help="file each message in its own transactions (ingest_raw), as when one message "
        "arrives alone, instead of in batches as polling and importing do",
    )
    parser.add_argument(
        "--no-freeze",
        action="store_true",
        help="leave the start-up heap to the garbage collector (foibot.heap: `inbox import`, "
        "`inbox poll` and `run` freeze it before they start filing)",
    )
    args = parser.parse_args()
    rng = random.Random(SEED)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        db = Database(url)
        migrate.upgrade(db)
        settings = replace(
            parse_settings({"sender": {"name": "A. Researcher", "address": OUR}}, None),
            database_url=url,
            storage_dir=Path(tmp) / "storage",
        )
        t0 = time.perf_counter()
        requests = build_requests(db, rng)
        print(f"setup: {len(requests):,} open requests in {time.perf_counter() - t0:.2f} s")
        messages = generate(requests, args.messages, rng)
        size = sum(len(m) for m in messages)
        print(
            f"{len(messages):,} replies, {size / 1e6:.1f} MB, {size / len(messages) / 1e3:.1f} kB "
            "average"
        )
        if not args.no_freeze:  # set up as the commands that file mail are
            freeze_startup_heap()
        print(f"start-up heap: {'left to the collector' if args.no_freeze else 'frozen'}")

        # The two are timed in turns, a batch's worth of messages at a time, so that a
        # slow spell of a shared machine weighs on both alike rather than on whichever
        # ran through it; which goes first alternates (the second finds the bytes in the
        # CPU's caches).
        profiler = cProfile.Profile() if args.profile else None
        bare = pipeline = 0.0
        outcomes: list[IngestOutcome] = []

        def parse_bare(chunk: list[bytes]) -> float:
            t0 = time.perf_counter()
            for raw in chunk:
                mailparser.parse_from_bytes(raw)
            return time.perf_counter() - t0

        def file(chunk: list[bytes]) -> float:
            t0 = time.perf_counter()
            if profiler:
                profiler.enable()
            if args.one_by_one:
                outcomes.extend(ingest_raw(db, settings, raw, "bench") for raw in chunk)
            else:  # as `inbox poll` and `inbox import` file mail
                outcomes.extend(ingest_batch(db, settings, [(raw, "bench") for raw in chunk]))
            if profiler:
                profiler.disable()
            return time.perf_counter() - t0

        for turn, start in enumerate(range(0, len(messages), BATCH_MESSAGES)):
            chunk = messages[start : start + BATCH_MESSAGES]
            if turn % 2 == 0:
                bare += parse_bare(chunk)
                pipeline += file(chunk)
            else:
                pipeline += file(chunk)
                bare += parse_bare(chunk)
        db.dispose()

    filed = sum(o.request is not None for o in outcomes)
    print(f"filed {filed:,}, unmatched {len(outcomes) - filed:,}, parse errors "
          f"{sum(o.parse_error is not None for o in outcomes)}")  # fmt: skip
    print(
        f"bare mailparser.parse_from_bytes: {len(messages) / bare:8,.0f} messages/s ({bare:.2f} s)"
    )
    how = "one by one" if args.one_by_one else f"batches of {BATCH_MESSAGES}"
    print(
        f"whole ingest pipeline:            {len(messages) / pipeline:8,.0f} messages/s "
        f"({pipeline:.2f} s, {how})"
    )
    print(f"ratio pipeline / bare parse: {pipeline / bare:.2f}x (target: at most 2x)")
    if profiler:
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats(args.profile).print_stats(35)
        print(text.getvalue())


if __name__ == "__main__":
    main()
