"""The campaign file, read into a spec, and the choice of authorities (pure)."""

from __future__ import annotations

import pytest

from foibot.domain.campaign_spec import (
    AuthorityChoice,
    CampaignSpecError,
    Selection,
    parse_campaign,
    parse_selection,
    select_authorities,
)
from foibot.domain.regimes import Nation, Regime

BASE = {"name": "parking-2024", "title": "Parking", "body": "1. How much?", "authorities": "all"}

COUNCILS = [
    AuthorityChoice("London Borough of Barnet", "foi@barnet.gov.uk", Nation.ENGLAND, Regime.FOIA),
    AuthorityChoice("Cardiff Council", "foi@cardiff.gov.uk", Nation.WALES, Regime.FOIA),
    AuthorityChoice("Glasgow City Council", "foi@glasgow.gov.uk", Nation.SCOTLAND, Regime.FOISA),
    AuthorityChoice(
        "Belfast City Council", "foi@belfastcity.gov.uk", Nation.NORTHERN_IRELAND, Regime.FOIA
    ),
    AuthorityChoice(
        "Leicester City Council", "info.requests@leicester.gov.uk", Nation.ENGLAND, Regime.FOIA
    ),
]


def spec_error(**changes: object) -> str:
    data = {**BASE, **changes}
    data = {k: v for k, v in data.items() if v is not None}
    with pytest.raises(CampaignSpecError) as info:
        parse_campaign(data)
    return str(info.value)


def test_a_minimal_campaign() -> None:
    spec = parse_campaign(BASE)
    assert spec.name == "parking-2024"
    assert spec.body == "1. How much?"
    assert spec.template is None and spec.subject is None
    assert spec.selection == Selection("all")
    assert spec.environmental is False
    assert dict(spec.variables) == {}


def test_eir_and_vars_and_template() -> None:
    spec = parse_campaign(
        {
            **{k: v for k, v in BASE.items() if k != "body"},
            "template": " letters/air.txt.j2 ",
            "regime": "EIR",
            "vars": {"year": 2023, "pollutants": ["NO2", "PM2.5"]},
            "subject": "Air quality [{{ reference }}]",
        }
    )
    assert spec.environmental is True
    assert spec.template == "letters/air.txt.j2"
    assert spec.variables["pollutants"] == ["NO2", "PM2.5"]
    assert parse_campaign({**BASE, "regime": "eisr"}).environmental is True
    assert parse_campaign({**BASE, "regime": "foi"}).environmental is False


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"titel": "x"}, "unknown key 'titel'"),
        ({"name": "Parking 2024"}, "must be a slug"),
        ({"name": "-parking"}, "must be a slug"),
        ({"name": None}, "name is required"),
        ({"title": "  "}, "title must not be empty"),
        ({"template": "a.j2"}, "either body"),
        ({"body": None}, "body or template is required"),
        ({"body": 3}, "body must be a string"),
        ({"authorities": None}, "authorities is required"),
        ({"authorities": "some"}, 'must be "all"'),
        ({"authorities": []}, "empty list"),
        ({"authorities": [1, 2]}, "list of authority names"),
        ({"authorities": {"country": ["England"]}}, "unknown filter 'country'"),
        ({"authorities": {"nation": ["Atlantis"]}}, "unknown nation 'Atlantis'"),
        ({"authorities": {"regime": "eir"}}, "authority's own regime"),
        ({"authorities": {}}, "no filter"),
        ({"regime": "foia2000"}, 'regime must be "eir"'),
        ({"vars": "x"}, "vars must be a table"),
    ],
)
def test_bad_campaign_files_say_which_key(changes: dict[str, object], expected: str) -> None:
    assert expected in spec_error(**changes)


def test_select_all_keeps_order() -> None:
    assert select_authorities(Selection("all"), COUNCILS) == COUNCILS


def test_select_by_name_or_email_ignoring_case() -> None:
    chosen = select_authorities(
        parse_selection(["glasgow city council", "FOI@barnet.gov.uk"]), COUNCILS
    )
    assert [a.name for a in chosen] == ["London Borough of Barnet", "Glasgow City Council"]


def test_unknown_names_are_all_reported_with_a_suggestion() -> None:
    with pytest.raises(CampaignSpecError) as info:
        select_authorities(
            parse_selection(["Cardif Council", "Atlantis", "Cardiff Council"]), COUNCILS
        )
    message = str(info.value)
    assert "unknown authority 'Cardif Council' (did you mean 'Cardiff Council'?)" in message
    assert "unknown authority 'Atlantis'" in message


def test_a_name_listed_twice_is_an_error() -> None:
    with pytest.raises(CampaignSpecError, match="listed twice"):
        select_authorities(parse_selection(["Cardiff Council", "foi@cardiff.gov.uk"]), COUNCILS)


def test_filters_combine() -> None:
    england_wales = parse_selection(
        {"nation": ["England", "wales"], "exclude": ["Cardiff Council"]}
    )
    assert [a.name for a in select_authorities(england_wales, COUNCILS)] == [
        "London Borough of Barnet",
        "Leicester City Council",
    ]
    scots = parse_selection({"regime": "foisa"})
    assert [a.name for a in select_authorities(scots, COUNCILS)] == ["Glasgow City Council"]
    assert parse_selection({"nation": "NI"}).as_json() == {
        "kind": "filters",
        "nation": ["Northern Ireland"],
    }


def test_an_empty_selection_is_an_error() -> None:
    with pytest.raises(CampaignSpecError, match="matches no authority"):
        select_authorities(
            parse_selection({"nation": "Scotland", "exclude": ["Glasgow City Council"]}), COUNCILS
        )
    with pytest.raises(CampaignSpecError, match="no authorities yet"):
        select_authorities(Selection("all"), [])
