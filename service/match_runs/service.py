"""Match runs: solve every waiting referral against every available volunteer, keep the proposals and the
reasons some are left out. A run is a job: started here, solved by a worker (match_runs/worker.py). Accepted
matches stay fixed, rejected pairs stay out, open proposals of an earlier run expire, so a coordinator can keep
the good part of a run and re-solve the rest. A coordinator's accept makes the match; a reject keeps the pair
apart for good."""

from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Row
from sqlmodel import Session

from api_schemas.common import Page
from api_schemas.matching import (
    MatchRunIn,
    MatchRunOut,
    MatchRunStatus,
    ProposalOut,
    ProposalStatus,
    UnmatchedOut,
)
from api_schemas.programme import ProgrammeSettings
from api_schemas.referrals import ReferralStatus
from api_schemas.venues import VenueRef
from matching import unmatched
from matching.model import MatchProblem, VolunteerProfile
from service.core import clock
from service.core.auth import Principal
from service.core.errors import Conflict, NotFound, invalid
from service.core.ids import new_id
from service.core.pagination import decode, next_cursor
from service.match_runs import lifecycle as run_lifecycle
from service.match_runs import repository
from service.matches import creation as match_creation
from service.matches import repository as match_repository
from service.matches import service as match_service
from service.matches import venues as match_venues
from service.models import Match, MatchRun, Proposal, Referral, Volunteer
from service.profiles import matching as match_inputs
from service.proposals import lifecycle as proposal_lifecycle
from service.proposals import repository as proposal_repository
from service.referrals import lifecycle as referral_lifecycle


def volunteer_profiles(
    db: Session,
    volunteers: Sequence[Volunteer | Row[Any]],
    *,
    settings: ProgrammeSettings,
    proposals_hold: bool = False,
    released: list[str] | None = None,
) -> list[VolunteerProfile]:
    """Profiles of these volunteers with their load and the weekly slots their sessions already take. With
    `proposals_hold`, an open proposal holds her place as a pending match does (a run over some referrals leaves
    the others' proposals standing), except the open proposals of the `released` referrals (a run re-solving
    them will expire those)."""
    ids = [v.id for v in volunteers]
    load = match_repository.current_parents(db, ids)
    if proposals_hold:
        freed = repository.open_per_volunteer_of(db, released or [])
        for volunteer_id, count in proposal_repository.open_per_volunteer(db, ids).items():
            load[volunteer_id] = load.get(volunteer_id, 0) + count - freed.get(volunteer_id, 0)
    return match_inputs.volunteer_profiles(
        volunteers,
        load=load,
        busy=match_repository.busy_slots(db, ids, zone=ZoneInfo(settings.time_zone), now=clock.now()),
        settings=settings,
        today=clock.today(settings.time_zone),
    )


def problem_for(
    db: Session,
    referrals: Sequence[Referral | Row[Any]],
    *,
    settings: ProgrammeSettings,
    volunteers: Sequence[Volunteer | Row[Any]] | None = None,
    released: list[str] | None = None,
) -> MatchProblem:
    """These referrals against every active volunteer (or those given) as a run sees them now: open proposals
    hold places, but for those of the `released` referrals, which the run will expire."""
    today = clock.today(settings.time_zone)
    volunteers = match_repository.active_volunteer_rows(db) if volunteers is None else volunteers
    return MatchProblem(
        referrals=tuple(match_inputs.referral_profile(r, today=today) for r in referrals),
        volunteers=tuple(volunteer_profiles(db, volunteers, settings=settings, proposals_hold=True, released=released)),
        weights=match_inputs.weights(settings),
        excluded_pairs=match_repository.excluded_pairs(db, [r.id for r in referrals]),
        venues=match_venues.engine_venues(db, zone=ZoneInfo(settings.time_zone), now=clock.now()),
        in_person_max_travel_km=settings.in_person_max_travel_km,
    )


def reopened_by(db: Session, referral_ids: list[str] | None) -> list[str]:
    """The referrals whose open proposals a run over these (None: every waiting one) expires: a run re-solves
    its own referrals only, so two coordinators' runs never undo each other."""
    open_ids = proposal_repository.open_referral_ids(db)
    if referral_ids is None:
        return open_ids
    asked = set(referral_ids)
    return [rid for rid in open_ids if rid in asked]


def start(db: Session, *, actor: Principal, run_in: MatchRunIn) -> MatchRun:
    """A queued run, committed (a worker reads it from another connection; a second start sees it and is
    refused), or 409 naming the run already under way: one run at a time per programme."""
    repository.hold_the_programme(db)
    running = repository.active_run(db)
    if running is not None:
        raise Conflict(
            f"Match run {running.id} is {running.status}: one run at a time; wait for it to finish.",
            extra={"running_run_id": running.id, "running_run": f"/v1/match-runs/{running.id}"},
        )
    if run_in.referral_ids is not None:
        reopening = set(reopened_by(db, run_in.referral_ids))
        matchable = {r.id for r in repository.run_referrals(db, run_in.referral_ids, reopening=reopening)}
        _refuse_unwaiting(db, run_in.referral_ids, matchable)
    now = clock.now()
    match_run = MatchRun(
        id=new_id(),
        created_at=now,
        updated_at=now,
        created_by_key_id=actor.key_id,
        referrals=0,
        volunteers=0,
        candidate_pairs=0,
        matched=0,
        total_score=0,
        optimal=False,
        candidate_seconds=0.0,
        solve_seconds=0.0,
        unmatched=[],
        referral_ids=run_in.referral_ids,
        progress={},
    )
    run_lifecycle.queue(db, match_run, actor=actor)
    # The one place a use case commits: the run must be visible to the worker (another connection) and to any
    # start racing this one before the work is deferred.
    db.commit()
    return match_run


def unmatched_json(explained: unmatched.Explained) -> dict[str, object]:
    """An unmatched referral as stored with its run (and as `UnmatchedOut` reads it back)."""
    return {
        "referral_id": explained.referral_id,
        "reasons": [c.sentence for c in explained.causes],
        "causes": [{"code": c.code, "params": dict(c.params), "sentence": c.sentence} for c in explained.causes],
        "not_ready": [
            {
                "volunteer_id": n.volunteer_id,
                "first_name": n.first_name,
                "reason_code": n.reason_code,
                "until": n.until.isoformat() if n.until else None,
            }
            for n in explained.not_ready
        ],
        "not_ready_count": explained.not_ready_count,
        "nearest_changes": [
            {"change": c.change, "detail": c.detail, "would_match": c.would_match} for c in explained.nearest_changes
        ],
    }


def unmatched_out(stored: dict[str, Any]) -> UnmatchedOut:
    """A stored unmatched entry on the wire; entries kept before codes have sentences only."""
    causes = stored.get("causes") or []
    reasons = [{"code": c["code"], "params": c["params"], "detail": c["sentence"]} for c in causes] or [
        {"detail": sentence} for sentence in stored.get("reasons", [])
    ]
    return UnmatchedOut.model_validate(
        {
            "referral_id": stored["referral_id"],
            "reasons": reasons,
            "not_ready": stored.get("not_ready", []),
            "not_ready_count": stored.get("not_ready_count", len(stored.get("not_ready", []))),
            "nearest_changes": stored.get("nearest_changes", []),
            "causes": causes,
        }
    )


def _refuse_unwaiting(db: Session, asked: list[str], waiting: set[str]) -> None:
    missing = [rid for rid in asked if rid not in waiting]
    if not missing:
        return
    found = {r.id: r.status for r in repository.referrals_by_id(db, missing)}
    unknown = [rid for rid in missing if rid not in found]
    if unknown:
        raise invalid(["body", "referral_ids", asked.index(unknown[0])], "no referral with this id")
    rid = missing[0]
    raise Conflict(
        f"Referral {rid} is '{found[rid]}', not waiting, so it cannot be matched.",
        extra={"state": found[rid], "referral_id": rid},
    )


def accept_proposal(db: Session, *, actor: Principal, proposal_id: str) -> Match:
    """Make the match the proposal describes; rules and capacity are checked again now."""
    proposal = proposal_repository.get(db, proposal_id, for_update=True)
    if proposal is None:
        raise NotFound("No proposal with this id.")
    proposal_lifecycle.PROPOSAL.check(proposal.status, ProposalStatus.accepted, action="accepted")
    referral = match_repository.lock_referral(db, proposal.referral_id)
    assert referral is not None
    match = match_creation.create(
        db,
        actor=actor,
        referral=referral,
        volunteer_id=proposal.volunteer_id,
        override_reason=None,
        proposal_id=proposal.id,
        proposed_format=proposal.format,
        score=proposal.score,
        reasons=proposal.reasons,
        venue_id=proposal.venue_id,
    )
    proposal_lifecycle.decide(db, proposal, ProposalStatus.accepted, actor=actor, at=clock.now())
    return match


def reject_proposal(db: Session, *, actor: Principal, proposal_id: str, reason: str) -> Proposal:
    """Reject with a reason code: the pair is never proposed again and the parent waits again."""
    proposal = proposal_repository.get(db, proposal_id, for_update=True)
    if proposal is None:
        raise NotFound("No proposal with this id.")
    now = clock.now()
    proposal_lifecycle.decide(db, proposal, ProposalStatus.rejected, actor=actor, at=now, reason=reason)
    match_repository.exclude_pair(
        db,
        referral_id=proposal.referral_id,
        volunteer_id=proposal.volunteer_id,
        cause="rejected",
        pair_id=new_id(),
        at=now,
    )
    referral = match_repository.lock_referral(db, proposal.referral_id)
    if referral is not None and referral.status == ReferralStatus.proposed:
        referral_lifecycle.move(db, referral, ReferralStatus.waiting, action="returned", actor=actor)
    return proposal


def get(db: Session, *, run_id: str, result: bool = True) -> MatchRunOut:
    return to_out(db, _get_run(db, run_id), result=result)


def _get_run(db: Session, run_id: str) -> MatchRun:
    match_run = repository.get_run(db, run_id)
    if match_run is None:
        raise NotFound("No match run with this id.")
    return match_run


def _done_run(db: Session, run_id: str) -> None:
    """404 for no such run, 409 for one not done; reads the status alone (a national run's result is 31 MB)."""
    status = repository.run_status(db, run_id)
    if status is None:
        raise NotFound("No match run with this id.")
    if status != MatchRunStatus.done:
        raise Conflict(
            f"Match run {run_id} is {status}: its result is there once it is done.",
            extra={"state": status},
        )


def proposals_page(db: Session, *, run_id: str, limit: int, cursor: str | None) -> Page[ProposalOut]:
    """A done run's proposals by id, a page at a time (a national run has over 10,000)."""
    _done_run(db, run_id)
    rows = proposal_repository.of_run(db, run_id, after_id=decode(cursor), limit=limit + 1)
    items = _proposals_out(db, rows[:limit])
    return Page[ProposalOut](items=items, next_cursor=next_cursor([p.id for p in rows], limit))


def unmatched_page(db: Session, *, run_id: str, limit: int, cursor: str | None) -> Page[UnmatchedOut]:
    """A done run's unmatched referrals by referral id, a page at a time."""
    _done_run(db, run_id)
    rows = repository.unmatched_after(db, run_id, after_id=decode(cursor), limit=limit + 1)
    items = [unmatched_out(u) for u in rows[:limit]]
    return Page[UnmatchedOut](items=items, next_cursor=next_cursor([u["referral_id"] for u in rows], limit))


def proposal_out(db: Session, proposal: Proposal) -> ProposalOut:
    return ProposalOut.model_validate(_proposal_fields(proposal, match_service.venue_ref(db, proposal.venue_id)))


def _proposals_out(db: Session, proposals: list[Proposal]) -> list[ProposalOut]:
    """Many proposals on the wire, each validated by its own call: one call over a national run's result would
    hold the interpreter lock for seconds, and the requests this process serves meanwhile would wait that long.
    Their venues are read once each (`matches.repository.venue` holds them for the session)."""
    return [proposal_out(db, p) for p in proposals]


def _proposal_fields(proposal: Proposal, venue: VenueRef | None) -> dict[str, Any]:
    return {
        "id": proposal.id,
        "run_id": proposal.run_id,
        "referral_id": proposal.referral_id,
        "volunteer_id": proposal.volunteer_id,
        "score": proposal.score,
        "fit": proposal.fit,
        "format": proposal.format,
        "reasons": proposal.reasons,
        "status": proposal.status,
        "venue": venue,
    }


def to_out(db: Session, match_run: MatchRun, *, result: bool = True) -> MatchRunOut:
    """The run as it stands; its result once done (its stats only, without `result`)."""
    out = {
        "id": match_run.id,
        "created_at": match_run.created_at,
        "status": match_run.status,
        "progress": match_run.progress or {},
        "error": match_run.error,
    }
    if match_run.status != MatchRunStatus.done:
        return MatchRunOut.model_validate(out)
    stats = {
        "referrals": match_run.referrals,
        "volunteers": match_run.volunteers,
        "candidate_pairs": match_run.candidate_pairs,
        "matched": match_run.matched,
        "total_score": match_run.total_score,
        "optimal": match_run.optimal,
        "candidate_seconds": match_run.candidate_seconds,
        "solve_seconds": match_run.solve_seconds,
    }
    if not result:
        return MatchRunOut.model_validate({**out, "stats": stats})
    # Each entry is validated on its own (see _proposals_out); the run then takes them as they are.
    return MatchRunOut.model_validate(
        {
            **out,
            "stats": stats,
            "proposals": _proposals_out(db, proposal_repository.of_run(db, match_run.id)),
            "unmatched": [unmatched_out(u) for u in match_run.unmatched],
        }
    )
