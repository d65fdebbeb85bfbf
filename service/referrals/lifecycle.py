"""The referral's life, as data: which status may follow which, and the one place a referral's status moves."""

from sqlalchemy import update
from sqlmodel import Session, col

from api_schemas.referrals import ReferralStatus as S
from service.core.db import one_of
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
            .where(one_of(db, col(Referral.id), referral_ids), col(Referral.status) == S.proposed)
            .values(status=S.waiting.value)
        )


def mark_proposed(db: Session, referral_ids: list[str]) -> None:
    """A run proposed a volunteer for each of these waiting referrals, in one statement, not an ORM update each
    (docs/decisions/0026). No audit row, version or event each, as ever: the run's own audit row and its
    proposals say it. 409 if any is no longer waiting, so the run writes nothing."""
    if not referral_ids:
        return
    REFERRAL.check(S.waiting.value, S.proposed, action="proposed")
    moved = db.exec(
        update(Referral)
        .where(one_of(db, col(Referral.id), referral_ids), col(Referral.status) == S.waiting)
        .values(status=S.proposed.value)
        # No ORM object of these is loaded in a run's save, so there is nothing to keep in step (and rowcount
        # stays exact on SQLite, which a RETURNING to keep them in step would not).
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != len(set(referral_ids)):
        raise TransitionNotAllowed("referral", "no longer waiting", "proposed")
