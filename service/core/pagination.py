"""Cursor pagination over time-ordered ids: the cursor is the last id seen, opaque to clients."""

import base64
import binascii
import uuid
from typing import Annotated

from fastapi import Query

from service.core.errors import invalid

LimitParam = Annotated[int, Query(ge=1, le=200, description="Page size (default 50, max 200)")]
CursorParam = Annotated[str | None, Query(max_length=200, description="next_cursor of the previous page")]


def encode(last_id: str) -> str:
    return base64.urlsafe_b64encode(last_id.encode()).decode().rstrip("=")


def decode(cursor: str | None) -> str | None:
    if cursor is None:
        return None
    try:
        value = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise invalid(["query", "cursor"], "not a cursor returned by this service") from None
    # Only a record id in its canonical form reaches a query: any other string (NUL bytes, say) could be a
    # database error rather than a clear 422.
    try:
        canonical = str(uuid.UUID(value))
    except ValueError:
        canonical = None
    if canonical != value:
        raise invalid(["query", "cursor"], "not a cursor returned by this service")
    return value


def next_cursor(ids: list[str], limit: int) -> str | None:
    return encode(ids[limit - 1]) if len(ids) > limit else None
