"""Erasure (admins): a parent's or a volunteer's personal data cleared everywhere it is kept, while the
anonymous facts reports count (status, dates, format, language, area, referrer role, EPDS scores, matches
and sessions) stay. Running matches are ended first through the match's own life cycle."""

from sqlmodel import Session

from api_schemas.referrals import ReferralStatus
from api_schemas.volunteers import VolunteerStatus
from service.core import audit, clock, outbox
from service.core.auth import Principal
from service.core.errors import Conflict
from service.erasure import repository
from service.match_runs import repository as run_repository
from service.matches import lifecycle
from service.matches.states import MatchStatus
from service.models import Referral, Volunteer
from service.referrals import service as referral_service
from service.referrals import states as referral_states

# Codes recorded on the matches an erasure ends (no blame, as with any ending).
REFERRAL_ERASED_END_REASON = "no_longer_wanted"
VOLUNTEER_ERASED_END_REASON = "volunteer_unavailable"
CLOSED = frozenset({ReferralStatus.ended, ReferralStatus.withdrawn, ReferralStatus.declined})


def erase_referral(*, session: Session, actor: Principal, referral: Referral) -> None:
    """Erase her: an erased referral stays erased, so a second call changes nothing."""
    if referral.erased_at is not None:
        return
    if referral.risk_review_pending:
        raise Conflict("A risk review is pending for this referral; record it before erasing her data.",
                       extra={"state": referral.status})
    _end_her_matches(session, actor=actor, referral=referral)
    run_repository.expire_open_proposals_for(session, referral.id)
    if ReferralStatus(referral.status) not in CLOSED:
        target = ReferralStatus.ended if referral.status == ReferralStatus.active else ReferralStatus.withdrawn
        referral.status = referral_states.move(referral.status, target, action="erased").value
    now = clock.now()
    _clear_parent(referral)
    referral.erased_at, referral.updated_at = now, now
    referral.version += 1
    session.add(referral)
    repository.clear_override_reasons(session, referral_id=referral.id)
    repository.clear_risk_review_notes(session, referral.id)
    repository.bump_sessions_of_referral(session, referral.id, now=now)
    _rewrite_replays(session, referral)
    audit.record(session, actor=actor, action="referral.erased", record_type="referral", record_id=referral.id)
    outbox.emit(session, "referral.erased", record_type="referral", record_id=referral.id, erased_at=now)


def _end_her_matches(session: Session, *, actor: Principal, referral: Referral) -> None:
    """A match not yet accepted is called off; a running one ends now, its future sessions cancelled."""
    for match in repository.open_matches(session, referral_id=referral.id):
        if match.status == MatchStatus.pending:
            lifecycle.cancel(session=session, actor=actor, match=match)
        else:
            lifecycle.end(session=session, actor=actor, match=match, reason=REFERRAL_ERASED_END_REASON,
                          initiated_by="parent", rematch=False)


def _clear_parent(referral: Referral) -> None:
    """Everything that identifies her or describes her life; kept: status, dates of the referral, role,
    languages, formats, area (postcode district), referrer role, consent, source."""
    referral.parent_name = referral.phone = referral.email = referral.postcode = None
    referral.lat = referral.lon = None
    referral.location_precision = None
    referral.due_date = referral.baby_birth_date = None
    referral.external_id = referral.referrer_organisation = referral.withdrawn_reason = None
    referral.availability, referral.background, referral.experiences = [], [], []
    referral.interests, referral.must_match = [], []


def _rewrite_replays(session: Session, referral: Referral) -> None:
    """A retried POST replays the stored first response: it now replays the erased record."""
    for record in repository.idempotency_records_for(session, f"/v1/referrals/{referral.id}"):
        full_view = isinstance(record.response_body, dict) and "parent" in record.response_body
        view = referral_service.to_out(referral) if full_view else referral_service.to_status_out(referral)
        record.response_body = view.model_dump(mode="json")
        session.add(record)


def erase_volunteer(*, session: Session, actor: Principal, volunteer: Volunteer) -> None:
    """Erase her: her parents wait again (ahead of newer referrals), her keys stop working, she has `left`."""
    if volunteer.erased_at is not None:
        return
    _end_her_volunteering(session, actor=actor, volunteer=volunteer)
    now = clock.now()
    _clear_volunteer(volunteer)
    volunteer.status = VolunteerStatus.left.value
    volunteer.erased_at, volunteer.updated_at = now, now
    volunteer.version += 1
    session.add(volunteer)
    repository.clear_override_reasons(session, volunteer_id=volunteer.id)
    repository.revoke_keys_of_volunteer(session, volunteer.id, now=now)
    audit.record(session, actor=actor, action="volunteer.erased", record_type="volunteer", record_id=volunteer.id)
    outbox.emit(session, "volunteer.erased", record_type="volunteer", record_id=volunteer.id, erased_at=now)


def _end_her_volunteering(session: Session, *, actor: Principal, volunteer: Volunteer) -> None:
    for proposal in repository.open_proposals_of_volunteer(session, volunteer.id):
        proposal.status = "expired"
        session.add(proposal)
        referral = session.get(Referral, proposal.referral_id)
        if referral is not None and referral.status == ReferralStatus.proposed:
            referral.status = referral_states.move(referral.status, ReferralStatus.waiting, action="returned").value
            session.add(referral)
    for match in repository.open_matches(session, volunteer_id=volunteer.id):
        if match.status == MatchStatus.pending:
            lifecycle.decline(session=session, actor=actor, match=match)
        else:
            lifecycle.end(session=session, actor=actor, match=match, reason=VOLUNTEER_ERASED_END_REASON,
                          initiated_by="volunteer", rematch=True)


def _clear_volunteer(volunteer: Volunteer) -> None:
    """Everything that identifies her or describes her; kept: languages, formats, area, travel and capacity
    limits and dates of the record, so past matches and capacity figures still add up."""
    volunteer.name = volunteer.email = volunteer.phone = volunteer.postcode = None
    volunteer.lat = volunteer.lon = None
    volunteer.location_precision = None
    volunteer.gender = "not_said"
    volunteer.availability, volunteer.leave, volunteer.background = [], [], []
    volunteer.experiences, volunteer.interests, volunteer.specialisms = [], [], []
    volunteer.training_completed_on = volunteer.last_supervision_on = None
    volunteer.check_scheme = None
    volunteer.check_checked_on = volunteer.check_expires_on = None
    volunteer.calendar_token_hash = None
    volunteer.alerted_not_ready = None
