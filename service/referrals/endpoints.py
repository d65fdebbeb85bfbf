from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Response
from fastapi.responses import JSONResponse

from api_schemas.common import Page
from api_schemas.measures import MeasureIn, MeasureOut
from api_schemas.referrals import (
    ReferralIn,
    ReferralOut,
    ReferralPatch,
    ReferralStatus,
    ReferralStatusOut,
    WithdrawIn,
)
from service.core import idempotency, problems
from service.core.auth import Role, check_live
from service.core.db import commit_here
from service.core.deps import Coordinator, ReferralPoster, ReferralWriter, SessionDep
from service.core.errors import DomainError, invalid
from service.core.etags import etag, set_etag
from service.core.pagination import CursorParam, LimitParam
from service.models import Referral
from service.programme import service as programme_service
from service.referrals import measures as measure_service
from service.referrals import rules
from service.referrals import service as referral_service

router = APIRouter(prefix="/v1/referrals", tags=["referrals"])
# A body the schema refuses is still checked against the rules, so one 422 names every error.
problems.RULES_ON_REFUSED_BODIES[("POST", "/v1/referrals")] = rules.on_refused_body
measures_router = APIRouter(prefix="/v1/referrals/{referral_id}", tags=["measures and safety"])

ReferralView = ReferralOut | ReferralStatusOut
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", min_length=1, max_length=200)]
IfMatch = Annotated[str | None, Header(alias="If-Match", max_length=200)]


def load_referral(referral_id: str, db: SessionDep, caller: ReferralWriter) -> Referral:
    """The referral if this caller may see it; 404 alike for missing and for someone else's. Routes list their
    role guard before it, so a role that may not use the route is 403 before any lookup."""
    return referral_service.visible(db=db, caller=caller, referral_id=referral_id)


VisibleReferral = Annotated[Referral, Depends(load_referral)]


@router.post(
    "",
    status_code=201,
    response_model=ReferralView,
    responses={409: {"description": "Duplicate external_id, or the same key still in flight"}},
)
def create_referral(
    referral_in: ReferralIn, db: SessionDep, caller: ReferralPoster, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """Receive a referral. Integrators must send an Idempotency-Key; a retry replays the first response."""
    if caller.role is Role.integrator and idempotency_key is None:
        raise invalid(["header", "Idempotency-Key"], "is required for integrators")
    key = None
    if idempotency_key is not None:
        key = idempotency.Key(caller.key_id, "POST /v1/referrals", idempotency_key, idempotency.body_hash(referral_in))

    def answer(referral: Referral) -> idempotency.Answer:
        body = referral_service.view(caller, referral).model_dump(mode="json")
        return idempotency.Answer(201, body, f"/v1/referrals/{referral.id}", etag(referral.version))

    try:
        referral, answered = referral_service.receive(
            db=db, caller=caller, referral_in=referral_in, key=key, answer=answer
        )
    except DomainError:
        # A retry is not checked first (a round trip every post would pay): its refusal, a duplicate or a rule
        # that no longer holds, is answered with the first response if its key has one.
        if key is None:
            raise
        db.rollback()
        check_live(db, caller)  # a revoked key gets no replay
        replay = idempotency.stored(db, key)
        if replay is None:
            raise
        return JSONResponse(replay.body, status_code=replay.status, headers=replay.headers())
    answered = answered or answer(referral)
    # The post's hottest path: committed in this thread rather than in another trip through the pool after it.
    commit_here(db)
    # Answered as built, once for the key's record and the answer alike: FastAPI need not check it again (and
    # would take a trip through the thread pool to do so).
    return JSONResponse(answered.body, status_code=201, headers=answered.headers())


@router.get("", response_model=Page[ReferralView])
def list_referrals(
    db: SessionDep,
    caller: ReferralWriter,
    status: ReferralStatus | None = None,
    area: Annotated[str | None, Query(max_length=10)] = None,
    external_id: Annotated[str | None, Query(max_length=100)] = None,
    limit: LimitParam = 50,
    cursor: CursorParam = None,
) -> Page[ReferralView]:
    """Referrals the caller may see (integrators: their own), oldest first, filtered by field."""
    rows, next_cursor = referral_service.page(
        db=db, caller=caller, status=status, area=area, external_id=external_id, limit=limit, cursor=cursor
    )
    return Page[ReferralView](items=[referral_service.view(caller, r) for r in rows], next_cursor=next_cursor)


@router.get("/{referral_id}", response_model=ReferralView)
def get_referral(caller: ReferralWriter, referral: VisibleReferral, response: Response) -> ReferralView:
    set_etag(response, referral.version)
    return referral_service.view(caller, referral)


@router.patch(
    "/{referral_id}",
    response_model=ReferralView,
    responses={412: {"description": "If-Match does not match the current ETag"}},
)
def patch_referral(
    caller: ReferralWriter,
    referral: VisibleReferral,
    patch: ReferralPatch,
    db: SessionDep,
    response: Response,
    if_match: IfMatch = None,
) -> ReferralView:
    """Change some fields; send If-Match with the ETag you read to avoid overwriting someone else's edit."""
    referral = referral_service.update(db=db, caller=caller, referral=referral, patch=patch, if_match=if_match)
    set_etag(response, referral.version)
    return referral_service.view(caller, referral)


@router.post("/{referral_id}/withdraw", response_model=ReferralView)
def withdraw_referral(
    caller: ReferralWriter, referral: VisibleReferral, body: WithdrawIn, db: SessionDep, response: Response
) -> ReferralView:
    """The parent no longer wants support, or the referrer withdraws her; no blame is recorded."""
    referral = referral_service.withdraw(db=db, caller=caller, referral=referral, reason=body.reason)
    set_etag(response, referral.version)
    return referral_service.view(caller, referral)


@measures_router.post("/measures", status_code=201, response_model=MeasureOut)
def record_measure(caller: Coordinator, referral: VisibleReferral, measure_in: MeasureIn, db: SessionDep) -> MeasureOut:
    """Record a measure (EPDS by default; PHQ-9, GAD-7, or SWEMWBS when the programme holds its licence); the
    service totals and scores it. EPDS item 10 or PHQ-9 item 9 above 0 escalates the referral to a risk review
    and alerts the clinical lead. 409 for SWEMWBS without the licence setting."""
    measure = measure_service.record(db=db, actor=caller, referral=referral, measure_in=measure_in)
    return measure_service.to_out(measure, threshold=programme_service.current(db).epds_threshold)


@measures_router.get("/measures", response_model=Page[MeasureOut])
def list_measures(_caller: Coordinator, referral: VisibleReferral, db: SessionDep) -> Page[MeasureOut]:
    threshold = programme_service.current(db).epds_threshold
    return Page[MeasureOut](items=measure_service.listing(db=db, referral=referral, threshold=threshold))
