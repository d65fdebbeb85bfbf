"""The match's sessions to the scheduling engine and back: her diary from the rows, and rows from a plan."""

from datetime import datetime

from sqlmodel import Session

from api_schemas.matching import MatchStatus
from api_schemas.programme import ProgrammeSettings
from api_schemas.sessions import SessionStatus
from scheduling import model as plan_model
from service.core import clock
from service.core.ids import new_id
from service.matches import repository
from service.models import Match, Referral, SupportSession, Volunteer
from service.profiles import planning as plan_inputs


def diary(
    db: Session,
    volunteer: Volunteer,
    *,
    except_session_ids: frozenset[str] = frozenset(),
    except_match_id: str | None = None,
) -> plan_model.VolunteerCalendar:
    """Her leave, weekly limit and every upcoming planned session (with where it happens)."""
    upcoming = repository.upcoming_planned(
        db, volunteer.id, now=clock.now(), except_session_ids=except_session_ids, except_match_id=except_match_id
    )
    return plan_inputs.diary(volunteer, upcoming)


def to_plan(
    db: Session,
    match: Match,
    referral: Referral,
    volunteer: Volunteer,
    programme: ProgrammeSettings,
    *,
    sessions: int,
    earliest: datetime,
) -> plan_model.MatchToPlan:
    """The match as the planner sees it, for this volunteer (hers or a cover's): at its venue, when it has one,
    with the rooms other volunteers' upcoming sessions hold there."""
    venue = repository.venue_of(db, match)
    booked = (
        repository.venue_bookings(db, venue.id, now=clock.now(), except_volunteer_id=volunteer.id)
        if venue is not None
        else []
    )
    return plan_inputs.to_plan(
        match, referral, volunteer, programme, sessions=sessions, earliest=earliest, venue=venue, booked=booked
    )


def store(db: Session, match: Match, planned: tuple[plan_model.PlannedSession, ...]) -> list[SupportSession]:
    """New planned rows for this match's part of a plan (a new session starts in the lifecycle's first state),
    at the match's venue when it has one."""
    now = clock.now()
    rows = [
        SupportSession(
            id=new_id(),
            match_id=match.id,
            volunteer_id=match.volunteer_id,
            number=p.number,
            kind=p.kind,
            starts_at=p.starts_at,
            ends_at=p.ends_at,
            format=p.format,
            venue_id=match.venue_id,
            status=SessionStatus.planned.value,
            updated_at=now,
        )
        for p in planned
        if p.match_id == match.id
    ]
    repository.add_all(db, rows)
    return rows


def waiting_beside(
    db: Session, volunteer: Volunteer, programme: ProgrammeSettings, *, now: datetime, but: str
) -> list[plan_model.MatchToPlan]:
    """Her other matches made but not yet accepted, as plans: they keep a place in her week."""
    return [
        to_plan(
            db,
            other,
            repository.referral_of(db, other),
            volunteer,
            programme,
            sessions=other.planned_sessions,
            earliest=now,
        )
        for other in repository.open_matches(db, volunteer_id=volunteer.id)
        if other.status == MatchStatus.pending and other.id != but
    ]
