from fastapi import APIRouter

from api_schemas.common import Page
from api_schemas.measures import EpdsIn, MeasureOut, RiskReviewIn, RiskReviewOut
from service.core.deps import Coordinator, SessionDep
from service.programme import service as programme_service
from service.referrals import measures as measure_service
from service.referrals import service as referral_service

router = APIRouter(prefix="/v1/referrals/{referral_id}", tags=["measures and safety"])


@router.post("/measures", status_code=201, response_model=MeasureOut)
def record_measure(referral_id: str, epds: EpdsIn, session: SessionDep, caller: Coordinator) -> MeasureOut:
    """Record an EPDS. Item 10 above 0 escalates the referral to a risk review and alerts the clinical lead."""
    referral = referral_service.visible(session=session, caller=caller, referral_id=referral_id)
    measure = measure_service.record(session=session, actor=caller, referral=referral, epds=epds)
    return measure_service.to_out(measure, threshold=programme_service.current(session).epds_threshold)


@router.get("/measures", response_model=Page[MeasureOut])
def list_measures(referral_id: str, session: SessionDep, caller: Coordinator) -> Page[MeasureOut]:
    referral = referral_service.visible(session=session, caller=caller, referral_id=referral_id)
    threshold = programme_service.current(session).epds_threshold
    return Page[MeasureOut](items=measure_service.listing(session=session, referral=referral, threshold=threshold))


@router.post("/risk-review", status_code=201, response_model=RiskReviewOut)
def record_risk_review(referral_id: str, review_in: RiskReviewIn, session: SessionDep,
                       caller: Coordinator) -> RiskReviewOut:
    """A coordinator's review after a safety alert: `cleared` returns her to waiting, `refer_clinical` declines
    peer support for now (she is referred to clinical care)."""
    referral = referral_service.visible(session=session, caller=caller, referral_id=referral_id)
    return measure_service.review(session=session, actor=caller, referral=referral, review_in=review_in)
