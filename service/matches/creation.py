"""Making a match: from a proposal a coordinator accepts, or her own choice. Every rule and the volunteer's
capacity are checked again at that moment, with the parent's and then the volunteer's row locked, so two
accepts can never over-fill her nor match one parent twice."""

from sqlmodel import Session

from api_schemas.matching import MatchIn
from api_schemas.referrals import ReferralStatus
from matching import constraints
from service.core import audit, clock, outbox
from service.core.auth import Principal
from service.core.errors import Conflict, NotFound, TransitionNotAllowed, invalid
from service.core.ids import new_id
from service.match_runs import profiles
from service.match_runs import repository as run_repository
from service.matches import repository
from service.matches.states import MatchStatus
from service.models import Match, Proposal, Referral
from service.programme import service as programme_service
from service.referrals import states as referral_states

# Rules a coordinator may override with an audited reason; readiness and capacity protect people and never yield.
OVERRIDABLE = frozenset({"no_shared_language", "no_reachable_shared_format", "volunteer_gender",
                         "essential_attribute_missing", "no_common_free_hour", "rejected_or_declined_before"})


def accept_proposal(*, session: Session, actor: Principal, proposal_id: str) -> Match:
    proposal = run_repository.get_proposal(session, proposal_id, for_update=True)
    if proposal is None:
        raise NotFound("No proposal with this id.")
    if proposal.status != "open":
        raise TransitionNotAllowed("proposal", proposal.status, "accepted")
    referral = repository.lock_referral(session, proposal.referral_id)
    assert referral is not None
    match = _create(session, actor=actor, referral=referral, volunteer_id=proposal.volunteer_id,
                    override_reason=None, proposal=proposal)
    proposal.status, proposal.decided_at = "accepted", clock.now()
    session.add(proposal)
    return match


def reject_proposal(*, session: Session, actor: Principal, proposal_id: str, reason: str) -> Proposal:
    proposal = run_repository.get_proposal(session, proposal_id, for_update=True)
    if proposal is None:
        raise NotFound("No proposal with this id.")
    if proposal.status != "open":
        raise TransitionNotAllowed("proposal", proposal.status, "rejected")
    now = clock.now()
    proposal.status, proposal.reject_reason, proposal.decided_at = "rejected", reason, now
    session.add(proposal)
    repository.exclude_pair(session, referral_id=proposal.referral_id, volunteer_id=proposal.volunteer_id,
                            cause="rejected", pair_id=new_id(), at=now)
    referral = session.get(Referral, proposal.referral_id)
    if referral is not None and referral.status == ReferralStatus.proposed:
        referral.status = referral_states.move(referral.status, ReferralStatus.waiting, action="returned").value
        session.add(referral)
    audit.record(session, actor=actor, action="proposal.rejected", record_type="proposal", record_id=proposal.id,
                 reason=reason)
    return proposal


def create_own(*, session: Session, actor: Principal, match_in: MatchIn) -> Match:
    referral = repository.lock_referral(session, match_in.referral_id)
    if referral is None:
        raise invalid(["body", "referral_id"], "no referral with this id")
    if referral.status == ReferralStatus.proposed:
        run_repository.expire_open_proposals_for(session, referral.id)
        referral.status = ReferralStatus.waiting.value
    return _create(session, actor=actor, referral=referral, volunteer_id=match_in.volunteer_id,
                   override_reason=match_in.override_reason, proposal=None)


def _create(session: Session, *, actor: Principal, referral: Referral, volunteer_id: str,
            override_reason: str | None, proposal: Proposal | None) -> Match:
    if referral.status not in (ReferralStatus.waiting, ReferralStatus.proposed):
        raise TransitionNotAllowed("referral", referral.status, "matched")
    if repository.open_match_for(session, referral.id) is not None:
        raise Conflict("This referral already has an open match.", extra={"state": referral.status})
    volunteer = repository.lock_volunteer(session, volunteer_id)
    if volunteer is None:
        raise invalid(["body", "volunteer_id"], "no volunteer with this id")
    settings = programme_service.current(session)
    today = clock.today(settings.time_zone)
    v_profile = profiles.volunteer_profiles(session, [volunteer], settings=settings, today=today)[0]
    r_profile = profiles.referral_profile(referral, today=today)
    excluded = profiles.excluded_pairs(session, [referral.id])
    broken = constraints.broken(r_profile, v_profile, session_minutes=settings.session_minutes,
                                excluded_pairs=excluded)
    hard = [rule for rule in broken if rule not in OVERRIDABLE or override_reason is None]
    if hard:
        raise Conflict(f"The match breaks: {', '.join(hard)}.", extra={"broken": hard})
    formats = constraints.feasible_formats(r_profile, v_profile) or tuple(
        f for f in r_profile.formats if f in v_profile.formats) or r_profile.formats
    now = clock.now()
    match = Match(id=new_id(), referral_id=referral.id, volunteer_id=volunteer.id,
                  proposal_id=proposal.id if proposal else None, status=MatchStatus.pending.value,
                  format=proposal.format if proposal else formats[0], score=proposal.score if proposal else None,
                  reasons=proposal.reasons if proposal else None, override_reason=override_reason,
                  planned_sessions=settings.planned_sessions, created_at=now, updated_at=now)
    session.add(match)
    referral.status = referral_states.move(referral.status, ReferralStatus.matched, action="matched").value
    referral.version += 1
    referral.updated_at = now
    session.add(referral)
    audit.record(session, actor=actor, action="match.created", record_type="match", record_id=match.id,
                 reason=f"override: {','.join(broken)}" if broken else None)
    outbox.emit(session, "match.proposed", record_type="match", record_id=match.id, referral_id=referral.id,
                volunteer_id=volunteer.id)
    return match
