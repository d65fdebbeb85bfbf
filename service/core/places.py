"""Where a person is: a UK postcode or coordinates, resolved offline."""

from dataclasses import dataclass

from api_schemas.common import Location
from service.core import postcodes
from service.core.errors import invalid


@dataclass(frozen=True)
class ResolvedPlace:
    postcode: str | None
    lat: float | None
    lon: float | None
    area: str | None
    precision: str | None


NOWHERE = ResolvedPlace(None, None, None, None, None)


def resolve(postcode: str | None, location: Location | None, *, loc: list[str]) -> ResolvedPlace:
    """A postcode becomes coordinates and its district (the area in reports); raw coordinates have no area."""
    if postcode is not None:
        place = postcodes.lookup(postcode)
        if place is None:
            raise invalid([*loc, "postcode"], f"unknown UK postcode district '{postcode.split(' ')[0]}'")
        return ResolvedPlace(postcode, place.lat, place.lon, place.district, place.precision)
    if location is not None:
        return ResolvedPlace(None, location.lat, location.lon, None, "coordinates")
    return NOWHERE
