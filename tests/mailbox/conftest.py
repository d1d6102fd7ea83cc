"""Fixtures for the mailbox tests: a shared Dovecot, and helpers to point foibot at it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from foibot.config import ImapSettings, Secret
from tests.servers.dovecot import PASSWORD, DovecotServer, dovecot_server


@pytest.fixture(scope="session")
def dovecot() -> Iterator[DovecotServer]:
    """One Dovecot for the session; tests that stop it use ``own_dovecot``."""
    with dovecot_server() as server:
        yield server


@pytest.fixture
def own_dovecot() -> Iterator[DovecotServer]:
    """A Dovecot of the test's own, which it may stop and restart."""
    with dovecot_server() as server:
        yield server


@pytest.fixture
def password_file(tmp_path: Path) -> Path:
    path = tmp_path / "imap-password"
    path.write_text(PASSWORD + "\n", encoding="utf-8")
    return path


ImapSettingsFactory = Callable[..., ImapSettings]


@pytest.fixture
def imap_settings(password_file: Path) -> ImapSettingsFactory:
    """``imap_settings(server, user, **overrides)``: settings for a plain loopback port."""

    def make(server: DovecotServer, user: str, **overrides: Any) -> ImapSettings:
        base = ImapSettings(
            host="127.0.0.1",
            port=server.port,
            security="none",
            username=user,
            password=Secret("[imap] password_file", "test", file=password_file),
            timeout=10.0,
            batch_size=3,
        )
        return replace(base, **overrides)

    return make
