"""Settings from ``config/*.toml`` and the environment, validated once.

Load order (first that exists wins): ``--config PATH`` > ``$FOIBOT_CONFIG`` >
``./config/foibot.toml``. With none of them, built-in defaults apply (a SQLite file in
the current folder) and the sections that need a mail account report what is missing
when first used. ``$FOIBOT_DATABASE_URL`` overrides ``database_url``. Secrets are only
ever named indirectly (``password_env`` / ``password_file``) and read when used.

Every problem is a ``ConfigError`` naming the file and the key: one line for the user.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from foibot.domain.sending_window import SendingWindow
from foibot.errors import ConfigError

DEFAULT_PATH = Path("config/foibot.toml")
DEFAULT_DATABASE_URL = "sqlite:///foibot.db"
SECURITY_MODES = ("ssl", "starttls", "none")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DEFAULT_CASE_SYSTEM_DOMAINS = ("icasework.com", "infreemation.co.uk", "ecase.co.uk")


@dataclass(frozen=True)
class Secret:
    """A password named by ``*_env`` or ``*_file``; read only when ``reveal()`` is called
    and never shown by ``repr``/``str`` (so it cannot leak into a log line)."""

    key: str  # e.g. "[smtp] password_env"
    where: str  # the config file, for messages
    env: str | None = None
    file: Path | None = None

    def reveal(self) -> str:
        if self.env is not None:
            value = os.environ.get(self.env)
            if value is None:
                raise ConfigError(
                    f"{self.where}: {self.key}: environment variable {self.env} is not set"
                )
            return value
        assert self.file is not None
        try:
            return self.file.read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as exc:
            raise ConfigError(
                f"{self.where}: {self.key}: cannot read {self.file}: {exc.strerror}"
            ) from None

    def __repr__(self) -> str:
        return f"Secret({self.key})"

    __str__ = __repr__


@dataclass(frozen=True)
class SenderSettings:
    name: str
    address: str
    reply_to_plus: bool = False

    def plus_address(self, reference: str) -> str:
        local, _, domain = self.address.partition("@")
        return f"{local}+{reference}@{domain}"


@dataclass(frozen=True)
class ServerSettings:
    """An SMTP or IMAP server. ``security = "none"`` is for local test servers only."""

    host: str
    port: int
    security: str
    username: str | None
    password: Secret | None
    verify_certificate: bool = True
    ca_file: Path | None = None
    timeout: float = 30.0


@dataclass(frozen=True)
class ImapSettings(ServerSettings):
    folder: str = "INBOX"
    idle: bool = True
    poll_interval_minutes: int = 5
    batch_size: int = 100
    mark_flag: str | None = None  # e.g. "$FoibotFiled", set after the message is committed
    move_to: str | None = None  # folder to move committed messages to
    drafts_folder: str = "Drafts"


@dataclass(frozen=True)
class SendingSettings:
    rate_per_minute: float = 6.0
    window: SendingWindow | None = None
    max_attempts: int = 5


@dataclass(frozen=True)
class DigestSettings:
    recipients: tuple[str, ...]
    weekday: str = "monday"
    time: time = time(8, 0)
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/London"))


@dataclass(frozen=True)
class DaemonSettings:
    """``[daemon]``: timings of `foibot run`."""

    outbox_interval_seconds: float = 60.0  # how often the outbox is checked
    # With IMAP IDLE, poll anyway after this long without an announcement: a message
    # delivered in the instant between a poll and the IDLE after it can go unannounced.
    idle_recheck_seconds: float = 300.0


@dataclass(frozen=True)
class Settings:
    source: Path | None  # the file read, or None for built-in defaults
    database_url: str
    storage_dir: Path
    sending: SendingSettings
    case_system_domains: tuple[str, ...]
    sender_: SenderSettings | None = None
    smtp_: ServerSettings | None = None
    imap_: ImapSettings | None = None
    digest_: DigestSettings | None = None
    maildir: Path | None = None  # [inbox] maildir: poll this local Maildir instead of IMAP
    daemon: DaemonSettings = field(default_factory=DaemonSettings)

    @property
    def where(self) -> str:
        return str(self.source) if self.source else "built-in defaults (no config file found)"

    def _need(self, value: Any, section: str) -> Any:
        if value is None:
            raise ConfigError(f"{self.where}: [{section}] section is missing")
        return value

    @property
    def sender(self) -> SenderSettings:
        result: SenderSettings = self._need(self.sender_, "sender")
        return result

    @property
    def smtp(self) -> ServerSettings:
        result: ServerSettings = self._need(self.smtp_, "smtp")
        return result

    @property
    def imap(self) -> ImapSettings:
        result: ImapSettings = self._need(self.imap_, "imap")
        return result

    @property
    def digest(self) -> DigestSettings:
        result: DigestSettings = self._need(self.digest_, "digest")
        return result


def find_config_file(explicit: Path | None) -> Path | None:
    """The config file to read, by the load order; None when there is none at all.
    An explicitly named file (option or environment) must exist."""
    if explicit is not None:
        if not explicit.is_file():
            raise ConfigError(f"{explicit}: config file not found (given with --config)")
        return explicit
    from_env = os.environ.get("FOIBOT_CONFIG")
    if from_env:
        path = Path(from_env)
        if not path.is_file():
            raise ConfigError(f"{path}: config file not found (given in FOIBOT_CONFIG)")
        return path
    return DEFAULT_PATH if DEFAULT_PATH.is_file() else None


def load_settings(explicit: Path | None = None) -> Settings:
    path = find_config_file(explicit)
    data: dict[str, Any] = {}
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read: {exc}") from None
    return parse_settings(data, path)


def parse_settings(data: dict[str, Any], path: Path | None) -> Settings:
    where = str(path) if path else "built-in defaults"
    top = _Table(data, "", where)
    base = path.parent.parent if path is not None and path.parent.name == "config" else Path()
    database_url = os.environ.get("FOIBOT_DATABASE_URL") or top.string(
        "database_url", DEFAULT_DATABASE_URL
    )
    storage = Path(top.string("storage_dir", "data"))
    storage_dir = storage if storage.is_absolute() else base / storage
    sending = _sending(top.table("sending"))
    inbox = top.table("inbox")
    domains = inbox.string_list("case_system_domains", list(DEFAULT_CASE_SYSTEM_DOMAINS))
    maildir_text = inbox.string("maildir")
    maildir = Path(maildir_text).expanduser() if maildir_text else None
    if maildir is not None and not maildir.is_absolute():
        maildir = base / maildir
    top.reject_unknown(
        {
            "database_url",
            "storage_dir",
            "sender",
            "smtp",
            "imap",
            "sending",
            "digest",
            "inbox",
            "daemon",
        }
    )
    return Settings(
        source=path,
        database_url=database_url,
        storage_dir=storage_dir,
        sending=sending,
        case_system_domains=tuple(d.lower() for d in domains),
        sender_=_sender(top.table("sender")) if "sender" in data else None,
        smtp_=_smtp(top.table("smtp")) if "smtp" in data else None,
        imap_=_imap(top.table("imap")) if "imap" in data else None,
        digest_=_digest(top.table("digest")) if "digest" in data else None,
        maildir=maildir,
        daemon=_daemon(top.table("daemon")),
    )


class _Table:
    """Typed access to one TOML table, with errors that name the file and the key."""

    def __init__(self, data: dict[str, Any], section: str, where: str) -> None:
        self.data, self.section, self.where = data, section, where

    def fail(self, key: str, problem: str) -> ConfigError:
        label = f"[{self.section}] {key}" if self.section else key
        return ConfigError(f"{self.where}: {label}: {problem}")

    def table(self, key: str) -> _Table:
        value = self.data.get(key, {})
        if not isinstance(value, dict):
            raise self.fail(key, "must be a table ([" + key + "])")
        return _Table(value, key, self.where)

    def _get(self, key: str, default: Any, kind: type | tuple[type, ...], what: str) -> Any:
        if key not in self.data:
            if default is _REQUIRED:
                raise self.fail(key, "is required but missing")
            return default
        value = self.data[key]
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            raise self.fail(key, f"must be {what}, not {value!r}")
        return value

    def string(self, key: str, default: Any = None) -> Any:
        value = self._get(key, default, str, "a string")
        if isinstance(value, str) and not value.strip():
            raise self.fail(key, "must not be empty")
        return value

    def required(self, key: str) -> str:
        value: str = self.string(key, _REQUIRED)
        return value

    def integer(self, key: str, default: Any, low: int, high: int) -> Any:
        value = self._get(key, default, int, "a whole number")
        if value is not None and not low <= value <= high:
            raise self.fail(key, f"must be between {low} and {high}, not {value}")
        return value

    def number(self, key: str, default: float, low: float) -> float:
        value = self._get(key, default, (int, float), "a number")
        if value < low:
            raise self.fail(key, f"must be at least {low}, not {value}")
        return float(value)

    def boolean(self, key: str, default: bool) -> bool:
        value: bool = self._get(key, default, bool, "true or false")
        return value

    def choice(self, key: str, default: Any, choices: tuple[str, ...]) -> str:
        value = self.string(key, default)
        if value not in choices:
            raise self.fail(key, f"must be one of {', '.join(choices)}, not {value!r}")
        assert isinstance(value, str)
        return value

    def string_list(self, key: str, default: list[str]) -> list[str]:
        value = self._get(key, default, list, "a list of strings")
        if not all(isinstance(v, str) and v.strip() for v in value):
            raise self.fail(key, "must be a list of non-empty strings")
        return list(value)

    def secret(self, stem: str) -> Secret | None:
        env_key, file_key = f"{stem}_env", f"{stem}_file"
        if stem in self.data:
            raise self.fail(
                stem, f"secrets are not written in config files; use {env_key} or {file_key}"
            )
        env, file = self.string(env_key), self.string(file_key)
        if env and file:
            raise self.fail(env_key, f"give {env_key} or {file_key}, not both")
        label = f"[{self.section}] {env_key if env else file_key}"
        if env:
            return Secret(label, self.where, env=env)
        if file:
            return Secret(label, self.where, file=Path(file))
        return None

    def reject_unknown(self, known: set[str]) -> None:
        for key in self.data:
            if key not in known:
                raise self.fail(key, "unknown key (misspelt?)")


_REQUIRED: Any = object()


def _looks_like_email(value: str) -> bool:
    local, at, domain = value.rpartition("@")
    return bool(at and local and "." in domain and " " not in value)


def _sender(t: _Table) -> SenderSettings:
    address = t.required("address")
    if not _looks_like_email(address):
        raise t.fail("address", f"is not an email address: {address!r}")
    result = SenderSettings(
        name=t.required("name"),
        address=address,
        reply_to_plus=t.boolean("reply_to_plus", False),
    )
    t.reject_unknown({"name", "address", "reply_to_plus"})
    return result


_SERVER_KEYS = {
    "host",
    "port",
    "security",
    "username",
    "password_env",
    "password_file",
    "verify_certificate",
    "ca_file",
    "timeout",
}


def _server_fields(t: _Table, default_port: int, default_security: str) -> dict[str, Any]:
    ca_file = t.string("ca_file")
    return {
        "host": t.required("host"),
        "port": t.integer("port", default_port, 1, 65535),
        "security": t.choice("security", default_security, SECURITY_MODES),
        "username": t.string("username"),
        "password": t.secret("password"),
        "verify_certificate": t.boolean("verify_certificate", True),
        "ca_file": Path(ca_file) if ca_file else None,
        "timeout": t.number("timeout", 30.0, 1.0),
    }


def _smtp(t: _Table) -> ServerSettings:
    result = ServerSettings(**_server_fields(t, 587, "starttls"))
    t.reject_unknown(_SERVER_KEYS)
    return result


def _imap(t: _Table) -> ImapSettings:
    result = ImapSettings(
        **_server_fields(t, 993, "ssl"),
        folder=t.string("folder", "INBOX"),
        idle=t.boolean("idle", True),
        poll_interval_minutes=t.integer("poll_interval_minutes", 5, 1, 1440),
        batch_size=t.integer("batch_size", 100, 1, 10000),
        mark_flag=t.string("mark_flag"),
        move_to=t.string("move_to"),
        drafts_folder=t.string("drafts_folder", "Drafts"),
    )
    t.reject_unknown(
        _SERVER_KEYS
        | {
            "folder",
            "idle",
            "poll_interval_minutes",
            "batch_size",
            "mark_flag",
            "move_to",
            "drafts_folder",
        }
    )
    return result


def _sending(t: _Table) -> SendingSettings:
    window_text = t.string("window")
    try:
        window = SendingWindow.parse(window_text) if window_text else None
    except ValueError as exc:
        raise t.fail("window", str(exc)) from None
    result = SendingSettings(
        rate_per_minute=t.number("rate_per_minute", 6.0, 0.0),
        window=window,
        max_attempts=t.integer("max_attempts", 5, 1, 100),
    )
    t.reject_unknown({"rate_per_minute", "window", "max_attempts"})
    return result


def _digest(t: _Table) -> DigestSettings:
    recipients = t.string_list("recipients", [])
    if not recipients:
        raise t.fail("recipients", "is required: a list of at least one address")
    for address in recipients:
        if not _looks_like_email(address):
            raise t.fail("recipients", f"is not an email address: {address!r}")
    weekday = t.string("weekday", "monday").lower()
    if weekday not in WEEKDAYS:
        raise t.fail("weekday", f"must be a day of the week, not {weekday!r}")
    when = t.string("time", "08:00")
    try:
        at = time.fromisoformat(when)
    except ValueError:
        raise t.fail("time", f'must be a time like "08:00", not {when!r}') from None
    zone = t.string("timezone", "Europe/London")
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise t.fail("timezone", f"unknown time zone {zone!r}") from None
    t.reject_unknown({"recipients", "weekday", "time", "timezone"})
    return DigestSettings(tuple(recipients), weekday, at, tz)


def _daemon(t: _Table) -> DaemonSettings:
    result = DaemonSettings(
        outbox_interval_seconds=t.number("outbox_interval_seconds", 60.0, 1.0),
        idle_recheck_seconds=t.number("idle_recheck_seconds", 300.0, 1.0),
    )
    t.reject_unknown({"outbox_interval_seconds", "idle_recheck_seconds"})
    return result
