"""New leave re-plans the sessions it covers; the rest of her plan stays as it is."""

from sqlmodel import Session, col, select

from scheduling import replan
from scheduling.model import PlannedSession
from service.core import audit, clock, outbox
from service.core.auth import Principal
from service.matches import kinds, planning
from service.models import Match, Referral, SupportSession, Volunteer
from service.programme import service as programme_service


def replan_for_leave(*, session: Session, actor: Principal, volunteer: Volunteer) -> list[str]:
    """Move her upcoming sessions off her leave; the reasons for any that could not be moved."""
    programme = programme_service.current(session)
    now = clock.now()
    rows = list(session.exec(select(SupportSession).where(SupportSession.volunteer_id == volunteer.id,
                                                          SupportSession.status == "planned",
                                                          col(SupportSession.starts_at) >= now)))
    if not rows:
        return []
    plans = {}
    for match_id in {r.match_id for r in rows}:
        match = session.get(Match, match_id)
        referral = session.get(Referral, match.referral_id) if match else None
        assert match is not None and referral is not None
        plans[match_id] = planning.to_plan(match, referral, volunteer, sessions=1, earliest=now)
    planned = [PlannedSession(r.match_id, r.number, r.kind, r.starts_at, r.ends_at, r.format) for r in rows]
    diary = planning.diary(session, volunteer)
    moved, missing = replan.off_leave(planned, plans, diary, planning.settings_for(programme), now=now)
    for row in rows:
        if (row.match_id, row.number) in moved:
            row.starts_at, row.ends_at = moved[(row.match_id, row.number)]
            row.sequence, row.updated_at = row.sequence + 1, now
            session.add(row)
            outbox.emit(session, "session.changed", record_type="match", record_id=row.match_id, session_id=row.id,
                        starts_at=row.starts_at, cause="leave")
    for match_id in {key[0] for key in moved}:
        kinds.remark(planning.live_sessions(session, match_id), programme.ending_conversation_offset)
    if moved:
        audit.record(session, actor=actor, action="sessions.replanned_for_leave", record_type="volunteer",
                     record_id=volunteer.id, reason=str(len(moved)))
    return [u.reason for u in missing]
