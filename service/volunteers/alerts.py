"""Tell coordinators when a volunteer stops being offered for new matches because her check expired, her
supervision is overdue or a required training module lapsed. Her running matches continue; the alert is raised
once per reason until it clears."""

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table
from sqlmodel import Session

from service.core import audit, clock, outbox
from service.profiles import readiness
from service.programme import service as programme_service
from service.volunteers import repository

ALERTED_REASONS = frozenset({"check_expired", "supervision_overdue", "training_expired"})


@dataclass
class Alerts:
    """What a scan raises about volunteers, each alert an event and an audit row (action `<event>_alert`),
    written together at the scan's end: after a bulk import the first scan raises thousands, and one by one each
    cost a round trip or two."""

    events: list[tuple[str, str, str, dict[str, Any]]] = field(default_factory=list)
    audits: list[tuple[Table, dict[str, Any]]] = field(default_factory=list)

    def add(self, event_type: str, volunteer_id: str, *, reason: str, **data: Any) -> None:
        self.events.append((event_type, "volunteer", volunteer_id, data))
        action = f"{event_type}_alert"
        self.audits.append(
            audit.row(actor=None, action=action, record_type="volunteer", record_id=volunteer_id, reason=reason)
        )

    def write(self, db: Session) -> int:
        """Write them all; how many."""
        outbox.emit_all(db, self.events)
        audit.record_all(db, self.audits)
        return len(self.events)


def raise_not_ready_alerts(db: Session) -> int:
    """Emit `volunteer.not_ready` for each newly lapsed check or supervision; the number of alerts raised."""
    settings = programme_service.current(db)
    today = clock.today(settings.time_zone)
    raised = Alerts()
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
            if code not in already:
                raised.add("volunteer.not_ready", volunteer.id, reason=code)
        if set(lapsed) != already:
            alerted[volunteer.id] = lapsed
    repository.set_alerted_not_ready(db, alerted)
    return raised.write(db)
