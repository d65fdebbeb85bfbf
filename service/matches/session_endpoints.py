from fastapi import APIRouter

from api_schemas.common import Page
from api_schemas.sessions import AttendanceIn, CancelIn, RescheduleIn, SessionOut
from api_schemas.vocabulary import VocabularyKind
from service.core.deps import MatchParty, SessionDep
from service.match_runs.profiles import DAYS
from service.matches import sessions as session_service
from service.vocabulary import service as vocabulary_service

router = APIRouter(prefix="/v1/sessions", tags=["sessions"])


@router.post("/{session_id}/attendance", response_model=SessionOut)
def record_attendance(session_id: str, body: AttendanceIn, session: SessionDep, caller: MatchParty) -> SessionOut:
    """Attended or missed. The first attended session starts the match; the closing session completes it."""
    row, match = session_service.visible(session=session, caller=caller, session_id=session_id)
    return session_service.to_out(session_service.record_attendance(
        session=session, actor=caller, row=row, match=match, attended=body.status == "attended"))


@router.post("/{session_id}/cancel", response_model=Page[SessionOut])
def cancel_session(session_id: str, body: CancelIn, session: SessionDep, caller: MatchParty) -> Page[SessionOut]:
    """Cancel without penalty; a replacement is added at the end unless `replace` is false."""
    vocabulary_service.check_codes(session, [(["body", "reason"], VocabularyKind.cancel_reasons, body.reason)])
    row, match = session_service.visible(session=session, caller=caller, session_id=session_id)
    rows = session_service.cancel(session=session, actor=caller, row=row, match=match, cancel_in=body)
    return Page[SessionOut](items=[session_service.to_out(r) for r in rows])


@router.post("/{session_id}/reschedule", response_model=SessionOut)
def reschedule_session(session_id: str, body: RescheduleIn, session: SessionDep, caller: MatchParty) -> SessionOut:
    """Move to the next feasible slot (not before `not_before`, on `preferred_day` where possible)."""
    row, match = session_service.visible(session=session, caller=caller, session_id=session_id)
    day = DAYS.index(body.preferred_day.value) if body.preferred_day else None
    return session_service.to_out(session_service.reschedule(session=session, actor=caller, row=row, match=match,
                                                             not_before=body.not_before, preferred_day=day))
