"""The life of a match and of its sessions, as data, and the one place either status moves.

A match: pending (the volunteer is asked) → scheduled (she accepted; sessions planned) → active (the first
attended session) → ending (the ending conversation happened) → ended; or declined / cancelled before it
starts. A session: planned → attended | missed | cancelled; planned ⇄ on_hold while the match is paused."""

from api_schemas.matching import MatchStatus as M
from api_schemas.sessions import SessionStatus as SS
from service.core.errors import TransitionNotAllowed
from service.core.lifecycle import Lifecycle
from service.models import Match

MATCH_TRANSITIONS: dict[M, frozenset[M]] = {
    M.pending: frozenset({M.scheduled, M.declined, M.cancelled}),
    M.scheduled: frozenset({M.active, M.ended, M.cancelled}),
    M.active: frozenset({M.ending, M.ended}),
    M.ending: frozenset({M.ended, M.active}),  # back to active when an extension moves the ending
    M.ended: frozenset(),
    M.declined: frozenset(),
    M.cancelled: frozenset(),
}
MATCH = Lifecycle("match", M, MATCH_TRANSITIONS)
move = MATCH.move

# A match holds one of the volunteer's places from the proposal's acceptance until it is over.
HOLDS_CAPACITY: frozenset[M] = frozenset({M.pending, M.scheduled, M.active, M.ending})
# Sessions are planned and happen.
RUNNING: frozenset[M] = frozenset({M.scheduled, M.active, M.ending})

SESSION_TRANSITIONS: dict[SS, frozenset[SS]] = {
    SS.planned: frozenset({SS.attended, SS.missed, SS.cancelled, SS.needs_cover, SS.on_hold}),
    SS.needs_cover: frozenset({SS.planned, SS.cancelled}),
    # A paused match's sessions wait here: never reminded, nor in her diary; planned afresh when it resumes, or
    # needing cover if no time is found then.
    SS.on_hold: frozenset({SS.planned, SS.needs_cover, SS.cancelled}),
    SS.attended: frozenset(),
    SS.missed: frozenset(),
    SS.cancelled: frozenset(),
}
# A session's version is its calendar SEQUENCE: a feed subscriber's calendar updates when it grows.
SESSION = Lifecycle("session", SS, SESSION_TRANSITIONS, version="sequence")
move_session = SESSION.move
# Sessions that count in the plan: the ending markers and the numbering run over these.
LIVE: frozenset[SS] = frozenset({SS.planned, SS.attended, SS.missed, SS.needs_cover, SS.on_hold})
# Sessions still to happen: a match's ending cancels them.
UPCOMING: frozenset[SS] = frozenset({SS.planned, SS.needs_cover, SS.on_hold})


def ensure(match: Match, allowed: frozenset[M], *, action: str) -> None:
    """409 unless the match is in one of `allowed` (for an action that does not move its status)."""
    if M(match.status) not in allowed:
        raise TransitionNotAllowed("match", match.status, action)


def ensure_not_paused(match: Match, *, action: str) -> None:
    """409 while the match is paused: nothing new is planned for it until it resumes."""
    if match.hold_reasons:
        raise TransitionNotAllowed("match", "paused", action)
