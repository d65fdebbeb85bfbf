"""The referral's state machine, as data: which status may follow which."""

from api_schemas.referrals import ReferralStatus as S
from service.core.errors import TransitionNotAllowed

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

EDITABLE: frozenset[S] = frozenset({S.waiting, S.proposed, S.matched, S.active, S.escalated})


def move(current: str, target: S, *, action: str) -> S:
    """The new status, or 409 naming the current one."""
    state = S(current)
    if target not in TRANSITIONS[state]:
        raise TransitionNotAllowed("referral", state.value, action)
    return target


def ensure_editable(current: str) -> None:
    if S(current) not in EDITABLE:
        raise TransitionNotAllowed("referral", current, "edited")
