"""Every query of the concern aggregate."""

from sqlalchemy import update
from sqlmodel import Session, col, func, select

from service.concerns.lifecycle import OPEN
from service.models import Concern, ConcernActionRecord

_OPEN = [s.value for s in OPEN]


def get(db: Session, concern_id: str) -> Concern | None:
    return db.get(Concern, concern_id)


def page(
    db: Session, *, status: str | None, volunteer_id: str | None, after_id: str | None, limit: int
) -> list[Concern]:
    query = select(Concern)
    if status is not None:
        query = query.where(Concern.status == status)
    if volunteer_id is not None:
        query = query.where(Concern.volunteer_id == volunteer_id)
    if after_id is not None:
        query = query.where(Concern.id > after_id)
    return list(db.exec(query.order_by(Concern.id).limit(limit + 1)))


def actions_of(db: Session, concern_ids: list[str]) -> dict[str, list[ConcernActionRecord]]:
    found: dict[str, list[ConcernActionRecord]] = {concern_id: [] for concern_id in concern_ids}
    if not concern_ids:
        return found
    query = select(ConcernActionRecord).where(col(ConcernActionRecord.concern_id).in_(concern_ids))
    for row in db.exec(query.order_by(ConcernActionRecord.recorded_at, ConcernActionRecord.id)):
        found[row.concern_id].append(row)
    return found


def open_blocking_for_match(db: Session, match_id: str) -> int:
    query = select(func.count()).where(
        Concern.match_id == match_id, col(Concern.blocking).is_(True), col(Concern.status).in_(_OPEN)
    )
    return int(db.exec(query).one())


def of_referral(db: Session, referral_id: str) -> list[Concern]:
    return list(db.exec(select(Concern).where(Concern.referral_id == referral_id)))


def add(db: Session, row: ConcernActionRecord) -> None:
    db.add(row)


def open_for_referral(db: Session, referral_id: str) -> int:
    query = select(func.count()).where(Concern.referral_id == referral_id, col(Concern.status).in_(_OPEN))
    return int(db.exec(query).one())


def clear_words_of_referral(db: Session, referral_id: str) -> None:
    """Her erasure: the accounts and notes go; the category, dates and outcome codes stay for the counts."""
    db.exec(
        update(Concern)
        .where(col(Concern.referral_id) == referral_id)
        .values(what_happened=None, immediate_action=None, outcome_note=None)
    )
    ids = select(Concern.id).where(Concern.referral_id == referral_id)
    db.exec(update(ConcernActionRecord).where(col(ConcernActionRecord.concern_id).in_(ids)).values(note=None))
