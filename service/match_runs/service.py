"""Match runs: solve every waiting referral against every available volunteer, keep the proposals and the
reasons some are left out. Accepted matches stay fixed, rejected pairs stay out, open proposals of an earlier
run expire, so a coordinator can keep the good part of a run and re-solve the rest."""

from sqlmodel import Session

from api_schemas.matching import MatchRunIn, MatchRunOut, MatchRunStats, ProposalOut, Reason, UnmatchedOut
from matching import solver
from matching.model import MatchProblem
from service.core import audit, clock
from service.core.auth import Principal
from service.core.errors import Conflict, NotFound, invalid
from service.core.ids import new_id
from service.match_runs import profiles, repository
from service.models import MatchRun, Proposal
from service.programme import service as programme_service


def run(*, session: Session, actor: Principal, run_in: MatchRunIn) -> MatchRunOut:
    settings = programme_service.current(session)
    today = clock.today(settings.time_zone)
    repository.expire_open_proposals(session)
    session.flush()
    referrals = repository.waiting_referrals(session, run_in.referral_ids)
    if run_in.referral_ids is not None:
        _refuse_unwaiting(session, run_in.referral_ids, {r.id for r in referrals})
    volunteers = profiles.volunteer_profiles(session, repository.active_volunteers(session), settings=settings,
                                             today=today)
    problem = MatchProblem(
        referrals=tuple(profiles.referral_profile(r, today=today) for r in referrals),
        volunteers=tuple(volunteers), weights=profiles.weights(settings),
        excluded_pairs=profiles.excluded_pairs(session, [r.id for r in referrals]))
    assignment = solver.solve(problem)
    now = clock.now()
    match_run = MatchRun(
        id=new_id(), created_at=now, created_by_key_id=actor.key_id, referrals=assignment.stats.referrals,
        volunteers=assignment.stats.volunteers, candidate_pairs=assignment.stats.candidate_pairs,
        matched=assignment.stats.matched, total_score=assignment.stats.total_score,
        optimal=assignment.stats.optimal, candidate_seconds=assignment.stats.candidate_seconds,
        solve_seconds=assignment.stats.solve_seconds,
        unmatched=[{"referral_id": u.referral_id, "reasons": list(u.reasons)} for u in assignment.unmatched])
    session.add(match_run)
    by_id = {r.id: r for r in referrals}
    session.flush()
    for found in assignment.proposals:
        session.add(Proposal(
            id=new_id(), run_id=match_run.id, referral_id=found.referral_id, volunteer_id=found.volunteer_id,
            score=found.score, fit=found.fit, format=found.format, status="open",
            reasons=[{"criterion": r.criterion, "points": r.points, "detail": r.detail} for r in found.reasons]))
        by_id[found.referral_id].status = "proposed"
        session.add(by_id[found.referral_id])
    audit.record(session, actor=actor, action="match_run.created", record_type="match_run", record_id=match_run.id)
    session.flush()
    return to_out(session, match_run)


def _refuse_unwaiting(session: Session, asked: list[str], waiting: set[str]) -> None:
    missing = [rid for rid in asked if rid not in waiting]
    if not missing:
        return
    found = {r.id: r.status for r in repository.referrals_by_id(session, missing)}
    unknown = [rid for rid in missing if rid not in found]
    if unknown:
        raise invalid(["body", "referral_ids", asked.index(unknown[0])], "no referral with this id")
    rid = missing[0]
    raise Conflict(f"Referral {rid} is '{found[rid]}', not waiting, so it cannot be matched.",
                   extra={"state": found[rid], "referral_id": rid})


def get(*, session: Session, run_id: str) -> MatchRunOut:
    match_run = repository.get_run(session, run_id)
    if match_run is None:
        raise NotFound("No match run with this id.")
    return to_out(session, match_run)


def proposal_out(proposal: Proposal) -> ProposalOut:
    return ProposalOut(id=proposal.id, run_id=proposal.run_id, referral_id=proposal.referral_id,
                       volunteer_id=proposal.volunteer_id, score=proposal.score, fit=proposal.fit,
                       format=proposal.format, reasons=[Reason(**r) for r in proposal.reasons], status=proposal.status)


def to_out(session: Session, match_run: MatchRun) -> MatchRunOut:
    stats = MatchRunStats(referrals=match_run.referrals, volunteers=match_run.volunteers,
                          candidate_pairs=match_run.candidate_pairs, matched=match_run.matched,
                          total_score=match_run.total_score, optimal=match_run.optimal,
                          candidate_seconds=match_run.candidate_seconds, solve_seconds=match_run.solve_seconds)
    return MatchRunOut(id=match_run.id, created_at=match_run.created_at,
                       proposals=[proposal_out(p) for p in repository.proposals_of(session, match_run.id)],
                       unmatched=[UnmatchedOut(**u) for u in match_run.unmatched], stats=stats)

