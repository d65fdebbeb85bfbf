"""Match runs as jobs: 202 and a URL to poll, progress by stage, one run at a time, never half-written."""

import json
import os
import threading
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, text
from sqlmodel import Session

from matching import solver
from service.core import clock, tasks
from service.match_runs import worker
from tests.conftest import HeldRunner
from tests.factories import referral_body, volunteer_body

PROBLEM_JSON = "application/problem+json"


@pytest.fixture
def held(held_tasks: HeldRunner) -> HeldRunner:
    return held_tasks


def _people(client: TestClient, headers: dict[str, str], *, referrals: int, volunteers: int) -> list[str]:
    for n in range(volunteers):
        client.post(
            "/v1/volunteers",
            json=volunteer_body(name=f"Volunteer {n}", capacity={"max_parents": 2, "max_sessions_per_week": 2}),
            headers=headers,
        )
    return [client.post("/v1/referrals", json=referral_body(n), headers=headers).json()["id"] for n in range(referrals)]


def _pairs(run: dict[str, Any]) -> set[tuple[str, str, int]]:
    return {(p["referral_id"], p["volunteer_id"], p["score"]) for p in run["proposals"]}


def test_a_run_answers_202_with_its_url_and_polls_through_to_done(
    client: TestClient, coordinator: dict[str, str], held: HeldRunner
) -> None:
    _people(client, coordinator, referrals=3, volunteers=2)

    started = client.post("/v1/match-runs", headers=coordinator)

    assert started.status_code == 202, started.text
    body = started.json()
    assert started.headers["Location"] == f"/v1/match-runs/{body['id']}"
    assert body["status"] == "queued" and body["proposals"] is None and body["stats"] is None
    assert body["progress"] == {"pairs_built": None, "solve_round": None, "stage_seconds": {}}
    assert client.get(started.headers["Location"], headers=coordinator).json()["status"] == "queued"

    held.release()
    done = client.get(started.headers["Location"], headers=coordinator).json()
    assert done["status"] == "done" and done["error"] is None
    assert done["stats"]["matched"] == 3 and len(done["proposals"]) == 3
    assert done["progress"]["pairs_built"] == done["stats"]["candidate_pairs"] == 6
    assert done["progress"]["solve_round"] == 1
    assert set(done["progress"]["stage_seconds"]) == {"loading", "building", "solving", "saving"}
    assert all(seconds >= 0 for seconds in done["progress"]["stage_seconds"].values())


def test_wait_true_solves_in_the_request_and_answers_201_with_the_result(
    client: TestClient, coordinator: dict[str, str], held: HeldRunner
) -> None:
    _people(client, coordinator, referrals=2, volunteers=1)

    run = client.post("/v1/match-runs?wait=true", headers=coordinator)

    assert run.status_code == 201, run.text
    assert run.json()["status"] == "done" and run.json()["stats"]["matched"] == 2
    assert held.held == []  # nothing left for a worker


def test_wait_true_above_the_limit_is_a_job_as_without_it(
    client: TestClient, coordinator: dict[str, str], held: HeldRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    _people(client, coordinator, referrals=3, volunteers=1)
    monkeypatch.setattr(worker, "WAIT_AT_MOST", 2)

    run = client.post("/v1/match-runs?wait=true", headers=coordinator)

    assert run.status_code == 202 and run.json()["status"] == "queued"


def test_a_second_run_while_one_is_under_way_is_409_naming_it(
    client: TestClient, coordinator: dict[str, str], held: HeldRunner
) -> None:
    _people(client, coordinator, referrals=2, volunteers=1)
    first = client.post("/v1/match-runs", headers=coordinator).json()

    second = client.post("/v1/match-runs?wait=true", headers=coordinator)

    assert second.status_code == 409
    assert second.headers["content-type"].startswith(PROBLEM_JSON)
    assert second.json()["running_run_id"] == first["id"]
    assert second.json()["running_run"] == f"/v1/match-runs/{first['id']}"
    held.release()
    assert client.post("/v1/match-runs?wait=true", headers=coordinator).status_code == 201


def test_a_failed_run_says_so_without_personal_data_and_frees_the_programme(
    client: TestClient, coordinator: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _people(client, coordinator, referrals=2, volunteers=1)

    def solver_crash(*_args: Any, **_kwargs: Any) -> Any:
        raise MemoryError("out of memory for Referral Mum 0")

    with monkeypatch.context() as patched:
        patched.setattr(solver, "solve", solver_crash)
        failed = client.post("/v1/match-runs?wait=true", headers=coordinator).json()

    assert failed["status"] == "failed" and failed["proposals"] is None
    assert failed["error"] == "The run stopped while building: MemoryError."
    again = client.post("/v1/match-runs?wait=true", headers=coordinator)
    assert again.status_code == 201 and again.json()["status"] == "done"


class WorkerKilled(BaseException):
    """Not an Exception: nothing in the run catches it, as nothing runs after a SIGKILL."""


def _open_proposals(db: Connection) -> dict[str, int]:
    rows = db.execute(text("SELECT run_id, count(*) FROM proposal WHERE status = 'open' GROUP BY run_id")).all()
    return {run_id: count for run_id, count in rows}


def test_a_worker_killed_while_saving_writes_nothing_and_the_stuck_scan_frees_the_programme(
    client: TestClient, coordinator: dict[str, str], held: HeldRunner, db: Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    _people(client, coordinator, referrals=3, volunteers=2)
    client.post("/v1/match-runs", headers=coordinator)
    held.release()
    before = _open_proposals(db)
    assert sum(before.values()) == 3
    run_id = client.post("/v1/match-runs", headers=coordinator).json()["id"]
    [(bind, _name, kwargs)] = held.held
    real_advance = worker.run_lifecycle.advance

    def killed_at_the_last_write(db: Session, match_run: Any, target: Any) -> None:
        if target == "done":
            raise WorkerKilled
        real_advance(db, match_run, target)

    monkeypatch.setattr(worker.run_lifecycle, "advance", killed_at_the_last_write)
    with pytest.raises(WorkerKilled):
        worker.run_job(bind, **kwargs)
    monkeypatch.undo()

    assert client.get(f"/v1/match-runs/{run_id}", headers=coordinator).json()["status"] == "saving"
    assert _open_proposals(db) == before  # the earlier run's proposals stand, the new one wrote none
    assert db.execute(text("SELECT count(*) FROM referral WHERE status = 'proposed'")).scalar() == 3
    assert client.post("/v1/match-runs?wait=true", headers=coordinator).json()["running_run_id"] == run_id

    with Session(db) as session:
        assert worker.fail_stuck_runs(session) == 0  # not yet: it may still be working
    with time_machine.travel(clock.now() + worker.STUCK_AFTER + timedelta(seconds=1)), Session(db) as session:
        assert worker.fail_stuck_runs(session) == 1
        session.commit()
    stuck = client.get(f"/v1/match-runs/{run_id}", headers=coordinator).json()
    assert stuck["status"] == "failed" and stuck["error"].startswith("The run stopped while saving")
    assert client.post("/v1/match-runs?wait=true", headers=coordinator).status_code == 201


def test_a_job_delivered_twice_runs_once(client: TestClient, coordinator: dict[str, str], held: HeldRunner) -> None:
    _people(client, coordinator, referrals=2, volunteers=1)
    run_id = client.post("/v1/match-runs", headers=coordinator).json()["id"]
    [(bind, name, kwargs)] = held.held

    held.release()
    tasks.registered(name)(bind, **kwargs)

    run = client.get(f"/v1/match-runs/{run_id}", headers=coordinator).json()
    assert run["status"] == "done" and len(run["proposals"]) == 2


def test_any_coordinator_reads_a_run_and_an_unknown_one_is_404(
    client: TestClient, coordinator: dict[str, str], make_key: Any
) -> None:
    _people(client, coordinator, referrals=1, volunteers=1)
    run = client.post("/v1/match-runs?wait=true", headers=coordinator).json()

    other = make_key("coordinator")
    assert client.get(f"/v1/match-runs/{run['id']}", headers=other).json() == run
    missing = client.get("/v1/match-runs/no-such-run", headers=other)
    assert missing.status_code == 404 and missing.headers["content-type"].startswith(PROBLEM_JSON)


@pytest.mark.parametrize(("referrals", "volunteers"), [(1, 1), (4, 1), (5, 3), (9, 4)])
def test_a_run_as_a_job_proposes_what_the_same_run_in_the_request_does(
    client: TestClient, coordinator: dict[str, str], held: HeldRunner, referrals: int, volunteers: int
) -> None:
    _people(client, coordinator, referrals=referrals, volunteers=volunteers)
    job = client.post("/v1/match-runs", headers=coordinator).json()
    held.release()
    as_job = client.get(f"/v1/match-runs/{job['id']}", headers=coordinator).json()

    # The same people again: the second run expires the first's proposals and re-solves every referral.
    in_request = client.post("/v1/match-runs?wait=true", headers=coordinator).json()

    assert _pairs(as_job) == _pairs(in_request) and len(as_job["proposals"]) == min(referrals, 2 * volunteers)
    assert as_job["unmatched"] == in_request["unmatched"]


@pytest.mark.real_commits
def test_the_stages_are_committed_as_they_happen_so_another_connection_sees_them(
    client: TestClient, coordinator: dict[str, str], engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    _people(client, coordinator, referrals=2, volunteers=1)
    seen: list[tuple[str, Any]] = []
    real_solve = solver.solve

    def solve_and_look(problem: Any, **kwargs: Any) -> Any:
        assignment = real_solve(problem, **kwargs)
        with engine.connect() as connection:
            seen.extend(connection.execute(text("SELECT status, progress FROM match_run")).all())
        return assignment

    monkeypatch.setattr(solver, "solve", solve_and_look)
    run = client.post("/v1/match-runs?wait=true", headers=coordinator)

    assert run.status_code == 201 and run.json()["status"] == "done"
    [(status, progress)] = seen
    assert status == "solving"
    progress = progress if isinstance(progress, dict) else json.loads(progress)
    assert progress["pairs_built"] == 2 and progress["solve_round"] == 1
    assert set(progress["stage_seconds"]) == {"loading", "building"}


def test_a_run_as_a_job_solves_on_an_idle_cpu_thread_and_the_jobs_thread_keeps_its_class() -> None:
    seen: list[tuple[str, int]] = []

    def work() -> None:
        seen.append((threading.current_thread().name, os.sched_getscheduler(0)))

    worker.on_idle_cpu(work)

    assert seen == [("match-run", os.SCHED_IDLE)]
    assert threading.current_thread().name != "match-run" and os.sched_getscheduler(0) != os.SCHED_IDLE


def test_a_failure_on_the_idle_thread_is_the_jobs_failure() -> None:
    def work() -> None:
        raise LookupError("the run is gone")

    with pytest.raises(LookupError, match="the run is gone"):
        worker.on_idle_cpu(work)


def test_a_job_goes_to_idle_cpu_and_a_run_solved_in_the_request_does_not(
    client: TestClient, coordinator: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[str, int]] = []
    real = worker.execute

    def spy(bind: Any, run_id: str) -> None:
        seen.append((threading.current_thread().name, os.sched_getscheduler(0)))
        real(bind, run_id)

    monkeypatch.setattr(worker, "execute", spy)
    _people(client, coordinator, referrals=2, volunteers=1)

    assert client.post("/v1/match-runs?wait=true", headers=coordinator).status_code == 201
    assert client.post("/v1/match-runs", headers=coordinator).status_code == 202

    [(request_thread, request_class), (job_thread, job_class)] = seen
    assert request_thread != "match-run" and request_class != os.SCHED_IDLE
    assert (job_thread, job_class) == ("match-run", os.SCHED_IDLE)
