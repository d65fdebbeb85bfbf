"""Making a match: from a proposal a coordinator accepts, or her own choice. Every rule and the volunteer's
capacity are checked again at that moment, with the parent's and then the volunteer's row locked, so two makes can
never over-fill her nor match one parent twice; and a match whose sessions could never be planned is refused
before the volunteer is asked."""

from zoneinfo import ZoneInfo

from sqlmodel import Session

from api_schemas.matching import MatchIn, MatchStatus
from api_schemas.programme import ProgrammeSettings
from api_schemas.referrals import ReferralStatus
from matching import constraints, rule_words, venues
from matching.model import MatchProblem, Reason, ReferralProfile, VolunteerProfile
from scheduling import solver as plan_solver
from service.core import clock
from service.core.auth import Principal
from service.core.errors import Conflict, invalid
from service.core.ids import new_id
from service.core.lifecycle import begin, event
from service.matches import lifecycle, planning, repository
from service.matches import venues as match_venues
from service.models import Match, Referral, Volunteer
from service.profiles import matching as match_inputs
from service.profiles import planning as plan_inputs
from service.programme import service as programme_service
from service.proposals import lifecycle as proposal_lifecycle
from service.proposals import repository as proposal_repository
from service.referrals import lifecycle as referral_lifecycle

# Rules a coordinator may override with an audited reason; readiness and capacity protect people and never yield.
OVERRIDABLE = frozenset(constraints.RULES) - {"volunteer_not_ready", "no_free_capacity"}


OVERRIDDEN = "rule_overridden"  # the reason code naming a hard rule a coordinator overrode; params: rule


def create(
    db: Session,
    *,
    actor: Principal,
    referral: Referral,
    volunteer_id: str,
    override_reason: str | None,
    proposal_id: str | None = None,
    proposed_format: str | None = None,
    score: int | None = None,
    reasons: list[dict[str, object]] | None = None,
    venue_id: str | None = None,
) -> Match:
    """A pending match (the volunteer is asked next), with the parent's row locked by the caller and the
    volunteer's locked here, so two makes can never over-fill her nor match one parent twice."""
    referral_lifecycle.ensure_matchable(referral.status)
    if repository.open_match_for(db, referral.id) is not None:
        raise Conflict("This referral already has an open match.", extra={"state": referral.status})
    volunteer = repository.lock_volunteer(db, volunteer_id)
    if volunteer is None:
        raise invalid(["body", "volunteer_id"], "no volunteer with this id")
    settings = programme_service.current(db)
    today = clock.today(settings.time_zone)
    # Open proposals of other parents hold her places against a match made by hand, as they do in a run: it
    # never takes a place a coordinator may still accept a proposal for. Accepting proposals is first come,
    # first served among them (a capacity cut since the run leaves fewer places than proposals).
    held = (
        [p.id for p in proposal_repository.open_of_volunteer(db, volunteer.id) if p.referral_id != referral.id]
        if proposal_id is None
        else []
    )
    load = repository.current_parents(db, [volunteer.id])
    load[volunteer.id] = load.get(volunteer.id, 0) + len(held)
    v_profile = match_inputs.volunteer_profiles(
        [volunteer],
        load=load,
        busy=repository.busy_slots(db, [volunteer.id], zone=ZoneInfo(settings.time_zone), now=clock.now()),
        settings=settings,
        today=today,
    )[0]
    r_profile = match_inputs.referral_profile(referral, today=today)
    _check_venue_open(db, venue_id, proposal_id)
    # The pair as a run sees it: in person only at a venue within both reaches, open when both are free.
    pair = venues.check_pair(
        MatchProblem(
            (r_profile,),
            (v_profile,),
            weights=match_inputs.weights(settings),
            excluded_pairs=repository.excluded_pairs(db, [referral.id]),
            venues=match_venues.engine_venues(db, zone=ZoneInfo(settings.time_zone), now=clock.now()),
            in_person_max_travel_km=settings.in_person_max_travel_km,
        ),
        venue_id=venue_id,
    )
    broken = pair.broken
    hard = [rule for rule in broken if rule not in OVERRIDABLE or override_reason is None]
    if hard:
        if "no_free_capacity" in hard and held:
            raise Conflict(
                f"The match breaks: {_words(hard, r_profile, v_profile)}: her free places are held by open "
                "proposals for other parents; reject one, or accept it, first.",
                extra={"broken": hard, "held_by_proposals": sorted(held)},
            )
        raise Conflict(f"The match breaks: {_words(hard, r_profile, v_profile)}.", extra={"broken": hard})
    formats = pair.formats or tuple(f for f in r_profile.formats if f in v_profile.formats) or r_profile.formats
    chosen_format = proposed_format or formats[0]
    if chosen_format == "in_person" and venue_id is None and pair.venue is not None:
        venue_id = pair.venue.venue.id  # a coordinator's own in-person match meets where a run would have them
    if reasons is None:  # a coordinator's own choice: scored by the same rules, and any rule she overrode named
        chosen = venues.reasons(r_profile, v_profile, chosen_format, match_inputs.weights(settings), pair.venue)
        overridden = tuple(
            Reason(
                "override",
                0,
                f"rule overridden by the coordinator: {rule_words.words(rule, r_profile, v_profile)}",
                OVERRIDDEN,
                (("rule", rule),),
            )
            for rule in broken
        )
        reasons = [match_inputs.reason_json(r) for r in (*chosen, *overridden)]
        score = sum(r.points for r in chosen)
    now = clock.now()
    match = Match(
        id=new_id(),
        referral_id=referral.id,
        volunteer_id=volunteer.id,
        proposal_id=proposal_id,
        status=MatchStatus.pending.value,
        format=chosen_format,
        venue_id=venue_id,
        score=score,
        reasons=reasons,
        override_reason=override_reason,
        planned_sessions=settings.planned_sessions,
        created_at=now,
        updated_at=now,
    )
    _check_venue_format(match)
    _check_plannable(db, match, referral, volunteer, settings)
    begin(
        db,
        lifecycle.MATCH,
        match,
        actor=actor,
        reason=f"override: {','.join(broken)}" if broken else None,
        events=(
            event(
                "match.proposed",
                record_type="match",
                record_id=match.id,
                referral_id=referral.id,
                volunteer_id=volunteer.id,
            ),
        ),
    )
    referral_lifecycle.move(db, referral, ReferralStatus.matched, action="matched", actor=actor)
    return match


def _words(rules: list[str], referral: ReferralProfile, volunteer: VolunteerProfile) -> str:
    return "; ".join(rule_words.words(rule, referral, volunteer) for rule in rules)


def _check_venue_open(db: Session, venue_id: str | None, proposal_id: str | None) -> None:
    """A named venue must be open (active): a proposal's closed since is a conflict, a coordinator's own choice
    of a closed or unknown one a bad field."""
    if venue_id is None:
        return
    venue = repository.venue(db, venue_id)
    if venue is not None and venue.active:
        return
    if proposal_id is not None:
        raise Conflict("The proposal's venue is no longer active; run matching again.", extra={"state": "proposed"})
    raise invalid(["body", "venue_id"], "no active venue with this id")


def _check_venue_format(match: Match) -> None:
    """A venue is only for a match meeting in person."""
    if match.venue_id is not None and match.format != "in_person":
        raise invalid(["body", "venue_id"], f"a venue is only for in-person matches; this one is {match.format}")


def _check_plannable(
    db: Session, match: Match, referral: Referral, volunteer: Volunteer, programme: ProgrammeSettings
) -> None:
    """Refuse, before the volunteer is asked, a match whose sessions could never be planned beside her fixed
    sessions and her other matches waiting for her yes: the matcher's common hour and the planner agree."""
    now = clock.now()
    this = planning.to_plan(db, match, referral, volunteer, programme, sessions=match.planned_sessions, earliest=now)
    found = plan_solver.plannable(
        this,
        planning.diary(db, volunteer),
        plan_inputs.settings_for(programme),
        now=now,
        alongside=planning.waiting_beside(db, volunteer, programme, now=now, but=match.id),
    )
    if not found.plannable:
        raise Conflict(
            f"The match's sessions could not be planned: {found.reason}.",
            extra={"state": referral.status, "reason": found.reason, "code": found.code},
        )


def create_own(db: Session, *, actor: Principal, match_in: MatchIn) -> Match:
    """A coordinator's own choice: any open proposal for her expires, then the match is made as any other."""
    referral = repository.lock_referral(db, match_in.referral_id)
    if referral is None:
        raise invalid(["body", "referral_id"], "no referral with this id")
    if referral.status == ReferralStatus.proposed:
        proposal_lifecycle.expire_open(db, referral_ids=[referral.id])
    return create(
        db,
        actor=actor,
        referral=referral,
        volunteer_id=match_in.volunteer_id,
        override_reason=match_in.override_reason,
        venue_id=match_in.venue_id,
    )
