"""Aligning council replies to questions: the five real letters, written out by hand,
and the shapes that must never put one question's answer in another's cell."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from foibot.domain.answers import Alignment, align
from foibot.domain.questions import Question, extract_questions
from tests.results.cases import EXPECTED, REQUEST, response_text


def norm(text: str) -> str:
    return " ".join(text.split())


def score(case: str, alignment: Alignment) -> tuple[int, int, list[str], list[str]]:
    """(right, total, wrong, missed): wrong = a cell holding text that is not its own
    answer; missed = an answer in the letter left blank."""
    right, wrong, missed = 0, [], []
    for answer in alignment.answers:
        expected = EXPECTED[case][answer.key]
        if expected is None:
            if answer.text:
                wrong.append(f"{case} {answer.key}: expected blank, got {norm(answer.text)!r}")
            else:
                right += 1
            continue
        text, value = expected
        if not answer.text:
            missed.append(f"{case} {answer.key}")
        elif norm(answer.text) != norm(text):
            wrong.append(f"{case} {answer.key}: {norm(answer.text)!r} != {norm(text)!r}")
        elif answer.value != value:
            wrong.append(f"{case} {answer.key}: value {answer.value!r} != {value!r}")
        else:
            right += 1
    return right, len(alignment.answers), wrong, missed


def test_the_five_fixture_letters() -> None:
    """The "done when" bar, on the letters' text: at least 90% of the questions get
    exactly the answer written out by hand (text and normalised value), and no
    question gets text that is not its own answer."""
    right = total = answered = answered_right = 0
    wrong: list[str] = []
    for case in sorted(REQUEST):
        questions = extract_questions(REQUEST[case])
        alignment = align(questions, response_text(case), request_text=REQUEST[case])
        r, t, w, m = score(case, alignment)
        right, total, wrong = right + r, total + t, wrong + w
        with_answer = [k for k, v in EXPECTED[case].items() if v is not None]
        answered += len(with_answer)
        answered_right += (
            len(with_answer) - len(m) - sum(1 for x in w if x.split()[1] in with_answer)
        )
    assert total == 54
    assert wrong == []
    assert right / total >= 0.9, f"{right}/{total}"
    # and measured on the questions the letters do answer (blanks excluded): 44 of them
    assert answered == 44
    assert answered_right / answered >= 0.9, f"{answered_right}/{answered}"


@pytest.mark.parametrize("case", sorted(REQUEST))
def test_each_letter_reports_its_aligned_count(case: str) -> None:
    questions = extract_questions(REQUEST[case])
    alignment = align(questions, response_text(case), request_text=REQUEST[case])
    answered = sum(1 for v in EXPECTED[case].values() if v is not None)
    assert (alignment.aligned, alignment.total) == (answered, len(EXPECTED[case]))


def test_blank_cells_say_why() -> None:
    al = align(extract_questions(REQUEST["001"]), response_text("001"), request_text=REQUEST["001"])
    assert al.get("c").flag == "answered in its parts (c1, c2, c3, c4, c5)"
    assert al.get("a").flag == "no answer under the question"
    assert al.get("f").flag == "no answer under the question"
    assert al.get("d5").method == "heading" and "numbered 'e'" in al.get("d5").evidence
    shared = align(
        extract_questions(REQUEST["004"]), response_text("004"), request_text=REQUEST["004"]
    ).get("1a")
    assert shared.method == "shared" and shared.flag is not None


def test_renumbered_reply_to_the_same_request() -> None:
    """Leicester (001) answered the request Barnet (000) got, renumbered 1a-1g -> a-g,
    its bullet options lettered and answered one by one."""
    questions = extract_questions(REQUEST["000"])
    al = align(questions, response_text("001"), request_text=REQUEST["000"])
    assert al.get("1a").text == ""  # answered together with 1b, under 1b
    assert norm(al.get("1b").text).startswith("The majority of staff have encrypted laptops")
    assert al.get("1c").value == "Yes"
    assert norm(al.get("1c").text) == (
        "a. Basic mobile phone Yes b. Smartphone Yes c. Tablet Yes d. Laptop computer Yes "
        "e. Desktop computer Yes"
    )
    assert norm(al.get("1d").text).endswith("Some websites yes, however, not personal email")
    assert al.get("1d").value is None  # not all "Yes": no value is invented
    assert norm(al.get("1e").text).startswith("We are not aware of anyone complaining")
    assert al.get("1f").text == ""  # options repeated, none chosen
    assert norm(al.get("1g").text).startswith("We are not aware of any staff")


def test_options_as_questions_against_bullets_share_all_the_above() -> None:
    """Leicester's question list (options as sub-questions) against Barnet's reply
    (options as bullets, then one answer for all): "Yes to all the above" is shared by
    d1-d8, and nothing lands in the wrong place."""
    al = align(extract_questions(REQUEST["001"]), response_text("000"), request_text=None)
    assert [al.get(f"d{i}").text for i in range(1, 9)] == ["Yes to all the above"] * 8
    assert {al.get(f"d{i}").method for i in range(1, 8)} == {"shared"}
    assert al.get("e").value == "not held"
    assert al.get("a").value == "591"
    for key in ("f", "f1", "f2", "f3", "f4", "f5"):
        assert al.get(key).text == ""


REQ = """\
1. How many parking fines did the council issue in 2023?
2. Do you use a private contractor to enforce parking?
3. What was the total income from parking fines in 2023?
"""


def answers(reply: str, request: str = REQ) -> dict[str, tuple[str, str | None, str | None]]:
    al = align(extract_questions(request), reply, request_text=request)
    return {a.key: (norm(a.text), a.value, a.method) for a in al.answers}


def test_numbered_answers_without_the_questions() -> None:
    got = answers("Dear Sir\n\n1. 45,210\n2. Yes\n3. Information not held.\n\nYours sincerely\nX")
    assert got == {
        "1": ("45,210", "45210", "marker"),
        "2": ("Yes", "Yes", "marker"),
        "3": ("Information not held.", "not held", "marker"),
    }


def test_questions_restated_then_numbered_answers() -> None:
    got = answers("Your request:\n" + REQ + "\nOur response:\n1. 301\n2. No\n3. £4,500\n\nRegards")
    assert got == {
        "1": ("301", "301", "marker"),
        "2": ("No", "No", "marker"),
        "3": ("£4,500", "4500", "marker"),
    }


def test_one_answer_for_a_range_of_questions() -> None:
    got = answers(
        "Questions 1-3: complying would exceed the appropriate limit under section 12 of "
        "the Act, so we refuse this request.\n"
    )
    assert {k: v[1:] for k, v in got.items()} == {k: ("refused s12", "range") for k in "123"}


def test_a_numbered_list_inside_an_answer_is_not_other_answers() -> None:
    got = answers(
        "3. What was the total income from parking fines in 2023?\n"
        "The council's policies:\n1. Policy A\n2. Policy B\n"
    )
    assert got["1"] == ("", None, None)
    assert got["2"] == ("", None, None)
    assert got["3"][0] == "The council's policies: 1. Policy A 2. Policy B"


def test_questions_answered_out_of_order_are_left_blank_not_swapped() -> None:
    al = align(
        extract_questions(REQ),
        "Q2. Do you use a private contractor to enforce parking?\nNo.\n\n"
        "Q1. How many parking fines did the council issue in 2023?\n12,000\n\n"
        "Q3. What was the total income from parking fines in 2023?\n£1,200,000\n",
    )
    assert [(a.key, a.text) for a in al.answers] == [
        ("1", "12,000"),
        ("2", ""),
        ("3", "£1,200,000"),
    ]
    assert al.get("2").flag == "repeated out of order or ambiguously: left blank"


def test_answer_on_the_question_line_and_in_a_spreadsheet_row() -> None:
    got = answers(
        "Sheet1\nQuestion | Answer\n"
        "1. How many parking fines did the council issue in 2023? | 4,120\n"
        "2. Do you use a private contractor to enforce parking? | No\n"
    )
    assert got["1"][:2] == ("4,120", "4120")
    assert got["2"][:2] == ("No", "No")
    assert got["3"] == ("", None, None)


def test_answers_in_an_html_table_converted_to_text() -> None:
    got = answers(
        "Dear Sir,\n\n| Question | Answer |\n|---|---|\n"
        "| 1. How many parking fines did the council issue in 2023? | 45,210 |\n"
        "| 2. Do you use a private contractor to enforce parking? | **No** |\n\nKind regards"
    )
    assert [(v[0], v[1]) for v in got.values()] == [("45,210", "45210"), ("No", "No"), ("", None)]


def test_section_12_and_see_attached_values() -> None:
    got = answers(
        "1. How many parking fines did the council issue in 2023?\n"
        "Please see attached.\n"
        "2. Do you use a private contractor to enforce parking?\n"
        "We are refusing this part under section 43(2) (commercial interests).\n"
        "3. What was the total income from parking fines in 2023?\n"
        "To answer would exceed the appropriate limit (section 12), so it is refused.\n"
    )
    assert [v[1] for v in got.values()] == ["see attached", "refused s43(2)", "refused s12"]


def test_the_request_preamble_repeated_is_not_an_answer() -> None:
    request = "I am researching parking.\n\n" + REQ
    got = answers(
        "You asked:\nI am researching parking.\n\n"
        "1. How many parking fines did the council issue in 2023?\n"
        "I am researching parking.\n900\n",
        request,
    )
    assert got["1"][0] == "900"


# ------------------------------------------------------------------ never another's answer

WORDS = [
    "council",
    "staff",
    "parking",
    "fines",
    "income",
    "contractor",
    "policy",
    "vehicles",
    "schools",
    "libraries",
    "waste",
    "housing",
    "tenants",
    "repairs",
    "roads",
    "potholes",
    "budget",
    "grants",
    "licences",
    "planning",
    "appeals",
    "trees",
    "parks",
    "cemeteries",
    "burials",
    "taxis",
    "noise",
    "complaints",
    "rent",
    "arrears",
]
TOPICS = ["adults", "children", "carers", "pupils", "drivers", "visitors", "residents", "landlords"]


@st.composite
def letters(draw: st.DrawFn) -> tuple[list[Question], str, dict[str, str]]:
    """A question list of near-duplicates (distinct requests differ by one word), and a
    reply that repeats some of the questions (in order, perhaps renumbered, in bold,
    with a stray quote) with a unique answer under each, perhaps after a copy of the
    whole request."""
    n = draw(st.integers(2, 8))
    topics = draw(st.lists(st.sampled_from(TOPICS), min_size=n, max_size=n, unique=True))
    shared = draw(st.lists(st.sampled_from(WORDS), min_size=3, max_size=10))
    questions = []
    for i in range(n):
        # near-duplicates: the same words but one, in a different place
        words = list(shared)
        words.insert(draw(st.integers(0, len(words))), topics[i])
        questions.append(Question(str(i + 1), f"How many {' '.join(words)} in 2023?"))
    answered = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    parts = []
    if draw(st.booleans()):
        parts.append("You asked for:")
        parts += [f"{q.key}. {q.text}" for q in questions]
        parts.append("We have processed this request under the Act.")
    truth: dict[str, str] = {}
    blocks: list[list[str]] = []
    for i, q in enumerate(questions):
        if not answered[i]:
            continue
        style = draw(
            st.sampled_from(["{k}. {t}", "**{k}. {t}**", "Q{k}: {t}", "{t}", "({l}) '{t}"])
        )
        heading = style.format(k=q.key, t=q.text, l=chr(96 + i + 1))
        truth[q.key] = f"ANSWER{i} {draw(st.sampled_from(WORDS))} {draw(st.integers(0, 999))}"
        block = [heading]
        shape = draw(st.sampled_from(["plain", "wrapped", "same-line", "with-list"]))
        if shape == "wrapped":  # the question broken over two lines, a blank between
            cut = heading.rfind(" ", 0, len(heading) // 2 + 8)
            block = [heading[:cut], "", heading[cut + 1 :]]
        if shape == "same-line":
            block = [f"{heading} {truth[q.key]}"]
        else:
            block.append(truth[q.key])
        if shape == "with-list":  # a numbered list inside the answer
            block += ["1. first item of the list", "2. second item of the list"]
        blocks.append([*block, ""])
    if len(blocks) > 1 and draw(st.booleans()):  # answered out of order
        i = draw(st.integers(0, len(blocks) - 2))
        blocks[i], blocks[i + 1] = blocks[i + 1], blocks[i]
    for block in blocks:
        parts += block
    parts.append("Your rights\nIf you are unhappy ...")
    return questions, "\n".join(parts), truth


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(letters())
def test_no_question_ever_gets_another_questions_answer(
    letter: tuple[list[Question], str, dict[str, str]],
) -> None:
    questions, reply, truth = letter
    al = align(questions, reply)
    for answer in al.answers:
        sentinels = set(re.findall(r"ANSWER\d+", answer.text))
        if answer.text:
            assert answer.key in truth, (answer.key, answer.text)
            assert sentinels == {truth[answer.key].split()[0]}, (answer.key, answer.text)
            assert norm(answer.text).startswith(truth[answer.key])
