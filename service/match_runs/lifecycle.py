"""A match run's life as a job: queued until a worker claims it, then building, solving and saving, and done;
any stage can fail. Stages are the service's own bookkeeping (not audited); the run's creation is."""

from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col

from api_schemas.matching import MatchRunStatus as S
from service.core.auth import Principal
from service.core.lifecycle import Lifecycle, begin, transition
from service.models import MatchRun

TRANSITIONS: dict[S, frozenset[S]] = {
    S.queued: frozenset({S.building, S.failed}),
    S.building: frozenset({S.solving, S.failed}),
    S.solving: frozenset({S.saving, S.failed}),
    S.saving: frozenset({S.done, S.failed}),
    S.done: frozenset(),
    S.failed: frozenset(),
}
RUN = Lifecycle("match_run", S, TRANSITIONS, version=None, audited=False)
# A run in one of these holds the programme: no other run may start until it is done or failed.
ACTIVE = frozenset({S.queued, S.building, S.solving, S.saving})


def queue(db: Session, match_run: MatchRun, *, actor: Principal) -> None:
    """A new run, queued (audited as `match_run.created`)."""
    match_run.status = S.queued.value
    begin(db, RUN, match_run, actor=actor)


def claim(db: Session, run_id: str, *, at: datetime) -> bool:
    """Move a queued run to building, unless another worker already has: true for the one that did. One
    conditional UPDATE, so a job delivered twice is run once."""
    claimed = db.exec(
        update(MatchRun)
        .where(col(MatchRun.id) == run_id, col(MatchRun.status) == S.queued.value)
        .values(status=S.building.value, updated_at=at)
    )
    return bool(claimed.rowcount == 1)


def advance(db: Session, match_run: MatchRun, target: S) -> None:
    """The next stage (409 out of order: a programming error, or a run already failed by the stuck scan)."""
    transition(db, RUN, match_run, target, action=target.value, actor=None)


def fail(db: Session, match_run: MatchRun, *, error: str) -> None:
    """Failed, with a sentence that names no person and no health information."""
    transition(db, RUN, match_run, S.failed, action="failed", actor=None)
    match_run.error = error[:300]
