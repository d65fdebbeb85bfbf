"""Every query of the volunteer's own view: her recent sessions, her open matches with the parent's row, her
calendar feed's sessions."""

from datetime import datetime

from sqlmodel import Session, col, select

from service.matches.lifecycle import HOLDS_CAPACITY
from service.models import Match, Referral, SupportSession, Volunteer


def sessions_since(db: Session, volunteer_id: str, since: datetime) -> list[SupportSession]:
    query = select(SupportSession).where(
        SupportSession.volunteer_id == volunteer_id, col(SupportSession.starts_at) >= since
    )
    return sorted(db.exec(query), key=lambda s: s.starts_at)


def open_matches_with_parent(db: Session, volunteer_id: str) -> list[tuple[Match, Referral]]:
    query = (
        select(Match, Referral)
        .join(Referral, col(Referral.id) == Match.referral_id)
        .where(Match.volunteer_id == volunteer_id, col(Match.status).in_([s.value for s in HOLDS_CAPACITY]))
        .order_by(Match.id)
    )
    return [(match, referral) for match, referral in db.exec(query)]


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
