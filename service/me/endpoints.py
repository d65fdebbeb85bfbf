"""The volunteer's own view: her record, and the parts of it she may change herself."""

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Request, Response

from api_schemas.common import Page
from api_schemas.messages import MessageOut
from api_schemas.sessions import CalendarFeedOut, MyMatchOut, MySessionOut
from api_schemas.volunteers import MePatch, VolunteerOut
from service.core.deps import SessionDep, VolunteerSelf
from service.core.etags import set_etag
from service.core.pagination import CursorParam, LimitParam
from service.me import service as me_service
from service.messages import service as message_service
from service.models import Volunteer
from service.volunteers import service as volunteer_service

router = APIRouter(prefix="/v1/me", tags=["me"])
IfMatch = Annotated[str | None, Header(alias="If-Match", max_length=200)]


def load_own_record(db: SessionDep, me: VolunteerSelf) -> Volunteer:
    """The calling volunteer's own record (404 if her key names a volunteer who is not there)."""
    return volunteer_service.visible(db=db, volunteer_id=me.volunteer_id or "")


OwnRecord = Annotated[Volunteer, Depends(load_own_record)]


@router.get("", response_model=VolunteerOut)
def get_me(volunteer: OwnRecord, db: SessionDep, response: Response) -> VolunteerOut:
    set_etag(response, volunteer.version)
    return volunteer_service.to_out(db, [volunteer])[0]


@router.patch(
    "", response_model=VolunteerOut, responses={412: {"description": "If-Match does not match the current ETag"}}
)
def patch_me(
    me: VolunteerSelf,
    volunteer: OwnRecord,
    patch: MePatch,
    db: SessionDep,
    response: Response,
    if_match: IfMatch = None,
) -> VolunteerOut:
    """Change her own availability, leave, email or phone."""
    volunteer = volunteer_service.update(db=db, caller=me, volunteer=volunteer, patch=patch, if_match=if_match)
    set_etag(response, volunteer.version)
    return volunteer_service.to_out(db, [volunteer])[0]


@router.get("/sessions", response_model=Page[MySessionOut])
def my_sessions(
    db: SessionDep, me: VolunteerSelf, limit: LimitParam = 50, cursor: CursorParam = None
) -> Page[MySessionOut]:
    """Her upcoming sessions and those of the last 30 days, in time order, a page at a time; a home visit of a
    match she accepted (and that has not ended) carries the parent's address and access notes."""
    rows, next_page = me_service.my_sessions(db, me.volunteer_id or "", limit=limit, cursor=cursor)
    return Page[MySessionOut](items=me_service.my_session_views(db, rows), next_cursor=next_page)


@router.get("/messages", response_model=Page[MessageOut])
def my_messages(me: VolunteerSelf, volunteer: OwnRecord, db: SessionDep, limit: LimitParam = 50) -> Page[MessageOut]:
    """The messages sent to her, newest first."""
    items = message_service.listing(db, recipient_type="volunteer", recipient_id=volunteer.id, limit=limit)
    return Page[MessageOut](items=items)


@router.get("/matches", response_model=Page[MyMatchOut])
def my_matches(db: SessionDep, me: VolunteerSelf) -> Page[MyMatchOut]:
    """Each parent she supports now: first name, format, area and preferred days; once she accepted the match,
    also the phone and the meeting place for home visits and venues."""
    return Page[MyMatchOut](items=me_service.my_matches(db, me.volunteer_id or ""))


@router.post("/calendar", status_code=201, response_model=CalendarFeedOut)
def rotate_calendar(request: Request, me: VolunteerSelf, volunteer: OwnRecord, db: SessionDep) -> CalendarFeedOut:
    """A secret iCalendar feed URL of her sessions; posting again rotates it and kills the old one."""
    token = me_service.rotate_calendar(db=db, actor=me, volunteer=volunteer)
    return CalendarFeedOut(url=f"{request.app.state.settings.public_base_url}/v1/calendar/{token}.ics")


calendar_router = APIRouter(tags=["me"])


@calendar_router.get(
    "/v1/calendar/{token}.ics",
    response_class=Response,
    responses={200: {"content": {"text/calendar": {}}}, 404: {"description": "Unknown or rotated"}},
)
def calendar_feed(token: Annotated[str, Path(max_length=100)], db: SessionDep) -> Response:
    """The feed itself: the token in the URL is the credential (calendar apps cannot send headers)."""
    return Response(me_service.calendar_feed(db=db, token=token), media_type="text/calendar")
