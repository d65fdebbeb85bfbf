"""A message's life: pending (waiting for its time: after quiet hours, or the next retry) → sending (claimed by
a worker, the HTTP call under way) → sent (Notify took it) → delivered or a failure (Notify's receipt).

`sending` back to `pending` is a retry; a `sending` whose worker died is taken up again after its lease (the
worker first asks Notify whether the reference already arrived). `withheld` ends a message that must not be
sent any more: consent withdrawn, `none` chosen, the session cancelled. A permanent failure raises
`message.failed` (ids and codes only) so that the coordinator hears her number or address no longer works."""

from sqlmodel import Session, col, update

from api_schemas.messages import MessageStatus as S
from service.core.lifecycle import Lifecycle, event, transition
from service.models import Message

RECEIPTS = frozenset({S.delivered, S.permanent_failure, S.temporary_failure, S.technical_failure})
TRANSITIONS: dict[S, frozenset[S]] = {
    S.pending: frozenset({S.sending, S.withheld}),
    # A receipt can overtake the worker's own record of the send (it died after Notify took the message).
    S.sending: frozenset({S.sent, S.pending, S.withheld, S.technical_failure, S.permanent_failure} | RECEIPTS),
    S.sent: RECEIPTS,
    # Notify may correct a receipt (a late delivery after a temporary failure).
    S.temporary_failure: frozenset({S.delivered, S.permanent_failure}),
    S.delivered: frozenset(),
    S.permanent_failure: frozenset(),
    S.technical_failure: frozenset(),
    S.withheld: frozenset(),
}
MESSAGE = Lifecycle("message", S, TRANSITIONS, version=None, audited=False)


def move(db: Session, message: Message, target: S) -> None:
    """Move a message; a permanent failure tells the coordinator (`message.failed`)."""
    events = ()
    if target is S.permanent_failure:
        events = (
            event(
                "message.failed",
                record_type=message.recipient_type,
                record_id=message.recipient_id,
                message_id=message.id,
                kind=message.kind,
                channel=message.channel,
                match_id=message.match_id,
            ),
        )
    transition(db, MESSAGE, message, target, action=target.value, actor=None, events=events)


def withhold_waiting(db: Session, *, recipient_id: str, match_ids: list[str], reason: str) -> None:
    """Erasure: what still waits to be sent to her or about her matches never goes (one UPDATE)."""
    about = col(Message.recipient_id) == recipient_id
    if match_ids:
        about = about | col(Message.match_id).in_(match_ids)
    db.exec(
        update(Message)
        .where(about, col(Message.status) == S.pending)
        .values(status=S.withheld.value, withheld_reason=reason)
    )
