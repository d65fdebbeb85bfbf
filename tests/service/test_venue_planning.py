"""Planning with venues (issue 26), through the API: in-person matches at a venue are planned inside its opening
hours and never more at once than its rooms; a venue that narrows its hours or closes re-plans its sessions as
leave does. Venues are inserted and matches pointed at them through `db` (the venues API is built elsewhere)."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import Connection, update
from sqlmodel import Session, select

from service.models import Match, SupportSession, Venue
from tests.conftest import KeyMaker
from tests.factories import patch_current, referral_body, volunteer_body

START = datetime(2027, 1, 5, 8, 0, tzinfo=UTC)  # a Tuesday
LONDON = ZoneInfo("Europe/London")
TUESDAY_MORNING = [{"day": "tue", "start": "10:00", "end": "12:30"}]


def _venue(db: Connection, *, hours: list[dict[str, str]], rooms: int = 1) -> str:
    with Session(db) as session:
        session.add(
            Venue(
                id="venue-leith",
                name="Leith Community Centre",
                address_lines=["12A Newkirkgate"],
                postcode="EH6 6AD",
                lat=55.9740,
                lon=-3.1720,
                opening_hours=hours,
                rooms=rooms,
                created_at=START,
                updated_at=START,
            )
        )
        session.commit()
    return "venue-leith"


def _in_person_at(
    client: TestClient, coordinator: dict[str, str], make_key: KeyMaker, db: Connection, venue_id: str, n: int
) -> str:
    """A parent and a volunteer who meet only in person, both free on Tuesday mornings, matched at the venue."""
    vid = client.post(
        "/v1/volunteers",
        json=volunteer_body(formats=["in_person"], email=f"v{n}@example.org"),
        headers=coordinator,
    ).json()["id"]
    rid = client.post(
        "/v1/referrals",
        json=referral_body(n, formats=["in_person"], availability=TUESDAY_MORNING),
        headers=coordinator,
    ).json()["id"]
    made = client.post("/v1/matches", json={"referral_id": rid, "volunteer_id": vid}, headers=coordinator)
    assert made.status_code == 201, made.text
    match_id = str(made.json()["id"])
    with Session(db) as session:
        session.execute(update(Match).where(Match.id == match_id).values(venue_id=venue_id))  # type: ignore[arg-type]
        session.commit()
    accepted = client.post(f"/v1/matches/{match_id}/accept", headers=make_key("volunteer", volunteer_id=vid))
    assert accepted.status_code == 200, accepted.text
    return match_id


def _planned(db: Connection, match_id: str) -> list[SupportSession]:
    with Session(db) as session:
        rows = session.exec(
            select(SupportSession).where(SupportSession.match_id == match_id, SupportSession.status == "planned")
        )
        return sorted(rows, key=lambda s: s.starts_at)


def _local_minutes(row: SupportSession) -> tuple[int, int, int]:
    start, end = row.starts_at.astimezone(LONDON), row.ends_at.astimezone(LONDON)
    return start.weekday(), start.hour * 60 + start.minute, end.hour * 60 + end.minute


def test_two_in_person_matches_at_a_one_room_venue_are_planned_at_different_hours(
    client: TestClient, coordinator: dict[str, str], make_key: KeyMaker, db: Connection
) -> None:
    with time_machine.travel(START, tick=False):
        venue_id = _venue(db, hours=[{"day": "tue", "start": "10:00", "end": "13:00"}])
        first = _in_person_at(client, coordinator, make_key, db, venue_id, 1)
        second = _in_person_at(client, coordinator, make_key, db, venue_id, 2)
        one, two = _planned(db, first), _planned(db, second)
        assert len(one) == 8 and len(two) == 8
        for a in one:  # never two sessions in its one room at once
            assert all(not (a.starts_at < b.ends_at and b.starts_at < a.ends_at) for b in two)
        assert {_local_minutes(s)[1] for s in one} != {_local_minutes(s)[1] for s in two}
        for row in one + two:
            day, start, end = _local_minutes(row)
            assert day == 1 and start >= 600 and end <= 780
            assert row.venue_id == venue_id


def test_no_session_falls_outside_the_venues_opening_hours(
    client: TestClient, coordinator: dict[str, str], make_key: KeyMaker, db: Connection
) -> None:
    with time_machine.travel(START, tick=False):
        # Both are free from 10:00; the centre opens at 11:00.
        venue_id = _venue(db, hours=[{"day": "tue", "start": "11:00", "end": "13:00"}])
        rows = _planned(db, _in_person_at(client, coordinator, make_key, db, venue_id, 1))
        assert len(rows) == 8
        assert all(_local_minutes(r)[0] == 1 and _local_minutes(r)[1] >= 660 for r in rows)


def test_narrowed_hours_then_replan_for_venue_moves_future_sessions_inside_them(
    client: TestClient, coordinator: dict[str, str], make_key: KeyMaker, db: Connection
) -> None:
    from service.matches.venues import replan_for_venue

    with time_machine.travel(START, tick=False):
        venue_id = _venue(db, hours=[{"day": "tue", "start": "10:00", "end": "13:00"}])
        match_id = _in_person_at(client, coordinator, make_key, db, venue_id, 1)
        before = _planned(db, match_id)
        assert {_local_minutes(r)[1] for r in before} == {600}
        with Session(db) as session:
            narrowed = [{"day": "tue", "start": "11:30", "end": "13:00"}]
            session.execute(update(Venue).where(Venue.id == venue_id).values(opening_hours=narrowed))  # type: ignore[arg-type]
            assert replan_for_venue(session, venue_id, START) == 8
            session.commit()
        after = _planned(db, match_id)
        assert len(after) == 8 and {_local_minutes(r)[1] for r in after} == {690}
        assert [r.number for r in after] == list(range(1, 9))
        assert [r.starts_at.date() for r in after] == [r.starts_at.date() for r in before]  # the same weeks
        with Session(db) as session:
            assert replan_for_venue(session, venue_id, START) == 0  # nothing left to move
            session.commit()


def test_a_deactivated_venue_leaves_its_sessions_needing_cover_as_leave_does(
    client: TestClient, coordinator: dict[str, str], make_key: KeyMaker, db: Connection
) -> None:
    from service.matches.venues import replan_for_venue

    with time_machine.travel(START, tick=False):
        venue_id = _venue(db, hours=[{"day": "tue", "start": "10:00", "end": "13:00"}])
        match_id = _in_person_at(client, coordinator, make_key, db, venue_id, 1)
        with Session(db) as session:
            session.execute(update(Venue).where(Venue.id == venue_id).values(active=False))  # type: ignore[arg-type]
            assert replan_for_venue(session, venue_id, START) == 0
            session.commit()
        assert _planned(db, match_id) == []
        sessions = client.get(f"/v1/matches/{match_id}/sessions", headers=coordinator).json()["items"]
        assert {s["status"] for s in sessions} == {"needs_cover"}


def test_through_the_api_alone_a_venue_shared_by_two_matches_and_then_narrowed(
    client: TestClient, coordinator: dict[str, str], make_key: KeyMaker
) -> None:
    """A coordinator's whole path: add a one-room venue, match two in-person parents there, read their sessions,
    then narrow its hours with PATCH and read them again."""
    with time_machine.travel(START, tick=False):
        venue = client.post(
            "/v1/venues",
            json={
                "name": "Leith Community Centre",
                "address": {"lines": ["12A Newkirkgate"], "postcode": "EH6 6AD"},
                "opening_hours": [{"day": "tue", "start": "10:00", "end": "13:00"}],
                "rooms": 1,
            },
            headers=coordinator,
        )
        assert venue.status_code == 201, venue.text
        venue_id = venue.json()["id"]
        match_ids = []
        for n in (1, 2):
            vid = client.post(
                "/v1/volunteers",
                json=volunteer_body(formats=["in_person"], email=f"v{n}@example.org"),
                headers=coordinator,
            ).json()["id"]
            rid = client.post(
                "/v1/referrals",
                json=referral_body(n, formats=["in_person"], availability=TUESDAY_MORNING),
                headers=coordinator,
            ).json()["id"]
            made = client.post(
                "/v1/matches",
                json={"referral_id": rid, "volunteer_id": vid, "venue_id": venue_id},
                headers=coordinator,
            )
            assert made.status_code == 201, made.text
            me = make_key("volunteer", volunteer_id=vid)
            assert client.post(f"/v1/matches/{made.json()['id']}/accept", headers=me).status_code == 200
            match_ids.append(made.json()["id"])

        def starts(match_id: str) -> set[str]:
            items = client.get(f"/v1/matches/{match_id}/sessions", headers=coordinator).json()["items"]
            assert all(s["venue"]["id"] == venue_id for s in items)
            return {datetime.fromisoformat(s["starts_at"]).astimezone(LONDON).strftime("%H:%M") for s in items}

        assert starts(match_ids[0]).isdisjoint(starts(match_ids[1]))  # one room: never at the same hour
        etag = client.get(f"/v1/venues/{venue_id}", headers=coordinator).headers["etag"]
        narrowed = patch_current(
            client,
            f"/v1/venues/{venue_id}",
            json={"opening_hours": [{"day": "tue", "start": "11:00", "end": "13:00"}]},
            headers={**coordinator, "If-Match": etag},
        )
        assert narrowed.status_code == 200, narrowed.text
        after = [starts(m) for m in match_ids]
        assert all(hour >= "11:00" for hours in after for hour in hours)
        assert after[0].isdisjoint(after[1])
