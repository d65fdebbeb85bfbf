"""Venues: the coordinators' list, matching in person only where a venue is within both people's reach, and
where the match and its sessions meet (the session views and the calendar feed's LOCATION)."""

from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from fastapi.testclient import TestClient
from icalendar import Calendar
from sqlalchemy import Engine, event

from tests.conftest import KeyMaker
from tests.factories import patch_current, referral_body, volunteer_body

START = datetime(2027, 1, 5, 8, 0, tzinfo=UTC)  # a Tuesday
LEITH = {"lines": ["12 New Kirkgate"], "postcode": "EH6 6AD"}  # 0.8 km from the parent, 1.2 km from the volunteer


def venue_body(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "Leith Community Centre",
        "address": LEITH,
        "opening_hours": [{"day": "tue", "start": "09:00", "end": "17:00"}],
        "rooms": 1,
        "notes": "Step-free; baby changing",
        **overrides,
    }


def _in_person_pair(client: TestClient, coordinator: dict[str, str]) -> tuple[str, str]:
    vid = client.post(
        "/v1/volunteers", json=volunteer_body(formats=["in_person"], name="Morag Campbell"), headers=coordinator
    ).json()["id"]
    rid = client.post("/v1/referrals", json=referral_body(formats=["in_person"]), headers=coordinator).json()["id"]
    return vid, rid


def _run(client: TestClient, coordinator: dict[str, str]) -> dict[str, Any]:
    run = client.post("/v1/match-runs?wait=true", headers=coordinator)
    assert run.status_code == 201, run.text
    return dict(run.json())


def test_a_coordinator_adds_lists_reads_and_changes_a_venue_with_its_etag(
    client: TestClient, coordinator: dict[str, str]
) -> None:
    created = client.post("/v1/venues", json=venue_body(), headers=coordinator)
    assert created.status_code == 201, created.text
    venue = created.json()
    assert created.headers["Location"] == f"/v1/venues/{venue['id']}" and created.headers["ETag"] == '"1"'
    assert venue["area"] == "EH6" and venue["active"] is True and venue["address"] == LEITH
    assert client.get("/v1/venues", headers=coordinator).json()["items"] == [venue]
    assert client.get(f"/v1/venues/{venue['id']}", headers=coordinator).json() == venue
    stale = patch_current(
        client, f"/v1/venues/{venue['id']}", json={"rooms": 2}, headers={**coordinator, "If-Match": '"7"'}
    )
    assert stale.status_code == 412
    patched = patch_current(
        client,
        f"/v1/venues/{venue['id']}",
        json={"rooms": 2, "active": False},
        headers={**coordinator, "If-Match": '"1"'},
    )
    assert patched.status_code == 200 and patched.headers["ETag"] == '"2"'
    assert patched.json()["rooms"] == 2 and patched.json()["active"] is False
    assert client.get("/v1/venues", params={"active": True}, headers=coordinator).json()["items"] == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"address": {"lines": ["1 Nowhere Street"], "postcode": "ZZ9 9ZZ"}}, ["address", "postcode"]),
        ({"address": {"lines": ["1 Leith Walk"], "postcode": "not a postcode"}}, ["address", "postcode"]),
        ({"address": {"lines": [], "postcode": "EH6 6AD"}}, ["address", "lines"]),
        ({"opening_hours": [{"day": "tue", "start": "17:00", "end": "09:00"}]}, ["opening_hours", 0]),
        ({"opening_hours": [{"day": "someday", "start": "09:00", "end": "17:00"}]}, ["opening_hours", 0, "day"]),
        ({"opening_hours": [{"day": "tue", "start": "9am", "end": "17:00"}]}, ["opening_hours", 0, "start"]),
        ({"rooms": 0}, ["rooms"]),
        ({"notes": "x" * 1001}, ["notes"]),
        ({"name": ""}, ["name"]),
    ],
)
def test_a_bad_venue_is_422_naming_the_field(
    client: TestClient, coordinator: dict[str, str], change: dict[str, Any], field: list[Any]
) -> None:
    response = client.post("/v1/venues", json=venue_body(**change), headers=coordinator)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    locs = [error["loc"] for error in response.json()["errors"]]
    assert any(loc[1 : 1 + len(field)] == field for loc in locs), locs


def test_null_is_refused_for_a_field_every_venue_has(client: TestClient, coordinator: dict[str, str]) -> None:
    venue_id = client.post("/v1/venues", json=venue_body(), headers=coordinator).json()["id"]
    response = patch_current(client, f"/v1/venues/{venue_id}", json={"rooms": None}, headers=coordinator)
    assert response.status_code == 422 and response.json()["errors"][0]["loc"] == ["body", "rooms"]


def test_an_in_person_parent_is_matched_at_a_venue_once_one_is_in_reach_and_her_sessions_meet_there(
    client: TestClient, coordinator: dict[str, str], make_key: KeyMaker
) -> None:
    with time_machine.travel(START, tick=False):
        vid, rid = _in_person_pair(client, coordinator)
        first = _run(client, coordinator)
        assert first["proposals"] == []
        [unmatched] = first["unmatched"]
        assert unmatched["referral_id"] == rid
        [cause] = unmatched["causes"]
        assert cause["code"] == "no_venue_in_reach" and cause["params"]["venues"] == 0
        assert "adding a venue near the mother would help" in cause["sentence"]

        venue = client.post("/v1/venues", json=venue_body(), headers=coordinator).json()
        [proposal] = _run(client, coordinator)["proposals"]
        assert proposal["format"] == "in_person"
        assert proposal["venue"] == {"id": venue["id"], "name": "Leith Community Centre", "address": LEITH}
        [reason] = [r for r in proposal["reasons"] if r["code"] == "venue_in_reach"]
        assert reason["detail"] == "at Leith Community Centre, 0.8 km from the parent, 1.2 km from Morag"
        assert reason["params"] == {
            "venue_id": venue["id"],
            "venue": venue["name"],
            "parent_km": 0.8,
            "volunteer_km": 1.2,
        }
        assert 0 < reason["points"] <= 10
        assert not [r for r in proposal["reasons"] if r["criterion"] == "distance"]

        match = client.post(f"/v1/proposals/{proposal['id']}/accept", headers=coordinator).json()
        assert match["venue"] == proposal["venue"]
        me = make_key("volunteer", volunteer_id=vid)
        assert client.post(f"/v1/matches/{match['id']}/accept", headers=me).status_code == 200
        sessions = client.get(f"/v1/matches/{match['id']}/sessions", headers=coordinator).json()["items"]
        assert sessions and all(s["venue"] == proposal["venue"] for s in sessions)
        mine = client.get("/v1/me/sessions", headers=me).json()["items"]
        assert mine and all(s["venue"] == proposal["venue"] for s in mine)

        url = client.post("/v1/me/calendar", headers=me).json()["url"]
        feed = Calendar.from_ical(client.get(url.removeprefix("http://127.0.0.1:8000")).content)
        events = feed.walk("VEVENT")
        assert events and {str(e["LOCATION"]) for e in events} == {"12 New Kirkgate, EH6 6AD"}


def test_sessions_of_other_formats_carry_no_venue_and_no_location(
    client: TestClient, coordinator: dict[str, str], make_key: KeyMaker
) -> None:
    with time_machine.travel(START, tick=False):
        client.post("/v1/venues", json=venue_body(), headers=coordinator)
        vid = client.post("/v1/volunteers", json=volunteer_body(), headers=coordinator).json()["id"]
        client.post("/v1/referrals", json=referral_body(), headers=coordinator)
        [proposal] = _run(client, coordinator)["proposals"]
        assert proposal["format"] == "home_visit" and proposal["venue"] is None
        match = client.post(f"/v1/proposals/{proposal['id']}/accept", headers=coordinator).json()
        me = make_key("volunteer", volunteer_id=vid)
        client.post(f"/v1/matches/{match['id']}/accept", headers=me)
        assert all(s["venue"] is None for s in client.get("/v1/me/sessions", headers=me).json()["items"])
        url = client.post("/v1/me/calendar", headers=me).json()["url"]
        events = Calendar.from_ical(client.get(url.removeprefix("http://127.0.0.1:8000")).content).walk("VEVENT")
        assert events and all("LOCATION" not in e for e in events)


def test_a_deactivated_venue_is_never_chosen(client: TestClient, coordinator: dict[str, str]) -> None:
    with time_machine.travel(START, tick=False):
        _in_person_pair(client, coordinator)
        near = client.post("/v1/venues", json=venue_body(), headers=coordinator).json()
        farther = client.post(
            "/v1/venues",
            json=venue_body(name="Calton Hub", address={"lines": ["3 Calton Road"], "postcode": "EH1 1YZ"}),
            headers=coordinator,
        ).json()
        patch_current(client, f"/v1/venues/{near['id']}", json={"active": False}, headers=coordinator)
        [proposal] = _run(client, coordinator)["proposals"]
        assert proposal["venue"]["id"] == farther["id"]
        patch_current(client, f"/v1/venues/{farther['id']}", json={"active": False}, headers=coordinator)
        run = _run(client, coordinator)
        assert run["proposals"] == [] and run["unmatched"][0]["causes"][0]["code"] == "no_venue_in_reach"


def test_a_venue_without_opening_hours_is_never_chosen(client: TestClient, coordinator: dict[str, str]) -> None:
    with time_machine.travel(START, tick=False):
        _in_person_pair(client, coordinator)
        client.post("/v1/venues", json=venue_body(opening_hours=[]), headers=coordinator)
        assert _run(client, coordinator)["proposals"] == []


def test_a_manual_in_person_match_may_name_an_active_venue_only(
    client: TestClient, coordinator: dict[str, str]
) -> None:
    with time_machine.travel(START, tick=False):
        vid, rid = _in_person_pair(client, coordinator)
        closed = client.post("/v1/venues", json=venue_body(active=False), headers=coordinator).json()
        body = {"referral_id": rid, "volunteer_id": vid, "venue_id": closed["id"]}
        refused = client.post("/v1/matches", json=body, headers=coordinator)
        assert refused.status_code == 422 and refused.json()["errors"][0]["loc"] == ["body", "venue_id"]
        venue = client.post("/v1/venues", json=venue_body(), headers=coordinator).json()
        made = client.post("/v1/matches", json={**body, "venue_id": venue["id"]}, headers=coordinator)
        assert made.status_code == 201, made.text
        assert made.json()["format"] == "in_person" and made.json()["venue"]["id"] == venue["id"]


def test_a_venue_across_the_minch_is_out_of_reach_of_two_people_on_lewis(
    client: TestClient, coordinator: dict[str, str]
) -> None:
    """Ullapool is 80 km from Stornoway in a straight line, within both people's 100 km, but across the sea: the
    venue rule judges a venue's reach by island group as home visits are (decision 0021)."""
    with time_machine.travel(START, tick=False):
        client.post(
            "/v1/volunteers",
            json=volunteer_body(formats=["in_person"], name="Eilidh Morrison", postcode="HS1 2AA", max_travel_km=100),
            headers=coordinator,
        )
        parent = {**referral_body()["parent"], "postcode": "HS1 2AA", "max_travel_km": 100}
        rid = client.post(
            "/v1/referrals", json=referral_body(formats=["in_person"], parent=parent), headers=coordinator
        ).json()["id"]
        ullapool = {"lines": ["Macphail Centre"], "postcode": "IV26 2UE"}
        made = client.post("/v1/venues", json=venue_body(name="Macphail Centre", address=ullapool), headers=coordinator)
        assert made.status_code == 201, made.text
        first = _run(client, coordinator)
        assert first["proposals"] == []
        [unmatched] = first["unmatched"]
        assert unmatched["referral_id"] == rid
        [cause] = unmatched["causes"]
        assert cause["code"] == "no_venue_in_reach" and cause["params"]["across_sea"] == 1

        stornoway = {"lines": ["Town Hall"], "postcode": "HS1 2AA"}
        client.post("/v1/venues", json=venue_body(name="Stornoway Town Hall", address=stornoway), headers=coordinator)
        [proposal] = _run(client, coordinator)["proposals"]
        assert proposal["venue"]["name"] == "Stornoway Town Hall"


def test_an_in_person_proposal_is_accepted_where_the_venue_lies_between_two_people_farther_apart(
    client: TestClient, coordinator: dict[str, str]
) -> None:
    """The venue rule, not the distance between the two, decides in person: a run proposes a pair who meet at a
    venue within both reaches though they live farther apart than the volunteer travels, and accepting it
    checks the same rule (it used to refuse it as `no_reachable_shared_format`)."""
    with time_machine.travel(START, tick=False):
        client.post(
            "/v1/volunteers",
            json=volunteer_body(formats=["in_person"], name="Morag Campbell", max_travel_km=1.5),
            headers=coordinator,
        )
        client.post("/v1/referrals", json=referral_body(formats=["in_person"]), headers=coordinator)
        client.post("/v1/venues", json=venue_body(), headers=coordinator)
        [proposal] = _run(client, coordinator)["proposals"]
        [at] = [r for r in proposal["reasons"] if r["code"] == "venue_in_reach"]
        assert at["params"]["volunteer_km"] <= 1.5 < _pair_km(proposal)
        accepted = client.post(f"/v1/proposals/{proposal['id']}/accept", headers=coordinator)
        assert accepted.status_code in (200, 201), accepted.text
        assert accepted.json()["venue"]["name"] == "Leith Community Centre"


def _pair_km(proposal: dict[str, Any]) -> float:
    """The straight line between the parent's and the volunteer's postcodes (the factories' EH6 6QQ, EH7 5QY)."""
    from matching.constraints import distance_km
    from service.core import postcodes

    here, there = postcodes.lookup("EH6 6QQ"), postcodes.lookup("EH7 5QY")
    assert here is not None and there is not None
    return distance_km(here.lat, here.lon, there.lat, there.lon)


def test_a_pair_meets_only_at_a_venue_open_when_both_are_free(client: TestClient, coordinator: dict[str, str]) -> None:
    """Both are free on Tuesday mornings; a hall open only on Saturdays is no place for them: the parent is
    told so, by name, and once the hall opens on Tuesdays they are proposed there and the match is made."""
    with time_machine.travel(START, tick=False):
        vid, rid = _in_person_pair(client, coordinator)
        saturdays = [{"day": "sat", "start": "09:00", "end": "17:00"}]
        venue = client.post("/v1/venues", json=venue_body(opening_hours=saturdays), headers=coordinator).json()
        first = _run(client, coordinator)
        assert first["proposals"] == []
        [cause] = first["unmatched"][0]["causes"]
        assert cause["code"] == "no_venue_open_at_common_hour"
        assert cause["params"] == {"volunteers": 1, "venue_names": ["Leith Community Centre"]}
        assert "Leith Community Centre, but it is closed or fully booked whenever both are free" in cause["sentence"]
        refused = client.post(
            "/v1/matches", json={"referral_id": rid, "volunteer_id": vid, "venue_id": venue["id"]}, headers=coordinator
        )
        assert refused.status_code == 409 and "no_reachable_shared_format" in refused.json()["broken"]

        tuesdays = [*saturdays, {"day": "tue", "start": "09:00", "end": "13:00"}]
        patch_current(client, f"/v1/venues/{venue['id']}", json={"opening_hours": tuesdays}, headers=coordinator)
        [proposal] = _run(client, coordinator)["proposals"]
        assert proposal["venue"]["id"] == venue["id"]
        accepted = client.post(f"/v1/proposals/{proposal['id']}/accept", headers=coordinator)
        assert accepted.status_code in (200, 201), accepted.text


def test_a_coordinators_own_in_person_match_meets_where_a_run_would_have_them(
    client: TestClient, coordinator: dict[str, str]
) -> None:
    with time_machine.travel(START, tick=False):
        vid, rid = _in_person_pair(client, coordinator)
        client.post("/v1/venues", json=venue_body(), headers=coordinator)
        made = client.post("/v1/matches", json={"referral_id": rid, "volunteer_id": vid}, headers=coordinator)
        assert made.status_code == 201, made.text
        assert made.json()["format"] == "in_person" and made.json()["venue"]["name"] == "Leith Community Centre"
        assert "venue_in_reach" in [r["code"] for r in made.json()["reasons"]]


def test_suggestions_meet_at_the_venue_a_run_would_choose_and_say_why_there_is_none(
    client: TestClient, coordinator: dict[str, str]
) -> None:
    with time_machine.travel(START, tick=False):
        vid, rid = _in_person_pair(client, coordinator)
        saturdays = [{"day": "sat", "start": "09:00", "end": "17:00"}]
        venue = client.post("/v1/venues", json=venue_body(opening_hours=saturdays), headers=coordinator).json()
        none = client.get(f"/v1/referrals/{rid}/suggestions", headers=coordinator).json()
        assert none["items"] == [] and none["unmatched"]["causes"][0]["code"] == "no_venue_open_at_common_hour"

        tuesdays = [*saturdays, {"day": "tue", "start": "09:00", "end": "13:00"}]
        patch_current(client, f"/v1/venues/{venue['id']}", json={"opening_hours": tuesdays}, headers=coordinator)
        [suggested] = client.get(f"/v1/referrals/{rid}/suggestions", headers=coordinator).json()["items"]
        assert suggested["volunteer_id"] == vid and suggested["venue"]["id"] == venue["id"]
        assert "venue_in_reach" in [r["code"] for r in suggested["reasons"]]
        made = client.post("/v1/matches", json={"referral_id": rid, "volunteer_id": vid}, headers=coordinator)
        assert made.status_code == 201 and made.json()["venue"]["id"] == venue["id"]
        assert made.json()["score"] == suggested["score"]


def test_a_cover_for_an_in_person_match_must_reach_its_venue(
    client: TestClient, coordinator: dict[str, str], make_key: KeyMaker
) -> None:
    """A cover meets the parent where the match meets: a volunteer living at the parent's own postcode but
    travelling only 0.5 km cannot reach the venue 0.8 km away, so she is neither suggested nor accepted."""
    with time_machine.travel(START, tick=False):
        vid, _rid = _in_person_pair(client, coordinator)
        client.post("/v1/venues", json=venue_body(), headers=coordinator)
        [proposal] = _run(client, coordinator)["proposals"]
        match_id = client.post(f"/v1/proposals/{proposal['id']}/accept", headers=coordinator).json()["id"]
        me = make_key("volunteer", volunteer_id=vid)
        assert client.post(f"/v1/matches/{match_id}/accept", headers=me).status_code == 200
        sessions = client.get(f"/v1/matches/{match_id}/sessions", headers=coordinator).json()["items"]
        start = str(sessions[2]["starts_at"])[:10]
        leave = {"leave": [{"start": start, "end": "2027-05-28"}]}
        assert patch_current(client, "/v1/me", json=leave, headers=me).status_code == 200

        def volunteer_at(name: str, postcode: str, km: float) -> str:
            body = volunteer_body(formats=["in_person"], name=name, postcode=postcode, max_travel_km=km)
            return str(client.post("/v1/volunteers", json=body, headers=coordinator).json()["id"])

        next_door = volunteer_at("Isla Grant", "EH6 6QQ", 0.5)
        in_reach = volunteer_at("Ruth Baird", "EH7 5QY", 5)
        suggested = client.get(f"/v1/matches/{match_id}/cover-suggestions", headers=coordinator).json()["items"]
        assert [s["volunteer_id"] for s in suggested] == [in_reach]
        refused = client.post(
            f"/v1/matches/{match_id}/cover", json={"choice": "cover", "volunteer_id": next_door}, headers=coordinator
        )
        assert refused.status_code == 409 and refused.json()["broken"] == ["no_reachable_shared_format"]
        covered = client.post(
            f"/v1/matches/{match_id}/cover", json={"choice": "cover", "volunteer_id": in_reach}, headers=coordinator
        )
        assert covered.status_code == 200, covered.text


def test_a_run_never_proposes_a_venue_whose_rooms_are_taken_when_both_are_free(
    client: TestClient, coordinator: dict[str, str], make_key: KeyMaker
) -> None:
    """A one-room hall open on Tuesdays 10:00-11:00: once one pair meets there every Tuesday at 10:00, a second
    pair free only then is not proposed there (the accept would have been refused as the room is taken), and is
    told the hall is fully booked."""
    with time_machine.travel(START, tick=False):
        hour = [{"day": "tue", "start": "10:00", "end": "11:00"}]
        client.post("/v1/venues", json=venue_body(opening_hours=hour, rooms=1), headers=coordinator)
        vid, _rid = _in_person_pair(client, coordinator)
        [proposal] = _run(client, coordinator)["proposals"]
        match_id = client.post(f"/v1/proposals/{proposal['id']}/accept", headers=coordinator).json()["id"]
        me = make_key("volunteer", volunteer_id=vid)
        assert client.post(f"/v1/matches/{match_id}/accept", headers=me).status_code == 200

        isla = volunteer_body(formats=["in_person"], name="Isla Grant")
        client.post("/v1/volunteers", json=isla, headers=coordinator)
        second = client.post("/v1/referrals", json=referral_body(2, formats=["in_person"]), headers=coordinator)
        run = _run(client, coordinator)
        assert run["proposals"] == []
        [unmatched] = run["unmatched"]
        assert unmatched["referral_id"] == second.json()["id"]
        [cause] = unmatched["causes"]
        assert cause["code"] == "no_venue_open_at_common_hour" and "fully booked" in cause["sentence"]


def test_a_runs_result_reads_each_venue_once_however_many_proposals_name_it(
    client: TestClient, coordinator: dict[str, str], engine: Engine
) -> None:
    with time_machine.travel(START, tick=False):
        venue = client.post("/v1/venues", json=venue_body(rooms=3), headers=coordinator).json()
        for n in range(3):
            body = volunteer_body(formats=["in_person"], name=f"Morag {n}", email=f"morag{n}@example.org")
            assert client.post("/v1/volunteers", json=body, headers=coordinator).status_code == 201
            referral = referral_body(n + 1, formats=["in_person"])
            assert client.post("/v1/referrals", json=referral, headers=coordinator).status_code == 201
        run = _run(client, coordinator)
        assert [p["venue"]["id"] for p in run["proposals"]] == [venue["id"]] * 3
        statements: list[str] = []

        def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            statements.append(statement)

        event.listen(engine, "before_cursor_execute", seen)
        try:
            again = client.get(f"/v1/match-runs/{run['id']}", headers=coordinator).json()
        finally:
            event.remove(engine, "before_cursor_execute", seen)

    assert again["proposals"] == run["proposals"]
    assert len([s for s in statements if "FROM venue" in s]) == 1
