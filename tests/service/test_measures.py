"""PHQ-9, GAD-7 and SWEMWBS beside the EPDS: totals, bands and the SWEMWBS metric score worked by hand from the
published scoring rules, the self-harm item, the licence, and the 422 that names the wrong item."""

import json
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError
from sqlalchemy import Connection, text

from api_schemas.measures import SCALES, Band, Instrument, MeasureIn
from service.referrals import scoring
from tests.factories import referral_body

ON = date(2027, 1, 4).isoformat()


def _measure(instrument: str, answers: list[Any], timepoint: str = "baseline") -> dict[str, Any]:
    return {"instrument": instrument, "answers": answers, "completed_on": ON, "timepoint": timepoint}


@pytest.fixture
def referral_id(client: TestClient, coordinator: dict[str, str]) -> str:
    return str(client.post("/v1/referrals", json=referral_body(), headers=coordinator).json()["id"])


@pytest.fixture
def licensed(client: TestClient, admin: dict[str, str]) -> None:
    settings = client.get("/v1/programme", headers=admin).json()
    assert settings["swemwbs_licensed"] is False  # off until the programme says it holds the licence
    response = client.put("/v1/programme", json={**settings, "swemwbs_licensed": True}, headers=admin)
    assert response.status_code == 200, response.text


def _safety_reasons(db: Connection) -> list[str]:
    rows = db.execute(text("SELECT payload FROM outbox_event WHERE type = 'safety.alert'"))
    return [(row[0] if isinstance(row[0], dict) else json.loads(row[0]))["reason"] for row in rows]


# Totals and bands by hand: PHQ-9 minimal 0-4, mild 5-9, moderate 10-14, moderately severe 15-19, severe 20-27;
# cut-off 10 (Kroenke, Spitzer and Williams 2001). Item 9 is left at 0 here; its rule has its own tests.
PHQ9_CASES = [
    ([0, 1, 0, 1, 0, 1, 0, 1, 0], 4, "minimal", False),
    ([1, 1, 1, 1, 1, 0, 0, 0, 0], 5, "mild", False),
    ([2, 1, 1, 1, 1, 1, 1, 1, 0], 9, "mild", False),
    ([2, 2, 1, 1, 1, 1, 1, 1, 0], 10, "moderate", True),
    ([2, 2, 2, 2, 2, 1, 1, 2, 0], 14, "moderate", True),
    ([2, 2, 2, 2, 2, 2, 1, 2, 0], 15, "moderately_severe", True),
    ([3, 3, 2, 2, 2, 2, 2, 3, 0], 19, "moderately_severe", True),
    ([3, 3, 3, 2, 2, 2, 2, 3, 0], 20, "severe", True),
    ([3, 3, 3, 3, 3, 3, 3, 3, 0], 24, "severe", True),
]
# GAD-7 minimal 0-4, mild 5-9, moderate 10-14, severe 15-21; cut-off 10 (Spitzer et al. 2006).
GAD7_CASES = [
    ([0, 0, 0, 0, 0, 0, 0], 0, "minimal", False),
    ([1, 1, 1, 1, 0, 0, 0], 4, "minimal", False),
    ([1, 1, 1, 1, 1, 0, 0], 5, "mild", False),
    ([2, 2, 2, 1, 1, 1, 0], 9, "mild", False),
    ([2, 2, 2, 2, 1, 1, 0], 10, "moderate", True),
    ([3, 2, 2, 2, 2, 2, 1], 14, "moderate", True),
    ([3, 3, 2, 2, 2, 2, 1], 15, "severe", True),
    ([3, 3, 3, 3, 3, 3, 3], 21, "severe", True),
]
# SWEMWBS: seven items 1-5, the raw total looked up in the published raw-to-metric table.
SWEMWBS_CASES = [
    ([1, 1, 1, 1, 1, 1, 1], 7, 7.00),
    ([1, 1, 1, 1, 1, 1, 2], 8, 9.51),
    ([2, 2, 2, 2, 2, 2, 2], 14, 15.32),
    ([3, 3, 3, 3, 3, 2, 2], 19, 17.98),
    ([2, 3, 3, 4, 3, 3, 3], 21, 19.25),
    ([4, 4, 3, 4, 3, 4, 3], 25, 22.35),
    ([4, 4, 4, 4, 4, 4, 4], 28, 25.03),
    ([5, 5, 5, 5, 5, 5, 4], 34, 32.55),
    ([5, 5, 5, 5, 5, 5, 5], 35, 35.00),
]


@pytest.mark.parametrize(("answers", "total", "band", "above"), PHQ9_CASES)
def test_a_phq9_is_totalled_and_banded_as_published(
    client: TestClient,
    coordinator: dict[str, str],
    referral_id: str,
    answers: list[int],
    total: int,
    band: str,
    above: bool,
) -> None:
    response = client.post(
        f"/v1/referrals/{referral_id}/measures", json=_measure("PHQ-9", answers), headers=coordinator
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["instrument"], body["total"], body["band"], body["at_or_above_threshold"]) == (
        "PHQ-9",
        total,
        band,
        above,
    )
    assert body["metric_score"] is None and body["self_harm_item_positive"] is False
    assert client.get(f"/v1/referrals/{referral_id}", headers=coordinator).json()["status"] == "waiting"


@pytest.mark.parametrize(("answers", "total", "band", "above"), GAD7_CASES)
def test_a_gad7_is_totalled_and_banded_as_published(
    client: TestClient,
    coordinator: dict[str, str],
    referral_id: str,
    answers: list[int],
    total: int,
    band: str,
    above: bool,
) -> None:
    response = client.post(
        f"/v1/referrals/{referral_id}/measures", json=_measure("GAD-7", answers), headers=coordinator
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["total"], body["band"], body["at_or_above_threshold"]) == (total, band, above)
    assert body["self_harm_item_positive"] is False  # GAD-7 has no self-harm item: a severe total is not a risk flag


@pytest.mark.parametrize(("answers", "raw", "metric"), SWEMWBS_CASES)
def test_a_swemwbs_raw_total_is_converted_to_its_metric_score(
    client: TestClient,
    coordinator: dict[str, str],
    referral_id: str,
    licensed: None,
    answers: list[int],
    raw: int,
    metric: float,
) -> None:
    response = client.post(
        f"/v1/referrals/{referral_id}/measures", json=_measure("SWEMWBS", answers), headers=coordinator
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["total"], body["metric_score"], body["band"]) == (raw, metric, None)
    assert body["at_or_above_threshold"] is False and body["self_harm_item_positive"] is False


def test_a_swemwbs_without_the_licence_setting_is_409_and_not_stored(
    client: TestClient, coordinator: dict[str, str], referral_id: str
) -> None:
    response = client.post(
        f"/v1/referrals/{referral_id}/measures", json=_measure("SWEMWBS", [3] * 7), headers=coordinator
    )
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert client.get(f"/v1/referrals/{referral_id}/measures", headers=coordinator).json()["items"] == []


def test_a_positive_phq9_item_9_escalates_like_epds_item_10(
    client: TestClient, coordinator: dict[str, str], referral_id: str, db: Connection
) -> None:
    """A total of 1, the lowest band, and still the parent goes to a clinician before any volunteer."""
    answers = [0, 0, 0, 0, 0, 0, 0, 0, 1]
    response = client.post(
        f"/v1/referrals/{referral_id}/measures", json=_measure("PHQ-9", answers), headers=coordinator
    )
    assert response.status_code == 201
    assert response.json()["self_harm_item_positive"] is True and response.json()["band"] == "minimal"
    referral = client.get(f"/v1/referrals/{referral_id}", headers=coordinator).json()
    assert referral["status"] == "escalated" and referral["risk_review_pending"] is True
    assert _safety_reasons(db) == ["phq9_item_9_positive"]


def test_the_epds_request_shape_still_works_without_naming_the_instrument(
    client: TestClient, coordinator: dict[str, str], referral_id: str
) -> None:
    body = {"answers": [2, 2, 2, 2, 1, 2, 2, 1, 1, 0], "completed_on": ON}
    response = client.post(f"/v1/referrals/{referral_id}/measures", json=body, headers=coordinator)
    assert response.status_code == 201, response.text
    out = response.json()
    assert (out["instrument"], out["total"], out["at_or_above_threshold"], out["band"]) == ("EPDS", 15, True, None)
    assert out["metric_score"] is None


def test_every_instrument_is_listed_with_its_scores(
    client: TestClient, coordinator: dict[str, str], referral_id: str, licensed: None
) -> None:
    for measure in (
        _measure("EPDS", [1] * 10),
        _measure("PHQ-9", PHQ9_CASES[3][0]),
        _measure("GAD-7", GAD7_CASES[6][0]),
        _measure("SWEMWBS", SWEMWBS_CASES[4][0]),
    ):
        assert (
            client.post(f"/v1/referrals/{referral_id}/measures", json=measure, headers=coordinator).status_code == 201
        )
    items = client.get(f"/v1/referrals/{referral_id}/measures", headers=coordinator).json()["items"]
    assert sorted((m["instrument"], m["total"], m["band"], m["metric_score"]) for m in items) == [
        ("EPDS", 10, None, None),
        ("GAD-7", 15, "severe", None),
        ("PHQ-9", 10, "moderate", None),
        ("SWEMWBS", 21, None, 19.25),
    ]


@pytest.mark.parametrize(
    ("instrument", "answers", "loc"),
    [
        ("PHQ-9", [1] * 10, ["body", "answers", 9]),  # one too many: the tenth is named
        ("PHQ-9", [1] * 8, ["body", "answers", 8]),  # the ninth, self-harm item, is missing
        ("GAD-7", [1] * 6, ["body", "answers", 6]),
        ("GAD-7", [1] * 9, ["body", "answers", 7]),
        ("EPDS", [1] * 9, ["body", "answers", 9]),
        ("PHQ-9", [1, 1, 4, 1, 1, 1, 1, 1, 1], ["body", "answers", 2]),
        ("GAD-7", [1, 1, 1, 1, 1, 1, -1], ["body", "answers", 6]),
        ("SWEMWBS", [3, 3, 0, 3, 3, 3, 3], ["body", "answers", 2]),  # SWEMWBS items run 1-5
        ("SWEMWBS", [3, 3, 3, 3, 3, 3, 6], ["body", "answers", 6]),
        ("PHQ-9", [1, 1, 1, 1, 1, 1, 1, 1, True], ["body", "answers", 8]),  # JSON integers only
        ("PHQ-9", [1, 1, 1, 1, 1, 1, 1, 1, 1.0], ["body", "answers", 8]),
        ("GAD-7", [1, 1, "2", 1, 1, 1, 1], ["body", "answers", 2]),
        ("BDI-II", [1] * 9, ["body", "instrument"]),
    ],
)
def test_wrong_answers_are_422_naming_the_item(
    client: TestClient,
    coordinator: dict[str, str],
    referral_id: str,
    licensed: None,
    db: Connection,
    instrument: str,
    answers: list[Any],
    loc: list[str | int],
) -> None:
    response = client.post(
        f"/v1/referrals/{referral_id}/measures", json=_measure(instrument, answers), headers=coordinator
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert [error["loc"] for error in response.json()["errors"]] == [loc]
    assert client.get(f"/v1/referrals/{referral_id}", headers=coordinator).json()["status"] == "waiting"
    assert _safety_reasons(db) == []


@given(
    instrument=st.sampled_from(list(Instrument)),
    answers=st.lists(st.integers(min_value=-1, max_value=6), max_size=12),
)
def test_answers_are_accepted_exactly_when_they_fit_the_instrument(instrument: Instrument, answers: list[int]) -> None:
    scale = SCALES[instrument]
    fits = len(answers) == scale.items and all(scale.lowest <= a <= scale.highest for a in answers)
    try:
        MeasureIn.model_validate({"instrument": instrument.value, "answers": answers, "completed_on": ON})
    except ValidationError as error:
        assert not fits
        for problem in error.errors():
            assert problem["loc"][0] == "answers" and isinstance(problem["loc"][1], int)
            index = problem["loc"][1]
            assert index >= scale.items or index >= len(answers) or not scale.lowest <= answers[index] <= scale.highest
    else:
        assert fits


@given(instrument=st.sampled_from([Instrument.PHQ9, Instrument.GAD7]), low=st.integers(0, 27), high=st.integers(0, 27))
def test_a_higher_total_is_never_in_a_milder_band(instrument: Instrument, low: int, high: int) -> None:
    order = list(Band)
    low, high = sorted((low, high))
    low_band, high_band = scoring.band(instrument, low), scoring.band(instrument, high)
    assert low_band is not None and high_band is not None
    assert order.index(low_band) <= order.index(high_band)


# The whole published table, copied independently of service/referrals/scoring.py from the Warwick Medical School
# "SWEMWBS conversion table" (raw 7-35 to metric, from the Rasch analysis of Stewart-Brown et al. 2009, Health Qual
# Life Outcomes 7:15), checked on 2026-12-07 against a second, independent transcription of it. Tables circulating
# with other values (8 -> 8.50, 9 -> 9.51, ...) are not Warwick's.
PUBLISHED_SWEMWBS = (
    "7.00 9.51 11.25 12.40 13.33 14.08 14.75 15.32 15.84 16.36 16.88 17.43 17.98 18.59 19.25 19.98 20.73 21.54 "
    "22.35 23.21 24.11 25.03 26.02 27.03 28.13 29.31 30.70 32.55 35.00"
)


def test_the_swemwbs_table_is_the_published_one_row_for_row() -> None:
    published = dict(zip(range(7, 36), (float(value) for value in PUBLISHED_SWEMWBS.split()), strict=True))
    assert published == scoring.SWEMWBS_METRIC


def test_the_swemwbs_table_covers_every_raw_total_and_keeps_its_order() -> None:
    raw = sorted(scoring.SWEMWBS_METRIC)
    assert raw == list(range(7, 36))
    metrics = [scoring.SWEMWBS_METRIC[r] for r in raw]
    assert metrics == sorted(set(metrics))  # strictly increasing: a better raw score is never a worse metric
    assert (metrics[0], metrics[-1]) == (7.0, 35.0)  # the ends of the scale are not stretched
