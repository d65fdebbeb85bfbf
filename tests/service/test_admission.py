"""AdmitAtMost: no more requests at work at once than the limit, the rest served in arrival order."""

import asyncio
from typing import Any

import pytest

from service.core.middleware import AdmitAtMost


class _SlowApp:
    def __init__(self) -> None:
        self.at_work = 0
        self.most_at_work = 0
        self.started: list[int] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.at_work += 1
        self.most_at_work = max(self.most_at_work, self.at_work)
        self.started.append(scope["n"])
        await asyncio.sleep(0.01)
        self.at_work -= 1


async def _nothing() -> dict[str, Any]:
    return {}


async def _ignore(_message: Any) -> None:
    return None


@pytest.mark.parametrize("limit", [1, 3])
def test_no_more_requests_at_work_than_the_limit_and_the_rest_in_arrival_order(limit: int) -> None:
    app = _SlowApp()
    admit = AdmitAtMost(app, limit=limit)  # type: ignore[arg-type]

    async def burst() -> None:
        await asyncio.gather(*(admit({"type": "http", "n": n}, _nothing, _ignore) for n in range(12)))

    asyncio.run(burst())
    assert app.most_at_work == limit
    assert app.started == list(range(12))


def test_the_platform_probes_do_not_wait_behind_work() -> None:
    app = _SlowApp()
    admit = AdmitAtMost(app, limit=1)  # type: ignore[arg-type]

    async def probe_while_busy() -> None:
        work = asyncio.gather(
            *(admit({"type": "http", "path": "/v1/referrals", "n": n}, _nothing, _ignore) for n in range(3))
        )
        await asyncio.sleep(0)
        await admit({"type": "http", "path": "/healthz", "n": 99}, _nothing, _ignore)
        await work

    asyncio.run(probe_while_busy())
    assert app.started.index(99) == 1  # after the one request at work, ahead of the two waiting
    assert app.most_at_work == 2


def test_each_event_loop_has_its_own_queue() -> None:
    app = _SlowApp()
    admit = AdmitAtMost(app, limit=2)  # type: ignore[arg-type]

    async def burst() -> None:
        await asyncio.wait_for(
            asyncio.gather(*(admit({"type": "http", "n": n}, _nothing, _ignore) for n in range(5))), timeout=5
        )

    for _ in range(2):  # a semaphore bound to the first, finished loop would fail on the second
        asyncio.run(burst())
    assert app.most_at_work == 2
