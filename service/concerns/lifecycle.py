"""A concern's life, as data: open (raised; the leads are alerted) → acknowledged (a lead recorded an action)
→ closed (a lead recorded the outcome). A lead may close an open concern at once."""

from api_schemas.concerns import ConcernStatus as S
from service.core.lifecycle import Lifecycle

TRANSITIONS: dict[S, frozenset[S]] = {
    S.open: frozenset({S.acknowledged, S.closed}),
    S.acknowledged: frozenset({S.closed}),
    S.closed: frozenset(),
}
CONCERN = Lifecycle("concern", S, TRANSITIONS)
move = CONCERN.move

# Not yet closed: a blocking one keeps its match paused.
OPEN: frozenset[S] = frozenset({S.open, S.acknowledged})
