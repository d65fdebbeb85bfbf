"""Erasure (admins): DELETE on a parent's referral or a volunteer's record clears her personal data."""

from fastapi import APIRouter, Response

from service.core.deps import Admin, SessionDep
from service.erasure import service as erasure_service
from service.referrals.endpoints import VisibleReferral
from service.volunteers.endpoints import VisibleVolunteer

router = APIRouter()


@router.delete(
    "/v1/referrals/{referral_id}",
    tags=["referrals"],
    status_code=204,
    response_class=Response,
    responses={409: {"description": "A risk review is pending: record it first"}},
)
def erase_referral(admin: Admin, referral: VisibleReferral, db: SessionDep) -> Response:
    """Erase her personal data everywhere (admins): name, contacts, postcode and location, dates of birth,
    free text and her profile are cleared; status, dates, format, language, area, referrer role, EPDS scores,
    matches and sessions stay for reports. A running match ends and its future sessions are cancelled. The
    record remains readable with those fields null and `erased_at` set; erasing it again is 204 and changes
    nothing."""
    erasure_service.erase_referral(db=db, actor=admin, referral=referral)
    return Response(status_code=204)


@router.delete("/v1/volunteers/{volunteer_id}", tags=["volunteers"], status_code=204, response_class=Response)
def erase_volunteer(admin: Admin, volunteer: VisibleVolunteer, db: SessionDep) -> Response:
    """Erase her personal data everywhere (admins): her parents' running matches end and they wait again ahead
    of newer referrals, her keys and calendar feed stop working, and she has `left`. Languages, formats, area
    and capacity stay for reports. The record remains readable with `erased_at` set; erasing it again is 204
    and changes nothing."""
    erasure_service.erase_volunteer(db=db, actor=admin, volunteer=volunteer)
    return Response(status_code=204)
