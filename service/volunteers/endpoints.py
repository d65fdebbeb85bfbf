from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Response

from api_schemas.common import Page
from api_schemas.volunteers import VolunteerIn, VolunteerOut, VolunteerPatch, VolunteerStatus
from service.core.deps import Coordinator, SessionDep
from service.core.etags import set_etag
from service.core.pagination import CursorParam, LimitParam
from service.models import Volunteer
from service.volunteers import service as volunteer_service

router = APIRouter(prefix="/v1/volunteers", tags=["volunteers"])
IfMatch = Annotated[str | None, Header(alias="If-Match", max_length=200)]


def load_volunteer(volunteer_id: str, db: SessionDep, _caller: Coordinator) -> Volunteer:
    """The volunteer's record (staff only); 404 when there is none. Routes list their role guard first."""
    return volunteer_service.visible(db=db, volunteer_id=volunteer_id)


VisibleVolunteer = Annotated[Volunteer, Depends(load_volunteer)]


@router.post("", status_code=201, response_model=VolunteerOut)
def create_volunteer(
    volunteer_in: VolunteerIn, db: SessionDep, caller: Coordinator, response: Response
) -> VolunteerOut:
    volunteer = volunteer_service.create(db=db, caller=caller, volunteer_in=volunteer_in)
    response.headers["Location"] = f"/v1/volunteers/{volunteer.id}"
    set_etag(response, volunteer.version)
    return volunteer_service.to_out(db, [volunteer])[0]


@router.get("", response_model=Page[VolunteerOut])
def list_volunteers(
    db: SessionDep,
    _caller: Coordinator,
    status: VolunteerStatus | None = None,
    area: Annotated[str | None, Query(max_length=10)] = None,
    limit: LimitParam = 50,
    cursor: CursorParam = None,
) -> Page[VolunteerOut]:
    rows, next_cursor = volunteer_service.page(db=db, status=status, area=area, limit=limit, cursor=cursor)
    return Page[VolunteerOut](items=volunteer_service.to_out(db, rows), next_cursor=next_cursor)


@router.get("/{volunteer_id}", response_model=VolunteerOut)
def get_volunteer(
    _caller: Coordinator, volunteer: VisibleVolunteer, db: SessionDep, response: Response
) -> VolunteerOut:
    set_etag(response, volunteer.version)
    return volunteer_service.to_out(db, [volunteer])[0]


@router.patch(
    "/{volunteer_id}",
    response_model=VolunteerOut,
    responses={412: {"description": "If-Match does not match the current ETag"}},
)
def patch_volunteer(
    caller: Coordinator,
    volunteer: VisibleVolunteer,
    patch: VolunteerPatch,
    db: SessionDep,
    response: Response,
    if_match: IfMatch = None,
) -> VolunteerOut:
    volunteer = volunteer_service.update(db=db, caller=caller, volunteer=volunteer, patch=patch, if_match=if_match)
    set_etag(response, volunteer.version)
    return volunteer_service.to_out(db, [volunteer])[0]
