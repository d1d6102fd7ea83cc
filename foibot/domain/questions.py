"""The campaign's question list, extracted from the request text and editable by the user.

A request sent to 150 councils asks numbered questions ("1.", "1)", "Q1", "Question 1"),
lettered ones ("a)", "(a)", "a."), compound ones ("1a.", "1(a)") and nested lists
("1. ... a) ... b)"); bullet points under a question are its listed options ("* Laptop",
"- Yes, we prevent all tasks"). Each question gets a stable key ("1", "1a", "2"...), the
label it was written with, its text, its options and its parent.

Nesting is worked out without relying on indentation (councils and word processors lose
it): a marker that continues the innermost list ("b" after "a") is a sibling there; a
marker that starts a list ("a", "i", "1" or "0") under an item is a nested list; one that
continues an outer list closes the inner ones. So "1. 0. 1. 2. 2." reads as 1, 1a, 1b,
1c, 2 (a word processor's rendering of "1. a) b) c) 2."), and "c. a. b. d." as c, c1,
c2, d. Keys alternate digits and letters: a nested list under "1" is keyed 1a, 1b ...;
under "c" or "1a" it is keyed c1, c2 / 1a1, 1a2.

The editable text form (``to_text`` / ``from_text``)::

    # comment
    [1a] How many of your employees work with children?
    [1c] Do you provide these employees with any of the below devices?
      - Basic mobile phone
      - Smartphone
    [c1] a. Basic mobile phone        <- the label as written, when it differs from the key

Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# ----------------------------------------------------------------------------- model


@dataclass(frozen=True)
class Question:
    key: str  # stable, unique in the list: "1", "1a", "c1", "2"
    text: str  # the question itself; may span lines ("...?\nYes/No")
    parent: str | None = None  # key of the question it belongs to
    label: str | None = None  # the marker as written ("0", "d", "1a"), when known
    options: tuple[str, ...] = ()  # the listed choices under it (bullets)

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"key": self.key, "text": self.text}
        if self.parent is not None:
            data["parent"] = self.parent
        if self.label is not None and self.label != self.key:
            data["label"] = self.label
        if self.options:
            data["options"] = list(self.options)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Question:
        key, text = data.get("key"), data.get("text")
        if not isinstance(key, str) or not isinstance(text, str):
            raise QuestionsError(f"stored question is malformed: {dict(data)!r}")
        parent, label = data.get("parent"), data.get("label")
        options = data.get("options") or ()
        return cls(
            key=key,
            text=text,
            parent=parent if isinstance(parent, str) else None,
            label=label if isinstance(label, str) else key,
            options=tuple(str(o) for o in options),
        )


class QuestionsError(ValueError):
    """An edited question list is wrong; the message is one line naming the line."""


def questions_from_json(data: Iterable[Mapping[str, Any]]) -> list[Question]:
    return [Question.from_json(d) for d in data]


def questions_to_json(questions: Sequence[Question]) -> list[dict[str, Any]]:
    return [q.as_json() for q in questions]


# ----------------------------------------------------------------------------- lines

_STRONG = re.compile(r"(?<!\\)(?:\*{2,}|_{2,})")  # **bold**, ***bold italic***, __bold__
_HEADER = re.compile(r"^\s{0,3}#{1,6}\s+")
_BULLET = re.compile(r"^(?:[-*•·‣◦▪▫■□●○–—>]|o(?=\s+\S))\s*")
_TOKEN = re.compile(r"[a-z0-9]+")
_ROMAN = re.compile(r"^(?=[ivx])x{0,3}(?:ix|iv|v?i{0,3})$")
_SIGN_OFF = re.compile(
    r"^(?:many thanks|thanks|thank you|kind regards|regards|best wishes|yours\b|"
    r"i look forward|please do not hesitate|please don't hesitate)",
    re.IGNORECASE,
)


def clean_line(line: str) -> str:
    """A line without Markdown emphasis or header marks, escapes undone, whitespace
    tidied: what councils' converted letters look like once the decoration is gone."""
    text = _HEADER.sub("", line.replace("\u00a0", " ").replace("\t", " "))
    text = _STRONG.sub("", text)
    text = text.replace("\\*", "*").replace("\\-", "-").replace("\\_", "_").replace("\\#", "#")
    return re.sub(r" {2,}", " ", text).strip().strip("|").strip()  # table rows: "| 1. ... | 45 |"


def tokens(text: str) -> list[str]:
    """Lower-case words and numbers: what text comparison looks at (quotes, dashes and
    punctuation, straight or curly, do not count)."""
    return _TOKEN.findall(text.lower().replace("’", "'"))


@dataclass(frozen=True)
class Marker:
    """An enumeration marker at the start of a line."""

    style: str  # "number" | "letter" | "roman" | "compound" | "bullet"
    label: str  # as written, normalised: "1", "a", "ii", "1a"; "" for a bullet
    value: int  # number, letter index (a=0), roman value; compound: the number
    rest: str  # the line after the marker
    letter: str = ""  # compound only: the letter ("1a" -> "a")

    @property
    def could_be_roman(self) -> bool:
        return self.style == "letter" and self.label in ("i", "v", "x")


_Q_WORD = re.compile(
    r"^(?:q|question)\s*\.?\s*(\d{1,3})\s*(?:\(?([a-z])\)?(?![a-z]))?\s*[.):\-–]?\s*",
    re.IGNORECASE,
)
_COMPOUND = re.compile(r"^\(?(\d{1,3})(?:\.?\(([a-z])\)|([a-z])|\.([a-z])(?=[.):]))[.):]?(?:\s+|$)")
_NUMBER = re.compile(r"^\(?(\d{1,3})(?:[.):]|\))(?!\d)\s*")
_PAREN_NUMBER = re.compile(r"^\((\d{1,3})\)\s*")
_LETTER = re.compile(r"^\(?([a-zA-Z])[.)](?:\s+|$)|^\(([a-zA-Z])\)\s*")
_ROMAN_MARK = re.compile(r"^\(?([ivx]{2,5})[.)](?:\s+|$)|^\(([ivx]{2,5})\)\s*", re.IGNORECASE)


def parse_marker(line: str) -> Marker | None:
    """The marker at the start of a cleaned line, or None. Bullets are returned as
    style "bullet" with the text after every bullet character ("- * Laptop")."""
    text = line.strip()
    m = _Q_WORD.match(text)
    if m and (m.group(1)):
        number, letter = int(m.group(1)), (m.group(2) or "").lower()
        rest = text[m.end() :]
        if letter:
            return Marker("compound", f"{number}{letter}", number, rest, letter)
        return Marker("number", str(number), number, rest)
    m = _COMPOUND.match(text)
    if m:
        letter = (m.group(2) or m.group(3) or m.group(4)).lower()
        number = int(m.group(1))
        return Marker("compound", f"{number}{letter}", number, text[m.end() :], letter)
    m = _NUMBER.match(text) or _PAREN_NUMBER.match(text)
    if m:
        number = int(m.group(1))
        return Marker("number", str(number), number, text[m.end() :])
    m = _ROMAN_MARK.match(text)
    if m:
        label = (m.group(1) or m.group(2)).lower()
        if _ROMAN.match(label):
            return Marker("roman", label, roman_value(label), text[m.end() :])
    m = _LETTER.match(text)
    if m:
        label = (m.group(1) or m.group(2)).lower()
        return Marker("letter", label, ord(label) - ord("a"), text[m.end() :])
    if _BULLET.match(text):
        rest = text
        while True:
            b = _BULLET.match(rest)
            if not b or b.end() == 0:
                break
            rest = rest[b.end() :]
        if rest.strip():
            return Marker("bullet", "", 0, rest.strip())
    return None


def roman_value(text: str) -> int:
    values = {"i": 1, "v": 5, "x": 10}
    total = 0
    for i, ch in enumerate(text):
        v = values[ch]
        if i + 1 < len(text) and values[text[i + 1]] > v:
            total -= v
        else:
            total += v
    return total


def _to_roman(n: int) -> str:
    out = ""
    for value, numeral in ((10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")):
        while n >= value:
            out += numeral
            n -= value
    return out


# ----------------------------------------------------------------------------- extraction


@dataclass
class _Item:
    key: str
    label: str
    parent: str | None
    heading: list[str] = field(default_factory=list)
    options: list[str] = field(default_factory=list)


@dataclass
class _Level:
    style: str
    last: int
    parent_key: str | None
    count: int = 0
    item_key: str = ""


_START = {"number": (0, 1), "letter": (0,), "roman": (1,)}


def _child_label(parent_key: str | None, style: str, marker: Marker, index: int) -> str:
    """The key part of the ``index``-th item of a list (see the module docstring)."""
    if parent_key is None:
        return marker.label
    ends_with_digit = parent_key[-1].isdigit()
    if style == "letter":
        return marker.label if ends_with_digit else str(index + 1)
    if style == "number":
        return _letter(index) if ends_with_digit else str(index + 1)
    # roman
    return marker.label if ends_with_digit else str(index + 1)


def _letter(index: int) -> str:
    out = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(ord("a") + rem) + out
    return out


def extract_questions(text: str) -> list[Question]:
    """The questions of a request text, in order. Text before the first question and
    long paragraphs between questions (preambles, notes) are not questions; short lines
    after a question ("Yes/No") stay with it; bullets under a question are its options.
    With no numbered or lettered question at all, top-level bullets are the questions;
    with no bullets either, each paragraph that asks something ("?") is one."""
    lines = [clean_line(raw) for raw in text.splitlines()]
    markers = [parse_marker(line) if line else None for line in lines]
    enumerated = any(m is not None and m.style != "bullet" for m in markers)
    if not enumerated:
        if any(m is not None for m in markers):
            return _from_bullets(text.splitlines(), lines, markers)
        return _from_paragraphs(lines)

    items: list[_Item] = []
    keys: set[str] = set()
    stack: list[_Level] = []
    current: _Item | None = None  # the item continuation lines attach to
    blank_since = False

    def add(level: _Level, marker: Marker, style: str, value: int) -> _Item:
        index = level.count
        if style == "compound":
            key = marker.label
        else:
            key = (level.parent_key or "") + _child_label(level.parent_key, style, marker, index)
        base, n = key, 2
        while key in keys:
            key, n = f"{base}-{n}", n + 1
        keys.add(key)
        parent = level.parent_key
        if style == "compound":
            parent = str(marker.value) if str(marker.value) in keys else None
        item = _Item(key, marker.label, parent, [marker.rest] if marker.rest else [])
        items.append(item)
        level.last, level.count, level.item_key = value, level.count + 1, key
        return item

    for line, marker in zip(lines, markers, strict=True):
        if not line:
            blank_since = True
            continue
        if marker is None and items and _SIGN_OFF.match(line):
            break  # "Many thanks", "Yours faithfully": only a signature follows
        if marker is None or marker.style == "bullet":
            target = current or (items[-1] if items else None)
            if marker is not None and target is not None:
                target.options.append(marker.rest)
            elif marker is None and current is not None:
                short = len(tokens(line)) <= 12 and not _SIGN_OFF.match(line)
                if not blank_since and current.options:
                    current.options[-1] += " " + line  # a wrapped option
                elif not blank_since or short or not current.heading:
                    current.heading.append(line)
                else:
                    current = None  # a note or a closing paragraph: not part of a question
            blank_since = False
            continue
        blank_since = False
        style, value = marker.style, marker.value
        placed: _Item | None = None
        if style == "compound":
            compound_level = next((lv for lv in reversed(stack) if lv.style == "compound"), None)
            number_level = next(
                (lv for lv in reversed(stack) if lv.style == "number" and lv.last == value), None
            )
            if compound_level is not None:
                del stack[stack.index(compound_level) + 1 :]
                placed = add(compound_level, marker, "compound", value)
            elif number_level is not None:
                # "1. ... 1a. ... 1b.": a lettered list under item 1
                del stack[stack.index(number_level) + 1 :]
                level = _Level("letter", -1, number_level.item_key)
                stack.append(level)
                letter_marker = Marker("letter", marker.letter, ord(marker.letter) - 97, "")
                placed = add(level, letter_marker, "letter", ord(marker.letter) - 97)
                placed.label = marker.label
                placed.heading = [marker.rest] if marker.rest else []
            else:
                stack = [_Level("compound", value, None)]
                placed = add(stack[0], marker, "compound", value)
        else:
            if stack and stack[0].style == "compound" and style == "number":
                stack = []  # numbered questions after "1a. 1b.": a new top-level list
            placed = _place(stack, marker, add)
        current = placed
    return [
        Question(
            key=i.key,
            text="\n".join(h.strip() for h in i.heading if h.strip()),
            parent=i.parent,
            label=i.label,
            options=tuple(o.strip() for o in i.options if o.strip()),
        )
        for i in items
        if any(h.strip() for h in i.heading)  # a bare "3." with nothing after it is not one
    ]


def _place(stack: list[_Level], marker: Marker, add: Any) -> _Item:
    """Puts an enumerated item on the right level of ``stack`` (see the module docstring)."""
    style, value = marker.style, marker.value
    candidates = [(style, value)]
    if marker.could_be_roman:
        candidates.insert(0, ("roman", roman_value(marker.label)))
    # 1. the continuation of an open list, innermost first
    for depth in range(len(stack) - 1, -1, -1):
        level = stack[depth]
        for cand_style, cand_value in candidates:
            if level.style == cand_style and cand_value == level.last + 1:
                del stack[depth + 1 :]
                item: _Item = add(level, marker, cand_style, cand_value)
                return item
    # 2. the start of a nested list under the current item ("i" starts a roman list)
    if marker.could_be_roman and marker.label == "i" and stack:
        candidates = [("roman", 1)]
    for cand_style, cand_value in candidates:
        if cand_value in _START.get(cand_style, ()) and stack:
            level = _Level(cand_style, cand_value - 1, stack[-1].item_key)
            stack.append(level)
            item = add(level, marker, cand_style, cand_value)
            return item
    # 3. a list that skips a number: a sibling on the innermost level of the same style
    for depth in range(len(stack) - 1, -1, -1):
        if stack[depth].style == style:
            del stack[depth + 1 :]
            item = add(stack[depth], marker, style, value)
            return item
    # 4. the first list, or a new list of another style under the current item
    parent = stack[-1].item_key if stack else None
    level = _Level(style, value - 1, parent)
    stack.append(level)
    item = add(level, marker, style, value)
    return item


def _from_bullets(
    raw_lines: Sequence[str], lines: Sequence[str], markers: Sequence[Marker | None]
) -> list[Question]:
    indents = [len(r) - len(r.lstrip()) for r, m in zip(raw_lines, markers, strict=True) if m]
    top = min(indents) if indents else 0
    out: list[tuple[list[str], list[str]]] = []
    for raw, line, marker in zip(raw_lines, lines, markers, strict=True):
        indent = len(raw) - len(raw.lstrip())
        if marker is not None and indent == top:
            out.append(([marker.rest], []))
        elif marker is not None and out:
            out[-1][1].append(marker.rest)
        elif line and out and not out[-1][1] and len(tokens(line)) <= 12:
            out[-1][0].append(line)
    return [
        Question(str(i + 1), "\n".join(h), None, None, tuple(opts))
        for i, (h, opts) in enumerate(out)
    ]


def _from_paragraphs(lines: Sequence[str]) -> list[Question]:
    paragraphs: list[list[str]] = [[]]
    for line in lines:
        if line:
            paragraphs[-1].append(line)
        elif paragraphs[-1]:
            paragraphs.append([])
    asked = [" ".join(p) for p in paragraphs if p and "?" in " ".join(p)]
    return [Question(str(i + 1), text) for i, text in enumerate(asked)]


# ----------------------------------------------------------------------------- text form

_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,19}$")
_ITEM_LINE = re.compile(r"^\[([^\]]*)\]\s*(.*)$")
_OPTION_LINE = re.compile(r"^\s+[-*•]\s+(.*\S)\s*$")

TEXT_FORM_HELP = """\
# The questions the answers grid aligns replies to. One question per "[key] text" line;
# further lines continue its text; indented "- " lines are its listed options.
# Keys must be unique (letters, digits, ".", "-", "_"); a key's parent is the longest
# other key it starts with ("1a" belongs to "1"). A label as written in the letter may
# follow the key ("[c1] a. Basic mobile phone"). Lines starting with "#" are ignored.
"""


def _tail(key: str) -> str:
    m = re.search(r"(\d+|[a-z]+)$", key)
    return m.group(1) if m else key


def to_text(questions: Sequence[Question], *, header: str = TEXT_FORM_HELP) -> str:
    out = [header.rstrip("\n")] if header else []
    for q in questions:
        label = ""
        if q.label and q.label not in (q.key, _tail(q.key)):
            label = _format_label(q.label) + " "
        first, *more = q.text.split("\n") if q.text else [""]
        out.append(f"[{q.key}] {label}{first}".rstrip())
        out.extend(f"    {line}" for line in more)
        out.extend(f"  - {option}" for option in q.options)
    return "\n".join(out) + "\n"


def _format_label(label: str) -> str:
    return f"{label}."


def from_text(text: str) -> list[Question]:
    """Parses the text form; raises ``QuestionsError`` naming the line on a problem."""
    entries: list[tuple[int, str, str | None, list[str], list[str]]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        m = _ITEM_LINE.match(raw.strip()) if not raw[:1].isspace() else None
        if m:
            key = m.group(1).strip()
            if not _KEY.match(key):
                raise QuestionsError(
                    f"line {number}: bad key [{key}] (use letters, digits, '.', '-' or '_', "
                    "at most 20 characters)"
                )
            body, label = m.group(2).strip(), None
            marker = parse_marker(body) if body else None
            if marker is not None and marker.style != "bullet" and marker.rest.strip():
                label, body = marker.label, marker.rest.strip()
            entries.append((number, key, label, [body] if body else [], []))
            continue
        if not entries:
            raise QuestionsError(
                f"line {number}: expected a question starting with [key], got {raw.strip()!r}"
            )
        option = _OPTION_LINE.match(raw)
        if option:
            entries[-1][4].append(option.group(1))
        else:
            entries[-1][3].append(raw.strip())
    if not entries:
        raise QuestionsError("no questions found (each question starts with a [key] line)")
    seen: dict[str, int] = {}
    for number, key, *_ in entries:
        if key.lower() in seen:
            raise QuestionsError(
                f"line {number}: key [{key}] is used twice (first on line {seen[key.lower()]})"
            )
        seen[key.lower()] = number
    for number, key, _, heading, _ in entries:
        if not heading:
            raise QuestionsError(f"line {number}: question [{key}] has no text")
    keys = [e[1] for e in entries]
    return [
        Question(
            key=key,
            text="\n".join(heading),
            parent=_parent_of(key, keys),
            label=label if label is not None else key,
            options=tuple(options),
        )
        for _, key, label, heading, options in entries
    ]


def _parent_of(key: str, keys: Sequence[str]) -> str | None:
    best: str | None = None
    for other in keys:
        if other != key and key.startswith(other) and (best is None or len(other) > len(best)):
            best = other
    return best
