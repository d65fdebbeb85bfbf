"""Messages as coordinators and volunteers read them, and Notify's delivery receipts."""

import hmac

from sqlmodel import Session

from api_schemas.messages import MessageOut, MessageStatus, NotifyCallbackIn
from service.core import clock
from service.core.errors import Unauthorized
from service.messages import lifecycle, repository
from service.models import Message

RECEIPT_STATUSES = {status.value: status for status in lifecycle.RECEIPTS}


def check_callback_token(authorization: str | None, *, expected: str) -> None:
    """Notify sends the bearer token the programme gave it; none configured means no receipt is accepted."""
    scheme, _, token = (authorization or "").partition(" ")
    if not expected or scheme.lower() != "bearer" or not hmac.compare_digest(token.encode(), expected.encode()):
        raise Unauthorized("The callback token is missing or wrong.")


def record_receipt(db: Session, receipt: NotifyCallbackIn) -> None:
    """Record Notify's final status for a message. A receipt for an unknown message, an interim status
    (`sending`, `created`) or one already recorded changes nothing: Notify may send a receipt more than once."""
    target = RECEIPT_STATUSES.get(receipt.status)
    if target is None:
        return
    message = repository.by_receipt(db, reference=receipt.reference, notify_id=receipt.id)
    if message is None or not lifecycle.MESSAGE.allows(message.status, target):
        return
    message.notify_id = message.notify_id or receipt.id
    message.completed_at = clock.now()
    lifecycle.move(db, message, target)


def listing(db: Session, *, recipient_type: str, recipient_id: str, limit: int) -> list[MessageOut]:
    """Her messages, newest first."""
    rows = repository.of_recipient(db, recipient_type=recipient_type, recipient_id=recipient_id, limit=limit)
    return [to_out(row) for row in rows]


def to_out(message: Message) -> MessageOut:
    return MessageOut(
        id=message.id,
        recipient=message.recipient_type,
        kind=message.kind,
        channel=message.channel,
        language=message.language,
        status=MessageStatus(message.status),
        attempts=message.attempts,
        created_at=message.created_at,
        not_before=message.next_attempt_at,
        sent_at=message.sent_at,
        completed_at=message.completed_at,
        withheld_reason=message.withheld_reason,
    )
