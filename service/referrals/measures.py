"""Measures (EPDS, PHQ-9, GAD-7, SWEMWBS) and the safety rule: a positive self-harm item goes to a clinician,
not a volunteer."""

from sqlmodel import Session

from api_schemas.measures import (
    EpdsIn,
    Instrument,
    MeasureIn,
    MeasureOut,
    RiskOutcome,
    RiskReviewIn,
    Timepoint,
)
from api_schemas.referrals import ReferralStatus
from service.core import audit, clock
from service.core.auth import Principal
from service.core.errors import Conflict
from service.core.ids import new_id
from service.core.lifecycle import emit, event
from service.models import Measure, Referral, RiskReview
from service.programme import service as programme_service
from service.proposals import lifecycle as proposal_lifecycle
from service.referrals import lifecycle, repository, scoring

# The safety alert's reason code: which item of which instrument was positive (never the answers themselves).
SELF_HARM_REASON = {Instrument.EPDS: "epds_item_10_positive", Instrument.PHQ9: "phq9_item_9_positive"}


def record(*, db: Session, actor: Principal, referral: Referral, measure_in: MeasureIn | EpdsIn) -> Measure:
    if referral.erased_at is not None:
        raise Conflict(
            "This referral's personal data was erased; nothing more is recorded about her.", extra={"state": "erased"}
        )
    instrument = Instrument(measure_in.instrument)
    if instrument is Instrument.SWEMWBS and not programme_service.current(db).swemwbs_licensed:
        raise Conflict(
            "The programme has not recorded a SWEMWBS licence (programme setting swemwbs_licensed).",
            extra={"state": "unlicensed"},
        )
    scored = scoring.score(instrument, list(measure_in.answers))
    measure = Measure(
        id=new_id(),
        referral_id=referral.id,
        instrument=instrument.value,
        answers=list(measure_in.answers),
        total=scored.total,
        self_harm_item=scored.self_harm_item,
        timepoint=measure_in.timepoint.value,
        completed_on=measure_in.completed_on,
        recorded_at=clock.now(),
        recorded_by_key_id=actor.key_id,
    )
    db.add(measure)
    audit.record(
        db,
        actor=actor,
        action="measure.recorded",
        record_type="referral",
        record_id=referral.id,
        reason=f"{measure.instrument}:{measure.timepoint}",
    )
    if measure.self_harm_item > 0:
        _escalate(db, actor=actor, referral=referral, measure=measure)
    return measure


def _escalate(db: Session, *, actor: Principal, referral: Referral, measure: Measure) -> None:
    """Out of matching until a coordinator reviews the risk; a running match goes on, the clinician is alerted."""
    referral.risk_review_pending = True
    events = (
        event(
            "referral.escalated",
            record_type="referral",
            record_id=referral.id,
            status=ReferralStatus.escalated if referral.status in lifecycle.MATCHABLE else referral.status,
        ),
        event(
            "safety.alert",
            record_type="referral",
            record_id=referral.id,
            measure_id=measure.id,
            reason=SELF_HARM_REASON[Instrument(measure.instrument)],
            completed_on=measure.completed_on,
        ),
    )
    if referral.status in lifecycle.MATCHABLE:
        proposal_lifecycle.expire_open(db, referral_ids=[referral.id])
        lifecycle.move(
            db,
            referral,
            ReferralStatus.escalated,
            action="escalated",
            actor=actor,
            audit_action="referral.escalated",
            events=events,
        )
        return
    # Already matched: she stays with her volunteer, and only the review flag and the alerts change.
    referral.version += 1
    referral.updated_at = clock.now()
    db.add(referral)
    audit.record(db, actor=actor, action="referral.escalated", record_type="referral", record_id=referral.id)
    emit(db, events)


def ensure_reviewable(referral: Referral, *, match_under_way: bool) -> None:
    """A review follows a safety alert, a pause, or concerns a match under way; otherwise 409."""
    if referral.erased_at is not None:
        raise Conflict("This referral's personal data was erased.", extra={"state": "erased"})
    if not (referral.risk_review_pending or referral.status == ReferralStatus.escalated or match_under_way):
        raise Conflict("No risk review is pending for this referral.", extra={"state": referral.status})


def record_review(
    db: Session, *, actor: Principal, referral: Referral, review_in: RiskReviewIn, match_under_way: bool
) -> RiskReview:
    """The review's row and what it does to the referral; a match under way is its caller's to change. A parent
    not yet matched: `cleared` and `continue_alongside_clinical` return her to waiting, `pause` keeps her out of
    matching (until its date, or a further review), `end_peer_support` (and its old name) declines her."""
    now = clock.now()
    outcome = review_in.outcome
    row = RiskReview(
        id=new_id(),
        referral_id=referral.id,
        outcome=outcome.value,
        note=review_in.note,
        until=review_in.until,
        reviewed_at=now,
        reviewer_key_id=actor.key_id,
    )
    db.add(row)
    # A pause without a date waits for a further review; every other outcome is the review.
    referral.risk_review_pending = outcome is RiskOutcome.pause and review_in.until is None
    referral.paused_until = review_in.until if outcome is RiskOutcome.pause and not match_under_way else None
    target = None
    if not match_under_way and referral.status == ReferralStatus.escalated:
        target = {
            RiskOutcome.cleared: ReferralStatus.waiting,
            RiskOutcome.continue_alongside_clinical: ReferralStatus.waiting,
            RiskOutcome.end_peer_support: ReferralStatus.declined,
            RiskOutcome.refer_clinical: ReferralStatus.declined,
        }.get(outcome)
    if target is not None:
        lifecycle.move(
            db, referral, target, action="reviewed", actor=actor, audit_action="referral.risk_reviewed", reason=outcome
        )
        return row
    referral.version += 1
    referral.updated_at = now
    db.add(referral)
    audit.record(
        db, actor=actor, action="referral.risk_reviewed", record_type="referral", record_id=referral.id, reason=outcome
    )
    return row


def lift_due_pauses(db: Session) -> int:
    """The worker's job: a parent whose pause (a risk review's, before she was matched) has reached its date
    waits for a volunteer again; the number returned to waiting."""
    today = clock.today(programme_service.current(db).time_zone)
    lifted = 0
    for referral in repository.paused_until(db, today=today):
        referral.paused_until = None
        lifecycle.move(db, referral, ReferralStatus.waiting, action="resumed", actor=None, reason="pause_ended")
        lifted += 1
    return lifted


def listing(*, db: Session, referral: Referral, threshold: int) -> list[MeasureOut]:
    return [to_out(m, threshold=threshold) for m in repository.measures_of(db, referral.id)]


def to_out(measure: Measure, *, threshold: int) -> MeasureOut:
    """Band and metric score are worked out from the stored total on the way out, so a corrected table or band
    reaches every measure already recorded."""
    instrument = Instrument(measure.instrument)
    return MeasureOut(
        id=measure.id,
        referral_id=measure.referral_id,
        instrument=instrument,
        total=measure.total,
        metric_score=scoring.metric_score(instrument, measure.total),
        band=scoring.band(instrument, measure.total),
        timepoint=Timepoint(measure.timepoint),
        completed_on=measure.completed_on,
        self_harm_item_positive=measure.self_harm_item > 0,
        at_or_above_threshold=scoring.at_or_above_threshold(instrument, measure.total, epds_threshold=threshold),
        recorded_at=measure.recorded_at,
    )
