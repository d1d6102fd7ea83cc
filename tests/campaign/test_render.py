"""The sandboxed templates and the shipped letter."""

from __future__ import annotations

import pytest

from foibot.config import SenderSettings
from foibot.domain.campaign_spec import AuthorityChoice
from foibot.domain.references import find_references
from foibot.domain.regimes import Nation, Regime
from foibot.errors import UserInputError
from foibot.render import compile_template, read_template, shipped_template_path
from foibot.services.campaigns import (
    DEFAULT_LETTER,
    DEFAULT_SUBJECT,
    CampaignContext,
    Letter,
    LetterRenderer,
    with_reference,
)

REF = "FB-7K3M9Q5"
SENDER = SenderSettings("A. Researcher", "research@example.org", reply_to_plus=False)
GLASGOW = AuthorityChoice(
    "Glasgow City Council", "foi@glasgow.gov.uk", Nation.SCOTLAND, Regime.FOISA
)
BARNET = AuthorityChoice(
    "London Borough of Barnet", "foi@barnet.gov.uk", Nation.ENGLAND, Regime.FOIA
)


def error_of(source: str, **context: object) -> str:
    with pytest.raises(UserInputError) as info:
        compile_template(source, "letter.txt.j2").render(context)
    return str(info.value)


def test_undefined_variable_names_template_and_line() -> None:
    message = error_of(
        "Dear {{ authority.name }},\n\nYear: {{ vars.year }}\n", authority={"name": "X"}, vars={}
    )
    assert message.startswith("template letter.txt.j2, line 3: undefined variable:")
    assert "year" in message
    assert (
        error_of("a\nb\n{{ nope }}")
        == "template letter.txt.j2, line 3: undefined variable: 'nope' is undefined"
    )


def test_undefined_inside_a_block_names_the_inner_line() -> None:
    source = (
        "{% if authority %}\nfine\n{% for q in questions %}\n{{ q.text }}\n"
        "{% endfor %}\n{% endif %}\n"
    )
    message = error_of(source, authority=True, questions=[{"txt": 1}])
    assert message.startswith("template letter.txt.j2, line 4: undefined variable:")


def test_syntax_error_names_the_line() -> None:
    with pytest.raises(UserInputError) as info:
        compile_template("Dear {{ authority.name }},\n\n{% if %}\n", "mine.j2")
    assert str(info.value).startswith("template mine.j2, line 3: syntax error:")


def test_runtime_error_in_an_expression_is_reported_not_raised() -> None:
    assert error_of("x\n{{ 1 / vars.n }}", vars={"n": 0}).startswith(
        "template letter.txt.j2, line 2: ZeroDivisionError"
    )


def test_the_sandbox_refuses_to_reach_python_internals() -> None:
    message = error_of("{{ ''.__class__.__mro__[1].__subclasses__() }}")
    assert "unsafe" in message
    # and templates cannot change the data they are given
    assert "unsafe" in error_of("{{ vars.questions.append(1) }}", vars={"questions": [1]})


def test_missing_template_file(tmp_path: object) -> None:
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    with pytest.raises(UserInputError, match="file not found"):
        read_template(tmp_path / "nope.j2", "nope.j2")


def renderer(body: str = "1. How much?\n", *, plus: bool = False) -> LetterRenderer:
    sender = SenderSettings(SENDER.name, SENDER.address, reply_to_plus=plus)
    return LetterRenderer(
        campaign=CampaignContext("parking", "Parking income"),
        sender=sender,
        subject=read_template(shipped_template_path(DEFAULT_SUBJECT)),
        letter=read_template(shipped_template_path(DEFAULT_LETTER)),
        body=compile_template(body, "campaign.toml body"),
        variables={"year": "2023/24"},
    )


@pytest.mark.parametrize(
    ("authority", "regime", "act", "duty", "kind"),
    [
        (
            BARNET,
            Regime.FOIA,
            "Freedom of Information Act 2000",
            "section 16",
            "Freedom of Information request",
        ),
        (
            GLASGOW,
            Regime.FOISA,
            "Freedom of Information (Scotland) Act 2002",
            "section 15",
            "Freedom of Information request",
        ),
        (
            BARNET,
            Regime.EIR,
            "Environmental Information Regulations 2004",
            "regulation 9",
            "Environmental information request",
        ),
        (
            GLASGOW,
            Regime.EISR,
            "Environmental Information (Scotland) Regulations 2004",
            "regulation 9",
            "Environmental information request",
        ),
    ],
)
def test_default_letter_cites_the_law_of_each_authority(
    authority: AuthorityChoice, regime: Regime, act: str, duty: str, kind: str
) -> None:
    letter = renderer("How much did {{ authority.name }} spend in {{ vars.year }}?").render(
        authority, regime, REF
    )
    text = " ".join(letter.body.split())
    assert letter.subject == f"{kind}: Parking income [{REF}]"
    assert text.startswith(f"Dear {authority.name}, I am writing to")
    assert f"under the {act}." in text
    assert f"How much did {authority.name} spend in 2023/24?" in text
    assert f"duty to advise and assist ({duty})" in text
    assert "by email to research@example.org" in text
    assert f"Our reference for this request is {REF}. Please quote it" in text
    assert letter.body.rstrip().endswith("Yours faithfully,\n\nA. Researcher")
    assert max(len(line) for line in letter.body.splitlines()) <= 76


def test_default_letter_asks_for_the_reply_at_the_plus_address() -> None:
    letter = renderer(plus=True).render(BARNET, Regime.FOIA, REF)
    assert f"by email to research+{REF}@example.org" in letter.body


def test_the_reference_is_added_when_a_template_leaves_it_out() -> None:
    fixed = with_reference(Letter("Parking income", "Dear Barnet,\n\nHow much?\n"), REF)
    assert fixed.subject == f"[{REF}] Parking income"
    assert fixed.body.endswith(f"\n\nOur reference: {REF} (please quote it in your reply)\n")
    assert find_references(fixed.body) == [REF]
    kept = with_reference(Letter(f"Parking {REF.lower()}", f"ref {REF}\n"), REF)
    assert kept == Letter(f"Parking {REF.lower()}", f"ref {REF}\n")
