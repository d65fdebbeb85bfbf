from sqlmodel import Session, select

from api_schemas.volunteers import VolunteerStatus
from service.models import Volunteer


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
