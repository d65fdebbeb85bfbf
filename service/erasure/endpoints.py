"""Data rights (admins): erasure (DELETE on a parent's referral or a volunteer's record), subject access
exports, and the retention schedule run by hand."""

from typing import Annotated

from fastapi import APIRouter, Query, Response

from api_schemas.rights import RetentionRunOut, SubjectExportOut, SubjectType
from service.core.deps import Admin, SessionDep
from service.erasure import service as erasure_service
from service.erasure import subject_access
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


@router.get("/v1/referrals/{referral_id}/export", tags=["referrals"], response_model=SubjectExportOut)
def export_referral(admin: Admin, referral: VisibleReferral, db: SessionDep) -> SubjectExportOut:
    """Everything stored about her, for a subject access request (admins): her record and every row that refers
    to it or to one of its own (measures, risk reviews, proposals, matches and their sessions, concerns,
    messages, events, the audit of who read and changed each), grouped by table; secrets are left out. The
    export itself is audited. Rows shared with her volunteer are included whole: review before sending."""
    return subject_access.export(db, actor=admin, subject_type=SubjectType.referral, subject_id=referral.id)


@router.get("/v1/volunteers/{volunteer_id}/export", tags=["volunteers"], response_model=SubjectExportOut)
def export_volunteer(admin: Admin, volunteer: VisibleVolunteer, db: SessionDep) -> SubjectExportOut:
    """Everything stored about her, for a subject access request (admins): her record, her keys (without their
    hashes), proposals, matches and sessions, concerns she raised, messages, events and the audit of who read
    and changed each, grouped by table. The export itself is audited."""
    return subject_access.export(db, actor=admin, subject_type=SubjectType.volunteer, subject_id=volunteer.id)


@router.post("/v1/retention/run", tags=["operations"], response_model=RetentionRunOut)
def run_retention(
    admin: Admin,
    db: SessionDep,
    dry_run: Annotated[bool, Query(description="true (the default): report what would be done, change nothing")] = True,
) -> RetentionRunOut:
    """Apply the retention schedule now (admins; the worker also runs it daily): referrals whose match ended, or
    that were declined or withdrawn, and volunteers who left, more than `retention_months_after_end` months ago
    are anonymised exactly as DELETE does. Ids and counts only."""
    return erasure_service.run_retention(db, actor=admin, dry_run=dry_run)
