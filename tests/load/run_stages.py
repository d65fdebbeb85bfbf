"""A match run's stages (loading, building, solving, saving) in this process, on the national bench's people,
without the HTTP service or the job queue: quicker to repeat than `python -m service.tools.bench --national`,
and open to cProfile. Empties the database it is given. Prints one line per run.

    PEER_MATCH_DATABASE_URL=postgresql://... python -m tests.load.run_stages --referrals 5000 --volunteers 2500
    ... --runs 2 --profile /tmp/run    # a second run re-solves the first's proposals; /tmp/run.1, /tmp/run.2

To compare two versions of the code in one session, run it from each checkout in turn (PYTHONPATH=<checkout>).
"""

import argparse
import cProfile
import time

from sqlmodel import Session

from api_schemas.matching import MatchRunIn
from service.core import clock
from service.core.auth import Principal, Role
from service.core.config import Settings
from service.core.ids import new_id
from service.match_runs import lifecycle as run_lifecycle
from service.match_runs import repository, worker
from service.match_runs import service as run_service
from service.tools import national


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.load.run_stages")
    parser.add_argument("--referrals", type=int, default=5_000)
    parser.add_argument("--volunteers", type=int, default=2_500)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--profile", default="", help="write each run's cProfile stats to <this>.<run>")
    args = parser.parse_args()
    settings = Settings(log_level="WARNING", run_worker_in_app=False)
    if settings.is_sqlite:
        raise SystemExit("set PEER_MATCH_DATABASE_URL to a PostgreSQL database this may empty")
    engine, _, _ = national.prepare(settings, referrals=args.referrals, volunteers=args.volunteers, seed=args.seed)
    actor = Principal(key_id=new_id(), role=Role.coordinator)
    for number in range(1, args.runs + 1):
        with Session(engine) as db:
            run_id = run_service.start(db, actor=actor, run_in=MatchRunIn()).id
        with Session(engine) as db, db.begin():
            run_lifecycle.claim(db, run_id, at=clock.now())
        profile = cProfile.Profile() if args.profile else None
        started = time.perf_counter()
        try:
            if profile is not None:
                profile.enable()
            worker.execute(engine, run_id)
        except Exception as exc:  # recorded on the run as failed; shown below with the run
            print(f"run {number} raised {type(exc).__name__}")
        finally:
            if profile is not None:
                profile.disable()
                profile.dump_stats(f"{args.profile}.{number}")
        seconds = time.perf_counter() - started
        with Session(engine) as db:
            run = repository.get_run(db, run_id)
            assert run is not None
            stages = ", ".join(f"{k} {v:.2f} s" for k, v in (run.progress or {}).get("stage_seconds", {}).items())
            print(f"run {number}: {run.status} in {seconds:.2f} s ({stages}); matched {run.matched}; {run.error or ''}")


if __name__ == "__main__":
    main()
