"""The volunteer's own view: her record, and the parts of it she may change herself."""

from typing import Annotated

from fastapi import APIRouter, Header, Response

from api_schemas.volunteers import MePatch, VolunteerOut
from service.deps import SessionDep, VolunteerSelf
from service.etags import set_etag
from service.volunteers import service as volunteer_service

router = APIRouter(prefix="/v1/me", tags=["me"])
IfMatch = Annotated[str | None, Header(alias="If-Match", max_length=200)]


@router.get("", response_model=VolunteerOut)
def get_me(session: SessionDep, me: VolunteerSelf, response: Response) -> VolunteerOut:
    volunteer = volunteer_service.visible(session=session, volunteer_id=me.volunteer_id or "")
    set_etag(response, volunteer.version)
    return volunteer_service.to_out(session, [volunteer])[0]


@router.patch("", response_model=VolunteerOut,
              responses={412: {"description": "If-Match does not match the current ETag"}})
def patch_me(patch: MePatch, session: SessionDep, me: VolunteerSelf, response: Response,
             if_match: IfMatch = None) -> VolunteerOut:
    """Change her own availability, leave, email or phone."""
    volunteer = volunteer_service.visible(session=session, volunteer_id=me.volunteer_id or "")
    volunteer = volunteer_service.update(session=session, caller=me, volunteer=volunteer, patch=patch,
                                         if_match=if_match)
    set_etag(response, volunteer.version)
    return volunteer_service.to_out(session, [volunteer])[0]
