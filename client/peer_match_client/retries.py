"""When to try a request again, and how long to wait first."""

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

RETRY_STATUSES = frozenset({429, 503})


@dataclass(frozen=True)
class Retry:
    """Retries on 429 and 503 (waiting as Retry-After says) and on connection errors (backing off
    exponentially, `backoff_s * 2**n` with jitter, at most `max_delay_s`).

    `attempts` counts the first try. A Retry-After longer than `max_delay_s` is not waited for: the error
    is raised at once, so a caller is never blocked for minutes without knowing it."""

    attempts: int = 4
    backoff_s: float = 0.5
    max_delay_s: float = 30.0

    def delay(self, retry: int, response: httpx.Response | None) -> float | None:
        """Seconds to wait before retry number `retry` (0 for the first), or None to give up."""
        if retry + 1 >= self.attempts:
            return None
        if response is not None:
            asked = retry_after_seconds(response.headers.get("Retry-After"))
            if asked is not None:
                return asked if asked <= self.max_delay_s else None
        ceiling = min(self.max_delay_s, self.backoff_s * 2.0**retry)
        # Full jitter in the upper half: clients rejected together do not come back together.
        return ceiling * (0.5 + random.random() / 2)


NO_RETRY = Retry(attempts=1)


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """Retry-After as seconds: either a number of seconds or an HTTP date; None when absent or unreadable."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def is_retryable_status(status: int) -> bool:
    return status in RETRY_STATUSES
