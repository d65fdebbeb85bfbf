"""Reminders the worker raises: `session.reminder` the programme's lead time before each planned session, and
`match.ending_soon` when a match's ending conversation is next, each exactly once.

"Once" is a conditional UPDATE of the row's sent-at column (`... WHERE sent_at IS NULL`) in the same
transaction as the outbox event: two workers, a worker stopped mid-round or a re-plan can never raise one
twice, and an event is never lost, because both are committed together or not at all."""

from collections import defaultdict
from datetime import datetime, timedelta

from sqlmodel import Session

from service.core import clock
from service.core.lifecycle import emit, event
from service.matches import repository
from service.models import SupportSession
from service.programme import service as programme_service


def raise_session_reminders(db: Session) -> int:
    """One `session.reminder` for each planned session starting within the lead time; the number raised.
    A session already past is not reminded (the worker was down): a late reminder would only confuse."""
    now = clock.now()
    lead = timedelta(hours=programme_service.current(db).reminder_lead_hours)
    raised = 0
    for session_id, match_id, starts_at in repository.reminders_due(db, now=now, until=now + lead):
        if not repository.claim_reminder(db, session_id, now=now):
            continue
        emit(
            db,
            (
                event(
                    "session.reminder",
                    record_type="match",
                    record_id=match_id,
                    session_id=session_id,
                    starts_at=starts_at,
                ),
            ),
        )
        raised += 1
    return raised


def raise_ending_soon(db: Session) -> int:
    """`match.ending_soon` for each running match whose ending conversation is next: the session before it has
    ended, or at the latest the lead time before it. The number raised."""
    now = clock.now()
    lead = timedelta(hours=programme_service.current(db).reminder_lead_hours)
    endings = repository.endings_not_announced(db, now=now)
    if not endings:
        return 0
    before: dict[str, list[SupportSession]] = defaultdict(list)
    for row in repository.live_sessions_of(db, [e.match_id for e in endings]):
        before[row.match_id].append(row)
    raised = 0
    for ending in endings:
        previous_end = max((s.ends_at for s in before[ending.match_id] if s.starts_at < ending.starts_at), default=None)
        due_at = ending.starts_at - lead if previous_end is None else min(previous_end, ending.starts_at - lead)
        if now >= due_at:
            raised += announce_ending_soon(db, match_id=ending.match_id, ending=ending, now=now)
    return raised


def announce_ending_soon(db: Session, *, match_id: str, ending: SupportSession, now: datetime) -> int:
    """Raise `match.ending_soon` unless it was already raised for this ending; 1 if raised now, else 0."""
    if not repository.claim_ending_soon(db, match_id, now=now):
        return 0
    emit(
        db,
        (
            event(
                "match.ending_soon",
                record_type="match",
                record_id=match_id,
                session_id=ending.id,
                ending_conversation_at=ending.starts_at,
            ),
        ),
    )
    return 1
