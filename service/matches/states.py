"""The match's state machine, as data. An action the state forbids is 409 naming the state."""

from enum import StrEnum

from service.core.errors import TransitionNotAllowed


class MatchStatus(StrEnum):
    pending = "pending"
    scheduled = "scheduled"
    active = "active"
    ending = "ending"
    ended = "ended"
    declined = "declined"
    cancelled = "cancelled"


M = MatchStatus
TRANSITIONS: dict[MatchStatus, frozenset[MatchStatus]] = {
    M.pending: frozenset({M.scheduled, M.declined, M.cancelled}),
    M.scheduled: frozenset({M.active, M.ended, M.cancelled}),
    M.active: frozenset({M.ending, M.ended}),
    M.ending: frozenset({M.ended, M.active}),  # back to active when an extension moves the ending
    M.ended: frozenset(),
    M.declined: frozenset(),
    M.cancelled: frozenset(),
}

# A match holds one of the volunteer's places from acceptance until it is over.
HOLDS_CAPACITY: frozenset[MatchStatus] = frozenset({M.pending, M.scheduled, M.active, M.ending})


def move(current: str, target: MatchStatus, *, action: str) -> MatchStatus:
    state = MatchStatus(current)
    if target not in TRANSITIONS[state]:
        raise TransitionNotAllowed("match", state.value, action)
    return target
