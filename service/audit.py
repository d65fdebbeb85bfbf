"""The audit log, written in the caller's transaction, so it commits or rolls back with the change."""

from sqlmodel import Session

from service import clock
from service.auth import Principal
from service.ids import new_id
from service.logs import current_request_id
from service.models import AuditEvent


def record(session: Session, *, actor: Principal | None, action: str, record_type: str, record_id: str,
           reason: str | None = None) -> None:
    session.add(AuditEvent(
        id=new_id(), at=clock.now(), actor_key_id=actor.key_id if actor else None,
        actor_role=actor.role.value if actor else "system", action=action, record_type=record_type,
        record_id=record_id, request_id=current_request_id(), reason=reason,
    ))
