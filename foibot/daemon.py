"""`foibot run`: the long-running daemon.

APScheduler 3.x runs the jobs; each job calls the same service function as the CLI:

- inbox: ``poll_once`` — in a thread of its own that waits for mail between polls (IMAP
  IDLE when the server offers it and ``[imap] idle`` is on; a look at ``new/`` every
  second for ``[inbox] maildir``), else every ``poll_interval_minutes``. After a poll
  that read something it polls again at once, and it never waits longer than
  ``[daemon] idle_recheck_seconds``: Dovecot, for one, does not announce in IDLE a
  message delivered just before the IDLE began (it tells only at DONE), and mail
  announced in the replies to a poll's own commands is not seen by IDLE either;
- outbox: ``drain_outbox`` every ``[daemon] outbox_interval_seconds``, paced by
  ``[sending]``;
- clocks: ``check_clocks`` daily at 07:00 UK time and at start-up;
- digest: ``send_due_digest`` at the ``[digest]`` weekday and time, and once at start-up
  so that a digest missed while the daemon was down goes out (the DigestRun period key
  makes sure it never goes twice); a digest that could not be sent (SMTP down) is tried
  again with backoff rather than a week later.

As in Mailman's runners, each unit of work is its own transaction (for the inbox, a
batch of messages: ``foibot.services.ingest.ingest_batch``); a failing job is logged and
the daemon goes on. A message that makes ingest fail with a bug (not a
mail-server or database error, which end the poll to be retried) is tried twice, then
skipped: its raw bytes are kept and the folder's polling mark moves past it, so one bad
message cannot stop the inbox.

SIGTERM/SIGINT set a stop flag; jobs notice it between units of work (between two
batches of a poll, in the outbox's pacing sleep, in reconnection backoff) and the daemon
exits 0 once the running jobs have returned. A thread waiting in IMAP IDLE is not waited
for: no work is in hand there, and the connection ends with the process.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import FrameType
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from foibot.config import WEEKDAYS, Settings
from foibot.errors import FoibotError
from foibot.mail.imap import ImapMailbox
from foibot.mail.mailbox import FetchedMessage, FolderState, Mailbox
from foibot.mail.maildir import MaildirMailbox
from foibot.services import outbox
from foibot.services.clock_check import check_clocks
from foibot.services.digest import send_due_digest
from foibot.services.poll import IngestFailed, open_mailbox, poll_once, save_state
from foibot.store.db import Database, utcnow
from foibot.store.models import RawMessage
from foibot.timezone import UK, local_date

log = logging.getLogger("foibot.daemon")

# How many times a message that makes ingest fail unexpectedly is tried before it is
# skipped (its raw bytes kept).
MESSAGE_ATTEMPTS = 2
# Digest retries after a failed send: 5 min, 10 min, 20 min ... at most every 6 hours.
DIGEST_RETRY_BASE = timedelta(minutes=5)
DIGEST_RETRY_CAP = timedelta(hours=6)
# How long a stopping daemon waits for a poll in progress to reach a message boundary.
STOP_POLL_TIMEOUT_SECONDS = 60.0


class Stopping(Exception):
    """Raised inside a job's wait when the daemon is asked to stop."""


class StoppableClock:
    """The outbox's clock: sleeps end early, with ``Stopping``, when the daemon stops,
    so a paced campaign never holds up a shutdown."""

    def __init__(self, stop: threading.Event) -> None:
        self._stop = stop

    def now(self) -> datetime:
        return utcnow()

    def sleep(self, seconds: float) -> None:
        if self._stop.wait(max(seconds, 0.0)):
            raise Stopping


class _Watched:
    """The daemon's view of a mailbox: a poll ends when the daemon stops, before the
    next message is handed out (messages handed out and not yet filed are simply read
    again next time: nothing is half done), and the message in hand is known, so that
    one that breaks the mailbox's post-processing can be named and skipped."""

    def __init__(self, box: Mailbox, stop: threading.Event) -> None:
        self.box, self._stop = box, stop
        self.current: FetchedMessage | None = None  # handed out and not yet committed

    @property
    def account(self) -> str:
        return self.box.account

    @property
    def folder(self) -> str:
        return self.box.folder

    @property
    def rescanned(self) -> bool:
        return bool(getattr(self.box, "rescanned", False))

    def fetch_new(self, state: FolderState) -> Iterator[FetchedMessage]:
        for fetched in self.box.fetch_new(state):
            if self._stop.is_set():
                raise Stopping
            self.current = fetched
            yield fetched
        self.current = None

    def after_commit(self, key: str) -> None:
        self.box.after_commit(key)
        self.current = None

    def wait_for_mail(self, timeout: float) -> bool:
        return self.box.wait_for_mail(timeout)

    def close(self) -> None:
        self.box.close()


@dataclass
class _Failure:
    attempts: int
    error: str


class Daemon:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        *,
        outbox_interval_seconds: float | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.stop = threading.Event()
        self.outbox_interval = (
            outbox_interval_seconds
            if outbox_interval_seconds is not None
            else settings.daemon.outbox_interval_seconds
        )
        self.worker = f"{socket.gethostname()}:{os.getpid()}"
        self.scheduler = BackgroundScheduler(
            timezone=UTC,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
        )
        self._mailbox: Mailbox | None = None
        self._watcher: threading.Thread | None = None
        # held for the whole of a poll: a stopping daemon takes it to know no poll is
        # half way through a message when the process ends
        self._poll_lock = threading.Lock()
        self._failures: dict[str, _Failure] = {}  # this pass: source -> failed ingests
        self._digest_failures = 0
        self._last_read = 0  # how many messages the last poll read

    # --- jobs --------------------------------------------------------------------

    def _guard(self, name: str, job: Callable[[], object]) -> Callable[[], bool]:
        """The job, logged and contained: True when it ran through."""

        def run() -> bool:
            if self.stop.is_set():
                return False
            try:
                return job() is not False
            except Stopping:
                log.info("%s: stopped between units of work", name)
            except FoibotError as exc:
                log.warning("%s: %s", name, exc)
            except Exception:
                log.exception("%s failed; the daemon carries on", name)
            return False

        return run

    def _sleep(self, seconds: float) -> None:
        """The mailbox adapters' sleep (reconnection backoff, waits without IDLE): ends
        at once, with ``Stopping``, when the daemon stops."""
        if self.stop.wait(max(seconds, 0.0)):
            raise Stopping

    def _open_mailbox(self) -> Mailbox:
        s = self.settings
        if s.maildir is not None:
            return MaildirMailbox(s.maildir, sleep=self._sleep)
        if s.imap_ is not None:
            return ImapMailbox(s.imap_, sleep=self._sleep)
        return open_mailbox(s)  # reports what is missing

    def poll(self) -> bool:
        """One pass over the inbox. False when it ended early (the error is logged)."""
        with self._poll_lock:
            if self.stop.is_set():
                return False
            if self._mailbox is None:
                self._mailbox = self._open_mailbox()
            watched = _Watched(self._mailbox, self.stop)
            self._failures.clear()
            # a message that breaks ingest is retried, then skipped: each round either
            # finishes the pass or gets one message closer to skipping one
            for _round in range(MESSAGE_ATTEMPTS * 10):
                try:
                    report = poll_once(self.db, self.settings, watched)
                except (Stopping, FoibotError):
                    raise
                except IngestFailed as exc:
                    self._message_failed(watched, exc.fetched, exc.cause)
                    continue
                except Exception as exc:
                    fetched = watched.current
                    if fetched is None:
                        raise  # not about one message: the job fails and is logged
                    self._message_failed(watched, fetched, exc)
                    continue
                break
            else:
                log.warning("inbox: too many messages failed in one pass; the rest waits")
                return False
            self._last_read = report.read
            if report.read or report.error:
                log.info("inbox: %s", report.summary())
            if report.error is not None:
                # a broken connection is dropped; the next poll opens a new one
                self._close_mailbox()
                return False
            return True

    def _message_failed(self, box: _Watched, fetched: FetchedMessage, exc: Exception) -> None:
        failure = self._failures.setdefault(fetched.source, _Failure(0, ""))
        failure.attempts += 1
        failure.error = f"{type(exc).__name__}: {exc}"
        if failure.attempts < MESSAGE_ATTEMPTS:
            log.warning(
                "inbox: filing %s failed (%s); trying it again",
                fetched.source,
                failure.error,
                exc_info=exc,
            )
            return
        sha256 = self._keep_raw(fetched.raw)
        if fetched.uid is not None:
            save_state(self.db, box.account, box.folder, fetched.uidvalidity, fetched.uid)
        else:
            box.after_commit(fetched.key)
        del self._failures[fetched.source]
        log.error(
            "inbox: filing %s failed %d times (%s); skipped it. Its raw bytes are stored "
            "(sha256 %s): please report this as a bug",
            fetched.source,
            failure.attempts,
            failure.error,
            sha256,
        )

    def _keep_raw(self, raw: bytes) -> str:
        """The raw bytes of a message that is being skipped, stored if ingest had not
        got that far: nothing read from the mailbox is lost."""
        with self.db.transaction() as session:
            digest = hashlib.sha256(raw).hexdigest()
            if session.get(RawMessage, digest) is None:
                outbox.store_raw(session, raw, utcnow())
            return digest

    def drain(self) -> None:
        report = outbox.drain_outbox(
            self.db,
            self.settings,
            wait_for_retries=False,
            clock=StoppableClock(self.stop),
            listener=self._outbox_event,
        )
        if report.error is not None:
            log.warning("outbox: %s", report.error)
        elif report.stopped == "window" and report.window_opens_at is not None:
            log.debug("outbox: outside the sending window until %s", report.window_opens_at)

    @staticmethod
    def _outbox_event(event: outbox.OutboxEvent) -> None:
        """Each outcome is logged as it happens: a paced campaign takes hours, and a
        daemon killed half way must have said what it did."""
        item = event.item
        if item is None:
            return  # waiting (pacing, backoff)
        what = f"{item.reference or 'message ' + str(item.id)} to {item.to}"
        if event.kind == "sent":
            log.info("outbox: sent %s (%s)", what, item.authority or "-")
        elif event.kind == "failed":
            log.warning("outbox: delivery of %s failed: %s", what, item.detail)
        elif event.kind in ("uncertain", "found_uncertain"):
            log.warning(
                "outbox: %s may or may not have been delivered (uncertain); not resent "
                "automatically: check and run `foibot campaign resolve`",
                what,
            )
        elif event.kind == "recovered":
            log.info("outbox: %s was interrupted before it was complete; queued again", what)
        elif event.kind == "retry":
            log.info("outbox: %s: %s; trying again in %.0fs", what, item.detail, event.seconds or 0)
        elif event.kind == "aborted":
            log.warning("outbox: %s abandoned: another sender took it over", what)

    def clocks(self) -> None:
        notices = check_clocks(self.db, local_date(utcnow()))
        if notices:
            log.info("clocks: %d new notice(s)", len(notices))

    def digest(self) -> None:
        if self.settings.digest_ is None:
            return
        try:
            outcome = send_due_digest(self.db, self.settings)
        except Stopping:
            raise
        except Exception:
            self._retry_digest()
            raise
        self._digest_failures = 0
        if outcome.sent:
            log.info("digest for %s sent to %s", outcome.period, ", ".join(outcome.recipients))
        else:
            log.info("digest for %s not sent: %s", outcome.period, outcome.reason)

    def _retry_digest(self) -> None:
        """A digest that could not be sent is tried again soon, not a week later."""
        self._digest_failures += 1
        delay = min(DIGEST_RETRY_BASE * 2 ** (self._digest_failures - 1), DIGEST_RETRY_CAP)
        if self.stop.is_set():
            return
        self.scheduler.add_job(
            self._guard("digest", self.digest),
            DateTrigger(run_date=datetime.now(UTC) + delay),
            id="digest-retry",
            replace_existing=True,
        )
        log.info("digest: trying again in %d minutes", delay.total_seconds() // 60)

    def _watch_inbox(self) -> None:
        """The inbox thread: poll until a poll finds nothing, then wait for the mailbox
        to announce mail (IMAP IDLE; at most ``poll_interval_minutes`` and ``[daemon]
        idle_recheck_seconds``) and poll again. A poll that fails is retried with
        backoff until the daemon stops."""
        minutes = self.settings.imap_.poll_interval_minutes if self.settings.imap_ else 5
        wait = min(60.0 * minutes, self.settings.daemon.idle_recheck_seconds)
        delay = 1.0
        run_poll = self._guard("inbox", self.poll)
        while not self.stop.is_set():
            if not run_poll():
                if self.stop.wait(delay):
                    break
                delay = min(delay * 2, 300.0)
                continue
            delay = 1.0
            if self._last_read:
                # Mail that arrived during that poll may have been announced in the
                # replies to its own commands, where IDLE never sees it: poll again
                # until a poll finds nothing, then wait.
                continue
            box = self._mailbox
            try:
                if box is not None:
                    log.debug("inbox: waiting for mail (at most %.0fs)", wait)
                    woken = box.wait_for_mail(wait)
                    log.debug(
                        "inbox: %s",
                        "new mail may be there" if woken else "nothing announced; polling anyway",
                    )
            except Stopping:
                break
            except Exception as exc:
                log.warning("inbox: waiting for mail: %s; polling again", exc)
                with self._poll_lock:
                    self._close_mailbox()

    def _close_mailbox(self) -> None:
        box, self._mailbox = self._mailbox, None
        if box is not None:
            try:
                box.close()
            except Exception:
                log.debug("closing the mailbox failed", exc_info=True)

    # --- lifecycle ---------------------------------------------------------------

    def start(self) -> None:
        s = self.settings
        add = self.scheduler.add_job
        now = datetime.now(UTC)
        add(
            self._guard("outbox", self.drain),
            IntervalTrigger(seconds=self.outbox_interval),
            id="outbox",
            next_run_time=now,
        )
        add(
            self._guard("clocks", self.clocks),
            CronTrigger(hour=7, minute=0, timezone=UK),
            id="clocks",
            next_run_time=now,
        )
        if s.digest_ is not None:
            d = s.digest_
            add(
                self._guard("digest", self.digest),
                CronTrigger(
                    day_of_week=WEEKDAYS.index(d.weekday),
                    hour=d.time.hour,
                    minute=d.time.minute,
                    timezone=d.timezone,
                ),
                id="digest",
                next_run_time=now,
            )  # at start-up too: a missed digest goes out
        if s.maildir is not None or (s.imap_ is not None and s.imap_.idle):
            self._watcher = threading.Thread(
                target=self._watch_inbox, name="inbox-watch", daemon=True
            )
            self._watcher.start()
        elif s.imap_ is not None:
            add(
                self._guard("inbox", self.poll),
                IntervalTrigger(minutes=s.imap_.poll_interval_minutes),
                id="inbox",
                next_run_time=now,
            )
        else:
            log.warning("no [imap] section and no [inbox] maildir: the inbox is not polled")
        self.scheduler.start()
        log.info("foibot daemon %s started (database %s)", self.worker, self.db.safe_url)

    def shutdown(self) -> None:
        """Stops the jobs at their next unit-of-work boundary and waits for them."""
        self.stop.set()
        log.info("stopping: waiting for running jobs to finish")
        self.scheduler.shutdown(wait=True)
        # A poll in progress ends at the next message boundary; the inbox thread may
        # also be waiting for mail (IDLE), which holds no work and is left to end
        # with the process rather than waited for.
        if self._poll_lock.acquire(timeout=STOP_POLL_TIMEOUT_SECONDS):
            watcher = self._watcher
            if watcher is None or not watcher.is_alive():
                self._close_mailbox()
        else:
            log.warning("a poll did not finish within %.0fs", STOP_POLL_TIMEOUT_SECONDS)

    def run_forever(self) -> int:
        self._install_signal_handlers()
        self.start()
        while not self.stop.wait(1.0):
            pass
        self.shutdown()
        log.info("stopped")
        return 0

    def _install_signal_handlers(self) -> None:
        def handle(signum: int, _frame: FrameType | None) -> None:
            log.info("received %s", signal.Signals(signum).name)
            self.stop.set()

        signal.signal(signal.SIGTERM, handle)
        signal.signal(signal.SIGINT, handle)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False)


def configure_logging(fmt: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        formatter = logging.Formatter(
            "%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%Y-%m-%d %H:%M:%S"
        )
        formatter.converter = time.gmtime
        handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # alembic's start-up chatter, imapclient's "Connection closed", tzlocal's look-ups and
    # (at debug) every SQL statement are not the daemon's news, nor is APScheduler
    # skipping an outbox run while the previous one is still pacing a campaign
    for chatty in ("alembic", "imapclient", "sqlalchemy", "tzlocal"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
