from sqlmodel import Session, col, func, select

from service.matches.states import HOLDS_CAPACITY
from service.models import Match, Volunteer


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
    """How many parents each volunteer supports now: matches hold a place from acceptance to their end."""
    counts = dict.fromkeys(volunteer_ids, 0)
    if not volunteer_ids:
        return counts
    query = (select(Match.volunteer_id, func.count()).where(col(Match.volunteer_id).in_(volunteer_ids),
             col(Match.status).in_([s.value for s in HOLDS_CAPACITY])).group_by(Match.volunteer_id))
    for volunteer_id, count in session.exec(query):
        counts[volunteer_id] = count
    return counts


def add(session: Session, volunteer: Volunteer) -> None:
    session.add(volunteer)
