from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from api_schemas.common import Page
from api_schemas.messages import MessageOut, NotifyCallbackIn
from service.core.deps import Coordinator, SessionDep
from service.core.pagination import LimitParam
from service.messages import service as message_service
from service.referrals.endpoints import VisibleReferral
from service.volunteers.endpoints import VisibleVolunteer

router = APIRouter(tags=["messages"])


def notify_caller(request: Request) -> None:
    """Notify's own bearer token (a setting), checked before the body is read: no API key is involved."""
    message_service.check_callback_token(
        request.headers.get("authorization"), expected=request.app.state.settings.notify_callback_token
    )


NotifyCaller = Annotated[None, Depends(notify_caller)]


@router.post("/v1/notify/callbacks", status_code=204, responses={401: {"description": "Wrong or missing token"}})
def notify_callback(_caller: NotifyCaller, receipt: NotifyCallbackIn, db: SessionDep) -> Response:
    """GOV.UK Notify's delivery receipt: records `delivered` or a failure; a permanent failure alerts."""
    message_service.record_receipt(db, receipt)
    return Response(status_code=204)


@router.get("/v1/referrals/{referral_id}/messages", response_model=Page[MessageOut])
def referral_messages(
    _caller: Coordinator, referral: VisibleReferral, db: SessionDep, limit: LimitParam = 50
) -> Page[MessageOut]:
    """The messages to the parent, newest first: kind, channel, when, status; never the text."""
    items = message_service.listing(db, recipient_type="referral", recipient_id=referral.id, limit=limit)
    return Page[MessageOut](items=items)


@router.get("/v1/volunteers/{volunteer_id}/messages", response_model=Page[MessageOut])
def volunteer_messages(
    _caller: Coordinator, volunteer: VisibleVolunteer, db: SessionDep, limit: LimitParam = 50
) -> Page[MessageOut]:
    """The messages to the volunteer, newest first."""
    items = message_service.listing(db, recipient_type="volunteer", recipient_id=volunteer.id, limit=limit)
    return Page[MessageOut](items=items)
