"""Venue use cases: the coordinators' list of places where in-person sessions are held."""

from sqlmodel import Session

from api_schemas.venues import Address, OpeningHours, VenueIn, VenueOut, VenuePatch
from service.core import audit, clock, places
from service.core.auth import Principal
from service.core.errors import NotFound
from service.core.etags import check_if_match
from service.core.ids import new_id
from service.core.pagination import decode, next_cursor
from service.matches import venues as match_venues
from service.models import Venue
from service.venues import repository

# A change to any of these can move or cancel sessions planned at the venue.
_PLANNING_FIELDS = frozenset({"opening_hours", "rooms", "active"})


def create(*, db: Session, caller: Principal, venue_in: VenueIn) -> Venue:
    now = clock.now()
    venue = Venue(id=new_id(), name=venue_in.name, created_at=now, updated_at=now, postcode="")
    _set_address(venue, venue_in.address)
    venue.opening_hours = _hours(venue_in.opening_hours)
    venue.rooms, venue.notes, venue.active = venue_in.rooms, venue_in.notes, venue_in.active
    repository.add(db, venue)
    audit.record(db, actor=caller, action="venue.created", record_type="venue", record_id=venue.id)
    return venue


def _set_address(venue: Venue, address: Address) -> None:
    place = places.resolve(address.postcode, None, loc=["body", "address"])
    venue.address_lines = list(address.lines)
    venue.postcode, venue.lat, venue.lon, venue.area = address.postcode, place.lat, place.lon, place.area


def _hours(hours: list[OpeningHours]) -> list[dict[str, str]]:
    return [item.model_dump(mode="json") for item in sorted(hours, key=lambda h: (_DAYS.index(h.day), h.start))]


_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def visible(*, db: Session, venue_id: str) -> Venue:
    venue = repository.get(db, venue_id)
    if venue is None:
        raise NotFound("No venue with this id.")
    return venue


def page(
    *, db: Session, active: bool | None, area: str | None, limit: int, cursor: str | None
) -> tuple[list[Venue], str | None]:
    rows = repository.page(db, active=active, area=area, after_id=decode(cursor), limit=limit)
    return rows[:limit], next_cursor([v.id for v in rows], limit)


def update(*, db: Session, caller: Principal, venue: Venue, patch: VenuePatch, if_match: str | None) -> Venue:
    check_if_match(if_match, venue.version)
    fields = set(patch.model_fields_set)
    if not fields:
        return venue
    if patch.address is not None:
        _set_address(venue, patch.address)
    if patch.opening_hours is not None:
        venue.opening_hours = _hours(patch.opening_hours)
    if patch.name is not None:
        venue.name = patch.name
    if patch.rooms is not None:
        venue.rooms = patch.rooms
    if "notes" in fields:
        venue.notes = patch.notes
    if patch.active is not None:
        venue.active = patch.active
    now = clock.now()
    venue.version += 1
    venue.updated_at = now
    db.add(venue)
    audit.record(
        db,
        actor=caller,
        action="venue.updated",
        record_type="venue",
        record_id=venue.id,
        reason=",".join(sorted(fields)),
    )
    if fields & _PLANNING_FIELDS:
        db.flush()
        # Sessions already planned there move into the new hours or rooms, or ask for cover, as leave does.
        match_venues.replan_for_venue(db, venue.id, now)
    return venue


def address(venue: Venue) -> Address:
    return Address(lines=list(venue.address_lines), postcode=venue.postcode)


def to_out(venue: Venue) -> VenueOut:
    return VenueOut(
        id=venue.id,
        name=venue.name,
        address=address(venue),
        area=venue.area,
        opening_hours=[OpeningHours.model_validate(item) for item in venue.opening_hours],
        rooms=venue.rooms,
        notes=venue.notes,
        active=venue.active,
        created_at=venue.created_at,
        updated_at=venue.updated_at,
    )
