"""A part's header fields read once (``parse._Fields``) give what the standard library's
``Message`` methods they stand in for give: the type, the disposition, the charset, the
first value of a name, every value in order. Checked on parts built from the pieces the
readers depend on (case, parameters, white space, missing and repeated fields, 8-bit
bytes, invalid types)."""

from __future__ import annotations

import email
import email.message

from hypothesis import given, settings
from hypothesis import strategies as st

from foibot.mail import parse

EXAMPLES = settings(max_examples=500, deadline=None)

NAMES = [b"Content-Type", b"content-type", b"CONTENT-TYPE", b"Content-Disposition",
         b"content-disposition", b"Content-Transfer-Encoding", b"Subject", b"X-Other"]  # fmt: skip
VALUES = [b"text/plain", b"TEXT/HTML", b" text/plain ", b"text/plain; charset=utf-8",
          b'text/plain; charset="iso-8859-1"', b"multipart/mixed; boundary=b", b"text",
          b"a/b/c", b"", b";", b"attachment", b"Inline; filename=x.pdf", b"attachment;",
          b"application/pdf; name=\"r\xc3\xa9.pdf\"", b"text/pl\xe9in", b"\xe9/\xe9",
          b"message/rfc822", b"text/plain;\r\n charset=utf-8", b"x\x00/y"]  # fmt: skip


@st.composite
def parts(draw: st.DrawFn) -> email.message.Message:
    fields = draw(st.lists(st.tuples(st.sampled_from(NAMES), st.sampled_from(VALUES)), max_size=6))
    head = b"".join(name + b": " + value + b"\r\n" for name, value in fields)
    return email.message_from_bytes(b"From: a@b.org\r\n" + head + b"\r\nbody\r\n")


@EXAMPLES
@given(parts())
def test_fields_read_as_the_message_methods_read(part: email.message.Message) -> None:
    fields = parse._Fields(part)
    assert [(name, value) for _, name, value in fields.items] == list(part.raw_items())
    assert parse._content_type(part, fields) == parse.content_type_of(part)
    assert parse._disposition(part, fields) == part.get_content_disposition()
    assert parse._charset(part, fields) == parse._read_charset(part)
    for lower in ("content-type", "content-disposition", "subject", "x-missing"):
        first = next((v for n, v in part.raw_items() if n.lower() == lower), None)
        assert fields.first.get(lower) == first


def test_the_default_type_of_a_digest_part_is_kept() -> None:
    raw = (
        b'Content-Type: multipart/digest; boundary="b"\r\n\r\n--b\r\n\r\n'
        b"From: a@b.org\r\n\r\nx\r\n--b--\r\n"
    )
    (inner,) = email.message_from_bytes(raw).get_payload()
    assert parse._content_type(inner, parse._Fields(inner)) == "message/rfc822"
