"""A webhook delivery's life: pending (tried with back-off) until delivered, or dead after the last attempt
or when its webhook is deleted."""

from sqlmodel import Session

from api_schemas.events import DeliveryStatus as S
from service.core.lifecycle import Lifecycle, transition
from service.models import Delivery

TRANSITIONS: dict[S, frozenset[S]] = {
    S.pending: frozenset({S.delivered, S.dead}),
    S.delivered: frozenset(),
    S.dead: frozenset(),
}
DELIVERY = Lifecycle("delivery", S, TRANSITIONS, version=None, audited=False)


def move(db: Session, delivery: Delivery, target: S) -> None:
    transition(db, DELIVERY, delivery, target, action=target.value, actor=None)
