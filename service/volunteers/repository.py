from sqlmodel import Session, select

from service.models import Volunteer


def get(session: Session, volunteer_id: str) -> Volunteer | None:
    return session.get(Volunteer, volunteer_id)


def page(session: Session, *, status: str | None, area: str | None, after_id: str | None,
         limit: int) -> list[Volunteer]:
    query = select(Volunteer)
    if status is not None:
        query = query.where(Volunteer.status == status)
    if area is not None:
        query = query.where(Volunteer.area == area)
    if after_id is not None:
        query = query.where(Volunteer.id > after_id)
    return list(session.exec(query.order_by(Volunteer.id).limit(limit + 1)))


def current_parents(session: Session, volunteer_ids: list[str]) -> dict[str, int]:
    """How many parents each volunteer supports now (matches hold capacity from proposal to ending)."""
    # Matches arrive with the matching issue; until a match table exists nobody holds a place.
    return dict.fromkeys(volunteer_ids, 0)


def add(session: Session, volunteer: Volunteer) -> None:
    session.add(volunteer)
