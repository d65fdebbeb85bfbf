"""Safeguarding concerns (raised by volunteers and coordinators, handled by safeguarding leads) and risk
reviews, which change a referral and her match together."""

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from api_schemas.common import Page
from api_schemas.concerns import ConcernActionIn, ConcernCloseIn, ConcernIn, ConcernOut, ConcernStatus, MyConcernOut
from api_schemas.measures import RiskReviewIn, RiskReviewOut
from service.concerns import reviews
from service.concerns import service as concern_service
from service.core.deps import Coordinator, MatchParty, SafeguardingLead, SessionDep, VolunteerSelf
from service.core.pagination import CursorParam, LimitParam
from service.models import Concern
from service.referrals.endpoints import VisibleReferral

router = APIRouter(prefix="/v1/concerns", tags=["safeguarding"])
me_router = APIRouter(prefix="/v1/me/concerns", tags=["me"])
reviews_router = APIRouter(prefix="/v1/referrals/{referral_id}", tags=["measures and safety"])


def load_for_lead(concern_id: str, db: SessionDep, _lead: SafeguardingLead) -> Concern:
    return concern_service.for_lead(db, concern_id=concern_id)


def load_own(concern_id: str, db: SessionDep, caller: VolunteerSelf) -> Concern:
    """Her own concern; another volunteer's is 404, the same as none."""
    return concern_service.for_volunteer(db, caller=caller, concern_id=concern_id)


LeadConcern = Annotated[Concern, Depends(load_for_lead)]
OwnConcern = Annotated[Concern, Depends(load_own)]


@router.post(
    "",
    status_code=201,
    response_model=ConcernOut | MyConcernOut,
    responses={404: {"description": "No match or referral with this id that the caller may see"}},
)
def raise_concern(
    concern_in: ConcernIn, db: SessionDep, caller: MatchParty, response: Response
) -> ConcernOut | MyConcernOut:
    """Record a safeguarding concern about a parent or her child: the safeguarding leads are alerted at once
    (`safety.concern`, ids and category only), and a blocking category pauses the match until it is closed."""
    concern = concern_service.raise_concern(db, actor=caller, concern_in=concern_in)
    response.headers["Location"] = f"/v1/concerns/{concern.id}"
    return concern_service.view_for(db, caller, concern)


@router.get("", response_model=Page[ConcernOut])
def list_concerns(
    db: SessionDep,
    lead: SafeguardingLead,
    status: ConcernStatus | None = None,
    limit: LimitParam = 50,
    cursor: CursorParam = None,
) -> Page[ConcernOut]:
    """Concerns for the safeguarding leads, oldest first; `?status=open` for those no lead has acted on."""
    rows, next_cursor = concern_service.page(db, status=status, volunteer_id=None, limit=limit, cursor=cursor)
    concern_service.record_reads(db, reader=lead, concerns=rows, listed=True)
    return Page[ConcernOut](items=concern_service.lead_views(db, rows), next_cursor=next_cursor)


@router.get("/{concern_id}", response_model=ConcernOut)
def get_concern(db: SessionDep, lead: SafeguardingLead, concern: LeadConcern) -> ConcernOut:
    concern_service.record_reads(db, reader=lead, concerns=[concern], listed=False)
    return concern_service.lead_view(db, concern)


@router.post("/{concern_id}/actions", status_code=201, response_model=ConcernOut)
def record_concern_action(
    db: SessionDep, lead: SafeguardingLead, concern: LeadConcern, action_in: ConcernActionIn
) -> ConcernOut:
    """A lead's action on the concern; the first acknowledges it."""
    concern = concern_service.record_action(db, lead=lead, concern=concern, action_in=action_in)
    return concern_service.lead_view(db, concern)


@router.post("/{concern_id}/close", response_model=ConcernOut)
def close_concern(db: SessionDep, lead: SafeguardingLead, concern: LeadConcern, close_in: ConcernCloseIn) -> ConcernOut:
    """Close with an outcome; a match it paused resumes when nothing else holds it."""
    concern = concern_service.close(db, lead=lead, concern=concern, close_in=close_in)
    return concern_service.lead_view(db, concern)


@me_router.get("", response_model=Page[MyConcernOut])
def list_my_concerns(
    db: SessionDep, caller: VolunteerSelf, limit: LimitParam = 50, cursor: CursorParam = None
) -> Page[MyConcernOut]:
    """The concerns she raised and their status; never the leads' actions or notes."""
    rows, next_cursor = concern_service.page(
        db, status=None, volunteer_id=caller.volunteer_id, limit=limit, cursor=cursor
    )
    concern_service.record_reads(db, reader=caller, concerns=rows, listed=True)
    return Page[MyConcernOut](items=[concern_service.volunteer_view(c) for c in rows], next_cursor=next_cursor)


@me_router.get("/{concern_id}", response_model=MyConcernOut)
def get_my_concern(db: SessionDep, caller: VolunteerSelf, concern: OwnConcern) -> MyConcernOut:
    concern_service.record_reads(db, reader=caller, concerns=[concern], listed=False)
    return concern_service.volunteer_view(concern)


@reviews_router.post("/risk-review", status_code=201, response_model=RiskReviewOut)
def record_risk_review(
    caller: Coordinator, referral: VisibleReferral, review_in: RiskReviewIn, db: SessionDep
) -> RiskReviewOut:
    """A coordinator's review after a safety alert, or of a match under way: `cleared`;
    `continue_alongside_clinical` (referred on, and peer support goes on); `pause` (with `until`, or until a
    further review: no matching, no sessions); `end_peer_support` (a waiting parent is declined, a match ends
    kindly). `refer_clinical` is a deprecated name of `end_peer_support` for a parent not yet matched."""
    return reviews.review(db=db, actor=caller, referral=referral, review_in=review_in)
