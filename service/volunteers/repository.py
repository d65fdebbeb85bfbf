from datetime import date

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


def active(db: Session) -> list[Volunteer]:
    return list(db.exec(select(Volunteer).where(Volunteer.status == VolunteerStatus.active)))


def not_left(db: Session) -> list[Volunteer]:
    """Everyone still volunteering (active or paused), whose renewals still matter."""
    query = select(Volunteer).where(Volunteer.status != VolunteerStatus.left, col(Volunteer.erased_at).is_(None))
    return list(db.exec(query.order_by(Volunteer.id)))


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


def due_alerts_raised(db: Session, volunteer_ids: list[str]) -> set[tuple[str, str, date, int]]:
    """(volunteer, item, due_on, days_before) of every due-soon alert already raised for these volunteers."""
    if not volunteer_ids:
        return set()
    query = select(DueAlert.volunteer_id, DueAlert.item, DueAlert.due_on, DueAlert.days_before).where(
        col(DueAlert.volunteer_id).in_(volunteer_ids)
    )
    return {(v, item, due_on, days) for v, item, due_on, days in db.exec(query)}


def add_due_alert(db: Session, row: DueAlert) -> None:
    db.add(row)
