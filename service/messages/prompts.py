"""Messages no event causes, written by the worker's periodic round: `missed_you` to a parent after a session
marked missed, and `check_in_prompt` to the volunteer when one of her home visits begins.

Each is sent at most once per session. The cause of such a message is the session itself, so its `event_id` is
a name-based UUID of (kind, session): the message table's unique (event_id, recipient_type) pair turns a second
worker's write of the same message into a conflict, caught in a savepoint, instead of a second text."""

import uuid
from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from api_schemas.messages import MessageKind
from service.core import clock
from service.matches import repository as matches_repository
from service.messages import composing, repository
from service.models import Match, Referral, SupportSession, Volunteer
from service.programme import service as programme_service
from service.volunteers import repository as volunteers_repository

# A session marked missed longer ago than this (the worker was down, or it was marked late) gets no "we missed
# you": days after, it would read as a reproach rather than warmth.
MISSED_WITHIN = timedelta(days=2)
# Nor does a session that began more than this before it was marked missed.
MISSED_STARTED_WITHIN = timedelta(days=14)
# A prompt later than this after the visit began is no use: she has checked in, or forgotten, by then.
CHECK_IN_WITHIN = timedelta(minutes=30)
BATCH = 200
_CAUSES = uuid.UUID("6f7a1d0e-3c2b-4e8f-9a51-0d2c4b6e8f10")


def cause_id(kind: MessageKind, session_id: str) -> str:
    """The stable `event_id` of the one message of this kind about this session."""
    return str(uuid.uuid5(_CAUSES, f"{kind.value}:{session_id}"))


def write_missed_you(db: Session) -> int:
    """A gentle `missed_you` to the parent for each session marked missed, once; none if the match has ended or
    is paused. The number written."""
    now = clock.now()
    found = repository.missed_since(
        db, started_since=now - MISSED_STARTED_WITHIN, marked_since=now - MISSED_WITHIN, limit=BATCH
    )
    written = 0
    for session in _not_told(db, MessageKind.missed_you, found):
        match = matches_repository.get(db, session.match_id)
        if match is None or not composing.still_on(match):
            continue
        referral = matches_repository.referral_of(db, match)
        volunteer = matches_repository.volunteer_of(db, match)
        written += _write_once(
            db, MessageKind.missed_you, composing.PARENT, referral, volunteer, match=match, session=session
        )
    return written


def write_check_in_prompts(db: Session) -> int:
    """`check_in_prompt` to the volunteer of each planned home visit that has just begun, once. The number
    written. A cancelled, on-hold or paused session is not planned, so it is never prompted."""
    now = clock.now()
    found = repository.home_visits_starting(db, since=now - CHECK_IN_WITHIN, now=now, limit=BATCH)
    written = 0
    for session in _not_told(db, MessageKind.check_in_prompt, found):
        match = matches_repository.get(db, session.match_id)
        volunteer = volunteers_repository.get(db, session.volunteer_id)  # the covering one, for a cover
        if match is None or volunteer is None or not composing.still_on(match):
            continue
        referral = matches_repository.referral_of(db, match)
        written += _write_once(
            db, MessageKind.check_in_prompt, composing.VOLUNTEER, volunteer, referral, match=match, session=session
        )
    return written


def _not_told(db: Session, kind: MessageKind, sessions: list[SupportSession]) -> list[SupportSession]:
    told = repository.causes_told(db, [cause_id(kind, s.id) for s in sessions])
    return [s for s in sessions if cause_id(kind, s.id) not in told]


def _write_once(
    db: Session,
    kind: MessageKind,
    recipient: str,
    person: Referral | Volunteer,
    other: Referral | Volunteer,
    *,
    match: Match,
    session: SupportSession,
) -> int:
    cause = cause_id(kind, session.id)
    if composing.why_not(person) is not None:
        return 0
    try:
        with db.begin_nested():
            composing.write(
                db, programme_service.current(db), cause, recipient, person, other, kind, match=match, session=session
            )
            db.flush()
    except IntegrityError:
        return 0  # another worker wrote it first
    return 1
