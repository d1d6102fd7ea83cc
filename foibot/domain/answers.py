"""Aligning a council's reply to the campaign's questions: which text answers which.

Councils repeat the questions (in **bold**, renumbered "1a" -> "a", with stray quotes or
curly ones, wrapped over two lines), put each answer under its question, and sometimes
answer several at once. The aligner works in three passes, preferring a blank to a
wrong answer (another question's answer in a cell is much worse than an empty cell):

1. **Headings.** Every line (or two or three consecutive lines) that repeats a
   question's text is a candidate heading for it, scored by how much of the question it
   repeats. Questions must appear in order: the chosen headings are the best increasing
   chain (dynamic programming over the candidates), preferring headings followed by an
   answer, so the copy of the request at the top of a letter ("for the following
   information: ...") loses to the answered copy below it. A question's answer is what
   follows its heading up to the next heading of any question or the letter's closing
   sections ("Further information", "Your rights", "If you are dissatisfied ...").
   Lines repeating the question or the request (its listed options, "Yes/No", notes
   between questions) are removed from the answer; an option standing alone is kept,
   because it is the answer ("* 51-75%").
2. **Markers.** A question whose text is never repeated can still be answered as
   "1. 45" or "Q3: Yes", or jointly ("1-3: not held"): only an exact key, outside every
   answer already found, in order.
3. **Shared answers.** Sibling questions repeated one after another with one blanket
   answer under the last ("Not applicable", "Information not held", "See attached") all
   get that answer.

Each answer keeps how it was found (``method``) and the evidence; a question left blank
says why (``flag``). ``value`` is a short normalised form where it is obvious: Yes, No,
a number, "not held", "refused s12", "N/A", "see attached", or the chosen option.

Pure: no I/O.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from foibot.domain.questions import Marker, Question, clean_line, parse_marker, tokens

# ----------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Answer:
    key: str
    text: str  # "" when nothing could be aligned: never guessed
    value: str | None  # short normalised value, when obvious
    method: str | None  # "heading" | "marker" | "range" | "shared"; None when blank
    evidence: str  # where in the reply it came from, for the user to check
    flag: str | None  # why it is blank (or what to check), None when answered plainly

    @property
    def aligned(self) -> bool:
        return bool(self.text)

    def as_json(self) -> dict[str, object]:
        return {
            "text": self.text,
            "value": self.value,
            "aligned": self.aligned,
            "method": self.method,
            "evidence": self.evidence,
            "flag": self.flag,
        }


@dataclass(frozen=True)
class Alignment:
    answers: tuple[Answer, ...]

    @property
    def aligned(self) -> int:
        return sum(1 for a in self.answers if a.aligned)

    @property
    def total(self) -> int:
        return len(self.answers)

    def get(self, key: str) -> Answer:
        for a in self.answers:
            if a.key == key:
                return a
        raise KeyError(key)


# ----------------------------------------------------------------------------- lines

_FOOTER = re.compile(
    r"^(?:further information|your rights|advice and assistance|right of (?:review|appeal)|"
    r"we have (?:processed|dealt with|handled) (?:this|your) request|"
    r"this (?:request|response) has been (?:processed|handled)|"
    r"if you are (?:unhappy|dissatisfied|not satisfied|not happy)|"
    r"if you (?:wish|would like) to (?:request|ask for) (?:a|an internal) review|"
    r"you may re-?use|re-?use of (?:the )?information|copyright|"
    r"yours (?:sincerely|faithfully)|kind regards|best regards|many thanks|regards\b|"
    r"complaints? (?:and|&) review|internal review|how to complain)",
    re.IGNORECASE,
)
_ANSWER_LABEL = re.compile(r"^(?:(?:answer|response|reply)\s*[:.\-–]|a\s*:)\s*", re.IGNORECASE)
_RANGE = re.compile(
    r"^(?:(?:q|questions?)\s*\.?\s*)?"
    r"(\d{1,3}[a-z]?)\s*(?:-|–|—|to|and|&)\s*(?:q\s*)?(\d{1,3}[a-z]?)"
    r"\s*(?:[:.)\-–]|\s(?=[A-Z]))\s*(.*)$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class _Line:
    index: int
    text: str  # cleaned (no Markdown emphasis)
    body: str  # the text after any marker or bullets
    toks: tuple[str, ...]  # tokens of ``body``
    marker: Marker | None
    footer: bool

    @property
    def blank(self) -> bool:
        return not self.text

    @property
    def numbered(self) -> bool:
        """Whether the line starts with a number or letter (not a bullet)."""
        return self.marker is not None and self.marker.style != "bullet"


def _lines(text: str) -> list[_Line]:
    out = []
    for i, raw in enumerate(text.splitlines()):
        cleaned = clean_line(raw)
        marker = parse_marker(cleaned) if cleaned else None
        body = marker.rest if marker is not None else cleaned
        footer = bool(cleaned) and bool(_FOOTER.match(cleaned)) and len(tokens(cleaned)) <= 40
        out.append(_Line(i, cleaned, body, tuple(tokens(body)), marker, footer))
    return out


# ----------------------------------------------------------------------------- pass 1


@dataclass(frozen=True)
class _Candidate:
    q: int  # index in the question list
    start: int  # first line of the repeated heading
    end: int  # last line of the heading
    similarity: float
    marker: int  # 2 = the key or label exactly, 1 = its last part, 0 = none/other
    tail: str  # answer text on the heading's own line, after the question


SHORT = 4  # questions with fewer words must be repeated exactly, with their marker
MIN_COVERAGE = 0.6  # share of the question's words a heading must repeat ...
MIN_PRECISION = 0.8  # ... and share of the heading's words that are the question's
MAX_SPAN = 3  # a repeated question may be wrapped over this many lines


def _marker_agreement(marker: Marker | None, question: Question) -> int:
    if marker is None or marker.style == "bullet":
        return 0
    label = marker.label.lower()
    names = {question.key.lower()}
    if question.label:
        names.add(question.label.lower())
    if label in names:
        return 2
    tail = re.search(r"(\d+|[a-z]+)$", question.key.lower())
    return 1 if tail and tail.group(1) == label else 0


def _match(question_toks: Sequence[str], span_toks: Sequence[str]) -> tuple[float, float, int, int]:
    """(coverage, precision, first, end) of a span repeating a question: the share of
    the question's words found in order, the share of the matched window that is the
    question's, and where in the span the repeated question starts and ends (the rest
    may be the answer, written on the same line)."""
    sm = SequenceMatcher(None, list(question_toks), list(span_toks), autojunk=False)
    blocks = [b for b in sm.get_matching_blocks() if b.size]
    if not blocks:
        return 0.0, 0.0, 0, 0
    matched = sum(b.size for b in blocks)
    first = blocks[0].b
    last = blocks[-1].b + blocks[-1].size
    if first > 3:  # the question must start the line ("You asked: ..." at most)
        return 0.0, 0.0, 0, 0
    return matched / len(question_toks), matched / (last - first), first, last


def _candidates(
    questions: Sequence[Question], lines: Sequence[_Line]
) -> tuple[list[_Candidate], set[int]]:
    """Every line (or span) repeating a question, and the lines that start with a
    question's words but go on much longer (an answer quoting an option: "Yes, we
    prevent some tasks - the council has ..."), which end answers without being
    headings themselves."""
    out: list[_Candidate] = []
    quoting: set[int] = set()
    nonblank = [ln for ln in lines if not ln.blank and not ln.footer]
    counts = [Counter(ln.toks) for ln in nonblank]
    # the words of each line and the lines a question could be wrapped onto after it
    reach = []
    for pos in range(len(nonblank)):
        words = Counter(counts[pos])
        for k in range(1, MAX_SPAN):
            nxt = pos + k
            if nxt >= len(nonblank) or nonblank[nxt].numbered:
                break
            words += counts[nxt]
        reach.append(words)
    for qi, question in enumerate(questions):
        qtoks = tokens(question.text)
        if not qtoks:
            continue
        qcount = Counter(qtoks)
        qwords = set(qcount)
        need = MIN_COVERAGE * len(qtoks)
        for pos, line in enumerate(nonblank):
            if not line.toks:
                continue
            if len(qtoks) >= SHORT and (
                qwords.isdisjoint(counts[pos])
                or sum(min(n, reach[pos].get(w, 0)) for w, n in qcount.items()) < need
            ):
                continue  # cannot repeat enough of the question: skip the slow match
            if len(qtoks) < SHORT:
                agree = _marker_agreement(line.marker, question)
                exact = list(line.toks) == qtoks
                bullet = line.marker is not None and line.marker.style == "bullet"
                if exact and (agree or bullet or len(qtoks) >= 3):
                    out.append(_Candidate(qi, line.index, line.index, 1.0, agree, ""))
                continue
            best: _Candidate | None = None
            span_toks: list[str] = []
            for k in range(MAX_SPAN):
                if pos + k >= len(nonblank):
                    break
                part = nonblank[pos + k]
                if k and part.numbered:
                    break  # the next item begins
                before = len(span_toks)
                span_toks += part.toks if k else list(line.toks)
                coverage, precision, first, end = _match(qtoks, span_toks)
                if k and (first >= len(line.toks) or end <= before):
                    break  # the question is not wrapped onto this line
                if coverage < MIN_COVERAGE or precision < MIN_PRECISION:
                    continue
                similarity = 2 * coverage * precision / (coverage + precision)
                if not line.numbered and end < 8 and len(span_toks) - end > end:
                    if k == 0:
                        quoting.add(line.index)
                    continue  # an answer that starts with the question's words
                if best is not None and similarity <= best.similarity:
                    continue
                tail = _tail_text(part.body, len(span_toks) - end) if end < len(span_toks) else ""
                best = _Candidate(
                    qi,
                    line.index,
                    part.index,
                    similarity,
                    _marker_agreement(line.marker, question),
                    tail,
                )
            if best is not None:
                out.append(best)
    return _drop_contradicted(out), quoting


def _drop_contradicted(candidates: list[_Candidate]) -> list[_Candidate]:
    """A line that repeats one question better than another is not the other's heading
    ("How many adults ...?" is not "How many children ...?"); where it repeats two
    equally well, such as "Other (please specify)" closing two sub-lists, and its number
    names one of them exactly, it is not the other's either."""
    by_line: dict[int, list[_Candidate]] = {}
    for c in candidates:
        by_line.setdefault(c.start, []).append(c)
    out = []
    for c in candidates:
        rivals = [r for r in by_line[c.start] if r.q != c.q]
        if any(r.similarity > c.similarity + 0.01 for r in rivals):
            continue
        if c.marker < 2 and any(
            r.marker == 2 and r.similarity >= c.similarity - 0.01 for r in rivals
        ):
            continue
        out.append(c)
    return out


def _numbered_request_line(line: _Line, req: _Req, options: set[tuple[str, ...]]) -> bool:
    """A numbered line repeating the request, other than a listed option: the heading
    of a part of the request that is not in the question list (the user removed it), so
    not part of any answer."""
    if line.marker is None or line.marker.style == "bullet" or len(line.toks) < 4:
        return False
    if line.toks in options:
        return False
    return bool(req.toks) and " " + " ".join(line.toks) + " " in req.toks


def _tail_text(text: str, n_tokens: int) -> str:
    """What follows the repeated question on its line: the text after the word before
    the last ``n_tokens`` words, without the separators in between ("...WhatsApp) Yes",
    "...in 2023? | £1,530,442")."""
    found = list(re.finditer(r"[a-z0-9]+", text.lower().replace("’", "'")))
    if n_tokens <= 0 or n_tokens > len(found):
        return ""
    index = len(found) - n_tokens
    start = found[index - 1].end() if index else found[index].start()
    return text[start:].lstrip(" )]:|?.,;-–—").rstrip()


def _chain(
    candidates: Sequence[_Candidate], answered: Sequence[bool], total_lines: int
) -> list[int]:
    """The best strictly increasing chain (question order and line order), as indexes
    into ``candidates``: the most headings with an answer under them first (a copy of
    the request repeating every question without answers never outweighs one answer),
    then more headings, closer repeats and agreeing markers, and later copies on a tie."""
    order = sorted(range(len(candidates)), key=lambda i: (candidates[i].start, candidates[i].q))
    best: dict[int, float] = {}
    back: dict[int, int | None] = {}
    for pos, i in enumerate(order):
        c = candidates[i]
        score = (
            1000.0 * answered[i]
            + 1.0
            + 4.0 * c.similarity
            + 1.0 * c.marker
            + 0.001 * c.start / max(total_lines, 1)
        )
        prev_best, prev = 0.0, None
        for j in order[:pos]:
            p = candidates[j]
            if p.end < c.start and p.q < c.q and best[j] > prev_best:
                prev_best, prev = best[j], j
        best[i], back[i] = score + prev_best, prev
    if not best:
        return []
    cur: int | None = max(best, key=lambda i: best[i])
    chain: list[int] = []
    while cur is not None:
        chain.append(cur)
        cur = back[cur]
    return chain[::-1]


# ----------------------------------------------------------------------------- answer text


@dataclass(frozen=True)
class _Req:
    """The request text, as the aligner compares it: all its words (padded, to find a
    line inside it) and the words of each of its list items (bullets, numbered or
    lettered lines, marker taken off), which a council may repeat under a question."""

    toks: str
    lines: frozenset[tuple[str, ...]]

    @classmethod
    def of(cls, text: str | None) -> _Req:
        if not text:
            return cls("", frozenset())
        lines = set()
        for raw in text.splitlines():
            cleaned = clean_line(raw)
            marker = parse_marker(cleaned) if cleaned else None
            if marker is not None and tokens(marker.rest):
                lines.add(tuple(tokens(marker.rest)))
        return cls(" " + " ".join(tokens(text)) + " ", frozenset(lines))


def _restates(line: _Line, question: Question, req: _Req) -> bool:
    """Whether a line of a segment repeats the question or the request (not an answer)."""
    toks = list(line.toks)
    if not toks:
        return True  # punctuation only
    joined = " " + " ".join(toks) + " "
    for part in question.text.split("\n"):
        if tokens(part) == toks:
            return True
    if len(toks) >= 4:
        if joined in " " + " ".join(tokens(question.text)) + " ":
            return True
        if req.toks and joined in req.toks:
            return True
    return False


def _is_option(line: _Line, question: Question) -> bool:
    return any(tokens(o) == list(line.toks) for o in question.options if tokens(o))


def _segment_text(
    question: Question,
    lines: Sequence[_Line],
    first: int,
    stop: int,
    tail: str,
    req: _Req,
) -> tuple[str, list[_Line]]:
    """The answer between line ``first`` and line ``stop`` (exclusive), without the
    restated question; also the kept lines, for the normalised value."""
    segment = list(lines[first:stop])
    # A run of the question's own options (or other lines of the request) right under
    # it is the question repeated; a lone option, or options interleaved with answers,
    # is the answer.
    leading: list[int] = []
    for ln in segment:
        if ln.blank:
            continue
        if _is_option(ln, question) or ln.toks in req.lines:
            leading.append(ln.index)
        elif _restates(ln, question, req):
            continue
        else:
            break
    strip_options = len(leading) >= 2
    kept: list[_Line] = []
    for ln in segment:
        if ln.blank:
            if kept and not kept[-1].blank:
                kept.append(ln)
            continue
        if ln.index in leading and strip_options:
            continue
        if _is_option(ln, question) or ln.index in leading:
            kept.append(ln)
            continue
        if _restates(ln, question, req):
            continue
        kept.append(ln)
    while kept and kept[-1].blank:
        kept.pop()
    parts = [tail] if tail else []
    texts = [ln.text for ln in kept]
    if texts and not parts:
        texts[0] = _ANSWER_LABEL.sub("", texts[0], count=1)
    text = "\n".join(parts + texts).strip()
    if tail:
        kept = [_Line(-1, tail, tail, tuple(tokens(tail)), None, False), *kept]
    return _tidy(text), [ln for ln in kept if not ln.blank]


def _tidy(text: str) -> str:
    return re.sub(r"\n{3,}", "\n\n", text).strip()


# ----------------------------------------------------------------------------- values

_NUMBER = re.compile(r"^(?:total\s*[:=]?\s*)?[£$€]?\s*(\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?\s*%?$")
_TOTAL = re.compile(r"^total\s*[:=]\s*[£$€]?\s*(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)\b", re.I)
_NOT_HELD = re.compile(
    r"\b(?:(?:information|data|this|it) (?:is )?not held|not held|(?:do|does) not hold|"
    r"holds? no (?:recorded )?information|no (?:recorded )?information (?:is )?held)\b",
    re.IGNORECASE,
)
_REFUSED = re.compile(
    r"\b(?:refus\w*|exempt\w*|withh[eo]ld\w*|appropriate limit|cost limit)\b", re.IGNORECASE
)
_SECTION = re.compile(r"\b(?:section|s\.?)\s*(\d{1,2})(?:\s*\(\s*(\d)\s*\))?", re.IGNORECASE)
_NA = re.compile(r"^(?:n/?a|not applicable)\b", re.IGNORECASE)
_ATTACHED = re.compile(
    r"^(?:please\s+)?(?:see|refer to)\s+(?:the\s+)?(?:attached|enclosed|attachment)", re.I
)
_YES = re.compile(r"^(?:yes|y)\b", re.IGNORECASE)
_NO = re.compile(r"^(?:no|n)\b(?!\s+(?:information|data|record|recorded|\w+ held))", re.I)


def normalise_value(question: Question, kept: Sequence[_Line] | Sequence[str]) -> str | None:
    """A short value for the answer, only where it is obvious (else None)."""
    texts = [k.text if isinstance(k, _Line) else k for k in kept]
    texts = [t for t in texts if t.strip()]
    if not texts:
        return None
    first = parse_marker(texts[0])
    first_text = first.rest if first is not None and first.style == "bullet" else texts[0]
    whole = " ".join(texts)
    words = len(tokens(whole))
    # the option chosen from the question's list ("* 51-75%", "Yes, we prevent some tasks")
    option = _chosen_option(question, first_text)
    if option is not None:
        return option
    if words <= 20 and _NOT_HELD.search(whole):
        return "not held"
    if _REFUSED.search(whole):
        sections = [
            f"s{m.group(1)}" + (f"({m.group(2)})" if m.group(2) else "")
            for m in _SECTION.finditer(whole)
            if m.group(1) not in ("1", "17")  # s.1 duty to confirm, s.17 refusal notice
        ]
        if sections and (words <= 80 or "appropriate limit" in whole.lower()):
            return "refused " + sections[0]
    if _NA.match(first_text):
        return "N/A"
    if _ATTACHED.match(first_text) and words <= 12:
        return "see attached"
    stripped = first_text.strip().rstrip(".")
    number = _NUMBER.match(stripped) if len(texts) == 1 else None
    if number:
        return number.group(1).replace(",", "")
    total = _TOTAL.match(stripped)
    if total:
        return total.group(1).replace(",", "")
    answers = [t for t in texts if not _is_option_text(t, question)]
    if answers and all(_YES.match(_unbullet(t)) for t in answers):
        return "Yes"
    if answers and all(_NO.match(_unbullet(t)) for t in answers):
        return "No"
    return None


def _unbullet(text: str) -> str:
    m = parse_marker(text)
    return m.rest if m is not None else text


def _is_option_text(text: str, question: Question) -> bool:
    toks = tokens(_unbullet(text))
    return bool(toks) and any(tokens(o) == toks for o in question.options)


def _chosen_option(question: Question, text: str) -> str | None:
    toks = tokens(text)
    best: str | None = None
    for option in question.options:
        otoks = tokens(option)
        if not otoks or toks[: len(otoks)] != otoks:
            continue
        if len(otoks) < len(toks) and len(otoks) < 3:
            continue  # "No" must not claim "No, but they have to ..."
        if best is None or len(otoks) > len(tokens(best)):
            best = option
    return best


# ----------------------------------------------------------------------------- align


@dataclass
class _Found:
    text: str
    kept: list[_Line]
    method: str
    evidence: str
    heading_line: int | None = None


def align(
    questions: Sequence[Question], response: str, *, request_text: str | None = None
) -> Alignment:
    """The answer to each question in ``response`` (see the module docstring)."""
    lines = _lines(response)
    req = _Req.of(request_text)
    cands, quoting = _candidates(questions, lines)
    # An answer ends at the next repeated question (even one not chosen: a short one
    # repeated without its marker is still the request, not an answer) or at the
    # letter's closing sections.
    whole = {tuple(tokens(q.text)) for q in questions if tokens(q.text)}
    options = {tuple(tokens(o)) for q in questions for o in q.options}
    starts = sorted(
        {c.start for c in cands}
        | quoting
        | {ln.index for ln in lines if ln.footer or (ln.toks and ln.toks in whole)}
        | {ln.index for ln in lines if _numbered_request_line(ln, req, options)}
    )

    def stop_after(line: int) -> int:
        at = bisect_right(starts, line)
        return starts[at] if at < len(starts) else len(lines)

    segments: list[tuple[str, list[_Line]]] = []
    for c in cands:
        segments.append(
            _segment_text(questions[c.q], lines, c.end + 1, stop_after(c.end), c.tail, req)
        )
    chain = _chain(cands, [bool(s[0]) for s in segments], len(lines))
    found: dict[int, _Found] = {}
    heading_at: dict[int, int] = {}
    seen = {c.q for c in cands}
    for i in chain:
        c = cands[i]
        text, kept = segments[i]
        heading_at[c.q] = c.start
        where = f"line {c.start + 1}"
        marker = lines[c.start].marker
        how = f"question repeated at {where} ({round(100 * c.similarity)}% of its words"
        if marker is not None and marker.style != "bullet":
            how += f", numbered {marker.label!r}"
        how += ")"
        if text:
            found[c.q] = _Found(text, kept, "heading", how, c.start)
        else:
            found[c.q] = _Found("", [], "heading", how, c.start)

    cleared = _answer_blocks(questions, found)
    # Lines under any repeated question belong to it (a numbered list in an answer is
    # not "1. 45"), except under a question cleared as a block of numbered answers.
    freed = {cands[i].start for i in chain if cands[i].q in cleared}
    owned: set[int] = set()
    for c in cands:
        owned.update(range(c.start, c.end + 1 if c.start in freed else stop_after(c.end)))
    _by_markers(questions, lines, found, req, owned)
    _share(questions, found, heading_at)

    answers = []
    children: dict[str, list[str]] = {}
    for q in questions:
        if q.parent:
            children.setdefault(q.parent, []).append(q.key)
    for qi, q in enumerate(questions):
        f = found.get(qi)
        if f is not None and f.text:
            answers.append(
                Answer(
                    q.key,
                    f.text,
                    normalise_value(q, f.kept),
                    f.method,
                    f.evidence,
                    "shared answer: check it covers this question"
                    if f.method == "shared"
                    else None,
                )
            )
            continue
        if f is not None:
            kids = [k for k in children.get(q.key, []) if _answered(questions, found, k)]
            flag = (
                f"answered in its parts ({', '.join(kids)})"
                if kids
                else "no answer under the question"
            )
            answers.append(Answer(q.key, "", None, None, f.evidence, flag))
        elif qi in seen:
            flag = "repeated out of order or ambiguously: left blank"
            answers.append(Answer(q.key, "", None, None, "", flag))
        else:
            answers.append(Answer(q.key, "", None, None, "", "not found in the reply"))
    return Alignment(tuple(answers))


def _answered(questions: Sequence[Question], found: dict[int, _Found], key: str) -> bool:
    for qi, q in enumerate(questions):
        if q.key == key:
            f = found.get(qi)
            return f is not None and bool(f.text)
    return False


# ----------------------------------------------------------------------------- pass 2


def _answer_blocks(questions: Sequence[Question], found: dict[int, _Found]) -> set[int]:
    """A list of questions repeated without answers ("Your request: 1. ... 2. ... 3. ...")
    followed by numbered answers ("Our response: 1. 301 2. No 3. £4,500") puts every
    answer under the last repeated question. That is recognised strictly: the question's
    "answer" is, but for a short label, numbered lines in increasing order that include
    its own key, and every other question they number was repeated without an answer.
    It is then cleared, so that pass 2 reads the block by markers. (A numbered list
    inside a genuine answer fails these tests: it follows some answer text, or it numbers
    questions that were never repeated, or that have answers of their own.)"""
    key_index = {q.key.lower(): qi for qi, q in enumerate(questions)}
    cleared: set[int] = set()
    for qi, f in list(found.items()):
        if not f.text:
            continue
        lines = [ln for ln in f.kept if ln.index >= 0]
        first = next(
            (
                n
                for n, ln in enumerate(lines)
                if ln.marker is not None
                and ln.marker.style != "bullet"
                and ln.marker.label.lower() in key_index
            ),
            None,
        )
        if first is None or first > 1 or (first == 1 and not lines[0].text.endswith(":")):
            continue  # only a label ("Our response:") may come before the numbered block
        numbered = [
            key_index[ln.marker.label.lower()]
            for ln in lines[first:]
            if ln.marker is not None
            and ln.marker.style != "bullet"
            and ln.marker.label.lower() in key_index
        ]
        if qi not in numbered or numbered != sorted(set(numbered)):
            continue
        others = [n for n in numbered if n != qi]
        if all(n in found and not found[n].text for n in others):
            found[qi] = _Found("", [], f.method, f.evidence, f.heading_line)
            cleared.add(qi)
    return cleared


def _by_markers(
    questions: Sequence[Question],
    lines: Sequence[_Line],
    found: dict[int, _Found],
    req: _Req,
    owned: set[int],
) -> None:
    """Answers given only as "1. 45", "Q3: Yes" or "1-3: not held", for questions whose
    text is never repeated with an answer. Exact keys only, in order, never on or under
    a line that repeats a question (``owned``)."""
    missing = [qi for qi in range(len(questions)) if not (qi in found and found[qi].text)]
    if not missing:
        return
    key_index = {q.key.lower(): qi for qi, q in enumerate(questions)}
    answered_lines: set[int] = set()
    anchors: list[tuple[int, int]] = []  # (question index, heading line) with an answer
    for qi, f in found.items():
        if f.text and f.heading_line is not None:
            anchors.append((qi, f.heading_line))
            answered_lines.add(f.heading_line)
            answered_lines.update(ln.index for ln in f.kept if ln.index >= 0)
    # candidate lines: (line, [question indexes], rest of the line, method)
    items: list[tuple[int, list[int], str, str]] = []
    for ln in lines:
        if ln.blank or ln.footer or ln.index in answered_lines or ln.index in owned:
            continue
        rng = _RANGE.match(ln.text)
        if rng:
            a, b = key_index.get(rng.group(1).lower()), key_index.get(rng.group(2).lower())
            if a is not None and b is not None and a < b and b - a <= 50:
                covered = [qi for qi in range(a, b + 1) if qi in missing]
                if covered == list(range(a, b + 1)):
                    items.append((ln.index, covered, rng.group(3), "range"))
                continue
        m = ln.marker
        if m is None or m.style == "bullet":
            continue
        target = key_index.get(m.label.lower())
        if target is None or target not in missing:
            continue
        if ln.index in owned:
            continue  # a repeated question (perhaps wrapped) or its answer, not "1. 45"
        items.append((ln.index, [target], m.rest, "marker"))
    if not items:
        return
    stops = sorted(
        {i[0] for i in items}
        | {ln.index for ln in lines if ln.footer}
        | {f.heading_line for f in found.values() if f.heading_line is not None}
    )

    def stop_after(line: int) -> int:
        at = bisect_right(stops, line)
        return stops[at] if at < len(stops) else len(lines)

    # keep an increasing chain consistent with the anchors from pass 1
    chosen: list[tuple[int, list[int], str, str]] = []
    last_q, last_line = -1, -1
    for item in sorted(items):
        line, qis, rest, method = item
        if qis[0] <= last_q or line <= last_line:
            continue
        before = [al for aq, al in anchors if aq < qis[0]]
        after = [al for aq, al in anchors if aq > qis[-1]]
        if (before and line < max(before)) or (after and line > min(after)):
            continue
        chosen.append(item)
        last_q, last_line = qis[-1], line
    for line, qis, rest, method in chosen:
        question = questions[qis[0]]
        tail = rest.strip()
        text, kept = _segment_text(question, lines, line + 1, stop_after(line), tail, req)
        if not text:
            continue
        label = lines[line].text[:40]
        evidence = f"line {line + 1}: {label!r}"
        for qi in qis:
            found[qi] = _Found(text, kept, method, evidence, line)


# ----------------------------------------------------------------------------- pass 3

_BLANKET = {"N/A", "not held", "see attached"}
_ALL_ABOVE = re.compile(
    r"\b(?:all (?:of )?the (?:above|options)|all (?:the )?options above|"
    r"to all (?:of )?the above)\b",
    re.IGNORECASE,
)


def _is_blanket(value: str | None, text: str) -> bool:
    """An answer that can stand for several questions at once."""
    if value is not None and (value in _BLANKET or value.startswith("refused")):
        return True
    return value == "Yes" and bool(_ALL_ABOVE.search(text))


def _share(
    questions: Sequence[Question], found: dict[int, _Found], heading_at: dict[int, int]
) -> None:
    """Sibling questions repeated one after another, with one blanket answer under the
    last of them, share that answer."""
    qi = 0
    while qi < len(questions):
        if qi not in found or found[qi].text or qi not in heading_at:
            qi += 1
            continue
        run = [qi]
        j = qi + 1
        while (
            j < len(questions)
            and questions[j].parent == questions[qi].parent
            and j in heading_at
            and heading_at[j] > heading_at[run[-1]]
        ):
            run.append(j)
            if found[j].text:
                break
            j += 1
        last = run[-1]
        answer = found[last]
        if len(run) > 1 and answer.text and len(tokens(answer.text)) <= 12:
            value = normalise_value(questions[last], answer.kept)
            if _is_blanket(value, answer.text):
                keys = ", ".join(questions[i].key for i in run)
                for i in run[:-1]:
                    found[i] = _Found(
                        answer.text,
                        answer.kept,
                        "shared",
                        f"one answer under questions {keys}, repeated together ({answer.evidence})",
                        found[i].heading_line,
                    )
        qi = last + 1
