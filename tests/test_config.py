"""Config loading: load order, the contract keys, secrets, and one-line errors."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from foibot.config import load_settings
from foibot.errors import ConfigError

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "config" / "foibot.example.toml"


def write(tmp_path: Path, text: str, name: str = "foibot.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("FOIBOT_CONFIG", raising=False)
    monkeypatch.delenv("FOIBOT_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)


def test_example_config_loads_with_every_contract_key() -> None:
    s = load_settings(EXAMPLE)
    assert s.database_url == "sqlite:///foibot.db"
    assert (s.sender.name, s.sender.address, s.sender.reply_to_plus) == (
        "A. Researcher",
        "research@example.org",
        False,
    )
    assert (s.smtp.host, s.smtp.port, s.smtp.security) == ("smtp.example.org", 587, "starttls")
    assert s.smtp.username == "research@example.org"
    assert s.smtp.password is not None and s.smtp.password.env == "FOIBOT_SMTP_PASSWORD"
    assert (s.imap.host, s.imap.port, s.imap.security, s.imap.folder) == (
        "imap.example.org",
        993,
        "ssl",
        "INBOX",
    )
    assert s.sending.rate_per_minute == 6
    assert s.sending.window is not None and s.sending.window.weekdays == frozenset(range(5))
    assert s.digest.recipients == ("research@example.org",)
    assert (s.digest.weekday, s.digest.time) == ("monday", time(8, 0))


def test_load_order_option_then_env_then_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "config").mkdir()
    write(tmp_path / "config", 'database_url = "sqlite:///default.db"')
    env_file = write(tmp_path, 'database_url = "sqlite:///env.db"', "env.toml")
    opt_file = write(tmp_path, 'database_url = "sqlite:///opt.db"', "opt.toml")
    assert load_settings().database_url == "sqlite:///default.db"
    monkeypatch.setenv("FOIBOT_CONFIG", str(env_file))
    assert load_settings().database_url == "sqlite:///env.db"
    assert load_settings(opt_file).database_url == "sqlite:///opt.db"
    monkeypatch.setenv("FOIBOT_DATABASE_URL", "sqlite:///override.db")
    assert load_settings(opt_file).database_url == "sqlite:///override.db"


def test_no_config_file_gives_defaults_and_clear_errors_for_missing_sections() -> None:
    s = load_settings()
    assert s.source is None and s.database_url == "sqlite:///foibot.db"
    with pytest.raises(ConfigError, match=r"\[smtp\] section is missing"):
        _ = s.smtp


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[smtp]\nport = 587", r"\[smtp\] host: is required but missing"),
        ('[smtp]\nhost = "h"\nport = "587"', r"\[smtp\] port: must be a whole number"),
        ('[smtp]\nhost = "h"\nport = 70000', r"\[smtp\] port: must be between 1 and 65535"),
        ('[smtp]\nhost = "h"\nsecurity = "tls"', r"\[smtp\] security: must be one of ssl"),
        ('[smtp]\nhost = "h"\npassword = "hunter2"', r"\[smtp\] password: secrets are not"),
        ('[smtp]\nhost = "h"\npassword_env = "A"\npassword_file = "/x"', r"not both"),
        ('[sender]\nname = "A"\naddress = "nobody"', r"\[sender\] address: is not an email"),
        ('[sending]\nwindow = "Mon-Fri 18:00-08:00"', r"\[sending\] window: .*ends before"),
        ('[sending]\nwindow = "Mon-Fri 08:00-18:00 Mars/Base"', r"unknown time zone"),
        ("[sending]\nrate_per_minute = -1", r"\[sending\] rate_per_minute: must be at least 0"),
        ("[digest]\nrecipients = []", r"\[digest\] recipients: is required"),
        ('[digest]\nrecipients = ["a@b.org"]\nweekday = "funday"', r"\[digest\] weekday"),
        ('[digest]\nrecipients = ["a@b.org"]\ntime = "8am"', r"\[digest\] time"),
        ("databse_url = 'x'", r"databse_url: unknown key"),
        ("database_url = [", r"not valid TOML"),
        ("database_url = 5", r"database_url: must be a string"),
    ],
)
def test_bad_values_name_the_key_and_the_file(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match=message) as info:
        load_settings(path)
    assert str(info.value).startswith(str(path) + ":")
    assert "\n" not in str(info.value)


def test_missing_explicit_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(tmp_path / "nope.toml")


def test_secrets_are_read_when_used_and_never_printed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret_file = tmp_path / "pw"
    secret_file.write_text("s3cret-file\n")
    path = write(
        tmp_path,
        f'[smtp]\nhost = "h"\npassword_env = "PW"\n'
        f'[imap]\nhost = "h"\npassword_file = "{secret_file}"\n',
    )
    s = load_settings(path)
    assert s.smtp.password is not None and s.imap.password is not None
    with pytest.raises(ConfigError, match=r"\[smtp\] password_env: environment variable PW"):
        s.smtp.password.reveal()
    monkeypatch.setenv("PW", "s3cret-env")
    assert s.smtp.password.reveal() == "s3cret-env"
    assert s.imap.password.reveal() == "s3cret-file"
    assert "s3cret" not in repr(s) and "s3cret" not in str(s.smtp)
