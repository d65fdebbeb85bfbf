"""Tell coordinators when a volunteer stops being offered for new matches because her check expired, her
supervision is overdue or a required training module lapsed. Her running matches continue; the alert is raised
once per reason until it clears."""

from typing import Any

from sqlmodel import Session

from service.core import audit, clock, outbox
from service.profiles import readiness
from service.programme import service as programme_service
from service.volunteers import repository

ALERTED_REASONS = frozenset({"check_expired", "supervision_overdue", "training_expired"})


def raise_not_ready_alerts(db: Session) -> int:
    """Emit `volunteer.not_ready` for each newly lapsed check or supervision; the number of alerts raised. The
    alerts, their audit rows and the bookkeeping are written together at the end (after a bulk import, the first
    scan raises thousands)."""
    settings = programme_service.current(db)
    today = clock.today(settings.time_zone)
    events: list[tuple[str, str, str, dict[str, Any]]] = []
    audits = []
    alerted: dict[str, list[str]] = {}
    for volunteer in repository.readiness_rows(db, active_only=True):
        reasons = readiness.not_ready_reasons(
            volunteer,  # type: ignore[arg-type]  # a row of the same columns
            today=today,
            supervision_interval_days=settings.supervision_interval_days,
            current_parents=0,
            required_training=settings.required_training_modules,
        )
        lapsed = sorted({r.code for r in reasons} & ALERTED_REASONS)
        already = set(volunteer.alerted_not_ready or [])
        for code in lapsed:
            if code in already:
                continue
            events.append(("volunteer.not_ready", "volunteer", volunteer.id, {"reason": code}))
            audits.append(
                audit.row(
                    actor=None,
                    action="volunteer.not_ready_alert",
                    record_type="volunteer",
                    record_id=volunteer.id,
                    reason=code,
                )
            )
        if set(lapsed) != already:
            alerted[volunteer.id] = lapsed
    outbox.emit_all(db, events)
    audit.record_all(db, audits)
    repository.set_alerted_not_ready(db, alerted)
    return len(events)
