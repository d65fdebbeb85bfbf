"""Every query erasure makes: the rows outside the referral and volunteer tables that can hold their data."""

from datetime import datetime

from sqlmodel import Session, col, select, update

from service.models import ApiKey, IdempotencyRecord, Match, Message, RiskReview, SupportSession

ERASED_KEY_NAME = "(erased volunteer)"


def clear_override_reasons(db: Session, *, referral_id: str | None = None, volunteer_id: str | None = None) -> None:
    """A coordinator's override reason is free text and may name either person."""
    query = update(Match).values(override_reason=None)
    if referral_id is not None:
        query = query.where(col(Match.referral_id) == referral_id)
    if volunteer_id is not None:
        query = query.where(col(Match.volunteer_id) == volunteer_id)
    db.exec(query)


def bump_sessions_of_referral(db: Session, referral_id: str, *, now: datetime) -> None:
    """A new SEQUENCE, so calendar apps fetch the sessions again and drop the name they showed."""
    matches = select(Match.id).where(Match.referral_id == referral_id)
    db.exec(
        update(SupportSession)
        .where(col(SupportSession.match_id).in_(matches))
        .values(sequence=SupportSession.sequence + 1, updated_at=now)
    )


def clear_risk_review_notes(db: Session, referral_id: str) -> None:
    db.exec(update(RiskReview).where(col(RiskReview.referral_id) == referral_id).values(note=None))


def idempotency_records_for(db: Session, location: str) -> list[IdempotencyRecord]:
    """Stored first responses that a retry would replay: they hold the record as it was created."""
    return list(db.exec(select(IdempotencyRecord).where(IdempotencyRecord.location == location)))


def revoke_keys_of_volunteer(db: Session, volunteer_id: str, *, now: datetime) -> None:
    """Her keys stop working at once, and lose their names, which an admin may have written hers into."""
    keys = col(ApiKey.volunteer_id) == volunteer_id
    db.exec(update(ApiKey).where(keys, col(ApiKey.revoked_at).is_(None)).values(revoked_at=now))
    db.exec(update(ApiKey).where(keys).values(name=ERASED_KEY_NAME))


def matches_of(db: Session, *, referral_id: str | None = None, volunteer_id: str | None = None) -> list[str]:
    query = select(Match.id)
    if referral_id is not None:
        query = query.where(Match.referral_id == referral_id)
    if volunteer_id is not None:
        query = query.where(Match.volunteer_id == volunteer_id)
    return list(db.exec(query))


def clear_message_fields(db: Session, *, recipient_id: str, match_ids: list[str]) -> None:
    """Messages hold first names: hers, and hers in the other person's messages about their matches."""
    about = col(Message.recipient_id) == recipient_id
    if match_ids:
        about = about | col(Message.match_id).in_(match_ids)
    db.exec(update(Message).where(about).values(personalisation={}))
