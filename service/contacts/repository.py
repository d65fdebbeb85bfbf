"""Every query of the contact log."""

from sqlalchemy import update
from sqlmodel import Session, col, select

from service.models import Contact


def add(db: Session, contact: Contact) -> None:
    db.add(contact)


def page(
    db: Session,
    *,
    referral_id: str | None = None,
    match_id: str | None = None,
    volunteer_id: str | None = None,
    after_id: str | None,
    limit: int,
) -> list[Contact]:
    """Contacts of one referral or one match, by id (the order they were recorded in); with `volunteer_id`,
    only the notes she wrote."""
    query = select(Contact)
    if referral_id is not None:
        query = query.where(Contact.referral_id == referral_id)
    if match_id is not None:
        query = query.where(Contact.match_id == match_id)
    if volunteer_id is not None:
        query = query.where(Contact.volunteer_id == volunteer_id)
    if after_id is not None:
        query = query.where(Contact.id > after_id)
    return list(db.exec(query.order_by(Contact.id).limit(limit + 1)))


def clear_notes_of_referral(db: Session, referral_id: str) -> None:
    """Her erasure: the notes go; kinds, dates, minutes and attendance stay for the counts."""
    db.exec(update(Contact).where(col(Contact.referral_id) == referral_id).values(note=None))
