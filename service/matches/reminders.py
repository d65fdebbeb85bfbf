"""Reminders the worker raises: `session.reminder` the programme's lead time before each planned session, and
`match.ending_soon` when a match's ending conversation is next, each exactly once.

"Once" is a conditional UPDATE of the row's sent-at column (`... WHERE sent_at IS NULL`) in the same
transaction as the outbox event: two workers, a worker stopped mid-round or a re-plan can never raise one
twice, and an event is never lost, because both are committed together or not at all."""

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from service.core import clock, outbox
from service.matches.states import MatchStatus
from service.models import Match, SupportSession
from service.programme import service as programme_service

LIVE = ("planned", "attended", "missed")
RUNNING = (MatchStatus.scheduled.value, MatchStatus.active.value)


def raise_session_reminders(session: Session) -> int:
    """One `session.reminder` for each planned session starting within the lead time; the number raised.
    A session already past is not reminded (the worker was down): a late reminder would only confuse."""
    now = clock.now()
    lead = timedelta(hours=programme_service.current(session).reminder_lead_hours)
    due = session.exec(select(SupportSession.id, SupportSession.match_id, SupportSession.starts_at)
                       .where(SupportSession.status == "planned", col(SupportSession.reminded_at).is_(None),
                              col(SupportSession.starts_at) > now, col(SupportSession.starts_at) <= now + lead)
                       .order_by(col(SupportSession.starts_at))).all()
    raised = 0
    for session_id, match_id, starts_at in due:
        claimed = session.execute(update(SupportSession)
                                  .where(col(SupportSession.id) == session_id,
                                         col(SupportSession.reminded_at).is_(None))
                                  .values(reminded_at=now))
        if claimed.rowcount != 1:
            continue
        outbox.emit(session, "session.reminder", record_type="match", record_id=match_id, session_id=session_id,
                    starts_at=starts_at)
        raised += 1
    return raised


def raise_ending_soon(session: Session) -> int:
    """`match.ending_soon` for each running match whose ending conversation is next: the session before it has
    ended, or at the latest the lead time before it. The number raised."""
    now = clock.now()
    lead = timedelta(hours=programme_service.current(session).reminder_lead_hours)
    endings = session.exec(select(SupportSession)
                           .join(Match, col(Match.id) == SupportSession.match_id)
                           .where(col(Match.status).in_(RUNNING), col(Match.ending_soon_at).is_(None),
                                  SupportSession.kind == "ending_conversation", SupportSession.status == "planned",
                                  col(SupportSession.starts_at) > now)).all()
    if not endings:
        return 0
    before: dict[str, list[SupportSession]] = defaultdict(list)
    for row in session.exec(select(SupportSession)
                            .where(col(SupportSession.match_id).in_([e.match_id for e in endings]),
                                   col(SupportSession.status).in_(LIVE))):
        before[row.match_id].append(row)
    raised = 0
    for ending in endings:
        previous_end = max((s.ends_at for s in before[ending.match_id] if s.starts_at < ending.starts_at),
                           default=None)
        due_at = ending.starts_at - lead if previous_end is None else min(previous_end, ending.starts_at - lead)
        if now >= due_at:
            raised += announce_ending_soon(session, match_id=ending.match_id, ending=ending, now=now)
    return raised


def announce_ending_soon(session: Session, *, match_id: str, ending: SupportSession, now: datetime) -> int:
    """Raise `match.ending_soon` unless it was already raised for this ending; 1 if raised now, else 0."""
    claimed = session.execute(update(Match)
                              .where(col(Match.id) == match_id, col(Match.ending_soon_at).is_(None))
                              .values(ending_soon_at=now)
                              .execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        return 0
    outbox.emit(session, "match.ending_soon", record_type="match", record_id=match_id,
                session_id=ending.id, ending_conversation_at=ending.starts_at)
    return 1
