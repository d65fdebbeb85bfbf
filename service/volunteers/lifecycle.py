"""A volunteer's standing, as data: active (offered for new matches when ready), paused (her choice, for as long
as she likes), left. A coordinator may set any of them, so every move is allowed, but it is made here only,
with its audit row; the record's version is bumped by the edit that carries the move."""

from api_schemas.volunteers import VolunteerStatus as S
from service.core.lifecycle import Lifecycle

TRANSITIONS: dict[S, frozenset[S]] = {state: frozenset(S) for state in S}
VOLUNTEER = Lifecycle("volunteer", S, TRANSITIONS, version=None)
move = VOLUNTEER.move
