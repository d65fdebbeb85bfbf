"""Every query of the volunteer's own view: her recent sessions, her open matches with the parent's row, her
calendar feed's sessions."""

from datetime import datetime

from sqlalchemy import tuple_
from sqlmodel import Session, col, select

from service.matches.lifecycle import HOLDS_CAPACITY
from service.models import Match, Referral, SupportSession, Volunteer


def sessions_since(
    db: Session, volunteer_id: str, since: datetime, *, after_id: str | None = None, limit: int | None = None
) -> list[SupportSession]:
    """Her sessions from `since` in time order (ties by id); after the session `after_id`, at most `limit` + 1."""
    query = select(SupportSession).where(
        SupportSession.volunteer_id == volunteer_id, col(SupportSession.starts_at) >= since
    )
    if after_id is not None:
        last = db.get(SupportSession, after_id)
        if last is None or last.volunteer_id != volunteer_id:
            return []
        query = query.where(tuple_(col(SupportSession.starts_at), col(SupportSession.id)) > (last.starts_at, last.id))
    query = query.order_by(col(SupportSession.starts_at), col(SupportSession.id))
    if limit is not None:
        query = query.limit(limit + 1)
    return list(db.exec(query))


def open_matches_with_parent(db: Session, volunteer_id: str) -> list[tuple[Match, Referral]]:
    query = (
        select(Match, Referral)
        .join(Referral, col(Referral.id) == Match.referral_id)
        .where(Match.volunteer_id == volunteer_id, col(Match.status).in_([s.value for s in HOLDS_CAPACITY]))
        .order_by(Match.id)
    )
    return [(match, referral) for match, referral in db.exec(query)]


def home_visit_parents(db: Session, match_ids: set[str]) -> dict[str, tuple[str, Referral]]:
    """For each of these matches: its status and its parent's row (for a home visit's address)."""
    if not match_ids:
        return {}
    query = (
        select(Match.id, Match.status, Referral)
        .join(Referral, col(Referral.id) == Match.referral_id)
        .where(col(Match.id).in_(sorted(match_ids)))
    )
    return {match_id: (status, referral) for match_id, status, referral in db.exec(query)}


def volunteer_by_calendar_token(db: Session, token_hash: str) -> Volunteer | None:
    return db.exec(select(Volunteer).where(Volunteer.calendar_token_hash == token_hash)).first()


def feed_sessions(db: Session, volunteer_id: str, since: datetime) -> list[tuple[SupportSession, str | None]]:
    """Her sessions since then, each with the parent's name (the feed shows her first name only)."""
    rows = db.exec(
        select(SupportSession, Referral.parent_name)
        .join(Match, col(Match.id) == SupportSession.match_id)
        .join(Referral, col(Referral.id) == Match.referral_id)
        .where(SupportSession.volunteer_id == volunteer_id, col(SupportSession.starts_at) >= since)
    )
    return [(row, name) for row, name in rows]
