from datetime import datetime

from sqlmodel import Session, col, select

from service.matches.states import HOLDS_CAPACITY
from service.models import ExcludedPair, Match, Referral, Volunteer


def lock_volunteer(session: Session, volunteer_id: str) -> Volunteer | None:
    """Her row, locked until commit: concurrent accepts for one volunteer queue here (PostgreSQL row lock;
    SQLite transactions already hold the write lock)."""
    return session.exec(select(Volunteer).where(Volunteer.id == volunteer_id).with_for_update()).first()


def lock_referral(session: Session, referral_id: str) -> Referral | None:
    """Her row, locked until commit and read afresh: two matches made for one parent at once queue here."""
    query = select(Referral).where(Referral.id == referral_id).with_for_update()
    return session.exec(query.execution_options(populate_existing=True)).first()


def open_match_for(session: Session, referral_id: str) -> Match | None:
    query = select(Match).where(Match.referral_id == referral_id,
                                col(Match.status).in_([s.value for s in HOLDS_CAPACITY]))
    return session.exec(query).first()


def exclude_pair(session: Session, *, referral_id: str, volunteer_id: str, cause: str, pair_id: str,
                 at: datetime) -> None:
    exists = session.exec(select(ExcludedPair.id).where(ExcludedPair.referral_id == referral_id,
                                                        ExcludedPair.volunteer_id == volunteer_id)).first()
    if exists is None:
        session.add(ExcludedPair(id=pair_id, referral_id=referral_id, volunteer_id=volunteer_id, cause=cause, at=at))


def get(session: Session, match_id: str) -> Match | None:
    return session.get(Match, match_id)


def page(session: Session, *, volunteer_id: str | None, referral_id: str | None, status: str | None,
         after_id: str | None, limit: int) -> list[Match]:
    query = select(Match)
    if volunteer_id is not None:
        query = query.where(Match.volunteer_id == volunteer_id)
    if referral_id is not None:
        query = query.where(Match.referral_id == referral_id)
    if status is not None:
        query = query.where(Match.status == status)
    if after_id is not None:
        query = query.where(Match.id > after_id)
    return list(session.exec(query.order_by(Match.id).limit(limit + 1)))
