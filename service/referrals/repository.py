from sqlalchemy import insert
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import Session, select

from service.models import Referral


def get(session: Session, referral_id: str) -> Referral | None:
    return session.get(Referral, referral_id)


def by_external_id(session: Session, source: str, external_id: str) -> Referral | None:
    query = select(Referral).where(Referral.source == source, Referral.external_id == external_id)
    return session.exec(query).first()


def page(session: Session, *, source: str | None, status: str | None, area: str | None,
         external_id: str | None, after_id: str | None, limit: int) -> list[Referral]:
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
    return list(session.exec(query.order_by(Referral.id).limit(limit + 1)))


# Built once; the unit of work's flush of one new row cost as much as the rest of a post's database work.
_table = Referral.__table__  # type: ignore[attr-defined]
_INSERT = insert(_table)
_COLUMNS = tuple(column.key for column in _table.columns)


def insert_new(session: Session, referral: Referral) -> None:
    """Write a new referral at once with one INSERT (IntegrityError on a duplicate external_id), then hold it in
    the session as if it had been read, so changes later in the request are saved as usual."""
    session.connection().execute(_INSERT, {name: getattr(referral, name) for name in _COLUMNS})
    make_transient_to_detached(referral)
    session.add(referral)
