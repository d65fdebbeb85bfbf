from datetime import UTC, date, datetime, timedelta

import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text
from sqlmodel import Session

from service.core import idempotency
from tests.conftest import KeyMaker
from tests.factories import patch_current, referral_body, volunteer_body

PROBLEM = "application/problem+json"


def test_a_valid_referral_is_201_with_location_and_is_listed(client: TestClient, coordinator: dict[str, str]) -> None:
    response = client.post("/v1/referrals", json=referral_body(), headers=coordinator)
    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["location"] == f"/v1/referrals/{body['id']}"
    assert body["status"] == "waiting"
    assert body["area"] == "EH6"
    assert body["languages"] == ["pl", "en"]
    listed = client.get("/v1/referrals", headers=coordinator).json()
    assert [item["id"] for item in listed["items"]] == [body["id"]]
    assert listed["next_cursor"] is None


def test_the_same_idempotency_key_and_body_replays_the_same_referral(
    client: TestClient, coordinator: dict[str, str]
) -> None:
    headers = {**coordinator, "Idempotency-Key": "abc-1"}
    first = client.post("/v1/referrals", json=referral_body(), headers=headers)
    again = client.post("/v1/referrals", json=referral_body(), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["location"] == first.headers["location"]
    # The replay is the first answer whole: its ETag too, so a client can PATCH with If-Match straight after.
    assert again.headers["etag"] == first.headers["etag"] == '"1"'
    assert len(client.get("/v1/referrals", headers=coordinator).json()["items"]) == 1


def test_keys_are_kept_a_week_then_forgotten(client: TestClient, coordinator: dict[str, str], db: Connection) -> None:
    start = datetime.now(UTC)
    old, recent = {**coordinator, "Idempotency-Key": "old"}, {**coordinator, "Idempotency-Key": "recent"}
    body_1, body_2 = referral_body(1), referral_body(2)  # the same bodies on every day
    with time_machine.travel(start, tick=False):
        client.post("/v1/referrals", json=body_1, headers=old)
    with time_machine.travel(start + timedelta(days=2), tick=False):
        first = client.post("/v1/referrals", json=body_2, headers=recent).json()["id"]
    with time_machine.travel(start + timedelta(days=8), tick=False):
        with Session(db) as session:
            assert idempotency.prune(session) == 1
            session.commit()
        assert client.post("/v1/referrals", json=body_2, headers=recent).json()["id"] == first
        forgotten = client.post("/v1/referrals", json=body_1, headers=old)
        assert forgotten.status_code == 409  # no replay: a new attempt, which the duplicate external_id stops
        assert forgotten.json()["existing_id"]


def test_the_same_idempotency_key_with_another_body_is_422(client: TestClient, coordinator: dict[str, str]) -> None:
    headers = {**coordinator, "Idempotency-Key": "abc-2"}
    assert client.post("/v1/referrals", json=referral_body(1), headers=headers).status_code == 201
    response = client.post("/v1/referrals", json=referral_body(2), headers=headers)
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["errors"][0]["loc"] == ["header", "Idempotency-Key"]


def test_an_unknown_field_is_422_naming_the_field(client: TestClient, coordinator: dict[str, str]) -> None:
    response = client.post("/v1/referrals", json=referral_body(nickname="Aggie"), headers=coordinator)
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["status"] == 422 and problem["title"]
    assert {"loc": ["body", "nickname"], "msg": "unknown field"} in problem["errors"]


def test_a_duplicate_external_id_is_409_naming_the_existing_referral(
    client: TestClient, coordinator: dict[str, str]
) -> None:
    first = client.post("/v1/referrals", json=referral_body(7), headers=coordinator).json()
    response = client.post("/v1/referrals", json=referral_body(7), headers=coordinator)
    assert response.status_code == 409
    assert response.json()["existing_id"] == first["id"]
    assert first["id"] in response.json()["detail"]


def test_the_same_external_id_from_two_sources_is_two_referrals(client: TestClient, make_key: KeyMaker) -> None:
    for source in ("nhs-lothian", "nhs-highland"):
        headers = {**make_key("integrator", source=source), "Idempotency-Key": "k1"}
        assert client.post("/v1/referrals", json=referral_body(3), headers=headers).status_code == 201


def test_an_integrator_must_send_an_idempotency_key(client: TestClient, make_key: KeyMaker) -> None:
    response = client.post("/v1/referrals", json=referral_body(), headers=make_key("integrator", source="nhs"))
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["header", "Idempotency-Key"]


def test_an_integrator_sees_only_its_own_referrals_and_only_their_status(
    client: TestClient, make_key: KeyMaker
) -> None:
    lothian = {**make_key("integrator", source="nhs-lothian"), "Idempotency-Key": "a"}
    highland = {**make_key("integrator", source="nhs-highland"), "Idempotency-Key": "b"}
    mine = client.post("/v1/referrals", json=referral_body(1), headers=lothian).json()
    theirs = client.post("/v1/referrals", json=referral_body(2), headers=highland).json()
    assert set(mine) == {"id", "external_id", "status", "received_at", "updated_at", "erased_at"}
    assert client.get(f"/v1/referrals/{theirs['id']}", headers=lothian).status_code == 404
    assert client.get(f"/v1/referrals/{mine['id']}", headers=lothian).status_code == 200
    listed = client.get("/v1/referrals", headers=lothian).json()["items"]
    assert [r["id"] for r in listed] == [mine["id"]]
    patch = patch_current(client, f"/v1/referrals/{theirs['id']}", json={"interests": []}, headers=lothian)
    assert patch.status_code == 404


def test_a_volunteer_key_cannot_list_referrals(client: TestClient, make_key: KeyMaker) -> None:
    response = client.get("/v1/referrals", headers=make_key("volunteer", volunteer_id="v-1"))
    assert response.status_code == 403
    assert response.headers["content-type"] == PROBLEM


def test_a_baby_two_or_older_is_outside_the_perinatal_window(client: TestClient, coordinator: dict[str, str]) -> None:
    born = (date.today() - timedelta(days=800)).isoformat()
    response = client.post("/v1/referrals", json=referral_body(parent={"baby_birth_date": born}), headers=coordinator)
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "parent", "baby_birth_date"]


def test_a_pregnancy_is_in_the_window(client: TestClient, coordinator: dict[str, str]) -> None:
    due = (date.today() + timedelta(days=100)).isoformat()
    body = referral_body(parent={"baby_birth_date": None, "due_date": due})
    assert client.post("/v1/referrals", json=body, headers=coordinator).status_code == 201


def test_consent_to_share_must_be_given(client: TestClient, coordinator: dict[str, str]) -> None:
    body = referral_body(consent={"share_with_volunteer": False})
    response = client.post("/v1/referrals", json=body, headers=coordinator)
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "consent", "share_with_volunteer"]


def test_an_invalid_language_tag_is_422_at_its_position(client: TestClient, coordinator: dict[str, str]) -> None:
    response = client.post("/v1/referrals", json=referral_body(languages=["en", "xx"]), headers=coordinator)
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "languages", 1]


def test_language_tags_are_made_canonical(client: TestClient, coordinator: dict[str, str]) -> None:
    body = client.post("/v1/referrals", json=referral_body(languages=["EN-gb", "zh-hant"]), headers=coordinator)
    assert body.json()["languages"] == ["en-GB", "zh-Hant"]


def test_an_unknown_vocabulary_code_is_422(client: TestClient, coordinator: dict[str, str]) -> None:
    body = referral_body(experiences=["postnatal_depression", "moon_sickness"])
    response = client.post("/v1/referrals", json=body, headers=coordinator)
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "experiences", 1]


def test_a_code_added_elsewhere_is_accepted_at_once_and_one_of_another_kind_is_still_refused(
    client: TestClient, coordinator: dict[str, str], db: Connection
) -> None:
    assert client.post("/v1/referrals", json=referral_body(), headers=coordinator).status_code == 201  # codes read
    body = referral_body(2, interests=["crochet"])
    assert client.post("/v1/referrals", json=body, headers=coordinator).status_code == 422
    with db.begin_nested():  # outside the app's sessions, as another worker process would add it
        db.execute(text("INSERT INTO vocabulary_code (kind, code, label) VALUES ('interests', 'crochet', 'Crochet')"))
    assert client.post("/v1/referrals", json=body, headers=coordinator).status_code == 201
    wrong_kind = client.post("/v1/referrals", json=referral_body(3, experiences=["crochet"]), headers=coordinator)
    assert wrong_kind.status_code == 422
    assert wrong_kind.json()["errors"][0]["loc"] == ["body", "experiences", 0]


def test_an_unknown_must_match_code_is_422(client: TestClient, coordinator: dict[str, str]) -> None:
    response = client.post("/v1/referrals", json=referral_body(must_match=["background:pirate"]), headers=coordinator)
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "must_match", 0]


def test_a_postcode_in_an_unknown_district_is_422(client: TestClient, coordinator: dict[str, str]) -> None:
    response = client.post("/v1/referrals", json=referral_body(parent={"postcode": "QQ1 1AA"}), headers=coordinator)
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "parent", "postcode"]


def test_a_malformed_postcode_is_422(client: TestClient, coordinator: dict[str, str]) -> None:
    response = client.post("/v1/referrals", json=referral_body(parent={"postcode": "EDINBURGH"}), headers=coordinator)
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"][:3] == ["body", "parent", "postcode"]


def test_availability_must_be_on_quarter_hours_and_start_before_end(
    client: TestClient, coordinator: dict[str, str]
) -> None:
    odd = referral_body(availability=[{"day": "mon", "start": "10:10", "end": "11:00"}])
    backwards = referral_body(availability=[{"day": "mon", "start": "12:00", "end": "11:00"}])
    assert client.post("/v1/referrals", json=odd, headers=coordinator).status_code == 422
    response = client.post("/v1/referrals", json=backwards, headers=coordinator)
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"][:3] == ["body", "availability", 0]


def test_patch_with_a_stale_etag_is_412_and_with_the_current_one_succeeds(
    client: TestClient, coordinator: dict[str, str]
) -> None:
    created = client.post("/v1/referrals", json=referral_body(), headers=coordinator)
    etag = created.headers["etag"]
    url = f"/v1/referrals/{created.json()['id']}"
    ok = patch_current(client, url, json={"interests": ["crafts"]}, headers={**coordinator, "If-Match": etag})
    assert ok.status_code == 200 and ok.json()["interests"] == ["crafts"]
    assert ok.headers["etag"] != etag
    stale = patch_current(client, url, json={"interests": ["music"]}, headers={**coordinator, "If-Match": etag})
    assert stale.status_code == 412
    assert client.get(url, headers=coordinator).json()["interests"] == ["crafts"]


def test_patching_the_postcode_moves_her_area(client: TestClient, coordinator: dict[str, str]) -> None:
    url = f"/v1/referrals/{client.post('/v1/referrals', json=referral_body(), headers=coordinator).json()['id']}"
    moved = patch_current(client, url, json={"parent": {"postcode": "ze1 0aa"}}, headers=coordinator).json()
    assert moved["parent"]["postcode"] == "ZE1 0AA" and moved["area"] == "ZE1"


def test_a_withdrawn_referral_cannot_be_withdrawn_or_edited_again(
    client: TestClient, coordinator: dict[str, str]
) -> None:
    url = f"/v1/referrals/{client.post('/v1/referrals', json=referral_body(), headers=coordinator).json()['id']}"
    withdrawn = client.post(f"{url}/withdraw", json={"reason": "moved away"}, headers=coordinator)
    assert withdrawn.json()["status"] == "withdrawn"
    again = client.post(f"{url}/withdraw", json={"reason": "again"}, headers=coordinator)
    assert again.status_code == 409 and again.json()["state"] == "withdrawn"
    assert patch_current(client, url, json={"interests": []}, headers=coordinator).status_code == 409


def test_lists_page_with_a_cursor_and_filter_by_status(client: TestClient, coordinator: dict[str, str]) -> None:
    ids = [client.post("/v1/referrals", json=referral_body(n), headers=coordinator).json()["id"] for n in range(5)]
    client.post(f"/v1/referrals/{ids[0]}/withdraw", json={"reason": "no longer needed"}, headers=coordinator)
    first = client.get("/v1/referrals?limit=2", headers=coordinator).json()
    second = client.get(f"/v1/referrals?limit=2&cursor={first['next_cursor']}", headers=coordinator).json()
    third = client.get(f"/v1/referrals?limit=2&cursor={second['next_cursor']}", headers=coordinator).json()
    seen = [r["id"] for page in (first, second, third) for r in page["items"]]
    assert seen == ids and third["next_cursor"] is None
    waiting = client.get("/v1/referrals?status=waiting", headers=coordinator).json()["items"]
    assert [r["id"] for r in waiting] == ids[1:]


def test_a_forged_cursor_is_422(client: TestClient, coordinator: dict[str, str]) -> None:
    response = client.get("/v1/referrals?cursor=not-a-cursor", headers=coordinator)
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["query", "cursor"]


def test_every_change_is_audited_without_personal_data(
    client: TestClient, coordinator: dict[str, str], db: Connection
) -> None:
    from sqlalchemy import text

    created = client.post("/v1/referrals", json=referral_body(), headers=coordinator).json()
    patch_current(
        client, f"/v1/referrals/{created['id']}", json={"parent": {"phone": "07700 900999"}}, headers=coordinator
    )
    rows = db.execute(text("SELECT * FROM audit_event ORDER BY at")).mappings().all()
    assert [row["action"] for row in rows] == ["referral.received", "referral.updated"]
    dumped = repr([dict(row) for row in rows])
    assert "Nowak" not in dumped and "900999" not in dumped and "EH6" not in dumped


def test_a_change_without_if_match_is_428_and_changes_nothing(
    client: TestClient, coordinator: dict[str, str], make_key: KeyMaker
) -> None:
    """Two coordinators editing one record must not silently undo each other: every PATCH names the version."""
    rid = client.post("/v1/referrals", json=referral_body(), headers=coordinator).json()["id"]
    vid = client.post("/v1/volunteers", json=volunteer_body(), headers=coordinator).json()["id"]
    me = make_key("volunteer", volunteer_id=vid)
    for url, headers, body in (
        (f"/v1/referrals/{rid}", coordinator, {"interests": ["crafts"]}),
        (f"/v1/volunteers/{vid}", coordinator, {"interests": ["crafts"]}),
        ("/v1/me", me, {"phone": "07700 900001"}),
    ):
        before = client.get(url, headers=headers)
        refused = client.patch(url, json=body, headers=headers)
        assert refused.status_code == 428, (url, refused.text)
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["etag"] == before.headers["etag"]
        assert client.get(url, headers=headers).json() == before.json()
        anyway = client.patch(url, json=body, headers={**headers, "If-Match": "*"})
        assert anyway.status_code == 200, anyway.text
