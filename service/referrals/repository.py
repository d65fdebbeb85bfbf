from datetime import date
from typing import Any

from sqlalchemy import Table
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import Session, col, select

from api_schemas.referrals import ReferralStatus
from service.models import Measure, Referral


def get(db: Session, referral_id: str) -> Referral | None:
    return db.get(Referral, referral_id)


def by_external_id(db: Session, source: str, external_id: str) -> Referral | None:
    query = select(Referral).where(Referral.source == source, Referral.external_id == external_id)
    return db.exec(query).first()


def page(
    db: Session,
    *,
    source: str | None,
    status: str | None,
    area: str | None,
    external_id: str | None,
    after_id: str | None,
    limit: int,
) -> list[Referral]:
    query = select(Referral)
    if source is not None:
        query = query.where(Referral.source == source)
    if status is not None:
        query = query.where(Referral.status == status)
    if area is not None:
        query = query.where(Referral.area == area)
    if external_id is not None:
        query = query.where(Referral.external_id == external_id)
    if after_id is not None:
        query = query.where(Referral.id > after_id)
    return list(db.exec(query.order_by(Referral.id).limit(limit + 1)))


# Built once; the unit of work's flush of one new row cost as much as the rest of a post's database work.
_table = Referral.__table__  # type: ignore[attr-defined]
_COLUMNS = frozenset(column.key for column in _table.columns)
_DEFAULTS = {
    name: field.default for name, field in Referral.model_fields.items() if name in _COLUMNS and not field.is_required()
}
_new_instance = Referral.__mapper__.class_manager.new_instance  # type: ignore[attr-defined]


def new(values: dict[str, Any]) -> tuple[Referral, tuple[Table, dict[str, Any]]]:
    """A new referral and its row, to write with the rows that go with it (service.core.together); then `hold`.

    The object is made as the ORM makes a row it loads, without SQLModel's __init__, which sets each field
    through instrumented attributes (table models are not validated there anyway; the wire model was). Its cost
    is in docs/decisions/0007."""
    row = {**_DEFAULTS, **values}
    referral: Referral = _new_instance()
    referral.__dict__.update(row)
    return referral, (_table, row)


def hold(db: Session, referral: Referral) -> None:
    """Keep a referral just written in the session as if it had been read, so that changes later in the
    request are saved as usual."""
    make_transient_to_detached(referral)
    db.add(referral)


def measures_of(db: Session, referral_id: str) -> list[Measure]:
    query = select(Measure).where(Measure.referral_id == referral_id).order_by(Measure.completed_on, Measure.id)
    return list(db.exec(query))


def paused_until(db: Session, *, today: date) -> list[Referral]:
    """Parents a risk review paused before matching, whose pause has reached its date."""
    query = select(Referral).where(
        Referral.status == ReferralStatus.escalated,
        col(Referral.paused_until).is_not(None),
        col(Referral.paused_until) <= today,
    )
    return list(db.exec(query.order_by(Referral.id)))
