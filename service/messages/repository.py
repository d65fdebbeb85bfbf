"""Every query of the messages domain."""

from datetime import datetime

from sqlalchemy import or_
from sqlmodel import Session, col, select

from api_schemas.common import Format
from api_schemas.messages import MessageStatus
from api_schemas.sessions import SessionStatus
from service.models import Message, SupportSession


def add(db: Session, message: Message) -> None:
    db.add(message)


def pending_like(db: Session, *, recipient_id: str, match_id: str | None, kind: str) -> bool:
    """A message of this kind to her about this match is still waiting: a second would say the same again."""
    query = select(Message.id).where(
        Message.recipient_id == recipient_id,
        Message.match_id == match_id,
        Message.kind == kind,
        Message.status == MessageStatus.pending,
    )
    return db.exec(query.limit(1)).first() is not None


def due_ids(db: Session, *, now: datetime, limit: int) -> list[str]:
    """Pending messages whose time has come, and `sending` ones whose worker's lease ran out (it died)."""
    query = (
        select(Message.id)
        .where(
            or_(Message.status == MessageStatus.pending, Message.status == MessageStatus.sending),
            col(Message.next_attempt_at) <= now,
        )
        .order_by(col(Message.next_attempt_at), col(Message.id))
        .limit(limit)
    )
    return list(db.exec(query))


def due_polls(db: Session, *, now: datetime, since: datetime, limit: int) -> list[tuple[str, str]]:
    """Sent messages without a final status whose next look is due, sent since `since`: (id, provider id)."""
    query = (
        select(Message.id, Message.notify_id)
        .where(
            Message.status == MessageStatus.sent,
            col(Message.notify_id).is_not(None),
            col(Message.next_attempt_at) <= now,
            col(Message.sent_at) >= since,
        )
        .order_by(col(Message.next_attempt_at))
        .limit(limit)
    )
    return [(message_id, notify_id) for message_id, notify_id in db.exec(query) if notify_id is not None]


def claim(db: Session, message_id: str, *, now: datetime) -> Message | None:
    """The message, locked, if still due and no other worker holds it."""
    return db.exec(
        select(Message)
        .where(
            Message.id == message_id,
            or_(Message.status == MessageStatus.pending, Message.status == MessageStatus.sending),
            col(Message.next_attempt_at) <= now,
        )
        .with_for_update(skip_locked=True)
    ).first()


def get(db: Session, message_id: str) -> Message | None:
    return db.exec(select(Message).where(Message.id == message_id).with_for_update()).first()


def by_receipt(db: Session, *, reference: str | None, notify_id: str) -> Message | None:
    """The message a Notify receipt is about: by our reference (its id), else by Notify's id."""
    if reference:
        found = db.exec(select(Message).where(Message.id == reference).with_for_update()).first()
        if found is not None:
            return found
    return db.exec(select(Message).where(Message.notify_id == notify_id).with_for_update()).first()


def of_recipient(db: Session, *, recipient_type: str, recipient_id: str, limit: int) -> list[Message]:
    query = (
        select(Message)
        .where(Message.recipient_type == recipient_type, Message.recipient_id == recipient_id)
        .order_by(col(Message.created_at).desc(), col(Message.id).desc())
        .limit(limit)
    )
    return list(db.exec(query))


def missed_since(db: Session, *, started_since: datetime, marked_since: datetime, limit: int) -> list[SupportSession]:
    """Sessions that started since `started_since` and were marked missed since `marked_since` (both bounds
    keep the scan to the newest rows of the session table's indexes)."""
    query = (
        select(SupportSession)
        .where(
            SupportSession.status == SessionStatus.missed,
            col(SupportSession.starts_at) >= started_since,
            col(SupportSession.updated_at) >= marked_since,
        )
        .order_by(col(SupportSession.updated_at), col(SupportSession.id))
        .limit(limit)
    )
    return list(db.exec(query))


def home_visits_starting(db: Session, *, since: datetime, now: datetime, limit: int) -> list[SupportSession]:
    """Planned home visits that started in (since, now]."""
    query = (
        select(SupportSession)
        .where(
            SupportSession.status == SessionStatus.planned,
            SupportSession.format == Format.home_visit,
            col(SupportSession.starts_at) > since,
            col(SupportSession.starts_at) <= now,
        )
        .order_by(col(SupportSession.starts_at), col(SupportSession.id))
        .limit(limit)
    )
    return list(db.exec(query))


def causes_told(db: Session, cause_ids: list[str]) -> set[str]:
    """Which of these causes already have their message (the unique pair's index on `event_id` answers)."""
    if not cause_ids:
        return set()
    return set(db.exec(select(Message.event_id).where(col(Message.event_id).in_(cause_ids))))
