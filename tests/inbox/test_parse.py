"""Raw bytes -> ParsedMessage: headers, charsets, HTML, attachments, delivery reports,
and what cannot be parsed at all."""

from __future__ import annotations

import io
from email.message import EmailMessage
from email.policy import SMTP

import pytest

from foibot.errors import ParseError
from foibot.mail.parse import decode_bytes, extract_text, parse_message
from tests.fixtures.eml.make_corpus import make_docx, make_pdf


def raw_text(body: bytes, headers: str = "", ctype: str = "text/plain; charset=utf-8") -> bytes:
    head = (
        'From: "Jane Doe" <Jane.Doe@Barnet.gov.uk>\r\nTo: A. Researcher <research@example.org>\r\n'
        "Subject: =?utf-8?q?Re=3A_your_request_=E2=80=93_caf=C3=A9?=\r\n"
        "Date: Mon, 24 Feb 2020 15:22:10 +0100\r\nMessage-ID: <abc.123@barnet.gov.uk>\r\n"
        f"MIME-Version: 1.0\r\nContent-Type: {ctype}\r\n{headers}\r\n"
    )
    return head.encode() + body


def test_headers_addresses_and_date() -> None:
    m = parse_message(
        raw_text(
            b"Hello\r\n",
            "In-Reply-To: <out.1@mail.example.org>\r\n"
            "References: <a@x> <out.1@mail.example.org>\r\n"
            "Cc: Other <other@barnet.gov.uk>\r\nX-Original-To: research+FB-XA4KN8N@example.org\r\n"
            "Delivered-To: research@example.org\r\nAuto-Submitted: no\r\nReceived: a\r\n"
            "Received: b\r\n",
        )
    )
    assert m.message_id == "abc.123@barnet.gov.uk"
    assert m.in_reply_to == ("out.1@mail.example.org",)
    assert m.references == ("a@x", "out.1@mail.example.org")
    assert (m.from_addr, m.from_name) == ("jane.doe@barnet.gov.uk", "Jane Doe")
    assert m.sender_domain == "barnet.gov.uk"
    assert m.to == ("research@example.org",) and m.cc == ("other@barnet.gov.uk",)
    assert set(m.delivered_to) == {"research@example.org", "research+fb-xa4kn8n@example.org"}
    assert m.subject == "Re: your request – café"
    assert m.date is not None and m.date.isoformat() == "2020-02-24T14:22:10+00:00"
    assert m.headers["received"] == ("a", "b")
    assert m.header("auto-submitted") == "no"
    assert m.text == "Hello"


@pytest.mark.parametrize(
    ("body", "ctype", "cte", "expected"),
    [
        (
            "We’re pleased – £450".encode("cp1252"),
            "text/plain; charset=windows-1252",
            "8bit",
            "We’re pleased – £450",
        ),
        (
            b"We=92re pleased =96 =A3450",
            "text/plain; charset=windows-1252",
            "quoted-printable",
            "We’re pleased – £450",
        ),
        # "ISO-8859-1" that is really Windows-1252, as Outlook sends it
        (
            b"We\x92re pleased \x96 \xa3450",
            "text/plain; charset=iso-8859-1",
            "8bit",
            "We’re pleased – £450",
        ),
        (
            b"V2XigJlyZSBwbGVhc2VkIOKAkyDCozQ1MA==",
            "text/plain; charset=utf-8",
            "base64",
            "We’re pleased – £450",
        ),
        (b"We\xe2\x80\x99re pleased", "text/plain", "8bit", "We’re pleased"),  # undeclared UTF-8
    ],
)
def test_charsets(body: bytes, ctype: str, cte: str, expected: str) -> None:
    m = parse_message(raw_text(body, f"Content-Transfer-Encoding: {cte}\r\n", ctype))
    assert m.text == expected


@pytest.mark.parametrize(
    ("charset", "defect"),
    [("utf-42", "unknown charset"), ("utf-8", "not valid utf-8"), (None, "no charset declared")],
)
def test_bad_charsets_fall_back_and_say_so(charset: str | None, defect: str) -> None:
    ctype = f"text/plain; charset={charset}" if charset else "text/plain"
    m = parse_message(
        raw_text(b"Caf\xe9 \x93quoted\x94", "Content-Transfer-Encoding: 8bit\r\n", ctype)
    )
    assert m.text == "Café “quoted”"
    assert any(defect in d and "Windows-1252" in d for d in m.defects)


def test_decode_bytes_never_raises() -> None:
    for charset in ("", "\x00", "utf-8\x00", "A" * 500, "utf-16", "unicode-1-1-utf-7"):
        text, _ = decode_bytes(b"\xff\xfe\x00abc\x80", charset)
        assert isinstance(text, str)


def test_html_only_body_is_converted_not_stripped() -> None:
    html = (
        "<html><head><style>p {color: red}</style><script>alert(1)</script></head><body>"
        "<p>Dear A.&nbsp;Researcher,</p><p>The council <b>holds</b> the information&hellip;</p>"
        "<table><tr><td>Laptops</td><td>500</td></tr></table>"
        '<p>Review: <a href="mailto:foi@barnet.gov.uk">foi@barnet.gov.uk</a></p></body></html>'
    )
    m = parse_message(raw_text(html.encode(), "", "text/html; charset=utf-8"))
    assert "Dear A. Researcher," in m.text.replace("\xa0", " ")
    assert "holds the information…" in m.text
    assert "Laptops" in m.text and "500" in m.text
    assert "foi@barnet.gov.uk" in m.text
    assert "color: red" not in m.text and "alert(1)" not in m.text and "<p>" not in m.text


def test_plain_part_preferred_to_html() -> None:
    msg = EmailMessage(policy=SMTP)
    msg["From"] = "foi@barnet.gov.uk"
    msg.set_content("plain words")
    msg.add_alternative("<p>html words</p>", subtype="html")
    assert parse_message(msg.as_bytes()).text == "plain words"


def test_pdf_docx_and_text_attachments_are_read() -> None:
    msg = EmailMessage(policy=SMTP)
    msg["From"] = "foi@barnet.gov.uk"
    msg["Subject"] = "Response"
    msg.set_content("See attached.")
    msg.add_attachment(
        make_pdf("Our ref: 6073489\nThe council holds the information."),
        maintype="application",
        subtype="pdf",
        filename="letter.pdf",
    )
    msg.add_attachment(
        make_docx(["Our ref: 8268329", "Answer: No."]),
        maintype="application",
        subtype="vnd.openxmlformats-officedocument.wordprocessingml.document",
        filename="letter.docx",
    )
    msg.add_attachment("a,b\n1,2\n", subtype="csv", filename="data.csv")
    msg.add_attachment(b"\x89PNG\r\n", maintype="image", subtype="png", filename="logo.png")
    m = parse_message(msg.as_bytes())
    pdf, docx, csv, png = m.attachments
    assert pdf.text is not None and "holds the information" in pdf.text
    assert docx.text is not None and "Our ref: 8268329" in docx.text
    assert csv.text == "a,b\n1,2\n"
    assert png.text is None and png.extraction_error is None
    assert "Our ref: 6073489" in m.full_text and "Our ref: 8268329" in m.full_text


def test_damaged_pdf_and_docx_give_an_extraction_error() -> None:
    msg = EmailMessage(policy=SMTP)
    msg["From"] = "foi@barnet.gov.uk"
    msg.set_content("See attached.")
    msg.add_attachment(
        b"%PDF-1.4\n1 0 obj garbage", maintype="application", subtype="pdf", filename="a.pdf"
    )
    msg.add_attachment(
        b"PK\x03\x04 not a zip",
        maintype="application",
        subtype="vnd.openxmlformats-officedocument.wordprocessingml.document",
        filename="b.docx",
    )
    m = parse_message(msg.as_bytes())
    pdf, docx = m.attachments
    assert pdf.text is None and pdf.extraction_error and "PDFium" in pdf.extraction_error
    assert docx.text is None and docx.extraction_error


def test_a_pdf_of_several_pages_is_read_whole_with_its_accents_and_pound_signs() -> None:
    letter = "Our ref: FOI 15631\nThe cost would exceed £450 (café staff).\n" + "\n".join(
        f"Answer {n}: {n * 7} cases." for n in range(1, 150)
    )
    text, error = extract_text(make_pdf(letter), "application/pdf", "Response.pdf")
    assert error is None and text is not None
    assert text.startswith("Our ref: FOI 15631\nThe cost would exceed £450 (café staff).\n")
    assert "\r" not in text
    answers = [line for line in text.splitlines() if line.startswith("Answer ")]
    assert answers == [f"Answer {n}: {n * 7} cases." for n in range(1, 150)]  # 3 pages


def test_forwarded_message_attachment_is_read() -> None:
    inner = EmailMessage(policy=SMTP)
    inner["From"] = "info.requests@leicester.gov.uk"
    inner["Subject"] = "FOIA5727 - response"
    inner.set_content("The Council holds the information requested.")
    outer = EmailMessage(policy=SMTP)
    outer["From"] = "tom.clerk@leicester.gov.uk"
    outer["Subject"] = "FW: response"
    outer.set_content("See the attached message.")
    outer.add_attachment(inner)
    m = parse_message(outer.as_bytes())
    (attached,) = m.attachments
    assert attached.content_type == "message/rfc822"
    assert attached.text is not None and "FOIA5727" in attached.text
    assert "holds the information" in attached.text


def test_rfc3464_delivery_report() -> None:
    raw = (
        b"From: MAILER-DAEMON@mail.example.org\r\nTo: research@example.org\r\n"
        b"Subject: Undelivered\r\n"
        b"MIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nSorry.\r\n"
        b"--b\r\nContent-Type: message/delivery-status\r\n\r\n"
        b"Reporting-MTA: dns; mail.example.org\r\n\r\n"
        b"Final-Recipient: rfc822; FOI@Example.gov.uk\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        b"Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n\r\n"
        b"--b\r\nContent-Type: message/rfc822\r\n\r\nFrom: research@example.org\r\n"
        b"To: foi@example.gov.uk\r\n"
        b"Subject: Freedom of Information request FB-XA4KN8N\r\n"
        b"Message-ID: <out.1@mail.example.org>\r\n\r\n"
        b"Please quote FB-XA4KN8N.\r\n--b--\r\n"
    )
    m = parse_message(raw)
    report = m.delivery_report
    assert report is not None
    assert report.original_message_id == "out.1@mail.example.org"
    assert report.recipients == ("foi@example.gov.uk",)
    assert (report.action, report.status) == ("failed", "5.1.1")
    assert report.diagnostic == "smtp; 550 5.1.1 user unknown"
    # the returned message is ours: stored as an attachment, not read as their words
    assert "FB-XA4KN8N" not in m.full_text


def test_non_standard_bounces() -> None:
    exim = raw_text(
        b"A message that you sent could not be delivered.\r\n\r\n  foi@example.gov.uk\r\n"
        b"------ This is a copy of the message, including all the headers. ------\r\n"
        b"Message-ID: <out.2@mail.example.org>\r\n",
        "X-Failed-Recipients: foi@example.gov.uk\r\n",
    )
    report = parse_message(exim).delivery_report
    assert report is not None
    assert (report.original_message_id, report.recipients) == (
        "out.2@mail.example.org",
        ("foi@example.gov.uk",),
    )
    assert parse_message(raw_text(b"Hello")).delivery_report is None


@pytest.mark.parametrize(
    "raw", [b"", b"   \r\n", b"\x00\x01\x02\x03", b"just some words\nand more"]
)
def test_not_an_email_is_a_parse_error(raw: bytes) -> None:
    with pytest.raises(ParseError):
        parse_message(raw)


def test_leading_junk_is_skipped_with_a_defect() -> None:
    m = parse_message(b"\r\n" + raw_text(b"Hello"))
    assert m.subject.startswith("Re: your request")
    assert any("before the first header skipped" in d for d in m.defects)


def _nested(depth: int) -> bytes:
    parts = b"".join(
        b'Content-Type: multipart/mixed; boundary="n%d"\r\n\r\n--n%d\r\n' % (i, i)
        for i in range(depth)
    )
    return b"From: x@example.org\r\nMIME-Version: 1.0\r\n" + parts + b"text\r\n"


def test_hostile_structure_is_bounded() -> None:
    m = parse_message(_nested(200))  # read down to a fixed depth, and said so
    assert m.from_addr == "x@example.org"
    assert any("MIME nesting deeper than" in d for d in m.defects)
    with pytest.raises(ParseError, match="nested too deeply"):
        parse_message(_nested(5000))  # beyond what the parser itself can walk
    nuls = parse_message(raw_text(b"Hel\x00lo \x00world"))
    assert "\x00" not in nuls.text and "\x00" not in nuls.subject


def test_the_corpus_parses_without_internal_errors() -> None:
    from tests.inbox.conftest import EML

    for path in sorted(EML.glob("*.eml")):
        m = parse_message(path.read_bytes())
        assert m.from_addr, path.name
        assert not any("internal error" in d for d in m.defects)
        io.StringIO(m.full_text)  # text, not bytes


def test_clean_removes_what_databases_refuse() -> None:
    from foibot.mail.parse import clean

    assert clean("a\x00b") == "ab"
    assert clean("caf\udcc3\udca9") == "café"  # escaped UTF-8 bytes, recovered
    assert clean("x\ud800y") == "x\ufffdy"  # a lone surrogate that is no escaped byte
    assert clean("x\udce9y") == "x\ufffdy"


def test_raw_8bit_headers() -> None:
    utf8 = parse_message(
        b"From: Ren\xc3\xa9 <rene@example.gov.uk>\r\n"
        b"Subject: r\xc3\xa9ponse \xe2\x80\x93 FOI\r\n\r\nx"
    )
    assert (utf8.subject, utf8.from_name) == ("réponse – FOI", "René")
    latin = parse_message(b"From: a@example.gov.uk\r\nSubject: Caf\xe9 \x96 menu\r\n\r\nx")
    assert latin.subject == "Café – menu"  # not UTF-8: read as Windows-1252


def test_html_bodies_are_plain_text_not_markdown() -> None:
    """No Markdown (no escapes of what Markdown would read as markup): the body is the
    council's own characters, backslashes they wrote included."""
    html = (
        "<p>1. How many staff?</p><p>- 12 in 2018-19</p><p>+ 3 agency staff</p>"
        "<p>Saved as S:\\FOI\\-2020\\x.docx (v1.2).</p>"
    )
    m = parse_message(raw_text(html.encode(), "", "text/html; charset=utf-8"))
    assert m.text == (
        "1. How many staff?\n\n- 12 in 2018-19\n\n+ 3 agency staff\n\n"
        "Saved as S:\\FOI\\-2020\\x.docx (v1.2)."
    )
