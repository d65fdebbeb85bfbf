"""Where to recruit, through the API: the report names the profile that, added as a real volunteer and run,
matches exactly the parents it said; JSON and CSV agree; coordinators only."""

import csv
import io
import re
from typing import Any

from fastapi.testclient import TestClient

from matching import recruitment
from tests.factories import referral_body, volunteer_body

ABERDEEN = "AB10 1XG"


def _parent(n: int, **parent: Any) -> dict[str, Any]:
    body = referral_body(n)
    body["parent"].update(parent)
    return body


def _waiting_in_aberdeen(client: TestClient, coordinator: dict[str, str]) -> None:
    """An English-speaking volunteer in Edinburgh with two places; one English parent near her and two
    Polish-only parents in Aberdeen who want home visits."""
    assert client.post("/v1/volunteers", json=volunteer_body(languages=["en"]), headers=coordinator).status_code == 201
    bodies = [
        referral_body(1, languages=["en"]),
        referral_body(2, languages=["pl"], formats=["home_visit"]),
        referral_body(3, languages=["pl"], formats=["home_visit"]),
    ]
    bodies[1]["parent"]["postcode"] = ABERDEEN
    bodies[2]["parent"]["postcode"] = "AB10 1AB"
    for body in bodies:
        assert client.post("/v1/referrals", json=body, headers=coordinator).status_code == 201


def test_the_report_names_the_volunteer_who_would_match_the_two_waiting_in_aberdeen(
    client: TestClient, coordinator: dict[str, str]
) -> None:
    _waiting_in_aberdeen(client, coordinator)
    report = client.get("/v1/reports/recruitment", headers=coordinator)
    assert report.status_code == 200, report.text
    body = report.json()
    assert (body["waiting"], body["matchable_now"], body["places_assumed"]) == (3, 1, 2)
    best = body["openings"][0]
    assert {k: best[k] for k in ("language", "format", "area", "would_match", "fit_directly")} == {
        "language": "pl",
        "format": "home_visit",
        "area": "AB10",
        "would_match": 2,
        "fit_directly": 2,
    }
    assert best["detail"] == (
        "One Polish-speaking volunteer offering home visits around AB10 would match 2 more parents now "
        "(2 waiting parents fit this profile directly)."
    )
    # The what-if, for real: recruit her and run.
    recruit = volunteer_body(name="Ewa Zielinska", languages=["pl"], formats=["home_visit"], postcode="AB10 6RN")
    recruit["availability"] = [{"day": day, "start": "08:00", "end": "20:00"} for day in ("tue", "thu")]
    assert client.post("/v1/volunteers", json=recruit, headers=coordinator).status_code == 201
    run = client.post("/v1/match-runs?wait=true", headers=coordinator).json()
    assert run["stats"]["matched"] == body["matchable_now"] + best["would_match"]


def test_csv_has_the_same_openings(client: TestClient, coordinator: dict[str, str]) -> None:
    _waiting_in_aberdeen(client, coordinator)
    as_json = client.get("/v1/reports/recruitment", headers=coordinator).json()
    as_csv = client.get("/v1/reports/recruitment", headers={**coordinator, "Accept": "text/csv"})
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert as_csv.content.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert [(r["language"], r["format"], r["area"], int(r["would_match"])) for r in rows] == [
        (o["language"], o["format"], o["area"] or "", o["would_match"]) for o in as_json["openings"]
    ]


def test_nobody_waiting_means_nothing_to_recruit_for(client: TestClient, coordinator: dict[str, str]) -> None:
    body = client.get("/v1/reports/recruitment?limit=5", headers=coordinator).json()
    assert (body["waiting"], body["openings"]) == (0, [])


def test_limit_is_bounded(client: TestClient, coordinator: dict[str, str]) -> None:
    answer = client.get("/v1/reports/recruitment?limit=0", headers=coordinator)
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["loc"][-1] == "limit"


def test_only_staff_read_it(client: TestClient, make_key: Any) -> None:
    assert client.get("/v1/reports/recruitment", headers=make_key("integrator", source="nhs")).status_code == 403


def test_the_chart_carries_the_reports_values(client: TestClient, coordinator: dict[str, str]) -> None:
    _waiting_in_aberdeen(client, coordinator)
    report = client.get("/v1/reports/recruitment?limit=5", headers=coordinator).json()
    chart = client.get("/v1/reports/recruitment.svg?limit=5", headers=coordinator)
    assert chart.headers["content-type"].startswith("image/svg+xml")
    bars = re.findall(r'data-series="([^"]+)" data-group="([^"]+)" data-value="([^"]+)"', chart.text)
    drawn = {(group, series): int(value) for series, group, value in bars}
    for opening in report["openings"]:
        label = " ".join(
            part
            for part in (
                opening["language"],
                opening["format"].replace("_", " "),
                opening["area"],
                opening["gender"],
                opening["specialism"],
            )
            if part
        )
        assert drawn[(label, "more parents matched")] == opening["would_match"]
        assert drawn[(label, "waiting parents who fit")] == opening["fit_directly"]


def test_a_repeated_view_reuses_the_answer_and_a_changed_volunteer_changes_it(
    client: TestClient, coordinator: dict[str, str], monkeypatch: Any
) -> None:
    solved: list[int] = []
    openings = recruitment.openings

    def counted(*args: Any, **kwargs: Any) -> recruitment.Recruitment:
        solved.append(1)
        return openings(*args, **kwargs)

    monkeypatch.setattr(recruitment, "openings", counted)
    _waiting_in_aberdeen(client, coordinator)
    first = client.get("/v1/reports/recruitment", headers=coordinator).json()
    assert client.get("/v1/reports/recruitment", headers=coordinator).json() == first
    assert len(solved) == 1
    # She learns Polish and takes the Aberdeen parents' home visits: the report must see it at once.
    at = f"/v1/volunteers/{client.get('/v1/volunteers', headers=coordinator).json()['items'][0]['id']}"
    etag = client.get(at, headers=coordinator).headers["ETag"]
    patch = {"languages": ["en", "pl"], "postcode": "AB10 6RN", "max_travel_km": 20}
    assert client.patch(at, json=patch, headers={**coordinator, "If-Match": etag}).status_code == 200
    second = client.get("/v1/reports/recruitment", headers=coordinator).json()
    assert len(solved) == 2
    assert second != first
    assert (first["matchable_now"], second["matchable_now"]) == (1, 2)
