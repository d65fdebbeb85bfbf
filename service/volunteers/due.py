"""Renewals falling due: her PVG/DBS check, training modules that lapse, and supervision (the last one plus the
programme's interval). Coordinators list who falls due within some days; a periodic scan raises
`volunteer.due_soon` at 60, 30 and 7 days before each, once per item and threshold."""

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlmodel import Session

from api_schemas.volunteers import DueItem, DueWhat
from service.core import clock
from service.core.ids import new_id
from service.core.pagination import decode, next_cursor
from service.models import Volunteer
from service.profiles import readiness
from service.programme import service as programme_service
from service.volunteers import repository
from service.volunteers.alerts import Alerts

THRESHOLDS = (7, 30, 60)  # days before; the nearest one crossed is raised, and each only once


@dataclass
class DueScanReport:
    """What one scan raised, by threshold."""

    raised: dict[int, int] = field(default_factory=lambda: dict.fromkeys(THRESHOLDS, 0))

    @property
    def total(self) -> int:
        return sum(self.raised.values())


def page_due_within(db: Session, *, days: int, limit: int, cursor: str | None) -> tuple[list[Volunteer], str | None]:
    """Volunteers with a renewal due within `days` (or already lapsed), by id."""
    settings = programme_service.current(db)
    horizon = clock.today(settings.time_zone) + timedelta(days=days)
    after_id = decode(cursor)
    rows = [
        v
        for v in repository.not_left(db)
        if (after_id is None or v.id > after_id)
        and any(
            item.due_on <= horizon
            for item in readiness.due_items(v, supervision_interval_days=settings.supervision_interval_days)
        )
    ][: limit + 1]
    return rows[:limit], next_cursor([v.id for v in rows], limit)


def _key(item: DueItem) -> str:
    return f"training:{item.module}" if item.what is DueWhat.training else item.what.value


def _threshold(days_left: int) -> int | None:
    return next((t for t in THRESHOLDS if 0 <= days_left <= t), None)


def scan(db: Session) -> DueScanReport:
    """Raise `volunteer.due_soon` for each renewal that crossed a threshold since it was last alerted, all written
    together at the end (alerts.Alerts)."""
    settings = programme_service.current(db)
    today = clock.today(settings.time_zone)
    raised = repository.due_alerts_raised(db)
    report = DueScanReport()
    alerts: list[dict[str, Any]] = []
    raised_now = Alerts()
    now = clock.now()
    for volunteer in repository.readiness_rows(db, active_only=False):
        items = readiness.due_items(volunteer, supervision_interval_days=settings.supervision_interval_days)  # type: ignore[arg-type]
        for item in items:
            threshold = _threshold((item.due_on - today).days)
            if threshold is None or (volunteer.id, _key(item), item.due_on, threshold) in raised:
                continue
            alerts.append(
                {
                    "id": new_id(),
                    "volunteer_id": volunteer.id,
                    "item": _key(item),
                    "due_on": item.due_on,
                    "days_before": threshold,
                    "raised_at": now,
                }
            )
            raised_now.add(
                "volunteer.due_soon",
                volunteer.id,
                reason=f"{_key(item)}:{threshold}",
                what=item.what.value,
                module=item.module,
                due_on=item.due_on,
                days_before=threshold,
            )
            report.raised[threshold] += 1
    repository.add_due_alerts(db, alerts)
    raised_now.write(db)
    return report


def raise_due_soon(db: Session) -> int:
    """The periodic job: the number of alerts raised."""
    return scan(db).total
