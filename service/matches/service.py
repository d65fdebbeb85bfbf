"""Reading matches within the caller's rights."""

from sqlmodel import Session

from api_schemas.matching import MatchOut, Reason
from service.core.auth import Principal, Role
from service.core.errors import NotFound
from service.core.pagination import decode, next_cursor
from service.matches import repository
from service.models import Match


def visible(*, session: Session, caller: Principal, match_id: str) -> Match:
    """The match if the caller may see it: coordinators all, a volunteer her own; 404 alike otherwise."""
    match = repository.get(session, match_id)
    if match is None or (caller.role is Role.volunteer and match.volunteer_id != caller.volunteer_id):
        raise NotFound("No match with this id.")
    return match


def page(*, session: Session, volunteer_id: str | None, referral_id: str | None, status: str | None, limit: int,
         cursor: str | None) -> tuple[list[Match], str | None]:
    rows = repository.page(session, volunteer_id=volunteer_id, referral_id=referral_id, status=status,
                           after_id=decode(cursor), limit=limit)
    return rows[:limit], next_cursor([m.id for m in rows], limit)


def to_out(match: Match) -> MatchOut:
    return MatchOut(
        id=match.id, referral_id=match.referral_id, volunteer_id=match.volunteer_id, proposal_id=match.proposal_id,
        status=match.status, format=match.format, score=match.score,
        reasons=[Reason(**r) for r in (match.reasons or [])], override_reason=match.override_reason,
        planned_sessions=match.planned_sessions, extension_sessions=match.extension_sessions, outcome=match.outcome,
        end_reason=match.end_reason, ended_initiated_by=match.ended_initiated_by,
        unplanned_reason=match.unplanned_reason, created_at=match.created_at, confirmed_at=match.confirmed_at,
        ended_on=match.ended_on,
    )
