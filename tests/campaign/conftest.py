"""Fixtures for campaign tests: a recording SMTP server and a configured foibot."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from foibot.config import Settings, load_settings
from foibot.services import authorities as authorities_service
from foibot.store import migrate
from foibot.store.db import Database
from tests.campaign.factories import (
    AuthorityRow,
    councils,
    write_authorities,
    write_campaign,
    write_config,
)
from tests.servers.smtp import SmtpServer, smtp_server

if TYPE_CHECKING:
    from tests.cli_runner import Result


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server


@dataclass
class Setup:
    """A foibot with a config file, a SQLite database and imported councils."""

    tmp: Path
    server: SmtpServer
    database_url: str
    config: Path
    authorities: list[AuthorityRow]

    @property
    def env(self) -> dict[str, str]:
        return {"FOIBOT_CONFIG": str(self.config), "FOIBOT_DATABASE_URL": self.database_url}

    def cli(self, *args: str | Path) -> Result:
        from tests.cli_runner import run_cli

        return run_cli(*args, env=self.env)

    def configure(self, **options: object) -> None:
        smtp_options = options.pop("smtp", {})
        assert isinstance(smtp_options, dict)
        write_config(
            self.config,
            database_url=self.database_url,
            smtp_section=self.server.config(**smtp_options),
            **options,  # type: ignore[arg-type]
        )

    @property
    def settings(self) -> Settings:
        return load_settings(self.config)

    def database(self) -> Database:
        db = Database(self.database_url)
        if not db.has_schema():
            migrate.upgrade(db)
        return db

    def campaign(self, **fields: object) -> Path:
        return write_campaign(self.tmp / "campaign.toml", **fields)

    def create(self, **fields: object) -> Result:
        result = self.cli("campaign", "create", self.campaign(**fields))
        assert result.code == 0, result.err
        return result


def make_setup(tmp: Path, server: SmtpServer, count: int, database_url: str) -> Setup:
    setup = Setup(tmp, server, database_url, tmp / "foibot.toml", councils(count))
    setup.configure()
    csv = write_authorities(tmp / "authorities.csv", setup.authorities)
    db = setup.database()
    authorities_service.import_authorities(db, csv)
    db.dispose()
    return setup


@pytest.fixture
def setup(tmp_path: Path, smtp: SmtpServer) -> Setup:
    return make_setup(tmp_path, smtp, 12, f"sqlite:///{tmp_path / 'foibot.db'}")
