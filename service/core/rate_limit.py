"""Requests per API key: a moving one-minute window kept in this process's memory, so with several worker
processes each enforces the limit on its own share of the traffic (the limit is per worker)."""

import math
import time

from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from service.core.errors import TooManyRequests


class KeyRateLimiter:
    def __init__(self, per_minute: int) -> None:
        self.item = RateLimitItemPerMinute(per_minute) if per_minute > 0 else None
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    def hit(self, key_id: str) -> None:
        """Count one request of this key; 429 with the seconds until a place frees if it is over its limit."""
        if self.item is None or self.limiter.hit(self.item, "api_key", key_id):
            return
        reset_at, _remaining = self.limiter.get_window_stats(self.item, "api_key", key_id)
        raise TooManyRequests(retry_after=max(1, math.ceil(reset_at - time.time())))
