"""HTML -> plain text, laid out as a browser shows it: the text of HTML-only bodies.

Parsed by lxml (libxml2's HTML parser, in recovery mode: whatever the markup, a tree),
then walked once, without recursion, with ``lxml.etree.iterwalk``. What the reader sees:

- block elements start on a new line; paragraphs, headings, lists, tables, quotes and
  ``<pre>`` are set off by one blank line; ``<br>`` breaks the line; white space inside
  text collapses to one space (``&nbsp;`` too), except in ``<pre>``; never more than one
  blank line in a row;
- lists: ``- item``, or ``1. item`` numbered (``start``, ``value`` and ``type`` are
  honoured); nested lists indented under their item;
- tables: one row per line, cells separated by `` | ``; a row whose cells hold several
  lines (a layout table around a whole letter) gives its cells one after the other;
- ``<blockquote>``: its lines start with ``> `` (what quoted-history stripping drops);
- links: their text, and the address after it, ``text (https://...)``, when the link is
  a web or ``mailto:`` address that the text does not already show;
- dropped: script, style, head, title, comments (Outlook's conditional comments too),
  images. No Markdown: the text is the council's own characters.

It never raises: input it cannot parse as a tree (nesting deeper than libxml2's limit,
2048) is read by the standard library's tokenizer, text block by block, with a defect note.
"""

from __future__ import annotations

import threading
from html.parser import HTMLParser
from typing import cast
from urllib.parse import unquote

from lxml import etree

__all__ = ["html_to_text"]

# What an element does to the layout.
_INLINE = 0
_BLOCK = 1  # a new line before and after
_PARA = 2  # a blank line before and after
_BR = 3
_SKIP = 4
_LIST = 5
_ITEM = 6
_QUOTE = 7
_PRE = 8
_TABLE = 9
_ROW = 10
_CELL = 11
_LINK = 12
_HR = 13

_BLOCKS = (
    "div", "address", "article", "aside", "center", "dd", "details", "dialog", "dt",
    "fieldset", "figcaption", "footer", "form", "header", "hgroup", "legend", "main", "nav",
    "section", "summary", "caption", "body", "html", "noscript", "frameset", "frame", "option",
)  # fmt: skip
_KINDS: dict[str, int] = {
    **dict.fromkeys(_BLOCKS, _BLOCK),
    **dict.fromkeys(("p", "h1", "h2", "h3", "h4", "h5", "h6", "dl", "figure"), _PARA),
    **dict.fromkeys(("script", "style", "head", "title", "template", "img", "svg"), _SKIP),
    **dict.fromkeys(("ul", "ol", "menu", "dir"), _LIST),
    **dict.fromkeys(("pre", "listing", "xmp", "plaintext"), _PRE),
    **dict.fromkeys(("td", "th"), _CELL),
    "br": _BR,
    "li": _ITEM,
    "blockquote": _QUOTE,
    "table": _TABLE,
    "tr": _ROW,
    "a": _LINK,
    "hr": _HR,
}
MAX_INPUT = 2_000_000  # characters read (as parse.MAX_TEXT: an HTML attachment may be longer)
_UNDO = tuple((kind, None) for kind in range(_HR + 1))  # (kind, nothing saved)
_RULE = "-----"  # what <hr> shows (not "____": that line is read as a reply separator)
_WEB = ("http://", "https://", "ftp://")
_WHITE = ("\n", "\t", "\r", "\xa0", "\x0c")  # white space in HTML text, &nbsp; too


class _Writer:
    """Text laid out line by line: pieces appended to a list, joined once.

    Line breaks are asked for (``pending``: 1 a new line, 2 a blank line) and written
    only before the next text, so that closing tags and empty elements never leave
    trailing breaks or blank lines; a space between words likewise (``space``)."""

    __slots__ = ("has_text", "indent", "line_quote", "marker", "out", "pending", "quote", "space")

    def __init__(self) -> None:
        self.out: list[str] = []
        self.pending = 0
        self.space = False
        self.has_text = False
        self.quote = 0  # blockquote depth
        self.line_quote = 0  # blockquote depth of the line last written
        self.indent = ""  # list indentation of continuation lines
        self.marker = ""  # list marker waiting for its item's first line

    def brk(self, lines: int) -> None:
        if lines > self.pending:
            self.pending = lines

    def put(self, text: str) -> None:
        """Writes ``text`` (no line break in it): after the line breaks asked for and the
        new line's prefix, or after the space between words."""
        out = self.out
        if self.has_text:
            if not self.pending:
                if self.space:
                    out.append(" ")
                    self.space = False
                out.append(text)
                return
            if self.pending == 1:
                out.append("\n")
            elif self.quote and self.line_quote:
                out.append("\n" + ("> " * min(self.quote, self.line_quote)).rstrip() + "\n")
            else:
                out.append("\n\n")
            self.pending = 0
        else:
            self.has_text = True
            self.pending = 0
        self.space = False
        self.line_quote = self.quote
        if self.quote:
            out.append("> " * self.quote)
        if self.marker:
            out.append(self.indent[: -len(self.marker)] + self.marker)
            self.marker = ""
        elif self.indent:
            out.append(self.indent)
        out.append(text)

    def text(self, text: str) -> None:
        """Text as HTML shows it: white space collapsed (str methods: they are several
        times faster here than ``" ".join(text.split())`` or a regex)."""
        for white in _WHITE:
            if white in text:
                text = text.replace(white, " ")
        while "  " in text:
            text = text.replace("  ", " ")
        if text[0] == " ":
            self.space = True
            if len(text) == 1:
                return
            text = text[1:]
        if text[-1] == " ":
            self.put(text[:-1])
            self.space = True
        else:
            self.put(text)

    def content(self, text: str, pre: int) -> None:
        """An element's text or tail: as laid out inside ``<pre>``, collapsed elsewhere."""
        if pre:
            self.lines(text.replace("\r\n", "\n").replace("\r", "\n"))
        else:
            self.text(text)

    def lines(self, text: str) -> None:
        """Text whose line breaks and spaces are kept (``<pre>``, a table row)."""
        for i, line in enumerate(text.split("\n")):
            if i:
                self.pending = min(self.pending + 1, 2)
            if line:
                self.space = False
                self.put(line)

    def result(self) -> str:
        return "".join(self.out).strip()


class _Table:
    __slots__ = ("depth", "row", "writer")

    def __init__(self, writer: _Writer, depth: int) -> None:
        self.writer = writer  # where the rows are written
        self.depth = depth  # len(writers) at the table: its own cells are one deeper
        self.row: list[str] | None = None

    def flush(self) -> None:
        row, self.row = self.row, None
        if not row or not any(row):
            return
        cells = [c for c in row if c]
        if len(cells) == 1:
            text = cells[0]
        elif any("\n" in c for c in cells):  # layout, not figures: cell after cell
            text = "\n".join(cells)
        else:
            text = " | ".join(row).strip()  # (an empty first or last cell)
        self.writer.brk(1)
        self.writer.lines(text)
        self.writer.brk(1)


class _List:
    __slots__ = ("kind", "next")

    def __init__(self, kind: str | None, start: int) -> None:
        self.kind = kind  # None for bullets, else <ol type>: "1", "a", "A", "i" or "I"
        self.next = start  # the next item's number


def _marker(kind: str | None, n: int) -> str:
    if kind is None:
        return "- "
    if kind in ("a", "A") and 0 < n <= 26:
        letter = chr(ord("a") + n - 1)
        return (letter if kind == "a" else letter.upper()) + ". "
    if kind in ("i", "I") and 0 < n < 40:
        roman = _roman(n)
        return (roman if kind == "i" else roman.upper()) + ". "
    return f"{n}. "


def _roman(n: int) -> str:
    out = []
    for value, digits in ((10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")):
        while n >= value:
            out.append(digits)
            n -= value
    return "".join(out)


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def _link_address(href: str, text: str) -> str | None:
    """The address to show after a link's text, if the text does not show it."""
    href = href.strip()
    lower = href.lower()
    if lower.startswith("mailto:"):
        address = unquote(href[7:].partition("?")[0]).strip()
        if not address or "@" in text or address.lower() in text.lower():
            return None
        return address
    if not lower.startswith(_WEB) or not text:
        return None
    shown = text.lower()
    if "://" in shown or shown.startswith("www.") or lower in shown:
        return None
    bare = lower.partition("://")[2].removeprefix("www.").rstrip("/")
    if bare == shown.removeprefix("www.").rstrip("/"):
        return None
    return href


_local = threading.local()


def _parser() -> etree.HTMLParser:
    parser: etree.HTMLParser | None = getattr(_local, "parser", None)
    if parser is None:  # one per thread: a parser is not to be shared between threads
        parser = etree.HTMLParser(
            encoding="utf-8",
            recover=True,
            no_network=True,
            remove_comments=True,
            remove_pis=True,
            collect_ids=False,
            default_doctype=False,
            huge_tree=True,  # nesting up to 2048 deep rather than 256 (long reply chains)
        )
        _local.parser = parser
    return parser


class _TooDeep(Exception):
    pass


def _convert(html: str) -> str:
    # Bytes, with the encoding given: lxml refuses a str holding an encoding
    # declaration, and a <meta charset> must not re-decode text already decoded.
    try:
        data = html.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates
        data = html.encode("utf-8", "ignore")
    parser = _parser()
    root = etree.fromstring(data, parser)
    if root is None:
        return ""
    for error in parser.error_log:
        if error.type == etree.ErrorTypes.ERR_RESOURCE_LIMIT:
            raise _TooDeep(error.message)

    writer = _Writer()
    writers: list[_Writer] = [writer]
    tables: list[_Table] = []
    lists: list[_List] = []
    pre = 0
    # what each open element's end must undo: (kind, saved state)
    undo: list[tuple[int, object]] = []
    push, pop = undo.append, undo.pop
    walk = etree.iterwalk(root, events=("start", "end"))
    for event, el in walk:
        if event == "start":
            tag = el.tag
            kind = _KINDS.get(tag, _INLINE) if tag.__class__ is str else _SKIP
            saved: object = None
            if kind == _INLINE:
                push(_UNDO[_INLINE])
                text = el.text
                if text:
                    writer.content(text, pre)
                continue
            elif kind <= _PARA:  # _BLOCK, _PARA: a new line, a blank line
                if writer.pending < kind:
                    writer.pending = kind
            elif kind == _SKIP:
                walk.skip_subtree()
                push(_UNDO[kind])
                continue  # neither text nor children
            elif kind == _BR:
                writer.pending = min(writer.pending + 1, 2) if writer.has_text else 0
            elif kind == _LIST:
                writer.brk(1 if lists else 2)
                lists.append(
                    _List(el.get("type") or "1" if tag == "ol" else None, _int(el.get("start"), 1))
                )
            elif kind == _ITEM:
                writer.brk(1)
                if lists:
                    current = lists[-1]
                    number = _int(el.get("value"), current.next)
                    current.next = number + 1
                    marker = _marker(current.kind, number)
                else:
                    marker = "- "
                saved = writer.indent
                writer.indent += " " * len(marker)
                writer.marker = marker
            elif kind == _QUOTE:
                writer.brk(2)
                writer.quote += 1
            elif kind == _PRE:
                writer.brk(2)
                pre += 1
                text = el.text
                if text and text[0] == "\n":
                    el.text = text[1:]  # the newline right after <pre> is not shown
            elif kind == _TABLE:
                writer.brk(2)
                tables.append(_Table(writer, len(writers)))
                saved = tables[-1]
            elif kind == _ROW:
                if tables and tables[-1].depth == len(writers):
                    tables[-1].flush()
                    tables[-1].row = []
                else:
                    kind = _BLOCK
                    writer.brk(1)
            elif kind == _CELL:
                if tables and tables[-1].depth == len(writers):
                    if tables[-1].row is None:
                        tables[-1].row = []
                    writer = _Writer()
                    writers.append(writer)
                else:  # a cell outside a table: words apart
                    kind = _INLINE
                    writer.space = True
            elif kind == _LINK:
                href = el.get("href")
                if href:
                    saved = (writer, len(writer.out), href)
                else:
                    kind = _INLINE
            elif kind == _HR:
                writer.brk(2)
                writer.lines(_RULE)
                writer.brk(2)
            push(_UNDO[kind] if saved is None else (kind, saved))
            text = el.text
            if text:
                writer.content(text, pre)
            continue

        # end
        kind, saved = pop()
        if kind == _INLINE:
            pass
        elif kind <= _PARA:
            if writer.pending < kind:
                writer.pending = kind
        elif kind == _LIST:
            lists.pop()
            writer.brk(1 if lists else 2)
        elif kind == _ITEM:
            writer.indent = cast(str, saved)
            writer.marker = ""
            writer.brk(1)
        elif kind == _QUOTE:
            writer.quote -= 1
            writer.brk(2)
        elif kind == _PRE:
            pre -= 1
            writer.brk(2)
        elif kind == _TABLE:
            table = tables.pop()
            if table is saved:
                table.flush()
            writer.brk(2)
        elif kind == _ROW:
            if tables and tables[-1].depth == len(writers):
                tables[-1].flush()
        elif kind == _CELL:
            cell = writers.pop()
            writer = writers[-1]
            if tables and tables[-1].row is not None:
                tables[-1].row.append(cell.result())
        elif kind == _LINK:
            link_writer, start, href = cast(tuple[_Writer, int, str], saved)
            if link_writer is writer:
                address = _link_address(href, "".join(writer.out[start:]).strip())
                if address:
                    writer.out.append(f" ({address})")
        tail = el.tail
        if tail:
            writer.content(tail, pre)
    return writers[0].result()  # (every start had its end: the cells' writers are gone)


class _FlatText(HTMLParser):
    """The fallback: the document's text nodes, a new line at each block."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        kind = _KINDS.get(tag, _INLINE)
        if kind == _SKIP and tag not in ("img", "svg"):
            self._skip += 1
        elif kind not in (_INLINE, _LINK, _SKIP):
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if self._skip and _KINDS.get(tag) == _SKIP and tag not in ("img", "svg"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)

    def text(self) -> str:
        lines = (" ".join(line.split()) for line in "".join(self.parts).split("\n"))
        out: list[str] = []
        for line in lines:
            if line or (out and out[-1]):
                out.append(line)
        return "\n".join(out).strip()


def html_to_text(html: str) -> tuple[str, str | None]:
    """The text of an HTML document as a browser lays it out, and a defect note when
    the HTML could not be read as a tree (then its text is extracted block by block)."""
    if not html or html.isspace():
        return "", None
    html = html[:MAX_INPUT]
    if "\x00" in html:
        html = html.replace("\x00", "")
    try:
        return _convert(html), None
    except _TooDeep:
        note = "HTML nested too deeply"
    except Exception as exc:  # libxml2 on hostile markup: never fails the message
        note = f"HTML could not be parsed ({type(exc).__name__})"
    try:
        fallback = _FlatText()
        fallback.feed(html)
        fallback.close()
        return fallback.text(), f"{note}; used plain text extraction"
    except Exception as exc:
        return "", f"{note}; plain text extraction failed ({type(exc).__name__})"
