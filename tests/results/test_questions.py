"""Question extraction from request texts, and the editable text form."""

from __future__ import annotations

import re

import pytest

from foibot.domain.questions import (
    Question,
    QuestionsError,
    extract_questions,
    from_text,
    parse_marker,
    questions_from_json,
    questions_to_json,
    to_text,
)
from tests.results.cases import EXPECTED, REQUEST


def keys(text: str) -> list[str]:
    return [q.key for q in extract_questions(text)]


@pytest.mark.parametrize("case", sorted(REQUEST))
def test_fixture_requests_give_the_letters_questions(case: str) -> None:
    assert keys(REQUEST[case]) == list(EXPECTED[case])


def test_004_zero_based_sub_lists_are_the_letters_1a_to_1e_and_3a_to_3f() -> None:
    qs = {q.key: q for q in extract_questions(REQUEST["004"])}
    assert qs["1a"].parent == "1" and qs["1a"].label == "0"
    assert qs["1e"].text == "Other Yes/No Please specify"
    assert qs["3f"].parent == "3" and qs["3f"].text == "other Yes/No (please specify)"
    assert qs["2"].parent is None and qs["2"].text.startswith("If your LA answered YES")
    # "Yes/No" on its own line after a blank line stays with its question
    assert qs["1c"].text.endswith("regarding digital contact?\nYes/No")


def test_001_lettered_lists_under_letters_are_keyed_with_numbers() -> None:
    qs = {q.key: q for q in extract_questions(REQUEST["001"])}
    assert (qs["c1"].text, qs["c1"].label, qs["c1"].parent) == ("Basic mobile phone", "a", "c")
    assert qs["d"].parent is None and qs["d"].label == "d"  # "d." after "e." closes c's list
    assert qs["d8"].text.startswith("Personal tasks")
    assert qs["f4"].text == "No"


def test_000_bullets_are_options_and_notes_between_questions_are_dropped() -> None:
    qs = {q.key: q for q in extract_questions(REQUEST["000"])}
    assert qs["1c"].options == (
        "Basic mobile phone",
        "Smartphone",
        "Tablet",
        "Laptop computer",
        "Desktop computer",
    )
    assert len(qs["1d"].options) == 8
    assert "All the below questions" not in qs["1b"].text
    assert all(q.parent is None for q in qs.values())  # no "1." question: 1a has no parent


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1. One?\n2. Two?\n3. Three?", ["1", "2", "3"]),
        ("1) One?\n2) Two?", ["1", "2"]),
        ("(1) One?\n(2) Two?", ["1", "2"]),
        ("Q1. One?\nQ2: Two?\nQuestion 3 - Three?", ["1", "2", "3"]),
        ("a) One?\nb) Two?\n(c) Three?", ["a", "b", "c"]),
        ("1. Parent:\na) one\nb) two\n2. Next?", ["1", "1a", "1b", "2"]),
        ("1. Parent:\n(a) one\n(b) two\n(i) deep\n(ii) deeper\n(c) three", None),
        ("1a. One?\n1b. Two?\n2. Three?", ["1a", "1b", "2"]),
        ("1. Top?\n1a. Sub?\n1b. Sub?\n2. Top?", ["1", "1a", "1b", "2"]),
        ("1(a) One?\n1(b) Two?", ["1a", "1b"]),
        ("1. A\n2. B\n4. D (3 was withdrawn)", ["1", "2", "4"]),
    ],
)
def test_markers_and_nesting(text: str, expected: list[str] | None) -> None:
    if expected is None:  # roman numerals under a letter
        qs = extract_questions(text)
        assert [q.key for q in qs] == ["1", "1a", "1b", "1b1", "1b2", "1c"]
        assert qs[3].label == "i" and qs[3].parent == "1b"
        return
    assert keys(text) == expected


def test_bullet_only_request_makes_each_top_bullet_a_question() -> None:
    qs = extract_questions(
        "Please tell me:\n- How many parking fines?\n  * by month\n- Total income?\n"
    )
    assert [(q.key, q.text, q.options) for q in qs] == [
        ("1", "How many parking fines?", ("by month",)),
        ("2", "Total income?", ()),
    ]


def test_prose_request_makes_each_asking_paragraph_a_question() -> None:
    qs = extract_questions(
        "Dear council,\n\nHow many staff do you employ?\n\nThis is for research.\n\n"
        "Do you pay the living wage?\n"
    )
    assert [q.text for q in qs] == ["How many staff do you employ?", "Do you pay the living wage?"]


def test_not_markers() -> None:
    for line in ("e.g. a laptop", "2020. A year", "1.5 million", "3 bedrooms", "10am start"):
        marker = parse_marker(line)
        assert marker is None or marker.style == "bullet", line
    assert parse_marker("o Laptops") == parse_marker("- o Laptops")
    assert parse_marker("**") is None


def test_preamble_and_sign_off_are_not_questions() -> None:
    qs = extract_questions(
        "I am researching X.\n\n1. How many?\n2. Which ones?\n\nMany thanks\n\nA. Researcher\n"
    )
    assert [(q.key, q.text) for q in qs] == [("1", "How many?"), ("2", "Which ones?")]


def test_text_form_round_trips_every_fixture() -> None:
    for case, text in REQUEST.items():
        qs = extract_questions(text)
        assert from_text(to_text(qs)) == qs, case
        assert questions_from_json(questions_to_json(qs)) == qs, case


def test_text_form_is_editable() -> None:
    edited = from_text(
        "# my questions\n"
        "[1] How many fines?\n"
        "    Please break down by year.\n"
        "[1a] a. In 2023?\n"
        "[2] Which contractor?\n"
        "  - NSL\n"
        "  - APCOA\n"
    )
    assert edited == [
        Question("1", "How many fines?\nPlease break down by year.", None, "1"),
        Question("1a", "In 2023?", "1", "a"),
        Question("2", "Which contractor?", None, "2", ("NSL", "APCOA")),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no questions found"),
        ("How many?\n", "line 1: expected a question starting with [key]"),
        ("[1] One\n[1] Two\n", "line 2: key [1] is used twice (first on line 1)"),
        ("[a b] One\n", "line 1: bad key [a b]"),
        ("[1]\n", "line 1: question [1] has no text"),
        ("[../x] One\n", "bad key"),
    ],
)
def test_text_form_errors_name_the_line(text: str, message: str) -> None:
    with pytest.raises(QuestionsError, match=re.escape(message)):
        from_text(text)
