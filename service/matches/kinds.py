"""Ending markers follow the live sessions: the last is closing, the one `offset` before it the ending
conversation. A session whose kind changes gets a new calendar SEQUENCE."""

from scheduling.kinds import mark_kinds
from service.core import clock
from service.models import SupportSession


def remark(live: list[SupportSession], offset: int) -> list[SupportSession]:
    """Re-mark kinds over the live sessions in time order; the sessions whose kind changed."""
    ordered = sorted(live, key=lambda s: s.starts_at)
    changed = []
    for row, kind in zip(ordered, mark_kinds(len(ordered), offset), strict=True):
        if row.kind != kind:
            row.kind = kind
            row.sequence += 1
            row.updated_at = clock.now()
            changed.append(row)
    return changed
