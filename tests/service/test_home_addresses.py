"""Home addresses (issue 26): a parent's address and access notes are kept for the coordinator, never shown to
an integrator beyond what it posted, shown to her volunteer only in the session view of home visits while their
match is accepted and not ended, and never put in the calendar feed, events, audit rows or logs. Before she
accepts, a volunteer sees first name, format, postcode district and preferred days only."""

import json
import logging
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from icalendar import Calendar
from sqlalchemy import Connection, inspect, text

from service.me.calendar import title
from service.models import SupportSession
from tests.conftest import KeyMaker
from tests.factories import patch_current, referral_body, volunteer_body

START = datetime(2027, 1, 5, 8, 0, tzinfo=UTC)  # a Tuesday, before the volunteer's window
LINES = ["Flat 3F2", "17 Madeup Terrace", "Leith"]
NOTES = "Buzzer marked Zielinski; stairs only"
ADDRESS = {"lines": LINES, "postcode": "EH6 6QQ"}
HOME = {"address": ADDRESS, "access_notes": NOTES}
SECRETS = ["Madeup Terrace", "Flat 3F2", "Zielinski", "Agnieszka", "Nowak", "EH6 6QQ"]


def _home_referral(n: int = 1, **parent: Any) -> dict[str, Any]:
    return referral_body(n, parent={"address": {"lines": LINES}, "access_notes": NOTES, **parent})


def _pending(client: TestClient, coordinator: dict[str, str], make_key: KeyMaker, body: dict[str, Any]) -> Any:
    """A match a coordinator accepted from a run, awaiting the volunteer; returns (match id, her headers)."""
    client.post("/v1/volunteers", json=volunteer_body(), headers=coordinator)
    rid = client.post("/v1/referrals", json=body, headers=coordinator).json()["id"]
    proposal = client.post("/v1/match-runs?wait=true", json={"referral_ids": [rid]}, headers=coordinator).json()[
        "proposals"
    ][0]
    match_id = client.post(f"/v1/proposals/{proposal['id']}/accept", headers=coordinator).json()["id"]
    return match_id, make_key("volunteer", volunteer_id=proposal["volunteer_id"])


# --- The referral: in, out, per role ----------------------------------------------------------------------


def test_the_coordinator_reads_the_address_and_an_integrator_reads_none_of_it(
    client: TestClient, coordinator: dict[str, str], make_key: KeyMaker
) -> None:
    body = _home_referral(max_travel_km=6.5)
    created = client.post("/v1/referrals", json=body, headers=coordinator)
    assert created.status_code == 201, created.text
    parent = created.json()["parent"]
    assert parent["address"] == ADDRESS  # the postcode filled in from hers
    assert parent["access_notes"] == NOTES and parent["max_travel_km"] == 6.5
    assert client.get(created.headers["Location"], headers=coordinator).json()["parent"] == parent

    integrator = {**make_key("integrator", source="nhs-lothian"), "Idempotency-Key": "homes-1"}
    posted = client.post("/v1/referrals", json=_home_referral(2), headers=integrator)
    assert posted.status_code == 201, posted.text
    for answer in (posted, client.get(posted.headers["Location"], headers=integrator)):
        assert set(answer.json()) == {"id", "external_id", "status", "received_at", "updated_at", "erased_at"}
        assert not [s for s in ("Madeup", "Zielinski", "EH6") if s in answer.text]


@pytest.mark.parametrize(
    ("parent", "where"),
    [
        ({"address": {"lines": ["a", "b", "c", "d", "e"]}}, ["address", "lines"]),
        ({"address": {"lines": []}}, ["address", "lines"]),
        ({"address": {"lines": ["x" * 101]}}, ["address", "lines", 0]),
        ({"address": {"lines": ["1 Street"], "town": "Leith"}}, ["address", "town"]),
        ({"access_notes": "x" * 501}, ["access_notes"]),
        ({"max_travel_km": 0}, ["max_travel_km"]),
        ({"max_travel_km": 200.5}, ["max_travel_km"]),
        ({"address": {"lines": ["1 Street"], "postcode": "EH1 1YZ"}}, ["address", "postcode"]),
    ],
)
def test_an_address_out_of_bounds_or_for_another_postcode_is_422_naming_the_field(
    client: TestClient, coordinator: dict[str, str], parent: dict[str, Any], where: list[Any]
) -> None:
    refused = client.post("/v1/referrals", json=referral_body(parent=parent), headers=coordinator)
    assert refused.status_code == 422, refused.text
    assert any(e["loc"][: 3 + len(where)][-len(where) :] == where for e in refused.json()["errors"]), refused.text


def test_a_home_address_needs_her_postcode_not_bare_coordinates(
    client: TestClient, coordinator: dict[str, str]
) -> None:
    body = referral_body(parent={"address": {"lines": LINES}})
    del body["parent"]["postcode"]
    body["parent"]["location"] = {"lat": 55.97, "lon": -3.17}
    refused = client.post("/v1/referrals", json=body, headers=coordinator)
    assert refused.status_code == 422 and refused.json()["errors"][0]["loc"] == ["body", "parent", "address"]


def test_patch_changes_clears_and_keeps_the_address_with_her_postcode(
    client: TestClient, coordinator: dict[str, str]
) -> None:
    rid = client.post("/v1/referrals", json=_home_referral(), headers=coordinator).json()["id"]
    url = f"/v1/referrals/{rid}"
    notes = patch_current(client, url, json={"parent": {"access_notes": "Side door"}}, headers=coordinator)
    assert notes.json()["parent"]["access_notes"] == "Side door" and notes.json()["parent"]["address"] == ADDRESS
    moved = patch_current(client, url, json={"parent": {"postcode": "EH7 5QY"}}, headers=coordinator)
    assert moved.status_code == 422 and moved.json()["errors"][0]["loc"] == ["body", "parent", "address"]
    new_home = {"lines": ["2 Other Road"], "postcode": "EH7 5QY"}
    moved = patch_current(
        client, url, json={"parent": {"postcode": "EH7 5QY", "address": new_home}}, headers=coordinator
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["parent"]["address"] == new_home and moved.json()["area"] == "EH7"
    cleared = patch_current(
        client, url, json={"parent": {"address": None, "access_notes": None, "max_travel_km": 3}}, headers=coordinator
    ).json()["parent"]
    assert (cleared["address"], cleared["access_notes"], cleared["max_travel_km"]) == (None, None, 3.0)


# --- What the volunteer sees: before she accepts, while the match runs, after it ends ---------------------


def test_she_reads_phone_and_address_only_after_accepting_and_until_the_match_ends(
    client: TestClient, coordinator: dict[str, str], make_key: KeyMaker
) -> None:
    with time_machine.travel(START, tick=False):
        match_id, me = _pending(client, coordinator, make_key, _home_referral())
        before = {"first_name": "Agnieszka", "area": "EH6", "preferred_days": ["tue", "thu"]}
        assert client.get("/v1/me/matches", headers=me).json()["items"] == [
            {
                "id": match_id,
                "status": "pending",
                "format": "home_visit",
                "parent": {**before, "phone": None, "meeting_place": None},
            }
        ]
        assert client.get("/v1/me/sessions", headers=me).json()["items"] == []

        accepted = client.post(f"/v1/matches/{match_id}/accept", headers=me)
        after = {**before, "phone": "07700 900123", "meeting_place": "EH6 6QQ"}
        assert accepted.json() == {"id": match_id, "status": "scheduled", "format": "home_visit", "parent": after}
        assert client.get("/v1/me/matches", headers=me).json()["items"][0]["parent"] == after
        sessions = client.get("/v1/me/sessions", headers=me).json()["items"]
        assert len(sessions) == 8
        assert all(s["home"] == HOME for s in sessions)
        assert set(sessions[0]) == {
            "id",
            "match_id",
            "number",
            "kind",
            "starts_at",
            "ends_at",
            "format",
            "status",
            "checked_in_at",
            "checked_out_at",
            "home",
        } | ({"venue"} if "venue" in sessions[0] else set())
        # The coordinator's own session list is not her view: no address there.
        assert "home" not in client.get(f"/v1/matches/{match_id}/sessions", headers=me).json()["items"][0]

        ended = client.post(
            f"/v1/matches/{match_id}/end",
            json={"reason": "feeling_better", "initiated_by": "parent", "rematch": False},
            headers=coordinator,
        )
        assert ended.status_code == 200, ended.text
        assert client.get("/v1/me/matches", headers=me).json()["items"] == []
        after_end = client.get("/v1/me/sessions", headers=me)
        assert [s["home"] for s in after_end.json()["items"]] == [None] * 8
        assert not [s for s in [*SECRETS[:3], "07700 900123"] if s in after_end.text]
        read = client.get(f"/v1/matches/{match_id}/sessions", headers=me)  # her own match's sessions, ended
        assert read.status_code == 200 and not [s for s in [*SECRETS[:3], "07700 900123"] if s in read.text]


def test_declining_answers_without_phone_or_place_and_a_telephone_match_shows_no_address(
    client: TestClient, coordinator: dict[str, str], make_key: KeyMaker
) -> None:
    with time_machine.travel(START, tick=False):
        match_id, me = _pending(client, coordinator, make_key, _home_referral())
        declined = client.post(f"/v1/matches/{match_id}/decline", headers=me).json()
        assert declined["status"] == "declined"
        assert declined["parent"]["phone"] is None and declined["parent"]["meeting_place"] is None
        assert declined["parent"]["area"] == "EH6"

        telephone = _home_referral(2, name="Aisha Khan")
        telephone["formats"] = ["telephone"]
        second, her = _pending(client, coordinator, make_key, telephone)
        client.post(f"/v1/matches/{second}/accept", headers=her)
        sessions = client.get("/v1/me/sessions", headers=her).json()["items"]
        assert sessions and all(s["format"] == "telephone" and s["home"] is None for s in sessions)


# --- The calendar feed, events, audit rows and logs ---------------------------------------------------------


def _feed_text(client: TestClient, me: dict[str, str]) -> str:
    url = client.post("/v1/me/calendar", headers=me).json()["url"]
    return str(client.get(url.removeprefix("http://127.0.0.1:8000")).text)


def test_the_feed_names_no_parent_by_default_and_never_holds_her_address(
    client: TestClient,
    coordinator: dict[str, str],
    admin: dict[str, str],
    make_key: KeyMaker,
    db: Connection,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    with time_machine.travel(START, tick=False):
        match_id, me = _pending(client, coordinator, make_key, _home_referral())
        client.post(f"/v1/matches/{match_id}/accept", headers=me)
        client.get("/v1/me/sessions", headers=me)
        feed = _feed_text(client, me)
        unfolded = feed.replace("\r\n ", "")
        assert not [s for s in [*SECRETS, "Leith", "EH6"] if s in unfolded], unfolded
        titles = [str(e["SUMMARY"]) for e in Calendar.from_ical(feed.encode()).walk("VEVENT")]
        assert Counter(titles) == {
            "Peer support: home visit": 6,
            "Peer support: home visit (ending conversation)": 1,
            "Peer support: home visit (closing session)": 1,
        }

        shown = client.put("/v1/programme", json={"feed_shows_first_names": True}, headers=admin)
        assert shown.status_code == 200 and shown.json()["feed_shows_first_names"] is True
        named = Calendar.from_ical(_feed_text(client, me).encode()).walk("VEVENT")
        assert str(named[0]["SUMMARY"]) == "Peer support: home visit with Agnieszka"
        assert "Nowak" not in _feed_text(client, me) and "Madeup" not in _feed_text(client, me)

    outside = _rows_outside_the_referral(db)
    assert not [s for s in SECRETS[:3] if s in outside], "the address left the referral row"
    said = caplog.text + "".join(capsys.readouterr())
    assert not [s for s in SECRETS[:3] if s in said], "the address was logged"


def _rows_outside_the_referral(connection: Connection) -> str:
    """Every other table as text: events, deliveries, audit rows, messages, idempotency replays excepted (a
    replay is the caller's own answer)."""
    found = []
    for table in inspect(connection).get_table_names():
        if table in ("referral", "idempotency_record"):
            continue
        for row in connection.execute(text(f'SELECT * FROM "{table}"')).mappings():
            found.append(json.dumps(dict(row), default=str))
    return "\n".join(found)


@given(
    fmt=st.sampled_from(["home_visit", "telephone", "in_person", "video"]),
    kind=st.sampled_from(["regular", "ending_conversation", "closing"]),
    name=st.none() | st.text(alphabet=st.characters(categories=["L"]), min_size=1, max_size=20),
)
@settings(max_examples=60)
def test_a_title_without_a_name_says_only_format_and_kind(fmt: str, kind: str, name: str | None) -> None:
    row = SupportSession(
        id="s",
        match_id="m",
        volunteer_id="v",
        number=1,
        kind=kind,
        starts_at=START,
        ends_at=START,
        format=fmt,
        status="planned",
        updated_at=START,
    )
    plain = title(row, None)
    label = {"home_visit": "home visit", "in_person": "in person"}.get(fmt, fmt)
    suffix = {"ending_conversation": " (ending conversation)", "closing": " (closing session)"}.get(kind, "")
    assert plain == f"Peer support: {label}{suffix}"
    if name is not None:
        assert title(row, name).replace(f" with {name}", "", 1) == plain
