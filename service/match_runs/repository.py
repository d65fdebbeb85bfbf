from sqlmodel import Session, col, select, update

from service.models import MatchRun, Proposal, Referral, Volunteer


def waiting_referrals(session: Session, ids: list[str] | None) -> list[Referral]:
    query = select(Referral).where(Referral.status == "waiting")
    if ids is not None:
        query = query.where(col(Referral.id).in_(ids))
    return list(session.exec(query.order_by(Referral.id)))


def referrals_by_id(session: Session, ids: list[str]) -> list[Referral]:
    return list(session.exec(select(Referral).where(col(Referral.id).in_(ids))))


def active_volunteers(session: Session) -> list[Volunteer]:
    return list(session.exec(select(Volunteer).where(Volunteer.status == "active").order_by(Volunteer.id)))


def expire_open_proposals(session: Session) -> list[str]:
    """Expire every open proposal of earlier runs; the ids of the referrals they held."""
    referral_ids = list(session.exec(select(Proposal.referral_id).where(Proposal.status == "open")))
    if referral_ids:
        session.exec(update(Proposal).where(col(Proposal.status) == "open").values(status="expired"))
        session.exec(update(Referral).where(col(Referral.id).in_(referral_ids), col(Referral.status) == "proposed")
                     .values(status="waiting"))
    return referral_ids


def proposals_of(session: Session, run_id: str) -> list[Proposal]:
    return list(session.exec(select(Proposal).where(Proposal.run_id == run_id).order_by(Proposal.id)))


def get_run(session: Session, run_id: str) -> MatchRun | None:
    return session.get(MatchRun, run_id)


def get_proposal(session: Session, proposal_id: str, *, for_update: bool = False) -> Proposal | None:
    query = select(Proposal).where(Proposal.id == proposal_id)
    if for_update:
        query = query.with_for_update()
    return session.exec(query).first()


def expire_open_proposals_for(session: Session, referral_id: str) -> None:
    session.exec(update(Proposal).where(col(Proposal.referral_id) == referral_id, col(Proposal.status) == "open")
                 .values(status="expired"))
