"""Which session is which: the last is the closing session, the one `offset` before it the ending conversation,
so the ending is planned from the start and moves when sessions are added."""

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime

from scheduling.model import PlannedSession


def mark_kinds(total: int, offset: int) -> list[str]:
    """Kinds of sessions 1..total: 'regular', with 'ending_conversation' at `total - offset` and 'closing' last.
    A match too short for both keeps just the closing session."""
    kinds = ["regular"] * total
    if total >= 1:
        kinds[-1] = "closing"
    if offset >= 1 and total - offset >= 1:
        kinds[total - offset - 1] = "ending_conversation"
    return kinds


def renumber(sessions: Iterable[PlannedSession], offset: int) -> tuple[PlannedSession, ...]:
    """One match's sessions numbered 1..n in time order, with their kinds marked afresh."""
    ordered = sorted(sessions, key=lambda s: s.starts_at)
    kinds = mark_kinds(len(ordered), offset)
    return tuple(replace(s, number=i, kind=kinds[i - 1]) for i, s in enumerate(ordered, start=1))


def remark(sessions: Iterable[PlannedSession], offset: int) -> tuple[PlannedSession, ...]:
    """One match's sessions in time order with their kinds marked afresh by position; numbers are kept (they
    identify sessions), so the ending markers move when sessions are added or moved."""
    ordered = sorted(sessions, key=lambda s: s.starts_at)
    kinds = mark_kinds(len(ordered), offset)
    return tuple(replace(s, kind=kind) for s, kind in zip(ordered, kinds, strict=True))


def numbered(starts: Sequence[datetime], offset: int) -> list[tuple[int, str]]:
    """(number, kind) for each of a match's live sessions, given by start time in any order: numbers 1..n in
    date order (ties keep the given order) and the ending markers on the right sessions, after any change
    (a reschedule, a cancellation with a replacement, leave, an extension or a pause)."""
    order = sorted(range(len(starts)), key=lambda i: starts[i])
    kinds = mark_kinds(len(starts), offset)
    out: list[tuple[int, str]] = [(0, "")] * len(starts)
    for position, i in enumerate(order, start=1):
        out[i] = (position, kinds[position - 1])
    return out
