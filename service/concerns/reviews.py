"""A risk review's outcome, for a parent waiting or in a match under way alike. Peer support may go on beside
clinical care (`continue_alongside_clinical`), pause (no matching and no sessions until a date or a further
review), or end kindly (`end_peer_support`: a match ends through `matches.service.end` with a no-blame reason).

It lives above matches because it changes a referral and her match together; the referral's part is in
`referrals.measures`, the match's in `matches.pauses` and `matches.service`."""

from sqlmodel import Session

from api_schemas.matching import MatchStatus
from api_schemas.measures import RiskOutcome, RiskReviewIn, RiskReviewOut
from api_schemas.referrals import ReferralStatus
from service.core import clock
from service.core.auth import Principal
from service.core.errors import invalid
from service.matches import pauses
from service.matches import repository as match_repository
from service.matches import service as match_service
from service.models import Match, Referral
from service.programme import service as programme_service
from service.referrals import lifecycle as referral_lifecycle
from service.referrals import measures

# The end_reasons code a match ended by a risk review carries: a need, never a fault.
CLINICAL_END_REASON = "clinical_needs"


def review(db: Session, *, actor: Principal, referral: Referral, review_in: RiskReviewIn) -> RiskReviewOut:
    match = match_repository.open_match_for(db, referral.id)
    measures.ensure_reviewable(referral, match_under_way=match is not None)
    _check(db, review_in, match)
    row = measures.record_review(
        db, actor=actor, referral=referral, review_in=review_in, match_under_way=match is not None
    )
    if match is not None:
        _apply_to_match(db, actor=actor, referral=referral, match=match, review_in=review_in)
    return RiskReviewOut(
        id=row.id,
        referral_id=referral.id,
        outcome=review_in.outcome,
        reviewed_at=row.reviewed_at,
        referral_status=referral.status,
        until=review_in.until,
        match_id=match.id if match else None,
        match_status=match.status if match else None,
        match_paused=pauses.is_paused(match) if match else False,
    )


def _check(db: Session, review_in: RiskReviewIn, match: Match | None) -> None:
    if review_in.outcome is RiskOutcome.refer_clinical and match is not None:
        raise invalid(
            ["body", "outcome"],
            "refer_clinical is deprecated; for a match under way choose continue_alongside_clinical, pause "
            "or end_peer_support",
        )
    today = clock.today(programme_service.current(db).time_zone)
    if review_in.until is not None and review_in.until <= today:
        raise invalid(["body", "until"], "must be after today")


def _apply_to_match(
    db: Session, *, actor: Principal, referral: Referral, match: Match, review_in: RiskReviewIn
) -> None:
    outcome = review_in.outcome
    if outcome in (RiskOutcome.cleared, RiskOutcome.continue_alongside_clinical):
        pauses.release(db, actor=actor, match=match, reason=pauses.HoldReason.risk_review)
    elif outcome is RiskOutcome.pause:
        pauses.hold(db, actor=actor, match=match, reason=pauses.HoldReason.risk_review, until=review_in.until)
    elif match.status == MatchStatus.pending:
        # She had not begun with her volunteer: the match is called off and peer support declined, as for a
        # parent still waiting.
        match_service.cancel(db, actor=actor, match=match)
        referral_lifecycle.move(db, referral, ReferralStatus.waiting, action="returned", actor=actor)
        referral_lifecycle.move(db, referral, ReferralStatus.declined, action="reviewed", actor=actor)
    else:
        match_service.end(
            db, actor=actor, match=match, reason=CLINICAL_END_REASON, initiated_by="coordinator", rematch=False
        )
