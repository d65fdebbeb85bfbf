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
    RiskReviewOut,
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


def review(*, db: Session, actor: Principal, referral: Referral, review_in: RiskReviewIn) -> RiskReviewOut:
    if not referral.risk_review_pending:
        raise Conflict("No risk review is pending for this referral.", extra={"state": referral.status})
    now = clock.now()
    row = RiskReview(
        id=new_id(),
        referral_id=referral.id,
        outcome=review_in.outcome.value,
        note=review_in.note,
        reviewed_at=now,
        reviewer_key_id=actor.key_id,
    )
    db.add(row)
    referral.risk_review_pending = False
    if referral.status == ReferralStatus.escalated:
        target = ReferralStatus.waiting if review_in.outcome is RiskOutcome.cleared else ReferralStatus.declined
        lifecycle.move(
            db,
            referral,
            target,
            action="reviewed",
            actor=actor,
            audit_action="referral.risk_reviewed",
            reason=review_in.outcome.value,
        )
    else:
        referral.version += 1
        referral.updated_at = now
        db.add(referral)
        audit.record(
            db,
            actor=actor,
            action="referral.risk_reviewed",
            record_type="referral",
            record_id=referral.id,
            reason=review_in.outcome.value,
        )
    return RiskReviewOut(
        id=row.id, referral_id=referral.id, outcome=review_in.outcome, reviewed_at=now, referral_status=referral.status
    )


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
