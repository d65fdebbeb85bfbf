"""Numbers and ending markers follow the live sessions' dates after every change (a reschedule, a cancellation
with its replacement, leave, an extension): session n is the n-th in time, the last is closing, the one
`offset` before it the ending conversation. A session whose number or kind changes gets a new calendar
SEQUENCE."""

from scheduling.kinds import numbered
from service.core import clock
from service.models import SupportSession


def remark(live: list[SupportSession], offset: int) -> list[SupportSession]:
    """Renumber and re-mark the live sessions in time order; the sessions that changed."""
    changed = []
    for row, (number, kind) in zip(live, numbered([s.starts_at for s in live], offset), strict=True):
        if row.kind != kind or row.number != number:
            row.number, row.kind = number, kind
            row.sequence += 1
            row.updated_at = clock.now()
            changed.append(row)
    return changed
