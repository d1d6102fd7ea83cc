"""Raw bytes -> ``ParsedMessage``: what classification and matching read.

The MIME tree is parsed once, by the standard library (``email.message_from_bytes``,
compat32, what mail-parser wraps; a message of one part is read head first, into the
same ``Message`` for less work: ``_message_from_bytes``), and walked once, here.
mail-parser's own parse (``mailparser.parse_from_bytes``) is not used: it decodes every
part, which this module then did again, and parsing and decoding every part twice cost
more than everything else in the ingest pipeline. mail-parser is kept for what it reads
better than the standard library, through its helpers: the address headers
(``mailparser.utils.get_addresses``, which recovers mailboxes from damaged headers and
says what it could not read) and the date (``mailparser.dates.parse_mail_date`` and
``date_diagnostics``; a date written the usual way, and right, gives what they give
faster: ``_plain_date``), read as its ``MailParser`` reads them. The defects it reported
are collected here in its form: address and date diagnostics, the parser's defects of
every part ("ClassName: docstring", keyed by the part's type) and MIME headers that are
not valid UTF-8 (``mailparser.utils.mime_header_view``). Its Received-header parsing is
left out: it is costly, and nothing reads it.

The body, the attachments and delivery reports need more care than mail-parser takes:

- charsets: a declared charset that fails, or none declared with 8-bit text, is read as
  UTF-8 if it is valid UTF-8, else as Windows-1252 (what "ISO-8859-1" usually means in
  practice), and a defect is noted; nothing ever raises on a bad charset;
- HTML-only bodies become text laid out as a browser shows them (``html_text``: lxml's
  HTML parser, not tag stripping);
- text is extracted from PDF (PDFium), DOCX (python-docx) and text attachments, because
  councils often answer only in the attachment;
- delivery reports (RFC 3464 ``multipart/report; report-type=delivery-status``, and the
  non-standard ones of Exim and friends) give the original Message-ID and recipients.

Everything here treats the message as hostile: sizes are capped, NULs and lone
surrogates are removed (they cannot be stored), and any library failure on an
attachment becomes an ``extraction_error`` rather than an exception. Only a message that
is not an email at all (empty, no headers, too deeply nested) raises ``ParseError``.
"""

from __future__ import annotations

import codecs
import contextlib
import email.header
import email.message
import email.parser
import email.utils
import functools
import io
import logging
import re
import threading
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from mailparser.dates import date_diagnostics, parse_mail_date
from mailparser.utils import decode_header_part, get_addresses, mime_header_view

from foibot.domain.message import AttachmentInfo, DeliveryReport, ParsedMessage
from foibot.errors import ParseError
from foibot.mail.html_text import html_to_text

logging.getLogger("mailparser").setLevel(logging.CRITICAL)

MAX_DEPTH = 30  # MIME nesting we follow
MAX_TEXT = 2_000_000  # characters kept of any one text (body or attachment)
MAX_EXTRACT_BYTES = 25_000_000  # attachments larger than this are stored, not read
MAX_PDF_PAGES = 200
MAX_HEADER_VALUE = 20_000
MAX_DEFECTS = 50
INTERNAL_ERROR = "internal error while parsing"
_CACHED_VALUE_LIMIT = 1000  # header values read once per distinct value must be this short

_ID = re.compile(r"<([^<>\s]{1,900})>")
_SURROGATES = re.compile(r"[\ud800-\udfff]")
_FOLDING = re.compile(r"\r?\n[ \t]*")


@dataclass(frozen=True)
class ParseResult:
    """The parsed message and its attachments' bytes (same order as
    ``message.attachments``), for ``foibot.mail.attachments`` to save."""

    message: ParsedMessage
    payloads: tuple[bytes, ...]


def parse_message(raw: bytes) -> ParsedMessage:
    """Raw bytes -> ``ParsedMessage`` (see ``parse_with_payloads``)."""
    return parse_with_payloads(raw).message


_HEADER_LINE = re.compile(rb"^[!-9;-~]{1,200}:", re.MULTILINE)


def _skip_leading_junk(raw: bytes) -> bytes | None:
    """A message whose first lines are not headers (a blank line, a damaged line, a
    stray export banner) reads as "no headers at all": start at the first header."""
    found = _HEADER_LINE.search(raw, 0, 8192)
    return raw[found.start() :] if found is not None and found.start() > 0 else None


def parse_with_payloads(raw: bytes) -> ParseResult:
    """Parses raw bytes into a ``ParsedMessage`` and its attachments' bytes. Raises
    ``ParseError`` only for bytes that are no email at all (empty, no header, nested
    beyond what can be walked); damaged mail is read as far as it goes, with defects."""
    if not raw.strip():
        raise ParseError("empty message")
    result = _parse(raw)
    if result is None:
        trimmed = _skip_leading_junk(raw)
        result = _parse(trimmed) if trimmed is not None else None
        if result is None:
            raise ParseError("no headers: not an email message")
        note = f"{len(raw) - len(trimmed or b'')} bytes before the first header skipped"
        message = replace(result.message, defects=(note, *result.message.defects))
        result = ParseResult(message, result.payloads)
    return result


def _parse(raw: bytes) -> ParseResult | None:
    """None when the bytes have no headers at all."""
    try:
        root = _message_from_bytes(raw)
    except RecursionError:
        raise ParseError("MIME structure nested too deeply") from None
    except Exception as exc:  # the stdlib parser is lenient: not seen, but never lose it
        raise ParseError(
            f"standard library parser failed ({type(exc).__name__}: {_one_line(str(exc), 120)})"
        ) from None
    if not root.keys():
        return None
    try:
        return _build(root)
    except RecursionError:
        raise ParseError("MIME structure nested too deeply") from None
    except Exception as exc:
        # A bug of ours on hostile input must not lose the message: it is stored with
        # this error (the fuzz tests check that it never happens).
        raise ParseError(f"{INTERNAL_ERROR}: {type(exc).__name__}: {_one_line(str(exc))}") from exc


_HEADER_END = re.compile(rb"\n\r?\n")
_CONTAINERS = ("multipart", "message")
# A header block as nearly every mailer writes it: printable ASCII, "Name: value" fields
# with their continuation lines, CRLF or LF line ends, and the blank line.
_PLAIN_HEAD = re.compile(rb"[!-9;-~]+:[\t -~]*\r?\n(?:(?:[!-9;-~]+:|[\t ])[\t -~]*\r?\n)*\r?\n")


def _message_from_bytes(raw: bytes) -> email.message.Message:
    """``email.message_from_bytes(raw)``, with less work for a message of one part.

    The parser reads a body line by line, which costs more than its headers; but the
    body of a message that is neither multipart nor message/* is all the rest of the
    bytes, as they are. So the head (up to the first blank line) is read alone, and the
    rest set as the payload, when that head is the whole header block (no header-less
    line before the blank line: the parser would start the body there) and the type is
    not one whose body is parsed. Anything else is parsed whole."""
    end = _HEADER_END.search(raw)
    if end is None:
        return email.message_from_bytes(raw)
    head = raw[: end.end()]
    if _PLAIN_HEAD.fullmatch(head):
        root = _plain_head(head.decode("ascii"))
    else:
        root = email.message_from_bytes(head)
        if root.get_payload() != "":
            return email.message_from_bytes(raw)
    if root.get_content_maintype() in _CONTAINERS:
        return email.message_from_bytes(raw)
    root.set_payload(raw[end.end() :].decode("ascii", "surrogateescape"))
    return root


# One field of a plain header block: its name (up to the first colon), and its value
# from the first line (leading blanks left out) through its continuation lines.
_PLAIN_FIELD = re.compile(r"([!-9;-~]+):[ \t]*([^\n]*\n(?:[ \t][^\n]*\n)*)")


def _plain_head(head: str) -> email.message.Message:
    """The message the standard library's parser makes of a plain header block (see
    ``_PLAIN_HEAD``), without its line-by-line machinery: each field as compat32's
    ``header_source_parse`` reads its lines (the name up to the first colon; the value
    without the first line's leading blanks, nor the last line's end), found by one
    regex. In such a block every line is a field's first line or a continuation line,
    so the matches follow one another from the first line to the blank one."""
    message = email.message.Message()
    for name, value in _PLAIN_FIELD.findall(head):
        message.set_raw(name, value.rstrip("\r\n"))
    return message


# ------------------------------------------------------------------ text helpers


def clean(text: str) -> str:
    """Storable text: no NULs, no lone surrogates (bytes the stdlib kept as escapes are
    read as UTF-8 where they are UTF-8; anything else becomes U+FFFD)."""
    if text.isascii():  # costs nothing
        return text.replace("\x00", "") if "\x00" in text else text
    # Encoding to UTF-8 fails only on a surrogate, and finds a NUL (b"\0" is only ever
    # U+0000) far faster than a regex, or "\0" in a string wider than Latin-1, would.
    try:
        if b"\x00" not in text.encode("utf-8"):
            return text
    except UnicodeEncodeError:
        with contextlib.suppress(UnicodeEncodeError):  # a surrogate that is no escaped byte
            text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        text = _SURROGATES.sub("\ufffd", text)
    return text.replace("\x00", "")


def _one_line(text: str, limit: int = 300) -> str:
    flat = " ".join(clean(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def decode_header_value(value: Any) -> str:
    """A header value as text: RFC 2047 words decoded, 8-bit bytes read as UTF-8 or
    Windows-1252, folding undone. Never raises."""
    if (
        type(value) is str
        and value.isascii()
        and "\n" not in value
        and "=?" not in value
        and "\x00" not in value
    ):
        return value.strip()[:MAX_HEADER_VALUE]  # most headers: nothing to decode
    if isinstance(value, email.header.Header):
        try:
            text = str(value)
        except Exception:
            text = value.encode()
    else:
        text = str(value)
    if _SURROGATES.search(text):  # 8-bit bytes in a header, kept as escapes by the stdlib
        try:
            data = text.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            data = text.encode("utf-8", "replace")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("cp1252", "replace")
    if "=?" in text:
        with contextlib.suppress(Exception):  # malformed encoded words: kept as written
            text = str(email.header.make_header(email.header.decode_header(text)))
    text = _FOLDING.sub(" ", text)
    return clean(text.strip())[:MAX_HEADER_VALUE]


_CHARSET_ALIASES = {
    # WHATWG: labels for Latin-1 and ASCII mean Windows-1252 on the wire
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "latin-1": "cp1252",
    "latin1": "cp1252",
    "l1": "cp1252",
    "windows-1252": "cp1252",
    "x-cp1252": "cp1252",
    "utf8": "utf-8",
    "unicode-1-1-utf-8": "utf-8",
    "x-unknown": "",
    "unknown-8bit": "",
    "default": "",
}


def decode_bytes(data: bytes, charset: str | None) -> tuple[str, str | None]:
    """Text from bytes in a declared (maybe wrong, maybe missing) charset, and a
    defect note when a fallback was needed."""
    declared = (charset or "").strip().strip("\"'").lower()
    name = _CHARSET_ALIASES.get(declared, declared)
    defect: str | None = None
    if name:
        try:
            codecs.lookup(name)
        except (LookupError, ValueError):  # unknown, or not even a name ("utf-8\0")
            defect = f"unknown charset {declared!r}"
            name = ""
    if name:
        try:
            return data.decode(name), None
        except UnicodeDecodeError:
            defect = f"text is not valid {declared}"
        except Exception:
            defect = f"charset {declared!r} failed"
    if not data or data.isascii():
        return data.decode("ascii"), defect
    try:
        text = data.decode("utf-8")
        return text, (f"{defect}; read as UTF-8" if defect else None)
    except UnicodeDecodeError:
        note = defect or "no charset declared"
        return data.decode("cp1252", "replace"), f"{note}; read as Windows-1252"


# ------------------------------------------------------------------ attachments

_PDF_TYPES = {"application/pdf", "application/x-pdf"}
_DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def extract_text(
    data: bytes, content_type: str, filename: str | None, charset: str | None = None
) -> tuple[str | None, str | None]:
    """(text, error) for an attachment: PDF, DOCX and text/* are read; other types
    give (None, None). Failures give (None, reason), never an exception."""
    name = (filename or "").lower()
    if len(data) > MAX_EXTRACT_BYTES:
        return None, f"not read: larger than {MAX_EXTRACT_BYTES} bytes"
    try:
        if content_type in _PDF_TYPES or name.endswith(".pdf") or data[:5] == b"%PDF-":
            return _pdf_text(data), None
        if content_type == _DOCX_TYPE or (name.endswith(".docx") and data[:2] == b"PK"):
            return _docx_text(data), None
        if content_type.startswith("text/"):
            text, _ = decode_bytes(data, charset)
            if content_type == "text/html":
                text, _ = html_to_text(text)
            return clean(text.replace("\r\n", "\n"))[:MAX_TEXT], None
    except RecursionError:
        return None, "document nested too deeply"
    except Exception as exc:  # PDFium / python-docx on damaged or hostile files
        return None, f"{type(exc).__name__}: {_one_line(str(exc), 200)}"
    return None, None


# PDFium (Chrome's PDF engine, through pypdfium2) reads text about three times faster
# than pypdf did and is fuzzed against hostile files. Its bindings are not thread-safe.
_PDFIUM = threading.Lock()


def _pdf_text(data: bytes) -> str:
    import pypdfium2

    pages: list[str] = []
    size = 0
    with _PDFIUM, pypdfium2.PdfDocument(data) as document:
        for number in range(min(len(document), MAX_PDF_PAGES)):
            page = document[number]
            try:
                textpage = page.get_textpage()
                try:
                    text = textpage.get_text_bounded()
                finally:
                    textpage.close()
            finally:
                page.close()
            pages.append(text)
            size += len(text)
            if size > MAX_TEXT:
                break
    return clean("\n\n".join(pages).replace("\r\n", "\n").replace("\r", "\n"))[:MAX_TEXT]


def _docx_text(data: bytes) -> str:
    import docx

    with zipfile.ZipFile(io.BytesIO(data)) as archive:  # refuse zip bombs before opening
        if sum(i.file_size for i in archive.infolist()) > 20 * MAX_EXTRACT_BYTES:
            raise ValueError("DOCX expands to too much data")
    document = docx.Document(io.BytesIO(data))
    parts = [p.text for p in document.paragraphs if p.text.strip()]
    for table in document.tables:
        for row in table.rows:
            parts.append(" | ".join(cell.text for cell in row.cells))
    return clean("\n\n".join(parts))[:MAX_TEXT]


# ------------------------------------------------------------------ the walk


@dataclass
class _Walk:
    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    attachments: list[tuple[AttachmentInfo, bytes]] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    dsn_fields: list[email.message.Message] = field(default_factory=list)
    returned_headers: list[email.message.Message] = field(default_factory=list)


_MISSING: Any = object()


class _Fields:
    """A part's header fields, each name lower-cased once, as (lower-case name, name,
    value) in their order, and the first value of each name.

    ``Message.get`` walks the whole field list, lower-casing every name, at each call,
    and a part is asked for its type, disposition, file name, charset, MIME headers,
    and the root for its headers, addresses and date: the list is walked once here,
    and each of those is a dict look-up. Values are as the parser stored them
    (``raw_items``): ``get`` gives a ``Header`` instead for a value holding 8-bit bytes
    (surrogate escapes), so the readers below read ASCII values only, and leave any
    other to the standard library."""

    __slots__ = ("first", "items")

    def __init__(self, part: email.message.Message) -> None:
        self.items = [(name.lower(), name, value) for name, value in part.raw_items()]
        # built from the last field to the first, so that the first value of a name wins
        self.first: dict[str, Any] = {lower: value for lower, _, value in reversed(self.items)}


def _content_type(part: email.message.Message, fields: _Fields) -> str:
    """``content_type_of(part)``: ``get_content_type`` done on the first Content-Type."""
    value = fields.first.get("content-type", _MISSING)
    if value is _MISSING:
        ctype = part.get_default_type()
    elif type(value) is str and value.isascii():
        ctype = value.partition(";")[0].strip().lower()
        if ctype.count("/") != 1:  # RFC 2045: an invalid type is text/plain
            ctype = "text/plain"
    else:
        ctype = part.get_content_type()
    return ctype if _CONTENT_TYPE.fullmatch(ctype) else "application/octet-stream"


def _disposition(part: email.message.Message, fields: _Fields) -> str | None:
    """``part.get_content_disposition()``, done on the first Content-Disposition."""
    value = fields.first.get("content-disposition")
    if value is None:
        return None
    if type(value) is str and value.isascii():
        return value.partition(";")[0].strip().lower()
    return part.get_content_disposition()


def _filename(part: email.message.Message, fields: _Fields) -> str | None:
    # A "filename" (Content-Disposition) or "name" (Content-Type) parameter, which
    # cannot be there without the letters: most parts have neither, and are spared
    # parsing their parameters.
    if not any(
        "name" in str(value).lower()
        for key, _, value in fields.items
        if key in ("content-type", "content-disposition")
    ):
        return None
    try:
        name = part.get_filename()
    except Exception:
        return None
    if not name:
        return None
    return decode_header_value(name)[:500] or None


def _payload_bytes(part: email.message.Message) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if isinstance(data, bytes):
        return data
    raw = part.get_payload()
    if isinstance(raw, str):
        return raw.encode("utf-8", "surrogateescape")
    return b""


def _charset(part: email.message.Message, fields: _Fields | None = None) -> str | None:
    content_type = (fields or _Fields(part)).first.get("content-type")
    if (
        type(content_type) is str
        and content_type.isascii()  # (else ``get`` would give a Header, or odd text)
        and len(content_type) <= _CACHED_VALUE_LIMIT
    ):
        return _charset_of(content_type)
    return _read_charset(part)


def _read_charset(part: email.message.Message) -> str | None:
    try:
        value = part.get_content_charset()
    except Exception:
        return None
    return value if isinstance(value, str) else None


@functools.lru_cache(maxsize=512)
def _charset_of(content_type: str) -> str | None:
    """The charset of a part with this (first) Content-Type: all ``get_content_charset``
    reads. Parsing the parameters costs more than decoding a short body, and a mailbox
    has few distinct Content-Type values: so the answer is kept per value."""
    probe = email.message.Message()
    probe["Content-Type"] = content_type
    return _read_charset(probe)


def _message_bytes(message: email.message.Message) -> bytes:
    try:
        return message.as_bytes()
    except Exception:
        try:
            return message.as_string().encode("utf-8", "surrogateescape")
        except Exception:
            return b""


_CONTENT_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+\-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+\-]{0,126}")


def content_type_of(part: email.message.Message) -> str:
    """The part's type, or application/octet-stream when it is not a valid MIME type
    (the stdlib passes through e.g. "text\\0/plain", which no database stores)."""
    ctype = part.get_content_type()
    return ctype if _CONTENT_TYPE.fullmatch(ctype) else "application/octet-stream"


def _walk(
    part: email.message.Message,
    out: _Walk,
    depth: int,
    in_report: bool,
    fields: _Fields | None = None,
) -> None:
    if depth > MAX_DEPTH:
        out.defects.append(f"MIME nesting deeper than {MAX_DEPTH}: inner parts ignored")
        return
    if fields is None:
        fields = _Fields(part)
    ctype = _content_type(part, fields)
    disposition = _disposition(part, fields)
    filename = _filename(part, fields)
    if ctype == "message/delivery-status":
        _read_delivery_status(part, out)
        return
    if part.is_multipart():
        children = part.get_payload()
        if not isinstance(children, list):
            return
        if ctype.startswith("message/"):
            inner = (
                children[0] if children and isinstance(children[0], email.message.Message) else None
            )
            if inner is None:
                return
            if in_report:
                out.returned_headers.append(inner)
            data = _message_bytes(inner)
            # A returned message in a bounce is our own text: stored, not read.
            text = None if in_report else _inner_text(inner, depth + 1)
            info = AttachmentInfo(filename, "message/rfc822", len(data), text)
            out.attachments.append((info, data))
            return
        for child in children:
            if isinstance(child, email.message.Message):
                _walk(child, out, depth + 1, in_report or ctype == "multipart/report")
        return
    data = _payload_bytes(part)
    if ctype == "text/rfc822-headers":
        text, _ = decode_bytes(data, _charset(part, fields))
        out.returned_headers.append(email.parser.HeaderParser().parsestr(text))
        out.attachments.append((AttachmentInfo(filename, ctype, len(data), None), data))
        return
    is_body = ctype in ("text/plain", "text/html") and disposition != "attachment" and not filename
    if is_body:
        text, defect = decode_bytes(data, _charset(part, fields))
        if defect:
            out.defects.append(f"{ctype}: {defect}")
        (out.html if ctype == "text/html" else out.plain).append(clean(text)[:MAX_TEXT])
        return
    if in_report:
        text, error = None, None
    else:
        text, error = extract_text(data, ctype, filename, _charset(part, fields))
    out.attachments.append((AttachmentInfo(filename, ctype, len(data), text, error), data))


def _inner_text(message: email.message.Message, depth: int) -> str | None:
    """The text of an attached (forwarded) message: its headers that matter, its body
    and its attachments' text."""
    inner = _Walk()
    _walk(message, inner, depth, False)
    body = _body(inner)
    head = [
        f"{name}: {decode_header_value(message[name])}"
        for name in ("From", "Date", "Subject")
        if message[name] is not None
    ]
    texts = [t for t in ("\n".join(head), body, *(a.text for a, _ in inner.attachments)) if t]
    return "\n\n".join(texts) if texts else None


def _body(walk: _Walk) -> str:
    if walk.plain:
        return "\n\n".join(t.strip("\r\n") for t in walk.plain).replace("\r\n", "\n")
    if walk.html:
        texts = []
        for html in walk.html:
            text, defect = html_to_text(html)
            if defect:
                walk.defects.append(defect)
            texts.append(text)
        return "\n\n".join(texts)
    return ""


# ------------------------------------------------------------------ bounces

_BOUNCE_SENDERS = ("mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon")


def _read_delivery_status(part: email.message.Message, out: _Walk) -> None:
    payload = part.get_payload()
    if isinstance(payload, list):
        out.dsn_fields.extend(p for p in payload if isinstance(p, email.message.Message))
        return
    # Not split by the parser (e.g. encoded): read the blocks ourselves.
    text, _ = decode_bytes(_payload_bytes(part), _charset(part))
    for block in re.split(r"\r?\n\s*\r?\n", text):
        if block.strip():
            out.dsn_fields.append(email.parser.HeaderParser().parsestr(block.strip() + "\n"))


def _address_of(value: str) -> str | None:
    # "rfc822; foi@example.gov.uk" -> "foi@example.gov.uk"
    value = value.partition(";")[2] if ";" in value else value
    address = email.utils.parseaddr(value.strip())[1].strip().lower()
    return address if "@" in address else None


_RCPT = re.compile(r"RCPT TO:\s*<([^<>\s]+@[^<>\s]+)>", re.IGNORECASE)
# a line holding only an address: Exim ("  foi@x.gov.uk"), qmail ("<foi@x.gov.uk>:")
_LONE_ADDRESS = re.compile(
    r"^[ \t]*<?([A-Za-z0-9._%+\-']+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,})>?:?[ \t]*$", re.MULTILINE
)
_ID_IN_TEXT = re.compile(r"^[ \t]*Message-ID:[ \t]*<([^<>\s]+)>", re.IGNORECASE | re.MULTILINE)
_TO_IN_TEXT = re.compile(r"^[ \t]*To:[ \t]*(.+)$", re.IGNORECASE | re.MULTILINE)


def _delivery_report(
    headers: dict[str, tuple[str, ...]],
    content_type: str,
    from_addr: str | None,
    walk: _Walk,
    body: str,
) -> DeliveryReport | None:
    report_type = " ".join(headers.get("content-type", ())).lower()
    is_dsn = content_type == "multipart/report" and "delivery-status" in report_type
    failed_header = headers.get("x-failed-recipients", ())
    local = (from_addr or "").partition("@")[0]
    if not (is_dsn or failed_header or local in _BOUNCE_SENDERS or walk.dsn_fields):
        return None
    recipients: list[str] = []
    status = diagnostic = action = original_id = None
    for block in walk.dsn_fields:
        for name in ("final-recipient", "original-recipient"):
            value = block.get(name)
            address = _address_of(decode_header_value(value)) if value else None
            if address and address not in recipients:
                recipients.append(address)
        status = status or (decode_header_value(block["status"]) if block["status"] else None)
        action = action or (
            decode_header_value(block["action"]).lower() if block["action"] else None
        )
        if block["diagnostic-code"] and not diagnostic:
            diagnostic = decode_header_value(block["diagnostic-code"])[:500]
        if block["x-original-message-id"] and not original_id:
            ids = _ID.findall(decode_header_value(block["x-original-message-id"]))
            original_id = ids[0] if ids else None
    for value in failed_header:
        for _, address in email.utils.getaddresses([value]):
            address = address.strip().lower()
            if "@" in address and address not in recipients:
                recipients.append(address)
    for returned in walk.returned_headers:
        if original_id is None and returned["message-id"]:
            ids = _ID.findall(decode_header_value(returned["message-id"]))
            original_id = ids[0] if ids else None
    if original_id is None:
        found = _ID_IN_TEXT.search(body)
        original_id = found.group(1) if found else None
    if not recipients:  # non-standard bounce: read the human-readable part
        for address in [*_RCPT.findall(body), *_LONE_ADDRESS.findall(body)]:
            address = address.lower()
            if address not in recipients:
                recipients.append(address)
    if not recipients:
        for returned in walk.returned_headers:
            for _, address in email.utils.getaddresses(
                [decode_header_value(v) for v in returned.get_all("to", [])]
            ):
                if "@" in address and address.lower() not in recipients:
                    recipients.append(address.lower())
        if not recipients:
            for line in _TO_IN_TEXT.findall(body)[:1]:
                for _, address in email.utils.getaddresses([line]):
                    if "@" in address:
                        recipients.append(address.lower())
    return DeliveryReport(
        original_message_id=original_id,
        recipients=tuple(recipients[:20]),
        status=status,
        diagnostic=diagnostic,
        action=action,
    )


# ------------------------------------------------------------------ assembly


def _ids(values: Iterable[str]) -> tuple[str, ...]:
    found: list[str] = []
    for value in values:
        ids = _ID.findall(value) or [t.strip("<>") for t in value.split() if "@" in t]
        for i in ids:
            if i and i not in found:
                found.append(i[:900])
    return tuple(found[:100])


def _addresses(pairs: Any) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    if not isinstance(pairs, list):
        return out
    for pair in pairs:
        if isinstance(pair, (tuple, list)) and len(pair) == 2:
            name, address = (clean(str(pair[0])), clean(str(pair[1])).strip().lower())
            if address:
                out.append((name, address[:320]))
    return out


def _header_addresses(headers: dict[str, tuple[str, ...]], *names: str) -> list[str]:
    out: list[str] = []
    for name in names:
        if name not in headers:
            continue
        for _, address in email.utils.getaddresses(list(headers[name])):
            address = address.strip().lower()
            if "@" in address and address not in out:
                out.append(address[:320])
    return out


# The address headers mail-parser reads, in the order it reports their defects.
_ADDRESS_HEADERS = ("bcc", "cc", "delivered-to", "from", "reply-to", "to")
_MIME_HEADERS = ("content-type", "content-disposition", "content-id", "content-transfer-encoding")


@dataclass
class _Envelope:
    """What mail-parser's helpers read from the headers: the first occurrence of each
    address header as (name, address) pairs, the date, and the defects they found."""

    addresses: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    date: datetime | None = None
    defects: list[str] = field(default_factory=list)


_Addresses = tuple[tuple[tuple[str, str], ...], tuple[str, ...]]


def _parse_addresses(value: Any) -> _Addresses:
    """mail-parser's reading of one address header value (a ``str``, or a ``Header``
    when it holds 8-bit bytes): (name, address) pairs, and why it could not read some."""
    diagnostics: list[dict[str, Any]] = []
    found = get_addresses(value, defects=diagnostics, decode_names=True)
    return tuple((n, a) for n, a in found), tuple(str(d["reason"]) for d in diagnostics)


# ``get_addresses`` on From and To costs about as much as the rest of a plain message's
# parse, and is a pure function of the value, while an inbox sees the same From and To
# values again and again (the council's address, ours): its results are kept for short
# values.
_cached_addresses = functools.lru_cache(maxsize=2048)(_parse_addresses)


def _read_addresses(header: str, occurrence: int, value: Any, out: _Envelope) -> None:
    try:
        short = isinstance(value, str) and len(value) <= _CACHED_VALUE_LIMIT
        found, reasons = (_cached_addresses if short else _parse_addresses)(value)
    except Exception as exc:  # mail-parser on a hostile header: read it with the stdlib
        out.defects.append(
            f"address-headers: {header}[{occurrence}] not read by mail-parser "
            f"({type(exc).__name__}: {_one_line(str(exc), 120)}); read with the standard library"
        )
        try:
            found = tuple(email.utils.getaddresses([decode_header_value(value)]))
        except Exception:
            found = ()
        reasons = ()
    if occurrence == 0:
        # as mail-parser gives them: no empty addresses, no name that only repeats it
        out.addresses[header] = [
            ("" if name == address else name, address)
            for name, address in found
            if isinstance(name, str) and isinstance(address, str) and address
        ]
    for reason in reasons:
        out.defects.append(
            f"address-headers: AddressHeaderDefect: {header}[{occurrence}]: {reason}"
        )


_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_PLAIN_DATE = re.compile(
    rf"({'|'.join(_WEEKDAYS)}), ([0-9]{{1,2}}) ({'|'.join(_MONTHS)}) ([0-9]{{4}})"
    r" ([0-9]{2}):([0-9]{2}):([0-9]{2}) ([+-])([0-9]{2})([0-5][0-9])"
)


def _plain_date(value: str) -> datetime | None:
    """The date, in UTC, of a Date header written as nearly every mailer writes it
    ("Wed, 12 Feb 2020 09:00:00 +0000") and right (a real day, its own weekday, no leap
    second): what ``parse_mail_date`` reads from it, with no defect, in a fraction of its
    time. None for any other value, which mail-parser reads."""
    found = _PLAIN_DATE.fullmatch(value)
    if found is None:
        return None
    weekday, day, month, year, hour, minute, second, sign, zone_h, zone_m = found.groups()
    try:
        local = datetime(
            int(year),
            _MONTHS.index(month) + 1,
            int(day),
            int(hour),
            int(minute),
            int(second),
            tzinfo=UTC,
        )
        if zone_h == "00" and zone_m == "00":  # UTC, as most servers write it: no offset
            utc = local
        else:
            offset = timedelta(hours=int(zone_h), minutes=int(zone_m))
            utc = local - offset if sign == "+" else local + offset
    except (ValueError, OverflowError):  # no such day or time, or beyond datetime's range
        return None
    if local.year < 1900 or local.weekday() != _WEEKDAYS.index(weekday):
        return None
    return utc


def _read_date(header: str, occurrence: int, value: str, out: _Envelope) -> None:
    plain = _plain_date(value)
    if plain is not None:
        if header == "date" and occurrence == 0:
            out.date = plain
        return
    try:
        result = parse_mail_date(value)
        diagnostics = date_diagnostics(result, value, header, occurrence)
    except Exception as exc:  # mail-parser on a hostile date: no date, and said so
        out.defects.append(
            f"date-headers: {header}[{occurrence}] not read by mail-parser "
            f"({type(exc).__name__}: {_one_line(str(exc), 120)})"
        )
        return
    if header == "date" and occurrence == 0 and isinstance(result.value, datetime):
        out.date = result.value
    for defect in diagnostics:
        out.defects.append(
            f"date-headers: DateHeaderDefect: {header}[{occurrence}]: {defect['reason']}"
        )


def _envelope(root: email.message.Message, fields: _Fields) -> _Envelope:
    """Addresses, date and their defects, as mail-parser's ``MailParser`` reads them
    (its ``_reset``): every occurrence of an address header or a date is diagnosed, the
    first one is used. Address headers are read as ``Message.items()`` gives them (a
    ``Header`` when they hold 8-bit bytes), dates as they were sent."""
    out = _Envelope()
    address_values: dict[str, list[Any]] = {}
    dates: dict[str, int] = {}
    for header, name, value in fields.items:
        if header in _ADDRESS_HEADERS:
            parsed = root.policy.header_fetch_parse(name, value)
            address_values.setdefault(header, []).append(parsed)
        elif header in ("date", "resent-date") and isinstance(value, str):
            occurrence = dates.get(header, 0)
            dates[header] = occurrence + 1
            _read_date(header, occurrence, value, out)
    date_defects, out.defects = out.defects, []
    for header in _ADDRESS_HEADERS:  # mail-parser reports address defects first
        for occurrence, value in enumerate(address_values.get(header, ())):
            _read_addresses(header, occurrence, value, out)
    out.defects.extend(date_defects)
    return out


def _part_defects(root: email.message.Message, fields: _Fields) -> list[str]:
    """The parser's defects of every part ("ClassName: docstring", keyed by the part's
    type), then MIME headers that are not valid UTF-8: what mail-parser reported."""
    out: list[str] = []
    parts = list(root.walk()) if root.is_multipart() else [root]
    for part in parts:
        if part.defects:
            where = part.get_content_type()
            out.extend(f"{where}: {type(d).__name__}: {d.__doc__}" for d in part.defects)
    for position, part in enumerate(parts):
        out.extend(
            f"mime-headers: MimeHeaderDefect: part {position}, {detail}"
            for detail in _mime_header_defects(part, fields if part is root else _Fields(part))
        )
    return out


def _mime_header_defects(part: email.message.Message, fields: _Fields) -> list[str]:
    """mail-parser's ``mime_header_view`` and filename checks, run only where they can
    find something: a Content-* header holding bytes that are no UTF-8 (kept as
    surrogate escapes by the parser), or a file name with encoded words or surrogates."""
    values = [str(v) for key, _, v in fields.items if key in _MIME_HEADERS]
    if not values:
        return []
    suspect = any(not v.isascii() and _SURROGATES.search(v) for v in values)
    if not suspect and any("name" in v.lower() for v in values):
        try:
            name = part.get_filename()
        except Exception:
            name = None
        suspect = isinstance(name, str) and ("=?" in name or bool(_SURROGATES.search(name)))
    if not suspect:
        return []
    try:
        view, defects = mime_header_view(part)
        decode_header_part(view.get_filename(), defects=defects)
    except Exception as exc:
        return [f"not read by mail-parser ({type(exc).__name__})"]
    return [str(d) for d in defects]


def _build(root: email.message.Message) -> ParseResult:
    fields = _Fields(root)
    values: dict[str, list[str]] = {}
    for lower, name, value in fields.items:
        # A name as the parser reads it (printable ASCII, no space) is its own clean key.
        if name.isascii() and name.isprintable() and " " not in name:
            key = lower[:200]
        else:
            key = clean(str(name)).strip().lower()[:200]
        if key:
            values.setdefault(key, []).append(decode_header_value(value))
    headers = {key: tuple(found) for key, found in values.items()}
    envelope = _envelope(root, fields)
    # collected before the walk decodes payloads, as mail-parser collected them:
    # decoding adds defects of its own (bad base64 ...), which it never reported
    part_defects = _part_defects(root, fields)

    walk = _Walk()
    _walk(root, walk, 0, False, fields)
    body = _body(walk)
    content_type = _content_type(root, fields)

    senders = _addresses(envelope.addresses.get("from"))
    from_name, from_addr = senders[0] if senders else (None, None)
    if from_addr is None and headers.get("from"):
        fallback = email.utils.parseaddr(headers["from"][0])
        from_name, from_addr = fallback[0] or None, (fallback[1].lower() or None)
    delivered = [a for _, a in _addresses(envelope.addresses.get("delivered-to"))]
    delivered += _header_addresses(headers, "x-original-to", "envelope-to")
    date = envelope.date
    if date is not None:
        date = date.replace(tzinfo=UTC) if date.tzinfo is None else date.astimezone(UTC)
    message_ids = _ids(headers.get("message-id", ())[:1])
    report = _delivery_report(headers, content_type, from_addr, walk, body)

    found = [*envelope.defects, *part_defects]
    defects = list(dict.fromkeys([*walk.defects, *(_one_line(d, 200) for d in found)]))
    defects = defects[:MAX_DEFECTS]
    message = ParsedMessage(
        message_id=message_ids[0] if message_ids else None,
        in_reply_to=_ids(headers.get("in-reply-to", ())),
        references=_ids(headers.get("references", ())),
        from_addr=from_addr,
        from_name=from_name or None,
        to=tuple(dict.fromkeys(a for _, a in _addresses(envelope.addresses.get("to")))),
        cc=tuple(dict.fromkeys(a for _, a in _addresses(envelope.addresses.get("cc")))),
        delivered_to=tuple(dict.fromkeys(delivered)),
        subject=(headers.get("subject") or ("",))[0][:2000],
        date=date,
        headers=headers,
        content_type=content_type,
        text=clean(body)[:MAX_TEXT],
        attachments=tuple(info for info, _ in walk.attachments),
        delivery_report=report,
        defects=tuple(defects),
    )
    return ParseResult(message, tuple(data for _, data in walk.attachments))
