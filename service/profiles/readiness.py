"""Whether a volunteer may be offered a new match today, and if not, every reason why; and what of hers falls
due for renewal (her check, training modules, supervision), and when."""

from collections.abc import Collection
from datetime import date, timedelta

from api_schemas.volunteers import DueItem, DueWhat, NotReadyReason, VolunteerStatus
from service.models import Volunteer


def not_ready_reasons(
    volunteer: Volunteer,
    *,
    today: date,
    supervision_interval_days: int,
    current_parents: int,
    required_training: Collection[str] = (),
    match_weeks: int = 0,
) -> list[NotReadyReason]:
    """Every reason she may not be offered a new match today. With `match_weeks` (a new match's planned
    length), a check that would lapse before such a match ends is one (`check_expiring`): she keeps the parents
    she has, and is offered new ones once it is renewed."""
    reasons: list[NotReadyReason] = []
    if volunteer.status == VolunteerStatus.paused:
        reasons.append(NotReadyReason(code="paused", detail="paused volunteering"))
    if volunteer.status == VolunteerStatus.left:
        reasons.append(NotReadyReason(code="left", detail="left the programme"))
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
    elif volunteer.check_expires_on is not None and volunteer.check_expires_on < today + timedelta(weeks=match_weeks):
        reasons.append(
            NotReadyReason(
                code="check_expiring",
                detail=f"{volunteer.check_scheme} check expires on {volunteer.check_expires_on}, before a new match "
                "would end",
            )
        )
    due = supervision_due(volunteer, supervision_interval_days=supervision_interval_days)
    if due is None or due < today:
        detail = "no supervision recorded" if due is None else f"supervision was due by {due}"
        reasons.append(NotReadyReason(code="supervision_overdue", detail=detail))
    reasons += _training_reasons(volunteer, today=today, required=required_training)
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


def _training_reasons(volunteer: Volunteer, *, today: date, required: Collection[str]) -> list[NotReadyReason]:
    held = volunteer.training or {}
    reasons = []
    for module in sorted(required):
        latest = held.get(module)
        if latest is None:
            reasons.append(NotReadyReason(code="training_missing", detail=f"{module} training not recorded"))
        elif latest["expires_on"] is not None and date.fromisoformat(latest["expires_on"]) < today:
            reasons.append(
                NotReadyReason(code="training_expired", detail=f"{module} training lapsed on {latest['expires_on']}")
            )
    return reasons


def supervision_due(volunteer: Volunteer, *, supervision_interval_days: int) -> date | None:
    """The last day her latest supervision covers; None when none is recorded."""
    if volunteer.last_supervision_on is None:
        return None
    return volunteer.last_supervision_on + timedelta(days=supervision_interval_days)


def due_items(volunteer: Volunteer, *, supervision_interval_days: int) -> list[DueItem]:
    """Every dated renewal of hers, soonest first: the check's expiry, each module's, supervision's due date."""
    items = []
    if volunteer.check_expires_on is not None:
        items.append(DueItem(what=DueWhat.check, due_on=volunteer.check_expires_on))
    for module, latest in sorted((volunteer.training or {}).items()):
        if latest["expires_on"] is not None:
            items.append(DueItem(what=DueWhat.training, module=module, due_on=date.fromisoformat(latest["expires_on"])))
    supervision = supervision_due(volunteer, supervision_interval_days=supervision_interval_days)
    if supervision is not None:
        items.append(DueItem(what=DueWhat.supervision, due_on=supervision))
    return sorted(items, key=lambda item: (item.due_on, item.what.value, item.module or ""))
