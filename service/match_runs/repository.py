from sqlmodel import Session, col, select, update

from api_schemas.referrals import ReferralStatus
from service.models import MatchRun, Programme, Referral


def waiting_referrals(db: Session, ids: list[str] | None) -> list[Referral]:
    query = select(Referral).where(Referral.status == ReferralStatus.waiting)
    if ids is not None:
        query = query.where(col(Referral.id).in_(ids))
    return list(db.exec(query.order_by(Referral.id)))


def referrals_by_id(db: Session, ids: list[str]) -> list[Referral]:
    return list(db.exec(select(Referral).where(col(Referral.id).in_(ids))))


def get_run(db: Session, run_id: str) -> MatchRun | None:
    return db.get(MatchRun, run_id)


def hold_the_programme(db: Session) -> None:
    """One match run at a time: a write to the programme's row, which the run's transaction then holds until it
    commits. A second run waits here and then solves what the first left (PostgreSQL: the row lock; SQLite: the
    database's one write lock, taken before the run reads anything, so it never reads a stale snapshot)."""
    db.exec(update(Programme).where(col(Programme.id) == 1).values(version=Programme.version))
