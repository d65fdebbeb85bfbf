from datetime import date, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Connection

from tests.conftest import KeyMaker
from tests.factories import patch_current, referral_body, volunteer_body


def _reasons(body: dict[str, object]) -> list[str]:
    return [r["code"] for r in body["not_ready_reasons"]]  # type: ignore[index, union-attr]


def test_a_trained_checked_supervised_volunteer_is_ready(client: TestClient, coordinator: dict[str, str]) -> None:
    response = client.post("/v1/volunteers", json=volunteer_body(), headers=coordinator)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["ready"] is True and body["not_ready_reasons"] == []
    assert body["area"] == "EH7" and body["capacity"] == {"max_parents": 2, "max_sessions_per_week": 2}


def test_a_volunteer_whose_pvg_check_expired_is_not_ready_with_that_reason(
    client: TestClient, coordinator: dict[str, str]
) -> None:
    expired = (date.today() - timedelta(days=1)).isoformat()
    body = volunteer_body(check={"scheme": "PVG", "checked_on": "2020-01-01", "expires_on": expired})
    out = client.post("/v1/volunteers", json=body, headers=coordinator).json()
    assert out["ready"] is False
    assert _reasons(out) == ["check_expired"]
    assert expired in out["not_ready_reasons"][0]["detail"]


def test_a_check_lapsing_before_a_new_match_would_end_holds_her_back_from_new_matches(
    client: TestClient, coordinator: dict[str, str]
) -> None:
    """The programme plans 8 weekly sessions: a check lapsing in 3 weeks would lapse mid-match; in 9 it would
    not. The parent she would fit hears who is held back and why."""
    soon = (date.today() + timedelta(weeks=3)).isoformat()
    later = (date.today() + timedelta(weeks=9)).isoformat()
    lapsing = volunteer_body(check={"scheme": "PVG", "checked_on": "2020-01-01", "expires_on": soon})
    out = client.post("/v1/volunteers", json=lapsing, headers=coordinator).json()
    assert out["ready"] is False and _reasons(out) == ["check_expiring"]
    assert f"PVG check expires on {soon}, before a new match would end" == out["not_ready_reasons"][0]["detail"]
    rid = client.post("/v1/referrals", json=referral_body(), headers=coordinator).json()["id"]
    run = client.post("/v1/match-runs?wait=true", headers=coordinator).json()
    assert run["proposals"] == []
    [held] = run["unmatched"][0]["not_ready"]
    assert run["unmatched"][0]["referral_id"] == rid
    assert held["volunteer_id"] == out["id"] and held["reason_code"] == "check_expiring"
    renewed = volunteer_body(check={"scheme": "PVG", "checked_on": "2020-01-01", "expires_on": later})
    assert client.post("/v1/volunteers", json=renewed, headers=coordinator).json()["ready"] is True


def test_every_reason_a_volunteer_is_not_ready_is_listed(client: TestClient, coordinator: dict[str, str]) -> None:
    today = date.today()
    body = volunteer_body(
        training_completed_on=None,
        check=None,
        status="paused",
        last_supervision_on=(today - timedelta(days=57)).isoformat(),
        leave=[{"start": (today - timedelta(days=1)).isoformat(), "end": (today + timedelta(days=6)).isoformat()}],
    )
    out = client.post("/v1/volunteers", json=body, headers=coordinator).json()
    assert _reasons(out) == ["paused", "untrained", "check_missing", "supervision_overdue", "on_leave"]
    assert out["not_ready_reasons"][-1]["until"] == (today + timedelta(days=6)).isoformat()


def test_supervision_interval_comes_from_the_programme(
    client: TestClient, coordinator: dict[str, str], admin: dict[str, str]
) -> None:
    body = volunteer_body(last_supervision_on=(date.today() - timedelta(days=40)).isoformat())
    vid = client.post("/v1/volunteers", json=body, headers=coordinator).json()["id"]
    assert client.get(f"/v1/volunteers/{vid}", headers=coordinator).json()["ready"] is True
    settings = client.get("/v1/programme", headers=admin).json()
    settings["supervision_interval_days"] = 28
    assert client.put("/v1/programme", json=settings, headers=admin).status_code == 200
    assert _reasons(client.get(f"/v1/volunteers/{vid}", headers=coordinator).json()) == ["supervision_overdue"]


def test_unknown_specialism_is_422(client: TestClient, coordinator: dict[str, str]) -> None:
    response = client.post("/v1/volunteers", json=volunteer_body(specialisms=["astrology"]), headers=coordinator)
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "specialisms", 0]


def test_a_coordinator_patches_a_volunteer_and_the_etag_moves(client: TestClient, coordinator: dict[str, str]) -> None:
    created = client.post("/v1/volunteers", json=volunteer_body(), headers=coordinator)
    url = f"/v1/volunteers/{created.json()['id']}"
    patched = patch_current(
        client,
        url,
        json={"status": "paused", "capacity": {"max_parents": 1, "max_sessions_per_week": 1}},
        headers={**coordinator, "If-Match": created.headers["etag"]},
    )
    assert patched.status_code == 200
    assert patched.json()["status"] == "paused" and patched.json()["capacity"]["max_parents"] == 1
    assert _reasons(patched.json()) == ["paused"]
    stale = patch_current(
        client, url, json={"status": "active"}, headers={**coordinator, "If-Match": created.headers["etag"]}
    )
    assert stale.status_code == 412


def test_an_explicit_null_for_a_field_her_record_needs_is_422_not_a_500(
    client: TestClient, coordinator: dict[str, str], make_key: KeyMaker
) -> None:
    # Found by the stateful contract test: PATCH {"formats": null} reached the row and failed on the way out.
    vid = client.post("/v1/volunteers", json=volunteer_body(), headers=coordinator).json()["id"]
    for field in ("formats", "availability", "capacity", "status", "languages", "max_travel_km"):
        refused = patch_current(client, f"/v1/volunteers/{vid}", json={field: None}, headers=coordinator)
        assert refused.status_code == 422 and refused.json()["errors"][0]["loc"] == ["body", field], field
    assert (
        patch_current(
            client, "/v1/me", json={"leave": None}, headers=make_key("volunteer", volunteer_id=vid)
        ).status_code
        == 422
    )
    assert client.get(f"/v1/volunteers/{vid}", headers=coordinator).json()["formats"] == ["home_visit", "telephone"]


def test_a_volunteer_reads_and_edits_her_own_record_only(
    client: TestClient, coordinator: dict[str, str], make_key: KeyMaker
) -> None:
    vid = client.post("/v1/volunteers", json=volunteer_body(), headers=coordinator).json()["id"]
    other = client.post("/v1/volunteers", json=volunteer_body(name="Other Person"), headers=coordinator).json()["id"]
    me = make_key("volunteer", volunteer_id=vid)
    assert client.get("/v1/me", headers=me).json()["id"] == vid
    new_leave = [{"start": "2027-07-01", "end": "2027-07-14"}]
    patched = patch_current(client, "/v1/me", json={"leave": new_leave, "phone": "07700 900000"}, headers=me)
    assert patched.status_code == 200
    assert patched.json()["leave"] == new_leave and patched.json()["phone"] == "07700 900000"
    assert patch_current(client, "/v1/me", json={"status": "active"}, headers=me).status_code == 422
    assert client.get(f"/v1/volunteers/{other}", headers=me).status_code == 403
    assert client.get("/v1/volunteers", headers=me).status_code == 403


def test_an_integrator_cannot_read_volunteers(client: TestClient, make_key: KeyMaker) -> None:
    assert client.get("/v1/volunteers", headers=make_key("integrator", source="nhs")).status_code == 403


def test_a_coordinator_cannot_use_me(client: TestClient, coordinator: dict[str, str]) -> None:
    assert client.get("/v1/me", headers=coordinator).status_code == 403


def test_a_lapsed_check_alerts_the_coordinator_once_and_again_after_it_lapses_anew(
    client: TestClient, coordinator: dict[str, str], db: Connection
) -> None:
    from sqlalchemy import text
    from sqlmodel import Session

    from service.volunteers.alerts import raise_not_ready_alerts

    expired = (date.today() - timedelta(days=1)).isoformat()
    body = volunteer_body(check={"scheme": "PVG", "checked_on": "2020-01-01", "expires_on": expired})
    vid = client.post("/v1/volunteers", json=body, headers=coordinator).json()["id"]
    client.post("/v1/volunteers", json=volunteer_body(name="Ready Volunteer"), headers=coordinator)

    def run() -> int:
        with Session(db) as session:
            raised = raise_not_ready_alerts(session)
            session.commit()
            return raised

    assert run() == 1 and run() == 0
    renewed = {"scheme": "PVG", "checked_on": date.today().isoformat()}
    patch_current(client, f"/v1/volunteers/{vid}", json={"check": renewed}, headers=coordinator)
    assert run() == 0
    patch_current(client, f"/v1/volunteers/{vid}", json={"check": body["check"]}, headers=coordinator)
    assert run() == 1
    rows = db.execute(text("SELECT record_id, payload FROM outbox_event WHERE type='volunteer.not_ready'"))
    assert [row[0] for row in rows] == [vid, vid]
