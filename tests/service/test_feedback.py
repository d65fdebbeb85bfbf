"""End-of-support feedback: the programme's questionnaire (by default the seeds' hope and isolation items),
answered once per parent and volunteer for a match, checked item by item, and counted in the outcomes report."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.service.test_reports import programme as programme  # the seeded programme, a fixture

JANUARY = "/v1/reports/outcomes?from=2027-01-01&to=2027-01-31"
S, W = "<5", "suppressed"


def _match_of(client: TestClient, coordinator: dict[str, str], referral_id: str) -> dict[str, Any]:
    items = client.get(f"/v1/matches?referral_id={referral_id}&status=ended", headers=coordinator).json()["items"]
    return dict(items[0])


def _post(client: TestClient, headers: dict[str, str], match_id: str, respondent: str, **answers: Any) -> Any:
    body = {"respondent": respondent, "answers": answers}
    return client.post(f"/v1/matches/{match_id}/feedback", json=body, headers=headers)


def test_the_default_questionnaire_asks_about_hope_and_isolation(
    client: TestClient, coordinator: dict[str, str]
) -> None:
    items = client.get("/v1/programme", headers=coordinator).json()["feedback_questionnaire"]
    assert [(i["code"], i["answer_type"]) for i in items] == [
        ("hope", "scale_1_5"),
        ("less_alone", "scale_1_5"),
        ("would_recommend", "yes_no"),
        ("comments", "short_text"),
    ]


@pytest.mark.parametrize(
    ("answers", "item"),
    [
        ({"hope": 6}, "hope"),
        ({"hope": True}, "hope"),
        ({"less_alone": 0}, "less_alone"),
        ({"would_recommend": 1}, "would_recommend"),
        ({"comments": 3}, "comments"),
        ({"favourite_colour": 2}, "favourite_colour"),
    ],
)
def test_a_wrong_answer_is_422_naming_its_item(
    client: TestClient, coordinator: dict[str, str], programme: dict[int, str], answers: dict[str, Any], item: str
) -> None:
    match = _match_of(client, coordinator, programme[1])
    response = _post(client, coordinator, match["id"], "parent", **answers)
    assert response.status_code == 422, response.text
    assert ["body", "answers", item] in [e["loc"] for e in response.json()["errors"]], response.text


def test_a_volunteer_item_only_for_parents_is_422(
    client: TestClient, coordinator: dict[str, str], programme: dict[int, str]
) -> None:
    match = _match_of(client, coordinator, programme[1])
    response = _post(client, coordinator, match["id"], "volunteer", would_recommend=True)
    assert response.status_code == 422 and "would_recommend" in response.text


def test_answers_are_stored_once_per_respondent_and_a_volunteer_gives_only_her_own(
    client: TestClient, coordinator: dict[str, str], programme: dict[int, str], make_key: Any
) -> None:
    match = _match_of(client, coordinator, programme[1])
    stored = _post(client, coordinator, match["id"], "parent", hope=4, less_alone=5, would_recommend=True)
    assert stored.status_code == 201, stored.text
    assert stored.json()["answers"] == {"hope": 4, "less_alone": 5, "would_recommend": True}
    assert _post(client, coordinator, match["id"], "parent", hope=2).status_code == 409
    volunteer = make_key("volunteer", volunteer_id=match["volunteer_id"])
    assert _post(client, volunteer, match["id"], "parent", hope=5).status_code == 403
    own = _post(client, volunteer, match["id"], "volunteer", hope=3, comments="We got on well.")
    assert own.status_code == 201, own.text


def test_the_outcomes_report_counts_answers_per_item_and_suppresses_them_for_funders(
    client: TestClient, coordinator: dict[str, str], programme: dict[int, str]
) -> None:
    """Parents of the five completed matches (P1, P3, P5, P7, P11) and of one that ended early (P2) answer: hope
    5 4 4 3 2 1 (mean 19 / 6 = 3.17), less alone from four of them (5 4 3 2), would recommend yes from five and
    no from one. Externally the four are "<5", and the one "no" would be answers - yes, so the yes count is
    withheld."""
    answers = [
        (1, {"hope": 5, "less_alone": 5, "would_recommend": True}),
        (3, {"hope": 4, "less_alone": 4, "would_recommend": True}),
        (5, {"hope": 4, "less_alone": 3, "would_recommend": True}),
        (7, {"hope": 3, "would_recommend": False}),
        (11, {"hope": 2, "less_alone": 2, "would_recommend": True, "comments": "Thank you"}),
        (2, {"hope": 1, "would_recommend": True}),
    ]
    for n, given in answers:
        match = _match_of(client, coordinator, programme[n])
        assert _post(client, coordinator, match["id"], "parent", **given).status_code == 201
    internal = {(f["respondent"], f["item"]): f for f in client.get(JANUARY, headers=coordinator).json()["feedback"]}
    assert internal[("parent", "hope")] == {
        "respondent": "parent",
        "item": "hope",
        "answer_type": "scale_1_5",
        "answers": 6,
        "mean": 3.17,
        "yes": None,
    }
    assert (internal[("parent", "less_alone")]["answers"], internal[("parent", "less_alone")]["mean"]) == (4, 3.5)
    assert (internal[("parent", "would_recommend")]["answers"], internal[("parent", "would_recommend")]["yes"]) == (
        6,
        5,
    )
    assert internal[("volunteer", "hope")]["answers"] == 0
    assert ("parent", "comments") not in internal  # free text is never reported
    external = {
        (f["respondent"], f["item"]): f
        for f in client.get(f"{JANUARY}&audience=external", headers=coordinator).json()["feedback"]
    }
    assert (external[("parent", "hope")]["answers"], external[("parent", "hope")]["mean"]) == (6, 3.17)
    assert (external[("parent", "less_alone")]["answers"], external[("parent", "less_alone")]["mean"]) == (S, None)
    assert (external[("parent", "would_recommend")]["answers"], external[("parent", "would_recommend")]["yes"]) == (
        6,
        W,
    )


def test_erasing_her_removes_the_free_text_and_keeps_the_scores(
    client: TestClient, coordinator: dict[str, str], programme: dict[int, str], make_key: Any
) -> None:
    match = _match_of(client, coordinator, programme[1])
    said = "Aisha says her sister in Leith helps"
    assert _post(client, coordinator, match["id"], "parent", hope=4, comments=said).status_code == 201
    volunteer = make_key("volunteer", volunteer_id=match["volunteer_id"])
    assert _post(client, volunteer, match["id"], "volunteer", hope=3, comments=said).status_code == 201
    assert client.delete(f"/v1/referrals/{programme[1]}", headers=make_key("admin")).status_code == 204
    export = client.get(f"/v1/volunteers/{match['volunteer_id']}/export", headers=make_key("admin")).json()
    rows = export["tables"]["feedback"]
    assert sorted(row["answers"]["hope"] for row in rows) == [3, 4]
    assert said not in str(export)
