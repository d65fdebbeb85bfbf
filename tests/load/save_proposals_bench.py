"""Saving a run's 2,000 proposals: ORM objects one by one (the old way, the baseline) against one Core
executemany (match_runs/repository.insert_proposals), on the same rows in the same run. Prints a table.

    python -m tests.load.save_proposals_bench                       # SQLite in a temporary directory
    PEER_MATCH_DATABASE_URL=postgresql://... python -m tests.load.save_proposals_bench   # an empty database
"""

import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from service.core import clock, migrate
from service.core.config import Settings
from service.core.db import make_engine
from service.core.ids import new_id
from service.match_runs import repository
from service.models import MatchRun, Proposal, Referral, Volunteer
from service.proposals import repository as proposal_repository
from service.tools import demo

PROPOSALS = 2_000
ROUNDS = 5


def _rows(run_id: str, referrals: list[str], volunteers: list[str]) -> list[dict[str, Any]]:
    reasons = [
        {"criterion": "language", "points": 30, "detail": "both speak Polish", "code": "language", "params": {}},
        {"criterion": "distance", "points": 20, "detail": "4 km apart", "code": "distance", "params": {"km": 4}},
    ]
    return [
        {
            "id": new_id(),
            "run_id": run_id,
            "referral_id": rid,
            "volunteer_id": volunteers[n % len(volunteers)],
            "score": 50,
            "fit": 80,
            "format": "home_visit",
            "venue_id": None,
            "status": "open",
            "reasons": reasons,
        }
        for n, rid in enumerate(referrals)
    ]


def _orm(db: Session, rows: list[dict[str, Any]]) -> None:
    proposal_repository.add_all(db, [Proposal(**row) for row in rows])
    db.flush()


def _core(db: Session, rows: list[dict[str, Any]]) -> None:
    repository.insert_proposals(db, rows)
    db.flush()


def main() -> None:
    with tempfile.TemporaryDirectory() as data_dir:
        settings = Settings(
            environment="test", data_dir=Path(data_dir), database_url=os.environ.get("PEER_MATCH_DATABASE_URL", "")
        )
        engine = make_engine(settings)
        migrate.upgrade(engine)
        with Session(engine) as db:
            if db.exec(select(Referral.id)).first() is None:
                demo.fill(db, referrals=PROPOSALS, volunteers=PROPOSALS // 2, seed=1)
            run = MatchRun(
                id=new_id(), created_at=clock.now(), referrals=0, volunteers=0, candidate_pairs=0, matched=0,
                total_score=0, optimal=True, candidate_seconds=0, solve_seconds=0, unmatched=[], status="done",
            )  # fmt: skip
            db.add(run)
            run_id = run.id
            db.commit()
            referrals = list(db.exec(select(Referral.id).limit(PROPOSALS)))
            volunteers = list(db.exec(select(Volunteer.id)))
        best: dict[str, float] = {}
        ways: dict[str, Callable[[Session, list[dict[str, Any]]], None]] = {"ORM objects": _orm, "Core": _core}
        for _ in range(ROUNDS):
            for name, save in ways.items():
                rows = _rows(run_id, referrals, volunteers)
                with Session(engine) as db:
                    started = time.perf_counter()
                    save(db, rows)
                    db.commit()
                    seconds = time.perf_counter() - started
                    db.exec(Proposal.__table__.delete())  # type: ignore[attr-defined]
                    db.commit()
                best[name] = min(best.get(name, seconds), seconds)
        print(f"saving {len(referrals)} proposals on {engine.dialect.name}, best of {ROUNDS}")
        print("| way | seconds | vs ORM objects |\n| --- | --- | --- |")
        for name, seconds in best.items():
            print(f"| {name} | {seconds:.4f} | {best['ORM objects'] / seconds:.1f}x |")


if __name__ == "__main__":
    main()
