from sqlmodel import Session, col, select

from service.models import Venue


def get(db: Session, venue_id: str) -> Venue | None:
    return db.get(Venue, venue_id)


def page(db: Session, *, active: bool | None, area: str | None, after_id: str | None, limit: int) -> list[Venue]:
    query = select(Venue)
    if active is not None:
        query = query.where(Venue.active == active)
    if area is not None:
        query = query.where(Venue.area == area)
    if after_id is not None:
        query = query.where(Venue.id > after_id)
    return list(db.exec(query.order_by(Venue.id).limit(limit + 1)))


def add(db: Session, venue: Venue) -> None:
    db.add(venue)


def by_ids(db: Session, ids: set[str]) -> dict[str, Venue]:
    if not ids:
        return {}
    return {venue.id: venue for venue in db.exec(select(Venue).where(col(Venue.id).in_(ids)))}
