import json
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Table, func, insert, or_, text
from sqlmodel import Session, col, select, update

from api_schemas.matching import ProposalStatus
from api_schemas.referrals import ReferralStatus
from service.core.db import one_of
from service.match_runs.lifecycle import ACTIVE
from service.models import MatchRun, Programme, Proposal, Referral
from service.profiles.matching import REFERRAL_COLUMNS

# Proposals are written as one executemany of plain rows: 2,000 ORM objects one by one cost several times more
# (docs/decisions/0024).
_PROPOSAL_TABLE: Table = Proposal.__table__  # type: ignore[attr-defined]
_PROFILED = [Referral.__table__.c[name] for name in REFERRAL_COLUMNS]  # type: ignore[attr-defined]


def waiting_referrals(db: Session, ids: list[str] | None) -> list[Referral]:
    query = select(Referral).where(Referral.status == ReferralStatus.waiting)
    if ids is not None:
        query = query.where(col(Referral.id).in_(ids))
    return list(db.exec(query.order_by(Referral.id)))


def run_referrals(db: Session, ids: list[str] | None, *, reopening: Collection[str]) -> list[Row[Any]]:
    """The referrals a run solves: the waiting ones (of `ids`, if named) and the proposed ones whose open
    proposals the run will expire (`reopening`), as they will be once it has. Plain rows of the columns their
    profiles read, not ORM objects (docs/decisions/0026)."""
    matchable = col(Referral.status) == ReferralStatus.waiting
    if reopening:
        reopened = (col(Referral.status) == ReferralStatus.proposed) & one_of(db, col(Referral.id), reopening)
        matchable = or_(matchable, reopened)
    query = select(*_PROFILED).where(matchable)
    if ids is not None:
        query = query.where(one_of(db, col(Referral.id), ids))
    return list(db.exec(query.order_by(col(Referral.id))))


def count_to_solve(db: Session, ids: list[str] | None) -> int:
    """About how many referrals a run would solve: those named, or every waiting or proposed one."""
    if ids is not None:
        return len(ids)
    matchable = [ReferralStatus.waiting.value, ReferralStatus.proposed.value]
    return int(db.exec(select(func.count()).select_from(Referral).where(col(Referral.status).in_(matchable))).one())


def referrals_by_id(db: Session, ids: list[str]) -> list[Referral]:
    return list(db.exec(select(Referral).where(col(Referral.id).in_(ids))))


def waiting_ids(db: Session, ids: list[str]) -> set[str]:
    if not ids:
        return set()
    query = select(Referral.id).where(one_of(db, col(Referral.id), ids), Referral.status == ReferralStatus.waiting)
    return set(db.exec(query))


def open_per_volunteer_of(db: Session, referral_ids: list[str]) -> dict[str, int]:
    """How many open proposals of these referrals name each volunteer: places a run is about to free."""
    if not referral_ids:
        return {}
    query = (
        select(Proposal.volunteer_id, func.count())
        .where(one_of(db, col(Proposal.referral_id), referral_ids), Proposal.status == ProposalStatus.open)
        .group_by(Proposal.volunteer_id)
    )
    return {volunteer_id: count for volunteer_id, count in db.exec(query)}


def get_run(db: Session, run_id: str, *, for_update: bool = False) -> MatchRun | None:
    if not for_update:
        return db.get(MatchRun, run_id)
    return db.exec(select(MatchRun).where(MatchRun.id == run_id).with_for_update()).first()


def active_run(db: Session) -> MatchRun | None:
    """The run holding the programme (queued or under way), if any."""
    query = select(MatchRun).where(col(MatchRun.status).in_([s.value for s in ACTIVE]))
    return db.exec(query.order_by(col(MatchRun.created_at))).first()


def stuck_runs(db: Session, *, quiet_since: datetime) -> list[MatchRun]:
    """Runs under way that have not moved since then. Rows a live worker holds (saving) are skipped rather than
    waited for: that run is not stuck."""
    query = (
        select(MatchRun)
        .where(col(MatchRun.status).in_([s.value for s in ACTIVE]))
        .where(func.coalesce(MatchRun.updated_at, MatchRun.created_at) < quiet_since)
        .with_for_update(skip_locked=True)
    )
    return list(db.exec(query))


def insert_proposals(db: Session, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        db.execute(insert(_PROPOSAL_TABLE), list(rows))


def hold_the_programme(db: Session) -> None:
    """One match run at a time: a write to the programme's row, which the transaction then holds until it
    commits. A run starts (is queued) and saves under it, so two starts cannot both see no run under way, and a
    save never interleaves with another (PostgreSQL: the row lock; SQLite: the database's one write lock)."""
    db.exec(update(Programme).where(col(Programme.id) == 1).values(version=Programme.version))


def unmatched_after(db: Session, run_id: str, *, after_id: str | None, limit: int) -> list[dict[str, Any]]:
    """`limit` entries of a run's `unmatched`, by referral id, after `after_id`: picked out by the database from
    the stored list (16 MB at national scale), so a page does not decode the whole of it."""
    if db.get_bind().dialect.name == "postgresql":
        sql = (
            "SELECT entry::text FROM match_run, json_array_elements(match_run.unmatched) AS entry "
            "WHERE match_run.id = :run_id AND (entry->>'referral_id') COLLATE \"C\" > :after "
            "ORDER BY entry->>'referral_id' COLLATE \"C\" LIMIT :limit"
        )
    else:
        sql = (
            "SELECT each.value FROM match_run, json_each(match_run.unmatched) AS each "
            "WHERE match_run.id = :run_id AND json_extract(each.value, '$.referral_id') > :after "
            "ORDER BY json_extract(each.value, '$.referral_id') LIMIT :limit"
        )
    rows = db.exec(text(sql), params={"run_id": run_id, "after": after_id or "", "limit": limit})  # type: ignore[call-overload]
    return [json.loads(value) for (value,) in rows]


def run_status(db: Session, run_id: str) -> str | None:
    """A run's status, without reading its result."""
    status = db.exec(select(MatchRun.status).where(col(MatchRun.id) == run_id)).first()
    return None if status is None else str(status)
