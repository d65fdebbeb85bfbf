"""Whether a volunteer may be offered a new match today, and if not, every reason why."""

from datetime import date, timedelta

from api_schemas.volunteers import NotReadyReason, VolunteerStatus
from service.models import Volunteer


def not_ready_reasons(
    volunteer: Volunteer, *, today: date, supervision_interval_days: int, current_parents: int
) -> list[NotReadyReason]:
    reasons: list[NotReadyReason] = []
    if volunteer.status == VolunteerStatus.paused:
        reasons.append(NotReadyReason(code="paused", detail="she has paused volunteering"))
    if volunteer.status == VolunteerStatus.left:
        reasons.append(NotReadyReason(code="left", detail="she has left the programme"))
    if volunteer.training_completed_on is None or volunteer.training_completed_on > today:
        reasons.append(NotReadyReason(code="untrained", detail="training not completed"))
    if volunteer.check_checked_on is None:
        reasons.append(NotReadyReason(code="check_missing", detail="no background check recorded"))
    elif volunteer.check_expires_on is not None and volunteer.check_expires_on < today:
        reasons.append(
            NotReadyReason(
                code="check_expired", detail=f"{volunteer.check_scheme} check expired on {volunteer.check_expires_on}"
            )
        )
    due = (
        None
        if volunteer.last_supervision_on is None
        else (volunteer.last_supervision_on + timedelta(days=supervision_interval_days))
    )
    if due is None or due < today:
        detail = "no supervision recorded" if due is None else f"supervision was due by {due}"
        reasons.append(NotReadyReason(code="supervision_overdue", detail=detail))
    for leave in volunteer.leave:
        start, end = date.fromisoformat(leave["start"]), date.fromisoformat(leave["end"])
        if start <= today <= end:
            reasons.append(NotReadyReason(code="on_leave", detail=f"on leave until {end}", until=end))
    if volunteer.resting_until is not None and volunteer.resting_until > today:
        reasons.append(
            NotReadyReason(
                code="resting",
                detail=f"resting after a match until {volunteer.resting_until}",
                until=volunteer.resting_until,
            )
        )
    if current_parents >= volunteer.max_parents:
        reasons.append(NotReadyReason(code="full", detail=f"supporting {current_parents} of {volunteer.max_parents}"))
    return reasons
