"""The SMTP adapter on its own: TLS with certificate checks, dot-stuffing, composing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from uuid import UUID

import pytest

from foibot.config import ServerSettings
from foibot.mail.compose import compose, new_message_id, restamp_date
from foibot.mail.smtp import SmtpTlsError, SmtpTransport, dot_stuffed
from tests.servers import require
from tests.servers.smtp import SmtpServer, self_signed_certificate, smtp_server

REF = "FB-7K3M9Q5"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    made = self_signed_certificate(tmp_path_factory.mktemp("tls"))
    require(made is not None, "the openssl command is not installed")
    assert made is not None
    return made


def settings(server: SmtpServer, security: str, **extra: object) -> ServerSettings:
    return ServerSettings(
        host="127.0.0.1",
        port=server.port,
        security=security,
        username=None,
        password=None,
        timeout=10,
        **extra,  # type: ignore[arg-type]
    )


def letter(body: str = "Dear Barnet,\n\nHow much?\n") -> bytes:
    return compose(
        from_name="A. Researcher",
        from_addr="research@example.org",
        to_name="London Borough of Barnet",
        to_addr="foi@barnet.gov.uk",
        subject=f"FOI request [{REF}]",
        body=body,
        date=datetime(2024, 6, 4, 9, 0, tzinfo=UTC),
        message_id=new_message_id(REF, "research@example.org"),
    ).raw


@pytest.fixture
def starttls_server(certificate: tuple[Path, Path]) -> Iterator[SmtpServer]:
    with smtp_server(tls_cert=certificate) as server:
        yield server


@pytest.mark.parametrize("implicit", [False, True], ids=["starttls", "ssl"])
def test_tls_checks_the_certificate(certificate: tuple[Path, Path], implicit: bool) -> None:
    security = "ssl" if implicit else "starttls"
    with smtp_server(tls_cert=certificate, implicit_tls=implicit) as server:
        # a self-signed certificate is refused by default ...
        with pytest.raises(SmtpTlsError) as info, SmtpTransport(settings(server, security)) as t:
            t.send("research@example.org", ["foi@barnet.gov.uk"], letter())
        assert "certificate verification failed" in str(info.value)
        assert "ca_file" in str(info.value)
        assert server.messages == []
        # ... trusted with ca_file ...
        trusted = settings(server, security, ca_file=certificate[0])
        with SmtpTransport(trusted) as t:
            t.send("research@example.org", ["foi@barnet.gov.uk"], letter())
        # ... or accepted unchecked only when the config says so
        unchecked = settings(server, security, verify_certificate=False)
        with SmtpTransport(unchecked) as t:
            t.send("research@example.org", ["foi@barnet.gov.uk"], letter())
        assert len(server.messages) == 2


def test_starttls_required_but_not_offered() -> None:
    with smtp_server() as plain, pytest.raises(SmtpTlsError, match="does not offer STARTTLS"):
        SmtpTransport(settings(plain, "starttls")).connect()


def test_lines_starting_with_a_dot_arrive_intact(smtp: SmtpServer) -> None:
    body = "Dear Barnet,\n.\n..two dots\n.one dot\nend\n"
    with SmtpTransport(settings(smtp, "none")) as t:
        accepted = t.send("research@example.org", ["foi@barnet.gov.uk"], letter(body))
        assert accepted.code == 250 and accepted.reply.startswith("2.0.0 Ok")
        t.send(
            "research@example.org", ["foi@barnet.gov.uk"], letter("second on the same connection\n")
        )
    assert smtp.messages[0].body == body
    assert smtp.recorder.sessions == 1  # one connection for both
    assert dot_stuffed(b"a\n.b\r\n..c") == b"a\r\n..b\r\n...c\r\n"


def test_compose_headers_and_message_id() -> None:
    fixed = UUID("12345678123456781234567812345678")
    assert new_message_id(REF, "Research@Example.ORG", fixed) == (
        f"12345678123456781234567812345678.{REF}@example.org"
    )
    mail = compose(
        from_name="A. Researcher",
        from_addr="research@example.org",
        to_name="Conwy County Borough Council",
        to_addr="foi@conwy.gov.uk",
        subject="Cais Rhyddid Gwybodaeth – FOI request [FB-7K3M9Q5]",
        body="Annwyl Gyngor,\n\nCost in £, 2023–24?\n",
        date=datetime(2024, 6, 4, 9, 0, tzinfo=UTC),
        message_id="abc.FB-7K3M9Q5@example.org",
        reply_to="research+FB-7K3M9Q5@example.org",
        in_reply_to="their-id@conwy.gov.uk",
        references=("their-id@conwy.gov.uk",),
    )
    raw = mail.raw
    assert raw.isascii() and b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
    head = raw.split(b"\r\n\r\n")[0].decode()
    assert 'From: "A. Researcher" <research@example.org>' in head
    assert "Reply-To: research+FB-7K3M9Q5@example.org" in head
    assert "Message-ID: <abc.FB-7K3M9Q5@example.org>" in head
    assert "In-Reply-To: <their-id@conwy.gov.uk>" in head
    assert "Content-Transfer-Encoding: quoted-printable" in head
    plain = compose(
        from_name="A",
        from_addr="a@example.org",
        to_name=None,
        to_addr="b@example.org",
        subject="s",
        body="plain ASCII, " + "long line " * 30,
        date=datetime(2024, 6, 4, 9, 0, tzinfo=UTC),
        message_id="x@example.org",
    )
    assert b"Content-Transfer-Encoding: 7bit" in plain.raw


def test_restamp_date_changes_only_the_date() -> None:
    raw = letter()
    later = datetime(2024, 6, 11, 14, 30, tzinfo=UTC)
    stamped = restamp_date(raw, later)
    assert (
        stamped.replace(b"Tue, 11 Jun 2024 14:30:00 +0000", b"Tue, 04 Jun 2024 09:00:00 +0000")
        == raw
    )
    date_line = next(line for line in stamped.split(b"\r\n") if line.startswith(b"Date:"))
    assert parsedate_to_datetime(date_line[6:].decode()) == later
