from datetime import date
from typing import Any

from sqlalchemy import Row, bindparam, insert, update
from sqlmodel import Session, col, func, select

from api_schemas.volunteers import VolunteerStatus
from service.models import DueAlert, SupervisionRecord, TrainingRecord, Volunteer


def get(db: Session, volunteer_id: str) -> Volunteer | None:
    return db.get(Volunteer, volunteer_id)


def page(db: Session, *, status: str | None, area: str | None, after_id: str | None, limit: int) -> list[Volunteer]:
    query = select(Volunteer)
    if status is not None:
        query = query.where(Volunteer.status == status)
    if area is not None:
        query = query.where(Volunteer.area == area)
    if after_id is not None:
        query = query.where(Volunteer.id > after_id)
    return list(db.exec(query.order_by(Volunteer.id).limit(limit + 1)))


def add(db: Session, volunteer: Volunteer) -> None:
    db.add(volunteer)


def not_left(db: Session) -> list[Volunteer]:
    """Everyone still volunteering (active or paused), whose renewals still matter."""
    query = select(Volunteer).where(Volunteer.status != VolunteerStatus.left, col(Volunteer.erased_at).is_(None))
    return list(db.exec(query.order_by(Volunteer.id)))


# What readiness and renewals read (service/profiles/readiness.py takes these rows as it takes the ORM object).
READINESS_COLUMNS = (
    *("id", "status", "training_completed_on", "check_scheme", "check_checked_on", "check_expires_on"),
    *("last_supervision_on", "resting_until", "leave", "training", "max_parents", "alerted_not_ready"),
)
_READINESS = tuple(getattr(Volunteer, name) for name in READINESS_COLUMNS)


def readiness_rows(db: Session, *, active_only: bool) -> list[Row[Any]]:
    """Every active volunteer (or, without `active_only`, everyone still volunteering) by id, as plain rows of
    READINESS_COLUMNS: the periodic scans read all 10,000 of a national programme every 30 s, and ORM objects
    were most of their time."""
    query = select(*_READINESS).where(col(Volunteer.erased_at).is_(None))
    if active_only:
        query = query.where(Volunteer.status == VolunteerStatus.active)
    else:
        query = query.where(Volunteer.status != VolunteerStatus.left)
    return list(db.exec(query.order_by(col(Volunteer.id))))


_volunteers = Volunteer.__table__  # type: ignore[attr-defined]
_SET_ALERTED = (
    update(_volunteers)
    .where(_volunteers.c.id == bindparam("volunteer_id"))
    .values(alerted_not_ready=bindparam("codes"))
)


def set_alerted_not_ready(db: Session, codes_by_volunteer: dict[str, list[str]]) -> None:
    """The reasons each has been alerted for (a scan's own bookkeeping: not a change anyone made to her record),
    all in one executemany."""
    if codes_by_volunteer:
        db.connection().execute(
            _SET_ALERTED, [{"volunteer_id": vid, "codes": codes} for vid, codes in codes_by_volunteer.items()]
        )


def add_record(db: Session, row: SupervisionRecord | TrainingRecord) -> None:
    db.add(row)


def latest_supervision(db: Session, volunteer_id: str) -> date | None:
    query = select(func.max(SupervisionRecord.held_on)).where(SupervisionRecord.volunteer_id == volunteer_id)
    return db.exec(query).one()


def supervision_page(db: Session, *, volunteer_id: str, after_id: str | None, limit: int) -> list[SupervisionRecord]:
    query = select(SupervisionRecord).where(SupervisionRecord.volunteer_id == volunteer_id)
    if after_id is not None:
        query = query.where(SupervisionRecord.id > after_id)
    return list(db.exec(query.order_by(SupervisionRecord.id).limit(limit + 1)))


def training_page(db: Session, *, volunteer_id: str, after_id: str | None, limit: int) -> list[TrainingRecord]:
    query = select(TrainingRecord).where(TrainingRecord.volunteer_id == volunteer_id)
    if after_id is not None:
        query = query.where(TrainingRecord.id > after_id)
    return list(db.exec(query.order_by(TrainingRecord.id).limit(limit + 1)))


def due_alerts_raised(db: Session) -> set[tuple[str, str, date, int]]:
    """(volunteer, item, due_on, days_before) of every due-soon alert already raised: the scan asks about every
    volunteer still volunteering, and an IN list of 10,000 ids cost PostgreSQL seconds."""
    query = select(DueAlert.volunteer_id, DueAlert.item, DueAlert.due_on, DueAlert.days_before)
    return {(v, item, due_on, days) for v, item, due_on, days in db.exec(query)}


def add_due_alerts(db: Session, rows: list[dict[str, Any]]) -> None:
    """New due-soon alerts (DueAlert's columns), in one multi-row INSERT."""
    if rows:
        db.connection().execute(insert(DueAlert.__table__), rows)  # type: ignore[attr-defined]
