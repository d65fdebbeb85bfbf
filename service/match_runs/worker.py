"""A match run as a job: claimed, loaded and built, solved, then saved in one transaction. Each stage is
committed on its own short transaction, so a caller polling from another connection sees the run move; the
proposals and the expiry of the run's referrals' earlier proposals are written together at the end, so a worker
killed mid-run leaves no half-written run, only a run that the stuck scan fails.

Nothing here is written for a person to read but the `error` of a failed run, which names a stage and an
exception's type: never a referral, a volunteer or health information."""

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy import Connection, Engine
from sqlmodel import Session

from api_schemas.matching import MatchRunIn, MatchRunOut, ProposalStatus
from api_schemas.matching import MatchRunStatus as S
from matching import solver, unmatched
from matching.model import Assignment, Cause, MatchProblem, Proposal
from service.core import clock, collector, tasks
from service.core.auth import Principal
from service.core.config import get_settings
from service.core.ids import new_id
from service.match_runs import lifecycle as run_lifecycle
from service.match_runs import repository
from service.match_runs import service as run_service
from service.match_runs.service import problem_for, reopened_by, unmatched_json
from service.matches import repository as match_repository
from service.models import MatchRun
from service.profiles.matching import reason_json
from service.programme import service as programme_service
from service.proposals import lifecycle as proposal_lifecycle
from service.proposals import repository as proposal_repository
from service.referrals import lifecycle as referral_lifecycle

log = structlog.get_logger("peer_match.match_runs")

TASK = "match_run"
# The cause of a parent whose proposed volunteer was filled by a match made by hand while the run solved.
FILLED_DURING_RUN = "volunteer_filled_during_run"
# A run that has not moved for this long has lost its worker (a national run takes seconds, and reports each
# solve round): the scan fails it so that the programme can run again.
STUCK_AFTER = timedelta(minutes=10)
# The largest run `?wait=true` solves in the request; larger ones are always jobs.
WAIT_AT_MOST = 2_000

Bind = Engine | Connection
Proposals = list[Proposal]


@contextmanager
def _transaction(bind: Bind) -> Iterator[Session]:
    with Session(bind, expire_on_commit=False) as db, db.begin():
        yield db


@tasks.task(TASK)
def run_job(engine: Bind, run_id: str) -> None:
    """The job: run it unless another worker already has (a job delivered twice runs once), on idle CPU unless
    the settings say otherwise."""
    if not _claimed(engine, run_id):
        return
    if get_settings().run_on_idle_cpu:
        on_idle_cpu(lambda: execute(engine, run_id))
    else:
        execute(engine, run_id)


def _claimed(bind: Bind, run_id: str) -> bool:
    with _transaction(bind) as db:
        return run_lifecycle.claim(db, run_id, at=clock.now())


def on_idle_cpu(work: Callable[[], None]) -> None:
    """Do `work` on a thread of its own in the idle scheduling class, and wait for it: the class is the
    thread's for good (an unprivileged thread may not leave it), so the job's own thread, which runs other jobs
    after this one, keeps its class. Where the class is not offered (not Linux), the work runs as it is."""
    failed: list[BaseException] = []

    def idle() -> None:
        with contextlib.suppress(AttributeError, OSError):
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
        try:
            work()
        except BaseException as exc:  # handed to the job's thread, which reports it as the job's failure
            failed.append(exc)

    thread = threading.Thread(target=idle, name="match-run")
    thread.start()
    thread.join()
    if failed:
        raise failed[0]


def execute(bind: Bind, run_id: str) -> None:
    """A claimed run (building) to done; any error fails it, with nothing written, and is raised again."""
    progress = _Progress(bind, run_id, time.perf_counter())
    try:
        with collector.paused(), _transaction(bind) as db:
            match_run = _run(db, run_id)
            reopening = reopened_by(db, match_run.referral_ids)
            referrals = repository.run_referrals(db, match_run.referral_ids, reopening=reopening)
            problem = problem_for(db, referrals, settings=programme_service.current(db), released=reopening)
        progress.stage_ended("loading")
        assignment = solver.solve(problem, progress=progress.heard)
        explained = unmatched.explain_unmatched(problem, assignment.unmatched)
        progress.stage_ended("solving", advance_to=S.saving)
        _save(bind, run_id, problem, assignment, [unmatched_json(u) for u in explained], reopening, progress)
    except Exception as exc:
        stage = progress.stage.value
        log.error("match_run_failed", run_id=run_id, stage=stage, error_type=type(exc).__name__)
        with _transaction(bind) as db:
            failed = repository.get_run(db, run_id, for_update=True)
            if failed is not None and failed.status in run_lifecycle.ACTIVE:
                run_lifecycle.fail(db, failed, error=f"The run stopped while {stage}: {type(exc).__name__}.")
        raise


def _run(db: Session, run_id: str) -> MatchRun:
    match_run = repository.get_run(db, run_id, for_update=True)
    if match_run is None:
        raise LookupError("the run is gone")
    return match_run


class _Progress:
    """Stage times and the engine's progress, each committed at once so that pollers see them."""

    def __init__(self, bind: Bind, run_id: str, started: float) -> None:
        self.bind, self.run_id = bind, run_id
        self.mark = started
        self.stage = S.building
        self.figures: dict[str, Any] = {"pairs_built": None, "solve_round": None, "stage_seconds": {}}

    def heard(self, what: str, count: int) -> None:
        if what == "pairs_built":
            self.figures["pairs_built"] = count
            self.stage_ended("building", advance_to=S.solving)
        elif what == "solve_round":
            self.figures["solve_round"] = count
            self._write()

    def stage_ended(self, stage: str, *, advance_to: S | None = None) -> None:
        now = time.perf_counter()
        self.figures["stage_seconds"][stage] = round(now - self.mark, 4)
        self.mark = now
        self._write(advance_to)

    def _write(self, advance_to: S | None = None) -> None:
        with _transaction(self.bind) as db:
            match_run = _run(db, self.run_id)
            if advance_to is not None:
                run_lifecycle.advance(db, match_run, advance_to)
                self.stage = advance_to
            # A fresh dict each time, so the JSON column is seen as changed.
            match_run.progress = {**self.figures, "stage_seconds": dict(self.figures["stage_seconds"])}
            match_run.updated_at = clock.now()
            db.add(match_run)


def _save(
    bind: Bind,
    run_id: str,
    problem: MatchProblem,
    assignment: Assignment,
    unmatched_rows: list[dict[str, object]],
    reopening: list[str],
    progress: _Progress,
) -> None:
    """Expire the run's referrals' earlier proposals and write its own, in one transaction, under the
    programme's lock. A referral that stopped waiting while the run solved (matched by hand, escalated,
    withdrawn) gets no proposal."""
    with _transaction(bind) as db:
        repository.hold_the_programme(db)
        match_run = _run(db, run_id)
        if match_run.status != S.saving:
            return  # failed by the stuck scan meanwhile: write nothing
        proposal_lifecycle.expire_open(db, referral_ids=reopening if match_run.referral_ids is not None else None)
        referral_lifecycle.return_proposed_to_waiting(db, reopening)
        db.flush()
        still_waiting = repository.waiting_ids(db, [p.referral_id for p in assignment.proposals])
        kept = [p for p in assignment.proposals if p.referral_id in still_waiting]
        kept, filled = _within_places_now(db, problem, kept)
        unmatched_rows = unmatched_rows + [_filled_row(p) for p in filled]
        repository.insert_proposals(
            db,
            [
                {
                    "id": new_id(),
                    "run_id": run_id,
                    "referral_id": found.referral_id,
                    "volunteer_id": found.volunteer_id,
                    "score": found.score,
                    "fit": found.fit,
                    "format": found.format,
                    "venue_id": found.venue_id,
                    "status": ProposalStatus.open.value,
                    "reasons": [reason_json(r) for r in found.reasons],
                }
                for found in kept
            ],
        )
        referral_lifecycle.mark_proposed(db, [p.referral_id for p in kept])
        stats = assignment.stats
        match_run.referrals, match_run.volunteers = len(problem.referrals), len(problem.volunteers)
        match_run.candidate_pairs, match_run.optimal = stats.candidate_pairs, stats.optimal
        match_run.matched, match_run.total_score = len(kept), sum(p.score for p in kept)
        match_run.candidate_seconds, match_run.solve_seconds = stats.candidate_seconds, stats.solve_seconds
        match_run.unmatched = unmatched_rows
        db.flush()
        progress.figures["stage_seconds"]["saving"] = round(time.perf_counter() - progress.mark, 4)
        match_run.progress = {**progress.figures, "stage_seconds": dict(progress.figures["stage_seconds"])}
        run_lifecycle.advance(db, match_run, S.done)


def _within_places_now(db: Session, problem: MatchProblem, found: list[Proposal]) -> tuple[Proposals, Proposals]:
    """(kept, dropped): each volunteer keeps her best proposals up to the places she has free now, counted as
    the run counted them when it loaded (matches and others' open proposals); a match made by hand while the
    run solved may have taken one, and her proposal would only be refused at accept."""
    ids = sorted({p.volunteer_id for p in found})
    taken = match_repository.current_parents(db, ids)
    for volunteer_id, count in proposal_repository.open_per_volunteer(db, ids).items():
        taken[volunteer_id] = taken.get(volunteer_id, 0) + count
    # Her places and her weekly sessions, as the run loaded them (each parent takes one of each).
    capacity = {
        v.id: min(v.max_parents, v.max_parents - v.free_places + v.free_weekly_sessions) for v in problem.volunteers
    }
    left = {vid: capacity.get(vid, 0) - taken.get(vid, 0) for vid in ids}
    kept, dropped = [], []
    for proposal in sorted(found, key=lambda p: (-p.score, p.referral_id)):
        if left[proposal.volunteer_id] > 0:
            left[proposal.volunteer_id] -= 1
            kept.append(proposal)
        else:
            dropped.append(proposal)
    return kept, dropped


def _filled_row(proposal: Proposal) -> dict[str, object]:
    """An unmatched entry for a parent whose volunteer's place went to a match made while the run solved."""
    sentence = (
        "the volunteer proposed for the parent took another parent, matched by hand while the run was solving: "
        "run again to find another"
    )
    cause = Cause(FILLED_DURING_RUN, (("volunteer_id", proposal.volunteer_id),), sentence)
    return unmatched_json(unmatched.Explained(proposal.referral_id, (cause,), (), ()))


def run_here(bind: Bind, run_id: str) -> None:
    """Run a just-started run in this thread (`?wait=true`), as a worker would, but at the request's priority: a
    coordinator is waiting for it. A failure is recorded on the run (and logged), which the caller then shows."""
    try:
        if _claimed(bind, run_id):
            execute(bind, run_id)
    except Exception as exc:  # recorded on the run as `failed`, with its error, which the answer shows
        log.error("match_run_stopped", run_id=run_id, error_type=type(exc).__name__)


def fail_stuck_runs(db: Session) -> int:
    """Periodic: fail the runs whose worker stopped (killed, or its job lost), so the programme can run again.
    Nothing of theirs was written. Commits nothing; returns how many it failed."""
    stuck = repository.stuck_runs(db, quiet_since=clock.now() - STUCK_AFTER)
    minutes = int(STUCK_AFTER.total_seconds() // 60)
    for match_run in stuck:
        run_lifecycle.fail(
            db, match_run, error=f"The run stopped while {match_run.status}: no progress for {minutes} minutes."
        )
    return len(stuck)


def start(db: Session, *, actor: Principal, run_in: MatchRunIn, wait: bool) -> tuple[MatchRun, bool]:
    """Start a run (409 while another is under way) and hand it to a worker; with `wait`, and no more than
    WAIT_AT_MOST referrals to solve, run it here instead. True when it was run here."""
    here = wait and repository.count_to_solve(db, run_in.referral_ids) <= WAIT_AT_MOST
    match_run = run_service.start(db, actor=actor, run_in=run_in)
    # The request's own bind: the engine in production, the test's connection under tests/conftest.py.
    bind = db.get_bind()
    if not here:
        tasks.defer(bind, TASK, run_id=match_run.id)  # type: ignore[arg-type]
        return match_run, False
    run_here(bind, match_run.id)
    db.refresh(match_run)
    return match_run, True


def run_now(db: Session, *, actor: Principal, run_in: MatchRunIn) -> MatchRunOut:
    """Start a run and solve it here whatever its size (the demo, tools): its result, or its failure."""
    match_run = run_service.start(db, actor=actor, run_in=run_in)
    run_id = match_run.id
    # A session that expires on commit began a transaction to read that id: end it, or on SQLite the run's own
    # transactions would wait for the write lock it holds.
    db.commit()
    run_here(db.get_bind(), run_id)
    db.refresh(match_run)
    return run_service.to_out(db, match_run)
