"""The parser's fast paths give what the straightforward ways they stand in for give: a
message of one part read head first is the message the standard library parses; a
plain Date header is the date mail-parser reads, with no defect; ``clean`` is the
regex-based cleaning it replaced. Checked on input built from the pieces the fast
paths depend on (line ends, continuation lines, 8-bit bytes, container types, dates at
the edges of the calendar, NULs and surrogates)."""

from __future__ import annotations

import contextlib
import email
import email.message
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from mailparser.dates import parse_mail_date

from foibot.mail import parse

EXAMPLES = settings(max_examples=500, deadline=None)

# ---------------------------------------------------------------- messages

PLAIN_LINES = [
    b"From: FOI Team <foi@council.gov.uk>", b"To: research@example.org", b"Subject: RE: x",
    b"Date: Wed, 12 Feb 2020 09:00:00 +0000", b"Message-ID: <a@b>", b"X-Empty:", b"X:y",
    b"Received: from a", b" by b", b"\tfor c", b" ", b"Content-Type: text/plain",
    b'Content-Type: text/html; charset="utf-8"', b"Content-Type: multipart/mixed; boundary=b",
    b"Content-Type: message/rfc822", b"Content-Type: message/delivery-status",
    b"Content-Type: multipart/report; report-type=delivery-status; boundary=b",
    b"Content-Type: text", b"Content-Transfer-Encoding: quoted-printable",
    b"Subject: =?utf-8?q?caf=C3=A9?=", b"X-Long: " + b"v" * 300,
]  # fmt: skip
ODD_LINES = [
    b"Subject: caf\xc3\xa9", b"Subject: \xe9", b"From someone@x Mon Jan 1 00:00:00 2020",
    b"From x: y", b":no name", b"not a header", b"Bad Name: v", b"X-Ctl: a\x01b", b"X-Del: \x7f",
    b"X-Nul: \x00", b"X-Cr: a\rb", b"--b", b"--b--", b"",
]  # fmt: skip
BODY_LINES = [b"", b"Dear A.", b"--b", b"--b--", b"Content-Type: text/plain", b"=E9t=C3=A9",
              b"\xe9\xff", b"From x", b" indented", b"\x00"]  # fmt: skip


@st.composite
def raw_messages(draw: st.DrawFn) -> bytes:
    """A plain header block, often with one odd line in it, mostly one kind of line end
    (as mailers write them), and a body."""
    end = draw(st.sampled_from([b"\r\n", b"\n"]))
    mixed = draw(st.integers(0, 4)) == 0
    ends = st.sampled_from([end, end, end, b"\r\n", b"\n", b"\r"] if mixed else [end])
    head = draw(st.lists(st.tuples(st.sampled_from(PLAIN_LINES), ends), min_size=1, max_size=10))
    if draw(st.integers(0, 3)):
        odd = draw(st.tuples(st.sampled_from(ODD_LINES), ends))
        head.insert(draw(st.integers(0, len(head))), odd)
    separator = draw(st.sampled_from([end] * 6 + [b"", b" " + end, b"\r"]))
    body = draw(st.lists(st.tuples(st.sampled_from(BODY_LINES), ends), max_size=8))
    lines = [*head, (b"", separator), *body]
    return b"".join(line + line_end for line, line_end in lines)


def _tree(message: email.message.Message) -> dict[str, Any]:
    """Everything a ``Message`` holds, its parts' too."""
    state = dict(vars(message))
    state["defects"] = [
        (type(d).__name__, d.args, getattr(d, "line", None)) for d in message.defects
    ]
    payload = state["_payload"]
    if isinstance(payload, list):
        state["_payload"] = [_tree(p) for p in payload]
    return state


@EXAMPLES
@given(raw_messages())
def test_a_message_read_head_first_is_the_message_the_stdlib_parses(raw: bytes) -> None:
    assert _tree(parse._message_from_bytes(raw)) == _tree(email.message_from_bytes(raw))


def test_the_head_first_paths_are_taken() -> None:
    plain = b"From: a@b.org\r\nSubject: x\r\n y\r\n\r\nbody\r\n"
    assert parse._PLAIN_HEAD.fullmatch(plain[: plain.index(b"\r\n\r\n") + 4])
    root = parse._message_from_bytes(plain)
    assert root.items() == [("From", "a@b.org"), ("Subject", "x\r\n y")]
    assert root.get_payload() == "body\r\n"
    for raw in (
        plain.replace(b"Subject", b"Sub\xe9ject"),  # not plain: head parsed by the stdlib
        plain.replace(b"Subject: x", b"Subject"),  # the body starts early: parsed whole
        plain.replace(b"\r\n\r\n", b"\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"),
        b"no headers at all\r\n\r\n",
        b":no name\r\n" + plain,  # and other lines the parser reads otherwise
        plain.replace(b"Subject: x", b"Bad Name: x"),
        plain.replace(b"Subject: x", b"From x: y"),
        b"From a@b Mon Jan  1 00:00:00 2020\r\n" + plain,
        plain.replace(b"\r\n y", b"\r y"),
        b" continued\r\n" + plain,
    ):
        assert _tree(parse._message_from_bytes(raw)) == _tree(email.message_from_bytes(raw))


# ---------------------------------------------------------------- dates

WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun", "mon", "Foo"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
DAYS = ["1", "01", "9", "12", "28", "29", "30", "31", "32", "0", "001"]
YEARS = ["2020", "2021", "1900", "1899", "0999", "0001", "9999", "0000", "20", "99"]
CLOCKS = [
    "00:00:00",
    "09:00:00",
    "23:59:59",
    "24:00:00",
    "12:60:00",
    "23:59:60",
    "12:30",
    "9:00:00",
]
ZONES = ["+0000", "-0000", "+0100", "-0500", "+1400", "-1400", "+0060", "+2359", "-2359", "+000"]
ZONES += ["GMT", "UT", "EST", "+00000"]


@st.composite
def dates(draw: st.DrawFn) -> str:
    weekday, day = draw(st.sampled_from(WEEKDAYS)), draw(st.sampled_from(DAYS))
    month, year = draw(st.sampled_from([*MONTHS, "jan", "Foo"])), draw(st.sampled_from(YEARS))
    clock, zone = draw(st.sampled_from(CLOCKS)), draw(st.sampled_from(ZONES))
    if draw(st.booleans()):  # a real date, its weekday right or nearly
        date = draw(
            st.datetimes(min_value=datetime(1899, 12, 25), max_value=datetime(9999, 12, 31))
        )
        weekday = WEEKDAYS[(date.weekday() + draw(st.sampled_from([0, 0, 0, 1]))) % 7]
        day, month, year = str(date.day), MONTHS[date.month - 1], f"{date.year:04d}"
        clock = f"{date:%H:%M:%S}"
    value = f"{weekday}, {day} {month} {year} {clock} {zone}"
    variants = [value, value, f" {value}", f"{value} (UTC)", value.replace(" ", "  ", 1)]
    return draw(st.sampled_from(variants))


@EXAMPLES
@given(dates())
def test_a_plain_date_is_the_date_mail_parser_reads_without_a_defect(value: str) -> None:
    fast = parse._plain_date(value)
    if fast is not None:
        result = parse_mail_date(value)
        assert result.reasons == ()
        assert result.value == fast
        assert fast.tzinfo is not None and fast.utcoffset() == timedelta(0)


def test_the_plain_date_path_is_taken() -> None:
    expected = datetime(2020, 2, 12, 8, 0, tzinfo=UTC)
    assert parse._plain_date("Wed, 12 Feb 2020 09:00:00 +0100") == expected
    assert parse._plain_date("Wed, 12 Feb 2020 03:00:00 -0500") == expected
    assert parse._plain_date("Thu, 12 Feb 2020 09:00:00 +0000") is None  # wrong weekday
    assert parse._plain_date("Wed, 12 Feb 2020 09:00:00 GMT") is None


# ---------------------------------------------------------------- clean

_SURROGATES = re.compile(r"[\ud800-\udfff]")


def plain_clean(text: str) -> str:
    if not text.isascii() and _SURROGATES.search(text):
        with contextlib.suppress(UnicodeEncodeError):
            text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        text = _SURROGATES.sub("\ufffd", text)
    return text.replace("\x00", "") if "\x00" in text else text


CHARS = ["a", " ", "\n", "\x00", "é", "\u2019", "\U0001f600", "\udce9", "\udcff", "\ud800",
         "\udfff", "\ud83d", "\ude00", "\x80", "\ufffd"]  # fmt: skip


@EXAMPLES
@given(st.lists(st.sampled_from(CHARS), max_size=40).map("".join) | st.text(max_size=40))
def test_clean_cleans_as_the_regex_did(text: str) -> None:
    assert parse.clean(text) == plain_clean(text)
