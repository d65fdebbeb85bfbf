"""Requests per API key over a moving one-minute window, with `limits`.

Where the counts live is a setting (`PEER_MATCH_RATE_LIMIT_STORAGE`, a `limits` storage URI). The default,
`memory://`, keeps them in each worker process, so with several workers each enforces the limit on its own
share of the traffic. A shared store (`redis://…`, `memcached://…`, with that client installed) makes N per
minute mean N across every worker and machine; so does `database`, the service's own PostgreSQL
(`rate_limit_store.py`), which needs no other service."""

import math
import time
from dataclasses import dataclass

from limits import RateLimitItemPerMinute
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from service.core.rate_limit_store import DatabaseStorage


@dataclass(frozen=True)
class Quota:
    """One request's standing against its key's limit, for the RateLimit-* headers and a 429's Retry-After."""

    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int  # until the oldest request in the window leaves it

    def headers(self) -> list[tuple[bytes, bytes]]:
        return [
            (b"ratelimit-limit", str(self.limit).encode()),
            (b"ratelimit-remaining", str(self.remaining).encode()),
            (b"ratelimit-reset", str(self.reset_seconds).encode()),
        ]


class KeyRateLimiter:
    def __init__(self, per_minute: int, storage_uri: str = "memory://", database_url: str = "") -> None:
        self.item = RateLimitItemPerMinute(per_minute) if per_minute > 0 else None
        # Counted in this process's memory, without I/O: may be counted on the event loop's thread.
        self.local = self.item is None or storage_uri == "memory://"
        storage = DatabaseStorage(database_url) if storage_uri == "database" else storage_from_string(storage_uri)
        if storage_uri == "database" and not storage.check():
            raise ValueError("the rate limit storage `database` has no table: run `peer-match migrate`")
        self.limiter = MovingWindowRateLimiter(storage)

    def hit(self, key_id: str) -> Quota | None:
        """Count one request of this key (none when no limit is set); `allowed` is false once it is over."""
        if self.item is None:
            return None
        allowed = self.limiter.hit(self.item, "api_key", key_id)
        reset_at, remaining = self.limiter.get_window_stats(self.item, "api_key", key_id)
        return Quota(allowed, self.item.amount, remaining, max(0, math.ceil(reset_at - time.time())))
