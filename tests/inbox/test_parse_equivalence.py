"""The parser's faster paths give what the slower ways they replace gave: header values
decoded as before, addresses and charsets the same from their caches; and mail-parser's
defects are reported as mail-parser reported them."""

from __future__ import annotations

import email
from random import Random

from foibot.mail import parse
from foibot.mail.parse import parse_message

SEED = 20200211


class _Str(str):
    """A ``str`` that is not exactly one: ``decode_header_value`` takes its long way."""


def test_header_values_decoded_as_before() -> None:
    # the shortcut for plain ASCII values gives what the full decoding gives
    rng = Random(SEED)
    pieces = ["a", "B", " ", "\t", "\r\n ", "\n\t", "=?", "?=", "\x00", "=?utf-8?q?caf=C3=A9?="]
    pieces += ["<x@y>", ";", "\x0b", "\x1f", "é", "\udce9"]
    for _ in range(3000):
        value = "".join(rng.choice(pieces) for _ in range(rng.randrange(10)))
        assert parse.decode_header_value(value) == parse.decode_header_value(_Str(value))


def test_defects_are_reported_as_mail_parser_reported_them() -> None:
    raw = (
        b"From: Jane <jane@@example.gov.uk>\r\nTo: research@example.org\r\n"
        b"Date: Mon, 32 Feb 2020 10:00:00 +0000\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nHello\r\n"
        b'--b\r\nContent-Type: application/pdf; name="r\xe9ponse.pdf"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n%%%%\r\n"
    )
    defects = parse_message(raw).defects
    assert "address-headers: AddressHeaderDefect: from[0]: invalid-angle-address" in defects
    assert "date-headers: DateHeaderDefect: date[0]: invalid-calendar-date" in defects
    assert any(d.startswith("multipart/mixed: CloseBoundaryNotFoundDefect:") for d in defects)
    assert any(
        d.startswith("mime-headers: MimeHeaderDefect: part 2, content-type[0]: invalid UTF-8")
        for d in defects
    )
    # in mail-parser's order: addresses, dates, parts, MIME headers
    firsts = [
        next(i for i, d in enumerate(defects) if d.startswith(kind))
        for kind in ("address-headers", "date-headers", "multipart/mixed", "mime-headers")
    ]
    assert firsts == sorted(firsts)


def test_a_start_boundary_never_found_is_read_with_its_defects() -> None:
    # mail-parser itself crashed on these (epilogue None): the parser's own defects now
    raw = (
        b"From: a@example.gov.uk\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="never"\r\n\r\nno boundary here\r\n'
    )
    m = parse_message(raw)
    assert m.from_addr == "a@example.gov.uk"
    assert (
        "multipart/mixed: StartBoundaryNotFoundDefect: The claimed start boundary was never "
        "found." in m.defects
    )


def test_addresses_are_the_same_from_the_cache() -> None:
    raw = b'From: "Doe, Jane" <Jane.Doe@Example.gov.uk>\r\nTo: a@b.org, c@d.org\r\n\r\nx'
    first, second = parse_message(raw), parse_message(raw)
    assert (first.from_name, first.from_addr, first.to) == (
        "Doe, Jane",
        "jane.doe@example.gov.uk",
        ("a@b.org", "c@d.org"),
    )
    assert second == first
    long_to = b"To: " + b", ".join(b"r%d@example.org" % i for i in range(200)) + b"\r\n"
    assert len(parse_message(long_to + b"From: a@b.org\r\n\r\nx").to) == 200  # not cached


def test_file_names_in_rfc2231_parameters_are_still_read() -> None:
    raw = (
        b"From: a@example.gov.uk\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
        b"Content-Type: text/plain\r\n\r\nSee attached.\r\n--b\r\n"
        b"Content-Type: application/octet-stream\r\n"
        b"Content-Disposition: attachment; FILENAME*=utf-8''r%C3%A9ponse.bin\r\n\r\n"
        b"data\r\n--b--\r\n"
    )
    (attachment,) = parse_message(raw).attachments
    assert attachment.filename == "réponse.bin"


def test_charsets_are_the_same_from_the_cache() -> None:
    rng = Random(SEED)
    pieces = ["text/plain", "TEXT/HTML", ";", " ", "charset=", "CHARSET=", '"utf-8"', "utf-8"]
    pieces += ["iso-8859-1", "'", '"', "*", "charset*=utf-8''us-ascii", "charset*=''%75tf-8"]
    pieces += ["charset*0=ut", "charset*1=f-8", "name=x", "=", "\t", "\r\n ", "(c)", "é", "\x00"]
    for _ in range(2000):
        value = "".join(rng.choice(pieces) for _ in range(rng.randrange(1, 10)))
        part = email.message_from_bytes(b"Content-Type: " + value.encode() + b"\r\n\r\nx")
        assert parse._charset(part) == parse._read_charset(part), repr(value)
