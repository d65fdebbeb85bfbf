from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Response

from api_schemas.common import Page
from api_schemas.venues import VenueIn, VenueOut, VenuePatch
from service.core.deps import Coordinator, SessionDep
from service.core.etags import set_etag
from service.core.pagination import CursorParam, LimitParam
from service.models import Venue
from service.venues import service as venue_service

router = APIRouter(prefix="/v1/venues", tags=["venues"])
IfMatch = Annotated[str | None, Header(alias="If-Match", max_length=200)]


def load_venue(venue_id: str, db: SessionDep, _caller: Coordinator) -> Venue:
    """The venue (staff only); 404 when there is none. Routes list their role guard first."""
    return venue_service.visible(db=db, venue_id=venue_id)


VisibleVenue = Annotated[Venue, Depends(load_venue)]


@router.post("", status_code=201, response_model=VenueOut)
def create_venue(venue_in: VenueIn, db: SessionDep, caller: Coordinator, response: Response) -> VenueOut:
    venue = venue_service.create(db=db, caller=caller, venue_in=venue_in)
    response.headers["Location"] = f"/v1/venues/{venue.id}"
    set_etag(response, venue.version)
    return venue_service.to_out(venue)


@router.get("", response_model=Page[VenueOut])
def list_venues(
    db: SessionDep,
    _caller: Coordinator,
    active: bool | None = None,
    area: Annotated[str | None, Query(max_length=10)] = None,
    limit: LimitParam = 50,
    cursor: CursorParam = None,
) -> Page[VenueOut]:
    rows, next_cursor = venue_service.page(db=db, active=active, area=area, limit=limit, cursor=cursor)
    return Page[VenueOut](items=[venue_service.to_out(v) for v in rows], next_cursor=next_cursor)


@router.get("/{venue_id}", response_model=VenueOut)
def get_venue(_caller: Coordinator, venue: VisibleVenue, response: Response) -> VenueOut:
    set_etag(response, venue.version)
    return venue_service.to_out(venue)


@router.patch(
    "/{venue_id}",
    response_model=VenueOut,
    responses={412: {"description": "If-Match does not match the current ETag"}},
)
def patch_venue(
    caller: Coordinator,
    venue: VisibleVenue,
    patch: VenuePatch,
    db: SessionDep,
    response: Response,
    if_match: IfMatch = None,
) -> VenueOut:
    venue = venue_service.update(db=db, caller=caller, venue=venue, patch=patch, if_match=if_match)
    set_etag(response, venue.version)
    return venue_service.to_out(venue)
