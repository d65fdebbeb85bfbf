"""Real concurrency: a uvicorn server on a free local port, serving the test app, hit by many threads at once,
each with its own HTTP client. What must hold is checked in the database afterwards, not only in the answers."""

import socket
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import Engine, text

from tests.factories import patch_current, referral_body, volunteer_body

# Many connections at once, each seeing the others' commits: they cannot share one rolled-back transaction.
pytestmark = pytest.mark.real_commits

Call = Callable[[httpx.Client], httpx.Response]


@pytest.fixture(scope="module")
def live_url(app: FastAPI) -> Iterator[str]:
    """The app served by uvicorn in a thread: requests run in its thread pool, truly side by side."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, name="live-server", daemon=True)
    thread.start()
    for _ in range(500):
        if server.started:
            break
        threading.Event().wait(0.01)
    assert server.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    listener.close()


def all_at_once(base_url: str, calls: list[Call]) -> list[httpx.Response]:
    """Each call on its own thread and connection, released together by a barrier."""
    barrier = threading.Barrier(len(calls))

    def run(call: Call) -> httpx.Response:
        with httpx.Client(base_url=base_url, timeout=60) as client:
            client.get("/healthz")  # connect first, so the barrier releases requests, not handshakes
            barrier.wait(timeout=30)
            return call(client)

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def _post(
    path: str, headers: dict[str, str], body: dict[str, Any] | None = None, *, extra: dict[str, str] | None = None
) -> Call:
    return lambda client: client.post(path, json=body, headers={**headers, **(extra or {})})


def _conflicts_are_problems(responses: list[httpx.Response]) -> None:
    for response in responses:
        if response.status_code == 409:
            assert response.headers["content-type"].startswith("application/problem+json"), response.text
            assert response.json()["status"] == 409


def test_twenty_simultaneous_accepts_for_her_one_free_place_make_exactly_one_match(
    live_url: str, coordinator: dict[str, str], engine: Engine
) -> None:
    with httpx.Client(base_url=live_url, headers=coordinator, timeout=60) as client:
        vid = client.post(
            "/v1/volunteers", json=volunteer_body(capacity={"max_parents": 10, "max_sessions_per_week": 20})
        ).json()["id"]
        for n in range(10):
            assert client.post("/v1/referrals", json=referral_body(n)).status_code == 201
        run = client.post("/v1/match-runs?wait=true").json()
        proposals = [p["id"] for p in run["proposals"]]
        assert len(proposals) == 10 and {p["volunteer_id"] for p in run["proposals"]} == {vid}
        others = [client.post("/v1/referrals", json=referral_body(100 + n)).json()["id"] for n in range(10)]
        cut = patch_current(
            client, f"/v1/volunteers/{vid}", json={"capacity": {"max_parents": 1, "max_sessions_per_week": 1}}
        )
        assert cut.status_code == 200, cut.text

    calls = [_post(f"/v1/proposals/{pid}/accept", coordinator) for pid in proposals]
    calls += [_post("/v1/matches", coordinator, {"referral_id": rid, "volunteer_id": vid}) for rid in others]
    responses = all_at_once(live_url, calls)

    codes = sorted(r.status_code for r in responses)
    assert codes == [201] + [409] * 19, codes
    _conflicts_are_problems(responses)
    with engine.connect() as connection:
        open_matches = connection.execute(
            text(
                "SELECT count(*) FROM match WHERE volunteer_id = :v "
                "AND status IN ('pending','scheduled','active','ending')"
            ),
            {"v": vid},
        ).scalar()
        matched = connection.execute(text("SELECT count(*) FROM referral WHERE status = 'matched'")).scalar()
        accepted = connection.execute(text("SELECT count(*) FROM proposal WHERE status = 'accepted'")).scalar()
    assert open_matches == 1 and matched == 1 and accepted in (0, 1)


def _overlapping(sessions: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    ordered = sorted(sessions)
    return [b for a, b in pairwise(ordered) if b[0] < a[1]]


def test_simultaneous_reschedules_never_double_book_her(
    live_url: str, coordinator: dict[str, str], engine: Engine
) -> None:
    with httpx.Client(base_url=live_url, headers=coordinator, timeout=60) as client:
        # Two windows, so each match has a weekly hour of its own whatever the planner picks for the first
        # (in one 150-minute window, a first plan at 10:45 leaves no room for the second).
        vid = client.post(
            "/v1/volunteers",
            json=volunteer_body(
                capacity={"max_parents": 2, "max_sessions_per_week": 2},
                availability=[
                    {"day": "tue", "start": "09:30", "end": "13:00"},
                    {"day": "thu", "start": "13:00", "end": "15:00"},
                ],
            ),
        ).json()["id"]
        for n in range(2):
            client.post("/v1/referrals", json=referral_body(n))
        proposals = client.post("/v1/match-runs?wait=true").json()["proposals"]
        assert len(proposals) == 2
        matches = [client.post(f"/v1/proposals/{p['id']}/accept").json()["id"] for p in proposals]
        for match_id in matches:
            accepted = client.post(f"/v1/matches/{match_id}/accept")
            assert accepted.status_code == 200, accepted.text
        sessions = {m: client.get(f"/v1/matches/{m}/sessions").json()["items"] for m in matches}

    # The first two sessions of both matches at once, all to the first free slot after both matches' last
    # sessions: an empty week in her diary, so each request on its own would pick the same hour.
    after = max(s["starts_at"] for m in matches for s in sessions[m])
    not_before = (datetime.fromisoformat(after) + timedelta(days=1)).isoformat()
    moving = [s["id"] for m in matches for s in sessions[m][:2]]
    responses = all_at_once(
        live_url, [_post(f"/v1/sessions/{sid}/reschedule", coordinator, {"not_before": not_before}) for sid in moving]
    )

    assert {r.status_code for r in responses} <= {200, 409}, [r.text for r in responses]
    assert any(r.status_code == 200 for r in responses)
    _conflicts_are_problems(responses)
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT match_id, starts_at, ends_at FROM session WHERE volunteer_id = :v AND status = 'planned'"),
            {"v": vid},
        ).all()
    planned = [(_aware(start), _aware(end)) for _match, start, end in rows]
    assert len(planned) == 16
    assert _overlapping(planned) == []
    london = ZoneInfo("Europe/London")
    weeks: dict[Any, int] = {}
    for start, _end in planned:
        monday = start.astimezone(london).date() - timedelta(days=start.astimezone(london).weekday())
        weeks[monday] = weeks.get(monday, 0) + 1
    assert max(weeks.values()) <= 2, weeks


def _aware(value: datetime | str) -> datetime:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo("UTC"))


def test_one_idempotency_key_sent_ten_times_at_once_makes_one_referral(
    live_url: str, coordinator: dict[str, str], engine: Engine
) -> None:
    body = referral_body(7)
    calls = [_post("/v1/referrals", coordinator, body, extra={"Idempotency-Key": "retry-storm-1"}) for _ in range(10)]
    responses = all_at_once(live_url, calls)

    assert {r.status_code for r in responses} <= {201, 409}, [r.text for r in responses]
    created = [r for r in responses if r.status_code == 201]
    assert created, [r.text for r in responses]
    assert len({r.json()["id"] for r in created}) == 1
    assert len({r.headers["location"] for r in created}) == 1
    for conflict in (r for r in responses if r.status_code == 409):
        assert "in progress" in conflict.json()["detail"]
    _conflicts_are_problems(responses)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM referral")).scalar() == 1
        assert connection.execute(text("SELECT count(*) FROM idempotency_record")).scalar() == 1


def test_simultaneous_accepts_of_one_match_plan_her_sessions_once(
    live_url: str, coordinator: dict[str, str], engine: Engine
) -> None:
    with httpx.Client(base_url=live_url, headers=coordinator, timeout=60) as client:
        client.post("/v1/volunteers", json=volunteer_body())
        client.post("/v1/referrals", json=referral_body(1))
        proposal = client.post("/v1/match-runs?wait=true").json()["proposals"][0]
        match_id = client.post(f"/v1/proposals/{proposal['id']}/accept").json()["id"]

    responses = all_at_once(live_url, [_post(f"/v1/matches/{match_id}/accept", coordinator) for _ in range(5)])

    assert sorted(r.status_code for r in responses) == [200] + [409] * 4, [r.text for r in responses]
    _conflicts_are_problems(responses)
    with engine.connect() as connection:
        planned = connection.execute(text("SELECT count(*) FROM session WHERE match_id = :m"), {"m": match_id})
        confirmed = connection.execute(text("SELECT count(*) FROM outbox_event WHERE type = 'match.confirmed'"))
        assert (planned.scalar(), confirmed.scalar()) == (8, 1)


def test_simultaneous_matches_of_one_referral_with_different_volunteers_make_one(
    live_url: str, coordinator: dict[str, str], engine: Engine
) -> None:
    with httpx.Client(base_url=live_url, headers=coordinator, timeout=60) as client:
        volunteers = [
            client.post("/v1/volunteers", json=volunteer_body(name=f"Volunteer {n}")).json()["id"] for n in range(8)
        ]
        rid = client.post("/v1/referrals", json=referral_body(1)).json()["id"]

    responses = all_at_once(
        live_url, [_post("/v1/matches", coordinator, {"referral_id": rid, "volunteer_id": vid}) for vid in volunteers]
    )

    assert sorted(r.status_code for r in responses) == [201] + [409] * 7, [r.text for r in responses]
    _conflicts_are_problems(responses)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM match WHERE referral_id = :r"), {"r": rid}).scalar() == 1


def test_five_match_runs_at_once_never_over_propose(live_url: str, coordinator: dict[str, str], engine: Engine) -> None:
    with httpx.Client(base_url=live_url, headers=coordinator, timeout=120) as client:
        for n in range(6):
            client.post("/v1/volunteers", json=volunteer_body(name=f"Volunteer {n}"))
        for n in range(20):
            assert client.post("/v1/referrals", json=referral_body(n)).status_code == 201

    responses = all_at_once(live_url, [_post("/v1/match-runs?wait=true", coordinator) for _ in range(5)])

    # One run at a time: a run started while another is under way is refused, naming it.
    codes = [r.status_code for r in responses]
    assert set(codes) <= {201, 409} and 201 in codes, [r.text for r in responses]
    _conflicts_are_problems(responses)
    solved = {r.json()["id"] for r in responses if r.status_code == 201}
    assert {r.json()["running_run_id"] for r in responses if r.status_code == 409} <= solved
    with engine.connect() as connection:
        twice = connection.execute(
            text(
                "SELECT count(*) FROM (SELECT referral_id FROM proposal WHERE status = 'open' GROUP BY referral_id "
                "HAVING count(*) > 1) AS doubled"
            )
        ).scalar()
        over = connection.execute(
            text(
                "SELECT count(*) FROM (SELECT p.volunteer_id FROM proposal p JOIN volunteer v ON v.id = p.volunteer_id "
                "WHERE p.status = 'open' GROUP BY p.volunteer_id, v.max_parents HAVING count(*) > v.max_parents) AS o"
            )
        ).scalar()
        open_count = connection.execute(text("SELECT count(*) FROM proposal WHERE status = 'open'")).scalar()
        proposed = connection.execute(text("SELECT count(*) FROM referral WHERE status = 'proposed'")).scalar()
    assert twice == 0 and over == 0
    assert open_count == proposed > 0
