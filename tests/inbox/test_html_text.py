"""HTML-only bodies as the council's reader sees them: realistic Outlook, Gmail and
case-management markup, each checked against its exact text; and whatever the markup,
text and never an exception."""

from __future__ import annotations

import html as htmllib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from foibot.domain.classify import review_address, strip_quoted_history
from foibot.mail.html_text import html_to_text

# What Outlook (Word's HTML) sends: namespaces, Word's style sheet in a comment,
# conditional comments, MsoNormal paragraphs with <o:p>, "&nbsp;" paragraphs as blank
# lines, a table of figures whose cells hold paragraphs, a review address behind a
# mailto: link, and the reply separator (a div with a top border) above our request.
OUTLOOK = """\
<html xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office"
xmlns:w="urn:schemas-microsoft-com:office:word" xmlns="http://www.w3.org/TR/REC-html40">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<meta name="Generator" content="Microsoft Word 15 (filtered medium)">
<!--[if !mso]><style>v\\:* {behavior:url(#default#VML);}
o\\:* {behavior:url(#default#VML);}
</style><![endif]--><style><!--
@font-face
\t{font-family:"Cambria Math";
\tpanose-1:2 4 5 3 5 4 6 3 2 4;}
p.MsoNormal, li.MsoNormal, div.MsoNormal
\t{margin:0cm;
\tfont-size:11.0pt;
\tfont-family:"Calibri",sans-serif;}
--></style><!--[if gte mso 9]><xml>
<o:shapedefaults v:ext="edit" spidmax="1026" />
</xml><![endif]-->
</head>
<body lang="EN-GB" link="#0563C1" vlink="#954F72" style="word-wrap:break-word">
<div class="WordSection1">
<p class="MsoNormal">Dear A.&nbsp;Researcher,<o:p></o:p></p>
<p class="MsoNormal"><o:p>&nbsp;</o:p></p>
<p class="MsoNormal">Thank you for your request for information received on 10 May 2022.
The Council <b>holds</b> the information you requested.<o:p></o:p></p>
<p class="MsoNormal"><o:p>&nbsp;</o:p></p>
<table class="MsoTableGrid" border="1" cellspacing="0" cellpadding="0"
 style="border-collapse:collapse;border:none;mso-border-alt:solid windowtext .5pt">
<tr>
<td width="150" valign="top" style="width:112.7pt;border:solid windowtext 1.0pt">
<p class="MsoNormal"><b>Year<o:p></o:p></b></p>
</td>
<td width="150" valign="top" style="width:112.7pt;border:solid windowtext 1.0pt">
<p class="MsoNormal"><b>Laptops<o:p></o:p></b></p>
</td>
<td width="150" valign="top" style="width:112.7pt;border:solid windowtext 1.0pt">
<p class="MsoNormal"><b>Tablets<o:p></o:p></b></p>
</td>
</tr>
<tr>
<td valign="top"><p class="MsoNormal">2020/21<o:p></o:p></p></td>
<td valign="top"><p class="MsoNormal" align="right">1,250<o:p></o:p></p></td>
<td valign="top"><p class="MsoNormal" align="right">310<o:p></o:p></p></td>
</tr>
<tr>
<td valign="top"><p class="MsoNormal">2021/22<o:p></o:p></p></td>
<td valign="top"><p class="MsoNormal" align="right">1,412<o:p></o:p></p></td>
<td valign="top"><p class="MsoNormal" align="right">&nbsp;<o:p></o:p></p></td>
</tr>
</table>
<p class="MsoNormal"><o:p>&nbsp;</o:p></p>
<p class="MsoNormal">If you are unhappy with the way your request has been handled, you can
request an internal review by writing to
<a href="mailto:foi.reviews@barnet.gov.uk?subject=Internal%20review">the Information Management
Team</a>.<o:p></o:p></p>
<p class="MsoNormal"><o:p>&nbsp;</o:p></p>
<p class="MsoNormal"><span style="color:#1F497D">Kind regards<o:p></o:p></span></p>
<p class="MsoNormal"><span style="color:#1F497D">Information Management Team<br>
London Borough of Barnet<o:p></o:p></span></p>
<p class="MsoNormal"><o:p>&nbsp;</o:p></p>
<div>
<div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm">
<p class="MsoNormal"><b><span lang="EN-US">From:</span></b><span lang="EN-US"> A. Researcher
&lt;research+FOI-7K2Q@example.org&gt; <br>
<b>Sent:</b> 10 May 2022 09:12<br>
<b>To:</b> FOI &lt;foi@barnet.gov.uk&gt;<br>
<b>Subject:</b> Freedom of Information request FOI-7K2Q<o:p></o:p></span></p>
</div>
</div>
<p class="MsoNormal"><o:p>&nbsp;</o:p></p>
<p class="MsoNormal">Dear Barnet Council,<o:p></o:p></p>
<p class="MsoNormal">Please provide the number of laptops issued to staff.<o:p></o:p></p>
</div>
</body>
</html>
"""

OUTLOOK_TEXT = """\
Dear A. Researcher,

Thank you for your request for information received on 10 May 2022. The Council holds \
the information you requested.

Year | Laptops | Tablets
2020/21 | 1,250 | 310
2021/22 | 1,412 |

If you are unhappy with the way your request has been handled, you can request an \
internal review by writing to the Information Management Team (foi.reviews@barnet.gov.uk).

Kind regards

Information Management Team
London Borough of Barnet

From: A. Researcher <research+FOI-7K2Q@example.org>
Sent: 10 May 2022 09:12
To: FOI <foi@barnet.gov.uk>
Subject: Freedom of Information request FOI-7K2Q

Dear Barnet Council,

Please provide the number of laptops issued to staff."""

# Gmail: a line per div, <div><br></div> for a blank line, a numbered list of answers,
# and our request quoted in a blockquote under "On ... wrote:".
GMAIL = (
    '<div dir="ltr"><div>Dear A. Researcher,</div><div><br></div>'
    "<div>Please find our answers below:</div><div><ol>"
    "<li>Yes, 1,250 laptops.</li><li>The council does not hold this information.</li>"
    "<li>See the table attached.<br>It covers 2019 to 2022.</li></ol>"
    "<div>Regards,</div><div>FOI Team</div></div></div><br>"
    '<div class="gmail_quote"><div dir="ltr" class="gmail_attr">On Tue, 10 May 2022 at 09:12,'
    ' A. Researcher &lt;<a href="mailto:research+FOI-7K2Q@example.org">'
    "research+FOI-7K2Q@example.org</a>&gt; wrote:<br></div>"
    '<blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;'
    'border-left:1px solid rgb(204,204,204);padding-left:1ex"><div dir="ltr">Dear Council,'
    "<br><br>Please tell me:<br><ol><li>How many laptops?</li><li>How many tablets?</li></ol>"
    "Yours faithfully,<br>A. Researcher</div></blockquote></div>"
)

GMAIL_TEXT = """\
Dear A. Researcher,

Please find our answers below:

1. Yes, 1,250 laptops.
2. The council does not hold this information.
3. See the table attached.
   It covers 2019 to 2022.

Regards,
FOI Team

On Tue, 10 May 2022 at 09:12, A. Researcher <research+FOI-7K2Q@example.org> wrote:

> Dear Council,
>
> Please tell me:
>
> 1. How many laptops?
> 2. How many tablets?
>
> Yours faithfully,
> A. Researcher"""

CASES = [
    pytest.param(OUTLOOK, OUTLOOK_TEXT, id="outlook-reply"),
    pytest.param(GMAIL, GMAIL_TEXT, id="gmail-reply"),
    pytest.param(
        # a case-management system's letter: headings, a layout table around it,
        # bullets with a nested list, a link whose text is not its address
        "<html><head><title>FOI 11334</title><script>track()</script></head><body>"
        '<table width="600"><tr><td><img src="cid:logo" alt="Barnet"></td></tr>'
        "<tr><td><h2>Freedom of Information request FOI 11334</h2>"
        "<p>Our ref:&nbsp;FOI&nbsp;11334</p><p>We hold:</p>"
        "<ul><li>the policy<ul><li>2019 version</li><li>2021 version</li></ul></li>"
        "<li>the training log</li></ul>"
        '<p>Both are published on <a href="https://www.barnet.gov.uk/foi-disclosures">our '
        'disclosure log</a> and at <a href="https://www.barnet.gov.uk/">www.barnet.gov.uk</a>.'
        "</p></td></tr></table></body></html>",
        "Freedom of Information request FOI 11334\n\nOur ref: FOI 11334\n\nWe hold:\n\n"
        "- the policy\n  - 2019 version\n  - 2021 version\n- the training log\n\n"
        "Both are published on our disclosure log (https://www.barnet.gov.uk/foi-disclosures)"
        " and at www.barnet.gov.uk.",
        id="layout-table-lists-links",
    ),
    pytest.param(
        # what html2text escaped as Markdown is the council's own text
        "<p>1. How many staff?</p><p>- 12 in 2018-19</p><p>+ 3 agency staff</p>"
        "<p>Saved as S:\\FOI\\-2020\\x_v1.2 *draft* #3.</p><h1>Outcome</h1><hr><p>End</p>",
        "1. How many staff?\n\n- 12 in 2018-19\n\n+ 3 agency staff\n\n"
        "Saved as S:\\FOI\\-2020\\x_v1.2 *draft* #3.\n\nOutcome\n\n-----\n\nEnd",
        id="no-markdown",
    ),
    pytest.param(
        "<p>Figures:</p><pre>\n  Year   Cost\n  2021   \u00a3400\n\n  2022   \u00a3512</pre>"
        "<ol start='4' type='a'><li>fourth</li><li value='9'>ninth</li></ol>",
        "Figures:\n\n  Year   Cost\n  2021   £400\n\n  2022   £512\n\nd. fourth\ni. ninth",
        id="pre-and-list-numbering",
    ),
    pytest.param(
        "<div>No <i>tags</i>   closed<p>para<div>block",
        "No tags closed\n\npara\n\nblock",
        id="unclosed-tags",
    ),
    pytest.param("Just text, &amp; no tags.", "Just text, & no tags.", id="no-tags"),
    pytest.param(
        '<?xml version="1.0" encoding="iso-8859-1"?><html><body>'
        '<p>Caf\u00e9 \u2013 r\u00e9sum\u00e9</p><meta charset="windows-1252"></body></html>',
        "Café – résumé",
        id="encoding-declarations-in-a-str",
    ),
    pytest.param("", "", id="empty"),
]


@pytest.mark.parametrize(("html", "expected"), CASES)
def test_html_reads_as_the_council_wrote_it(html: str, expected: str) -> None:
    assert html_to_text(html) == (expected, None)


def test_outlook_reply_is_read_for_review_address_and_own_words() -> None:
    text, _ = html_to_text(OUTLOOK)
    assert review_address(text)[0] == "foi.reviews@barnet.gov.uk"
    own = strip_quoted_history(text)
    assert "Kind regards" in own and "Please provide the number" not in own


def test_quoted_request_is_stripped_with_its_quote_marks() -> None:
    own = strip_quoted_history(html_to_text(GMAIL)[0])
    assert own.rstrip().endswith("FOI Team")
    assert "How many laptops?" not in own


@pytest.mark.parametrize(
    "html",
    [
        "<div>" * 100_000 + "deep words" + "</div>" * 100_000 + "<p>after</p>",
        "<ol><li>" * 50_000 + "deep words",
        "<table><tr><td>" * 5_000 + "deep words",
        "<blockquote>" * 3_000 + "deep words",
    ],
    ids=["div", "list", "table", "blockquote"],
)
def test_huge_nesting_gives_the_text_and_a_defect(html: str) -> None:
    text, defect = html_to_text(html)
    assert "deep words" in text
    assert defect is not None and "nested too deeply" in defect


def test_nesting_a_long_reply_chain_deep_is_read_as_a_tree() -> None:
    html = '<blockquote type="cite"><div>' * 400 + "first" + "</div></blockquote>" * 400
    text, defect = html_to_text("<p>latest</p>" + html)
    assert defect is None
    assert text.startswith("latest\n\n" + "> " * 400 + "first")


def test_hostile_characters() -> None:
    text, defect = html_to_text("\x00<p>a\x00b \ud800c &#0; \udcff</p>")
    assert isinstance(text, str) and defect is None
    assert "\x00" not in text and "ab" in text and "c" in text
    text.encode("utf-8")  # no lone surrogate left


_MARKUP = st.sampled_from(
    [
        "<p>", "</p>", "<div>", "</div>", "<br>", "<table>", "<tr>", "<td>", "</td>", "<th>",
        "</table>", "<ul>", "<ol start=x type=i>", "<li value=-3>", "</li>", "<pre>", "</pre>",
        "<blockquote>", "</blockquote>", '<a href="mailto:?">', '<a href="https://x">', "</a>",
        "<script>", "</script>", "<style>", "<!--", "-->", "<!--[if mso]>", "<![endif]-->",
        "<![if !supportLists]>", "<o:p>", "</o:p>", "&nbsp;", "&#0;", "&#x110000;", "&", "<",
        ">", "\x00", "\ud800", "\r\n", "\t", "<?xml encoding='latin-1'?>", "<hr>", "<img>",
        "<head>", "<title>", "<h1>", "</h1>", "<caption>", "<td colspan=2>",
    ]
)  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(_MARKUP, st.text(max_size=20)), max_size=60))
def test_any_markup_gives_text(pieces: list[str]) -> None:
    text, defect = html_to_text("".join(pieces))
    assert isinstance(text, str)
    assert defect is None or isinstance(defect, str)
    assert "\n\n\n" not in text and text == text.strip()


_WORD = st.text(
    st.characters(blacklist_categories=("Z", "C")), min_size=1, max_size=12
)  # no white space, no control characters


@settings(max_examples=300, deadline=None)
@given(st.lists(_WORD, min_size=1, max_size=30), st.sampled_from([" ", "\n", "  \t", "&nbsp;"]))
def test_words_of_a_paragraph_come_out_in_order(words: list[str], gap: str) -> None:
    html = "<p>" + gap.join(htmllib.escape(w) for w in words) + "</p>"
    text, defect = html_to_text(html)
    assert defect is None
    assert text == " ".join(words)
