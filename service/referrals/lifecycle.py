"""The referral's life, as data: which status may follow which, and the one place a referral's status moves."""

from sqlalchemy import update
from sqlmodel import Session, col

from api_schemas.referrals import ReferralStatus as S
from service.core.errors import TransitionNotAllowed
from service.core.lifecycle import Lifecycle
from service.models import Referral

TRANSITIONS: dict[S, frozenset[S]] = {
    S.waiting: frozenset({S.proposed, S.matched, S.escalated, S.withdrawn, S.declined}),
    S.proposed: frozenset({S.waiting, S.matched, S.escalated, S.withdrawn}),
    S.matched: frozenset({S.active, S.waiting, S.withdrawn, S.ended}),
    S.active: frozenset({S.ended}),
    S.escalated: frozenset({S.waiting, S.declined, S.withdrawn}),
    S.ended: frozenset({S.waiting}),
    S.withdrawn: frozenset(),
    S.declined: frozenset(),
}
REFERRAL = Lifecycle("referral", S, TRANSITIONS)
move = REFERRAL.move

EDITABLE: frozenset[S] = frozenset({S.waiting, S.proposed, S.matched, S.active, S.escalated})
# Matching may pair her with a volunteer (a run, or a coordinator's own choice).
MATCHABLE: frozenset[S] = frozenset({S.waiting, S.proposed})


def ensure_editable(current: str) -> None:
    if S(current) not in EDITABLE:
        raise TransitionNotAllowed("referral", current, "edited")


def ensure_matchable(current: str) -> None:
    if S(current) not in MATCHABLE:
        raise TransitionNotAllowed("referral", current, "matched")


def return_proposed_to_waiting(db: Session, referral_ids: list[str]) -> None:
    """Referrals whose proposals expired wait again (one statement for a whole run's worth)."""
    if referral_ids:
        db.exec(
            update(Referral)
            .where(col(Referral.id).in_(referral_ids), col(Referral.status) == S.proposed)
            .values(status=S.waiting.value)
        )


def mark_proposed(db: Session, referrals: list[Referral]) -> None:
    """A run proposed a volunteer for each of these (waiting) referrals. No audit row each: the run's own
    audit row and its proposals say it."""
    for referral in referrals:
        REFERRAL.check(referral.status, S.proposed, action="proposed")
        referral.status = S.proposed.value
        db.add(referral)
