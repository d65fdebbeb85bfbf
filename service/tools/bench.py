"""`python -m service.tools.bench`: a match run through the API on SQLite, over 2,000 waiting referrals and 1,000
volunteers of demo data, against the engine alone on the same people in the same run.

It prints the API's answer time, the engine's time, and their ratio (what loading profiles, persisting the
run and its proposals and serialising them cost on top of the solve). Before the run it asks where to recruit
(`GET /v1/reports/recruitment`, issue 18: under 1 s at this size) and prints that time beside the engine's,
with and without venues, and the time of a second view with nothing changed (the report's cache)."""

import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from matching import solver
from service.app import create_app
from service.core import auth, migrate
from service.core.config import Settings
from service.core.db import make_engine
from service.match_runs import repository
from service.match_runs.service import problem_for
from service.programme import service as programme_service
from service.tools import demo


def main(referrals: int = 2000, volunteers: int = 1000) -> None:
    with tempfile.TemporaryDirectory() as data_dir:
        settings = Settings(data_dir=Path(data_dir), database_url="", log_level="WARNING", run_worker_in_app=False)
        engine = make_engine(settings)
        migrate.upgrade(engine)
        started = time.perf_counter()
        with Session(engine) as db:
            demo.fill(db, referrals=referrals, volunteers=volunteers, seed=11)
            _key, secret = auth.create_key(db, name="bench", role=auth.Role.coordinator)
            db.commit()
        print(
            f"demo data: {referrals} referrals x {volunteers} volunteers on SQLite "
            f"({time.perf_counter() - started:.1f} s to load)"
        )
        engine_seconds, without_venues = _engine_alone(engine)
        with TestClient(create_app(settings, engine)) as client:
            started = time.perf_counter()
            recruitment = client.get("/v1/reports/recruitment", headers={"Authorization": f"Bearer {secret}"})
            recruitment_seconds = time.perf_counter() - started
            started = time.perf_counter()
            client.get("/v1/reports/recruitment", headers={"Authorization": f"Bearer {secret}"})
            again_seconds = time.perf_counter() - started
            # Worked out afresh in the now warm process, as a page view after any change is: another limit
            # is another key of the report's cache.
            started = time.perf_counter()
            client.get("/v1/reports/recruitment?limit=19", headers={"Authorization": f"Bearer {secret}"})
            changed_seconds = time.perf_counter() - started
            started = time.perf_counter()
            answer = client.post("/v1/match-runs?wait=true", headers={"Authorization": f"Bearer {secret}"})
            api_seconds = time.perf_counter() - started
        if answer.status_code != 201:
            sys.exit(f"match run failed: {answer.status_code} {answer.text[:300]}")
        stats = answer.json()["stats"]
        print(
            f"| path | matched | candidate pairs | seconds |\n| --- | ---: | ---: | ---: |\n"
            f"| engine alone | {stats['matched']} | {stats['candidate_pairs']} | {engine_seconds:.2f} |\n"
            f"| POST /v1/match-runs | {stats['matched']} | {stats['candidate_pairs']} | {api_seconds:.2f} |"
        )
        print(f"API/engine time for a {referrals}x{volunteers} match run: {api_seconds / engine_seconds:.2f}")
        if recruitment.status_code != 200:
            sys.exit(f"recruitment report failed: {recruitment.status_code} {recruitment.text[:300]}")
        found = recruitment.json()
        best = found["openings"][0]["detail"] if found["openings"] else "-"
        print(
            f"GET /v1/reports/recruitment: {recruitment_seconds:.2f} s ({found['profiles_considered']} profiles, "
            f"{found['what_if_solves']} what-if solves; best: {best}); "
            f"report/engine run time: {recruitment_seconds / engine_seconds:.2f}; report/engine without venues: "
            f"{recruitment_seconds / without_venues:.2f}; viewed again, nothing changed: {again_seconds:.3f} s; "
            f"worked out afresh in the warm process: {changed_seconds:.2f} s "
            f"({changed_seconds / engine_seconds:.2f} of the engine run)"
        )
        engine.dispose()


def _engine_alone(engine: Engine) -> tuple[float, float]:
    """The same problem the run solves, built from the same rows (venues included) and solved, nothing
    persisted: the baseline. It also prints the engine's time without the venue rule, what venues cost."""
    with Session(engine) as db:
        programme = programme_service.current(db)
        problem = problem_for(db, repository.waiting_referrals(db, None), settings=programme)
        started = time.perf_counter()
        solver.solve(replace(problem, venues=None))
        without = time.perf_counter() - started
        started = time.perf_counter()
        solver.solve(problem)
        seconds = time.perf_counter() - started
        print(f"engine without the venue rule: {without:.2f} s; with it: {seconds:.2f} s ({seconds / without:.1f}x)")
        return seconds, without


if __name__ == "__main__":
    if "--national" in sys.argv[1:]:
        from service.tools import national

        national.main(sys.argv[1:])
    else:
        main()
