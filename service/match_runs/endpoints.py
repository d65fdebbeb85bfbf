from typing import Annotated

from fastapi import APIRouter, Query, Response

from api_schemas.common import Page
from api_schemas.matching import (
    MatchOut,
    MatchRunIn,
    MatchRunOut,
    ProposalOut,
    RejectIn,
    SuggestionPage,
    UnmatchedOut,
)
from api_schemas.vocabulary import VocabularyKind
from service.core.deps import Coordinator, SessionDep
from service.core.pagination import CursorParam, LimitParam
from service.match_runs import service as run_service
from service.match_runs import suggestions, worker
from service.matches import service as match_service
from service.referrals.endpoints import VisibleReferral
from service.vocabulary import service as vocabulary_service

router = APIRouter(tags=["matching"])


@router.post(
    "/v1/match-runs",
    status_code=202,
    response_model=MatchRunOut,
    responses={201: {"model": MatchRunOut, "description": "Solved in the request (`wait=true`), with its result"}},
)
def create_match_run(
    db: SessionDep,
    caller: Coordinator,
    response: Response,
    run_in: MatchRunIn | None = None,
    wait: Annotated[
        bool,
        Query(
            description=f"Solve in the request and answer 201 with the result, for runs of at most "
            f"{worker.WAIT_AT_MOST} referrals (larger ones answer 202 as without it)"
        ),
    ] = False,
) -> MatchRunOut:
    """Start a run of every waiting referral (or the ones named) against every available volunteer: the most
    matched, then the highest total score, every hard rule kept. 202: poll `Location` until `done`. One run at a
    time: 409 names the run under way. Proposals wait for a coordinator's accept."""
    match_run, solved_here = worker.start(db, actor=caller, run_in=run_in or MatchRunIn(), wait=wait)
    response.headers["Location"] = f"/v1/match-runs/{match_run.id}"
    if solved_here:
        response.status_code = 201
    return run_service.to_out(db, match_run)


@router.get("/v1/match-runs/{run_id}", response_model=MatchRunOut)
def get_match_run(
    run_id: str,
    db: SessionDep,
    _caller: Coordinator,
    result: Annotated[
        bool,
        Query(
            description="false: the run's status, progress and, once done, its stats, without `proposals` and "
            "`unmatched` (null): cheap to poll. A national run's result is tens of MB; page it with "
            "`/proposals` and `/unmatched`"
        ),
    ] = True,
) -> MatchRunOut:
    return run_service.get(db, run_id=run_id, result=result)


@router.get("/v1/match-runs/{run_id}/proposals", response_model=Page[ProposalOut])
def list_match_run_proposals(
    run_id: str, db: SessionDep, _caller: Coordinator, limit: LimitParam = 50, cursor: CursorParam = None
) -> Page[ProposalOut]:
    """A done run's proposals, by id, a page at a time (409 while the run is under way or failed)."""
    return run_service.proposals_page(db, run_id=run_id, limit=limit, cursor=cursor)


@router.get("/v1/match-runs/{run_id}/unmatched", response_model=Page[UnmatchedOut])
def list_match_run_unmatched(
    run_id: str, db: SessionDep, _caller: Coordinator, limit: LimitParam = 50, cursor: CursorParam = None
) -> Page[UnmatchedOut]:
    """A done run's unmatched referrals, by referral id, a page at a time (409 while under way or failed)."""
    return run_service.unmatched_page(db, run_id=run_id, limit=limit, cursor=cursor)


@router.post("/v1/proposals/{proposal_id}/accept", status_code=201, response_model=MatchOut)
def accept_proposal(proposal_id: str, db: SessionDep, caller: Coordinator, response: Response) -> MatchOut:
    """Make the match; rules and capacity are checked again now (409 if they no longer hold)."""
    match = run_service.accept_proposal(db, actor=caller, proposal_id=proposal_id)
    response.headers["Location"] = f"/v1/matches/{match.id}"
    return match_service.to_out(db, match)


@router.post("/v1/proposals/{proposal_id}/reject", response_model=ProposalOut)
def reject_proposal(proposal_id: str, body: RejectIn, db: SessionDep, caller: Coordinator) -> ProposalOut:
    """Reject with a reason code; the pair is never proposed again."""
    vocabulary_service.check_codes(db, [(["body", "reason"], VocabularyKind.reject_reasons, body.reason)])
    proposal = run_service.reject_proposal(db, actor=caller, proposal_id=proposal_id, reason=body.reason)
    return run_service.proposal_out(db, proposal)


@router.get("/v1/referrals/{referral_id}/suggestions", response_model=SuggestionPage)
def suggest_volunteers(
    _caller: Coordinator, referral: VisibleReferral, db: SessionDep, k: Annotated[int, Query(ge=1, le=50)] = 5
) -> SuggestionPage:
    """The best k volunteers for one referral, with scores and reasons, for matching by hand. When there are
    none, `unmatched` says why and what would change it; 409 for a referral that cannot be matched now
    (escalated, matched, ended)."""
    return suggestions.best(db, referral=referral, k=k)
