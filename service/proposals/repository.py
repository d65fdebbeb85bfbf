from sqlmodel import Session, col, func, select

from api_schemas.matching import ProposalStatus
from service.core.db import IN_LIST_MAX
from service.models import Proposal


def get(db: Session, proposal_id: str, *, for_update: bool = False) -> Proposal | None:
    query = select(Proposal).where(Proposal.id == proposal_id)
    if for_update:
        query = query.with_for_update()
    return db.exec(query).first()


def of_run(db: Session, run_id: str, *, after_id: str | None = None, limit: int | None = None) -> list[Proposal]:
    """A run's proposals by id: all of them, or `limit` after `after_id` (a page)."""
    query = select(Proposal).where(Proposal.run_id == run_id)
    if after_id is not None:
        query = query.where(Proposal.id > after_id)
    query = query.order_by(Proposal.id)
    return list(db.exec(query if limit is None else query.limit(limit)))


def open_of_volunteer(db: Session, volunteer_id: str) -> list[Proposal]:
    return list(
        db.exec(select(Proposal).where(Proposal.volunteer_id == volunteer_id, Proposal.status == ProposalStatus.open))
    )


def open_referral_ids(db: Session) -> list[str]:
    return list(db.exec(select(Proposal.referral_id).where(Proposal.status == ProposalStatus.open)))


def add_all(db: Session, proposals: list[Proposal]) -> None:
    for proposal in proposals:
        db.add(proposal)


def open_per_volunteer(db: Session, volunteer_ids: list[str]) -> dict[str, int]:
    """How many open proposals name each volunteer: each holds a place until it is decided or expires."""
    if not volunteer_ids:
        return {}
    query = select(Proposal.volunteer_id, func.count()).where(Proposal.status == ProposalStatus.open)
    if len(volunteer_ids) <= IN_LIST_MAX:
        query = query.where(col(Proposal.volunteer_id).in_(volunteer_ids))
    asked = set(volunteer_ids)
    return {
        volunteer_id: count
        for volunteer_id, count in db.exec(query.group_by(Proposal.volunteer_id))
        if volunteer_id in asked
    }
