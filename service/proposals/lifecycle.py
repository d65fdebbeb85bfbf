"""A proposal's life: open until a coordinator accepts or rejects it, or it expires (a newer run over her
referral, her escalation, a manual match, an erasure). Below the referral and the match run, so that both can
expire proposals without calling up into each other."""

from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col

from api_schemas.matching import ProposalStatus as S
from service.core.auth import Principal
from service.core.db import one_of
from service.core.lifecycle import Lifecycle, transition
from service.models import Proposal

TRANSITIONS: dict[S, frozenset[S]] = {
    S.open: frozenset({S.accepted, S.rejected, S.expired}),
    S.accepted: frozenset(),
    S.rejected: frozenset(),
    S.expired: frozenset(),
}
PROPOSAL = Lifecycle("proposal", S, TRANSITIONS, version=None)


def decide(
    db: Session, proposal: Proposal, target: S, *, actor: Principal, at: datetime, reason: str | None = None
) -> None:
    """A coordinator accepts or rejects it (409 unless it is open)."""
    transition(db, PROPOSAL, proposal, target, action=target.value, actor=actor, reason=reason)
    proposal.decided_at = at
    if target is S.rejected:
        proposal.reject_reason = reason


def expire_open(db: Session, *, referral_ids: list[str] | None = None, volunteer_id: str | None = None) -> None:
    """Expire the open proposals of these referrals or of this volunteer, in one statement."""
    query = update(Proposal).where(col(Proposal.status) == S.open)
    if referral_ids is not None:
        query = query.where(one_of(db, col(Proposal.referral_id), referral_ids))
    if volunteer_id is not None:
        query = query.where(col(Proposal.volunteer_id) == volunteer_id)
    db.exec(query.values(status=S.expired.value))
