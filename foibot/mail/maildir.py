"""The Maildir mailbox adapter, for servers where mail is delivered to a local folder.

The Maildir convention (https://cr.yp.to/proto/maildir.html) already says what has been
seen: a delivery agent puts each message in ``new/``; a reader that has taken notice of
it renames it into ``cur/`` with an info suffix (``:2,``). foibot is that reader: a poll
reads the messages in ``new/`` and, only once one is committed, ``after_commit`` renames
it into ``cur/``. A crash in between leaves it in ``new/``, so it is read again and
de-duplicated. Messages a mail client has already moved to ``cur/`` are not polled;
``foibot inbox import`` reads a whole Maildir for a backfill.
"""

from __future__ import annotations

import mailbox
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from foibot.errors import ConfigError
from foibot.mail.mailbox import (
    FetchedMessage,
    FolderState,
    MailboxUnreachableError,
    describe_exception,
)

WAIT_STEP_SECONDS = 1.0


class MaildirMailbox:
    def __init__(self, path: Path, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self.path = Path(path).expanduser()
        self._sleep = sleep
        self._checked = False

    @property
    def account(self) -> str:
        return f"maildir:{self.path}"

    @property
    def folder(self) -> str:
        return "new"

    def _check(self) -> None:
        if self._checked:
            return
        try:
            # the stdlib's own check of the layout (new/, cur/, tmp/), without creating it
            mailbox.Maildir(self.path, factory=None, create=False)
        except mailbox.NoSuchMailboxError:
            raise ConfigError(f"[inbox] maildir: {self.path} does not exist") from None
        missing = [sub for sub in ("new", "cur", "tmp") if not (self.path / sub).is_dir()]
        if missing:
            raise ConfigError(
                f"[inbox] maildir: {self.path} is not a Maildir ({', '.join(missing)} missing)"
            )
        self._checked = True

    def _new_names(self) -> list[str]:
        try:
            names = [n for n in os.listdir(self.path / "new") if not n.startswith(".")]
        except OSError as exc:
            raise MailboxUnreachableError(
                f"maildir {self.path}: cannot list new/: {describe_exception(exc)}"
            ) from None
        # unique names start with the delivery time in seconds: roughly oldest first
        return sorted(names, key=_delivery_order)

    def fetch_new(self, state: FolderState) -> Iterator[FetchedMessage]:
        """Every message in new/ (``state`` is not needed: new/ itself is the state)."""
        self._check()
        for name in self._new_names():
            path = self.path / "new" / name
            try:
                raw = path.read_bytes()
            except FileNotFoundError:
                continue  # another reader took it meanwhile
            except OSError as exc:
                raise MailboxUnreachableError(
                    f"maildir {self.path}: cannot read new/{name}: {describe_exception(exc)}"
                ) from None
            yield FetchedMessage(key=name, raw=raw, source=f"maildir:{path}")

    def after_commit(self, key: str) -> None:
        """Move the committed message from new/ to cur/ (marked as "seen by a reader",
        not \\Seen: the user has not read it)."""
        if "/" in key or key.startswith("."):
            raise ValueError(f"not a Maildir file name: {key!r}")
        base = key.split(":", 1)[0]
        source = self.path / "new" / key
        target = self.path / "cur" / f"{base}:2,"
        try:
            os.rename(source, target)
        except FileNotFoundError:
            return  # moved already (by us before a crash, or by another reader)
        except OSError as exc:
            raise MailboxUnreachableError(
                f"maildir {self.path}: cannot move new/{key} to cur/: {describe_exception(exc)}"
            ) from None

    def wait_for_mail(self, timeout: float) -> bool:
        """Look at new/ every second until something is there or ``timeout`` passes."""
        deadline = time.monotonic() + timeout
        while True:
            if self._new_names():
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            self._sleep(min(WAIT_STEP_SECONDS, remaining))

    def close(self) -> None:
        self._checked = False

    def __enter__(self) -> MaildirMailbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _delivery_order(name: str) -> tuple[int, str]:
    head = name.split(".", 1)[0]
    return (int(head) if head.isdigit() else 0, name)
