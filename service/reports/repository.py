"""Every query the reports make: a few set-based reads over the period's referrals, never one per record, and
only the columns a report needs (no names, contacts or postcodes)."""

from datetime import datetime
from typing import Any

from sqlalchemy import Row
from sqlmodel import Session, col, func, select

from api_schemas.referrals import ReferralStatus
from api_schemas.sessions import SessionStatus
from api_schemas.volunteers import VolunteerStatus
from service.models import ApiKey, Feedback, Match, MatchRun, Measure, Proposal, Referral, SupportSession, Volunteer

UNMATCHED_STATUSES = (ReferralStatus.waiting, ReferralStatus.proposed, ReferralStatus.escalated)


def _received_between(query: Any, start: datetime | None, end: datetime | None) -> Any:
    """Referrals received at or after start and before end (UTC; either may be open)."""
    if start is not None:
        query = query.where(col(Referral.received_at) >= start)
    if end is not None:
        query = query.where(col(Referral.received_at) < end)
    return query


def referrals_received(db: Session, start: datetime | None, end: datetime | None) -> list[Row[Any]]:
    query = select(
        Referral.id,
        Referral.status,
        Referral.languages,
        Referral.formats,
        Referral.referrer_role,
        Referral.area,
        Referral.received_at,
        Referral.parent_role,
        Referral.due_date,
        Referral.baby_birth_date,
        Referral.background,
        Referral.simd_quintile,
    )
    return list(db.exec(_received_between(query, start, end).order_by(Referral.id)))


def confirmed_matches(db: Session, start: datetime | None, end: datetime | None) -> list[Row[Any]]:
    """Matches a volunteer accepted, for the period's referrals: a pending or declined offer is not a match."""
    query = (
        select(Match.id, Match.referral_id, Match.confirmed_at, Match.outcome)
        .join(Referral, col(Referral.id) == Match.referral_id)
        .where(col(Match.confirmed_at).is_not(None))
    )
    return list(db.exec(_received_between(query, start, end)))


def attended_sessions(db: Session, start: datetime | None, end: datetime | None) -> list[Row[Any]]:
    """Per match of the period's referrals: attended sessions and when the first of them began."""
    query = (
        select(SupportSession.match_id, func.count(), func.min(SupportSession.starts_at))
        .join(Match, col(Match.id) == SupportSession.match_id)
        .join(Referral, col(Referral.id) == Match.referral_id)
        .where(SupportSession.status == SessionStatus.attended)
        .group_by(SupportSession.match_id)
    )
    return list(db.exec(_received_between(query, start, end)))


def epds_measures(db: Session, start: datetime | None, end: datetime | None) -> list[Row[Any]]:
    query = (
        select(Measure.referral_id, Measure.timepoint, Measure.total, Measure.completed_on, Measure.recorded_at)
        .join(Referral, col(Referral.id) == Measure.referral_id)
        .where(Measure.instrument == "EPDS", col(Measure.timepoint).in_(("baseline", "end")))
    )
    return list(db.exec(_received_between(query, start, end)))


def match_runs_since(db: Session, since: datetime) -> list[Row[Any]]:
    """Runs that can have considered a referral received at `since` or later, oldest first."""
    query = (
        select(MatchRun.created_at, MatchRun.unmatched)
        .where(col(MatchRun.created_at) >= since)
        .order_by(col(MatchRun.created_at), col(MatchRun.id))
    )
    return list(db.exec(query))


def last_proposed_at(db: Session, start: datetime | None, end: datetime | None) -> dict[str, datetime]:
    """For each waiting referral of the period: when the latest run that proposed her ran."""
    query = (
        select(Proposal.referral_id, func.max(MatchRun.created_at))
        .join(MatchRun, col(MatchRun.id) == Proposal.run_id)
        .join(Referral, col(Referral.id) == Proposal.referral_id)
        .where(Referral.status == ReferralStatus.waiting)
        .group_by(Proposal.referral_id)
    )
    return {referral_id: at for referral_id, at in db.exec(_received_between(query, start, end))}


def active_volunteers(db: Session) -> list[Volunteer]:
    """Paused volunteers and those who left are never ready, so they are not read."""
    return list(db.exec(select(Volunteer).where(Volunteer.status == VolunteerStatus.active).order_by(Volunteer.id)))


def waiting_referrals(db: Session) -> list[Row[Any]]:
    query = select(Referral.languages, Referral.formats, Referral.area).where(Referral.status == ReferralStatus.waiting)
    return list(db.exec(query))


def api_key(db: Session, key_id: str) -> ApiKey | None:
    """The key a report link was made for (its stored hash signs the link)."""
    return db.get(ApiKey, key_id)


def volunteer_standing(db: Session) -> list[Row[Any]]:
    """Every volunteer's status, reason for leaving and last supervision: nothing that names her."""
    return list(db.exec(select(Volunteer.status, Volunteer.left_reason, Volunteer.last_supervision_on)))


def held_sessions(db: Session, start: datetime | None, end: datetime | None) -> list[Row[Any]]:
    """Attended sessions starting in the period: who held each, and when it began and ended."""
    query = select(SupportSession.volunteer_id, SupportSession.starts_at, SupportSession.ends_at).where(
        SupportSession.status == SessionStatus.attended
    )
    if start is not None:
        query = query.where(col(SupportSession.starts_at) >= start)
    if end is not None:
        query = query.where(col(SupportSession.starts_at) < end)
    return list(db.exec(query))


def matches_accepted(db: Session, start: datetime | None, end: datetime | None) -> int:
    query = select(func.count()).select_from(Match).where(col(Match.confirmed_at).is_not(None))
    if start is not None:
        query = query.where(col(Match.confirmed_at) >= start)
    if end is not None:
        query = query.where(col(Match.confirmed_at) < end)
    return int(db.exec(query).one())


def feedback_answers(db: Session, start: datetime | None, end: datetime | None) -> list[Row[Any]]:
    """Who answered and what, for the matches of the period's referrals."""
    query = (
        select(Feedback.respondent, Feedback.answers)
        .join(Match, col(Match.id) == Feedback.match_id)
        .join(Referral, col(Referral.id) == Match.referral_id)
    )
    return list(db.exec(_received_between(query, start, end)))
