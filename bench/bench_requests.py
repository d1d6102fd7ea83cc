"""Benchmark: `foibot requests list --json` over 10,000 requests.

Builds a SQLite database of 10,000 requests across 10 campaigns with realistic event
logs (sent; some acknowledged, answered, extended, reviewed), then times, in the same
run:
  - the service `list_requests` + JSON encoding (what `requests list --json` does),
  - the whole CLI command in a subprocess, start-up included,
  - a baseline: just reading the same rows (requests joined with campaign and
    authority, plus all events) with no derivation, to show what the derivation costs,
  - and the naive alternative, one `show_request` per request (N+1 queries), on a
    sample, scaled up.
Prints the figures and ratios; the target is under 2 seconds for the CLI.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select

from foibot.services.requests import list_requests, show_request
from foibot.store import migrate
from foibot.store.db import Database
from foibot.store.models import Authority, Campaign, Event, Message, Request

N = 10_000
NOW = datetime(2026, 11, 21, tzinfo=UTC)
TODAY = date(2026, 11, 21)


def build(db: Database) -> None:
    rng = random.Random(7)
    alphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
    from foibot.domain.references import check_character

    with db.engine.begin() as conn:
        conn.execute(
            insert(Campaign),
            [
                {
                    "id": c + 1,
                    "name": f"campaign-{c}",
                    "title": f"Campaign {c}",
                    "environmental": False,
                    "subject_template": "s",
                    "body_template": "b",
                    "template_name": "t",
                    "variables": {},
                    "selection": {},
                    "created_at": NOW,
                }
                for c in range(10)
            ],
        )
        conn.execute(
            insert(Authority),
            [
                {
                    "id": a + 1,
                    "name": f"Council {a}",
                    "email": f"foi@council{a}.gov.uk",
                    "nation": "Scotland" if a % 7 == 0 else "England",
                    "regime": "foisa" if a % 7 == 0 else "foia",
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for a in range(1000)
            ],
        )
        requests, messages, events = [], [], []
        seen: set[str] = set()
        for i in range(N):
            while True:
                body = "".join(rng.choice(alphabet) for _ in range(6))
                ref = f"FB-{body}{check_character(body)}"
                if ref not in seen:
                    seen.add(ref)
                    break
            authority = i % 1000
            requests.append(
                {
                    "id": i + 1,
                    "campaign_id": i // 1000 + 1,
                    "authority_id": authority + 1,
                    "reference": ref,
                    "regime": "foisa" if authority % 7 == 0 else "foia",
                    "created_at": NOW,
                }
            )
            sent = date(2026, 6, 1) + timedelta(days=rng.randrange(150))
            messages.append(
                {
                    "direction": "out",
                    "request_id": i + 1,
                    "purpose": "request",
                    "message_id": f"{ref}@example.org",
                    "subject": f"FOI {ref}",
                    "send_state": "sent",
                    "to_addrs": [],
                    "cc_addrs": [],
                    "classification": {},
                    "match_evidence": {},
                    "attempts": 1,
                    "created_at": NOW,
                }
            )
            events.append(
                {
                    "request_id": i + 1,
                    "kind": "sent",
                    "occurred_on": sent,
                    "source": "auto",
                    "data": {},
                    "recorded_at": NOW,
                }
            )
            roll = rng.random()
            if roll < 0.7:
                events.append(
                    {
                        "request_id": i + 1,
                        "kind": "acknowledged",
                        "occurred_on": sent + timedelta(days=1),
                        "source": "auto",
                        "data": {},
                        "recorded_at": NOW,
                    }
                )
            if roll < 0.5:
                events.append(
                    {
                        "request_id": i + 1,
                        "kind": "response",
                        "occurred_on": sent + timedelta(days=rng.randrange(5, 45)),
                        "source": "auto",
                        "recorded_at": NOW,
                        "data": {
                            "outcome": rng.choice(["successful", "partially_successful", "refused"])
                        },
                    }
                )
            if roll < 0.05:
                events.append(
                    {
                        "request_id": i + 1,
                        "kind": "review_requested",
                        "occurred_on": sent + timedelta(days=50),
                        "source": "user",
                        "data": {},
                        "recorded_at": NOW,
                    }
                )
        conn.execute(insert(Request), requests)
        conn.execute(insert(Message), messages)
        conn.execute(insert(Event), events)


def timed(fn):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="foibot-bench-"))
    url = f"sqlite:///{folder / 'bench.db'}"
    db = Database(url)
    migrate.upgrade(db)
    build_s, _ = timed(lambda: build(db))
    print(f"built {N:,} requests in {build_s:.1f} s ({folder})")

    def service() -> int:
        views = list_requests(db, today=TODAY)
        return len(json.dumps([v.as_json() for v in views]))

    service()  # warm the calendars and the SQLite cache
    service_s, size = timed(service)

    def bare() -> int:
        with db.transaction() as s:
            rows = s.execute(
                select(Request, Campaign.name, Authority.name).join(Campaign).join(Authority)
            ).all()
            evs = s.execute(select(Event)).all()
        return len(rows) + len(evs)

    bare_s, _ = timed(bare)
    sample = 200
    refs = [v.reference for v in list_requests(db, today=TODAY)[:sample]]
    naive_s, _ = timed(lambda: [show_request(db, r, today=TODAY) for r in refs])
    env = {**os.environ, "FOIBOT_DATABASE_URL": url}
    cli_s, proc = timed(
        lambda: subprocess.run(
            [
                sys.executable,
                "-m",
                "foibot",
                "requests",
                "list",
                "--json",
                "--as-of",
                TODAY.isoformat(),
            ],
            env=env,
            capture_output=True,
            check=True,
        )
    )
    count = len(json.loads(proc.stdout))
    naive_full = naive_s / sample * N
    print(
        f"service list_requests + JSON: {service_s:.2f} s for {N:,} requests "
        f"({size / 1e6:.1f} MB of JSON)"
    )
    print(
        f"CLI `foibot requests list --json`: {cli_s:.2f} s end to end, {count:,} objects "
        f"(target: under 2 s)"
    )
    print(
        f"baseline, bare read of the same rows: {bare_s:.2f} s "
        f"-> derivation and JSON cost {service_s / bare_s:.1f}x the bare read"
    )
    print(
        f"naive show_request per request (N+1): {naive_s:.2f} s for {sample}, "
        f"~{naive_full:.1f} s scaled to {N:,} -> list_requests is {naive_full / service_s:.0f}x "
        "faster"
    )
    db.dispose()


if __name__ == "__main__":
    main()
