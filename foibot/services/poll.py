"""One pass over the inbox: read what is new, store and file it, then tidy the mailbox.

New messages are taken in batches (``foibot.services.ingest.batch_full``); for each
batch, in this order (DESIGN.md §3, "raw first"):

1. ``ingest_batch`` commits the raw bytes of all of them, then parses, classifies and
   files them, and commits (a message seen before is recognised and stored once);
2. the mailbox post-processes them (IMAP flag or move, Maildir new/ -> cur/);
3. the folder's polling state (UIDVALIDITY, last UID) moves past them, committed.

A crash or a lost connection between any two steps only means the messages are read
again on the next poll, where ingest recognises them as duplicates: nothing is lost,
nothing is stored twice. A crash mid-pass re-reads at most one batch.

Errors of the outside world (mail server, database) end the pass early: what was done
is kept and reported (messages fetched before the mailbox failed are filed), and
``PollReport.error`` holds the one-line error.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from foibot.config import Settings
from foibot.errors import ConfigError, FoibotError
from foibot.mail.imap import ImapMailbox
from foibot.mail.mailbox import FetchedMessage, FolderState, Mailbox
from foibot.mail.maildir import MaildirMailbox
from foibot.services.ingest import IngestOutcome, batch_full, ingest_batch
from foibot.store.db import Database, utcnow
from foibot.store.models import MailboxState

log = logging.getLogger(__name__)


@dataclass
class PollReport:
    account: str
    folder: str
    outcomes: list[IngestOutcome] = field(default_factory=list)
    rescanned: bool = False  # the folder's UIDVALIDITY changed, so all of it was read again
    error: FoibotError | None = None  # why the pass ended early, if it did

    @property
    def read(self) -> int:
        return len(self.outcomes)

    @property
    def duplicates(self) -> int:
        return sum(1 for o in self.outcomes if o.duplicate)

    @property
    def new(self) -> int:
        return self.read - self.duplicates

    @property
    def filed(self) -> int:
        return sum(1 for o in self.outcomes if not o.duplicate and o.request is not None)

    @property
    def unmatched(self) -> int:
        return sum(
            1
            for o in self.outcomes
            if not o.duplicate and o.request is None and o.parse_error is None
        )

    @property
    def parse_errors(self) -> int:
        return sum(1 for o in self.outcomes if not o.duplicate and o.parse_error is not None)

    def summary(self) -> str:
        where = (
            self.account
            if self.account.startswith("maildir:")
            else f"{self.account} folder {self.folder}"
        )
        text = (
            f"Polled {where}: read {self.read} message(s): {self.new} new, "
            f"{self.duplicates} already stored. Of the new: {self.filed} filed, "
            f"{self.unmatched} unmatched, {self.parse_errors} could not be parsed."
        )
        if self.rescanned:
            text += " The folder's UIDVALIDITY changed, so it was read again in full."
        return text

    def as_json(self) -> list[dict[str, object]]:
        return [o.as_json() for o in self.outcomes]


def open_mailbox(settings: Settings) -> Mailbox:
    """The configured mailbox: ``[inbox] maildir`` when set, else ``[imap]``."""
    if settings.maildir is not None:
        return MaildirMailbox(settings.maildir)
    if settings.imap_ is not None:
        return ImapMailbox(settings.imap_)
    raise ConfigError(
        f"{settings.where}: no mailbox to poll: add an [imap] section, "
        "or maildir = PATH under [inbox]"
    )


def poll_once(db: Database, settings: Settings, mailbox: Mailbox | None = None) -> PollReport:
    """Read every new message once. A mailbox passed in is left open (a daemon keeps
    one connection for polling and IDLE); one opened here is closed at the end."""
    box = mailbox if mailbox is not None else open_mailbox(settings)
    report = PollReport(box.account, box.folder)
    try:
        state = load_state(db, box.account, box.folder)
        batch: list[FetchedMessage] = []
        failed: FoibotError | None = None
        try:
            for fetched in box.fetch_new(state):
                batch.append(fetched)
                if batch_full(len(batch), sum(len(f.raw) for f in batch)):
                    full, batch = batch, []
                    _ingest(db, settings, box, full, report)
        except FoibotError as exc:
            failed = exc
        if batch:  # what arrived before the mailbox failed is filed all the same
            _ingest(db, settings, box, batch, report)
        if failed is not None:
            raise failed
    except FoibotError as exc:
        log.info("poll of %s stopped early: %s", box.account, exc)
        report.error = exc
    finally:
        report.rescanned = bool(getattr(box, "rescanned", False))
        if mailbox is None:
            box.close()
    return report


class IngestFailed(Exception):
    """Filing one message failed with something other than the mail server's or the
    database's error (a bug): ``fetched`` is that message, so that a caller (the
    daemon) can try it again or skip it. Everything before it is committed."""

    def __init__(self, fetched: FetchedMessage, cause: Exception) -> None:
        super().__init__(f"{type(cause).__name__}: {cause}")
        self.fetched, self.cause = fetched, cause


def _ingest(
    db: Database,
    settings: Settings,
    box: Mailbox,
    batch: list[FetchedMessage],
    report: PollReport,
) -> None:
    try:
        outcomes = ingest_batch(db, settings, [(f.raw, f.source) for f in batch])
    except FoibotError:
        raise
    except Exception as exc:
        if len(batch) == 1:
            raise IngestFailed(batch[0], exc) from exc
        # Which message is it? Each on its own: those before it are filed and
        # committed, the exception names it.
        for fetched in batch:
            _ingest(db, settings, box, [fetched], report)
        return
    report.outcomes.extend(outcomes)
    for fetched in batch:
        box.after_commit(fetched.key)
    uids = [f for f in batch if f.uid is not None]
    if uids:
        last = uids[-1]
        save_state(db, box.account, box.folder, last.uidvalidity, max(f.uid or 0 for f in uids))


def load_state(db: Database, account: str, folder: str) -> FolderState:
    with db.transaction() as session:
        row = session.scalars(
            select(MailboxState).where(
                MailboxState.account == account, MailboxState.folder == folder
            )
        ).one_or_none()
        if row is None:
            return FolderState()
        return FolderState(uidvalidity=row.uidvalidity, last_uid=row.last_uid)


def save_state(
    db: Database, account: str, folder: str, uidvalidity: int | None, last_uid: int
) -> None:
    """Record that everything up to ``last_uid`` is committed. Under the same
    UIDVALIDITY the mark only moves forward (two daemons polling one mailbox cannot
    move it back); a new UIDVALIDITY replaces it."""
    for attempt in range(2):
        try:
            with db.transaction() as session:
                row = session.scalars(
                    select(MailboxState)
                    .where(MailboxState.account == account, MailboxState.folder == folder)
                    .with_for_update()
                ).one_or_none()
                if row is None:
                    session.add(
                        MailboxState(
                            account=account,
                            folder=folder,
                            uidvalidity=uidvalidity,
                            last_uid=last_uid,
                            updated_at=utcnow(),
                        )
                    )
                elif row.uidvalidity != uidvalidity:
                    row.uidvalidity, row.last_uid, row.updated_at = uidvalidity, last_uid, utcnow()
                elif last_uid > row.last_uid:
                    row.last_uid, row.updated_at = last_uid, utcnow()
            return
        except IntegrityError:
            if attempt:  # the row was inserted concurrently twice over: give up loudly
                raise
