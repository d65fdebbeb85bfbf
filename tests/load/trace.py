"""What each uvicorn worker was doing when requests were slow: `python -m tests.load.run --trace DIR` serves
`tests.load.traced_app:app` (the service, wrapped) and has locust write every request it timed; then
`python -m tests.load.trace DIR` puts them side by side.

Each worker writes, as it shuts down, DIR/worker-<pid>.json (wall-clock seconds, one clock for every process):
requests as the service saw them from uvicorn's hand-off to the last byte, garbage collections, the event
loop's lateness (a 5 ms sleep that woke over 10 ms late: the loop's thread was kept from running), and the
delivery worker's rounds. Locust writes DIR/client-<pid>.json, the runner DIR/machine.json (every process's
cores, five times a second)."""

import argparse
import asyncio
import contextvars
import gc
import json
import os
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.load import cpu

TRACE_DIR = os.environ.get("PEER_MATCH_LOAD_TRACE", "")
Span = tuple[float, float, str]  # start, end, what
# Where a request's wall time went, in seconds: waiting for admission, waiting for a thread of the pool,
# running in a thread, of which in the driver's execute (a statement's round trip and its Python), waiting for
# the event loop to take the answer back from the thread; then the trips through the pool and statements made.
PARTS = ("admission", "thread queue", "in thread", "of which statements", "back to loop", "pool trips", "statements")
_parts: contextvars.ContextVar[list[float] | None] = contextvars.ContextVar("load_trace_parts", default=None)


class Recorder:
    def __init__(self) -> None:
        self.requests: list[Span] = []
        self.gc: list[Span] = []
        self.loop_late: list[Span] = []
        self.worker: list[Span] = []
        self.parts: list[tuple[float, float, str, list[float]]] = []
        self._gc_started = 0.0

    def on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_started = time.time()
        else:
            self.gc.append((self._gc_started, time.time(), f"gen{info['generation']}"))

    async def watch_loop(self) -> None:
        while True:
            started = time.perf_counter()
            await asyncio.sleep(0.005)
            late = time.perf_counter() - started - 0.005
            if late > 0.010:
                now = time.time()
                self.loop_late.append((now - late, now, "late"))

    def write(self) -> None:
        path = Path(TRACE_DIR) / f"worker-{os.getpid()}.json"
        path.write_text(
            json.dumps(
                {
                    "requests": self.requests,
                    "gc": self.gc,
                    "loop_late": self.loop_late,
                    "worker": self.worker,
                    "parts": self.parts,
                }
            )
        )


def _timed(recorder: Recorder, name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.time()
        try:
            return func(*args, **kwargs)
        finally:
            recorder.worker.append((started, time.time(), name))

    return timed


class _Admission:
    """What AdmitAtMost reads of itself, with the app it admits to timed: how long the request waited."""

    def __init__(self, admit: Any, app: Any) -> None:
        self.__dict__.update(admit.__dict__)
        self.app = app


def _time_the_parts() -> None:
    """Patches, in this worker only: admission, the thread pool's trips and the driver's statements add to the
    current request's parts."""
    import anyio.to_thread
    from sqlalchemy import Engine, event

    from service.core.middleware import AdmitAtMost

    admit_call = AdmitAtMost.__call__

    async def timed_admit(self: Any, scope: Any, receive: Any, send: Any) -> None:
        parts, asked = _parts.get(), time.perf_counter()
        inner = self.app

        async def admitted(scope: Any, receive: Any, send: Any) -> None:
            if parts is not None:
                parts[0] += time.perf_counter() - asked
            await inner(scope, receive, send)

        await admit_call(_Admission(self, admitted), scope, receive, send)  # type: ignore[arg-type]

    AdmitAtMost.__call__ = timed_admit  # type: ignore[method-assign]
    run_sync = anyio.to_thread.run_sync

    async def timed_run_sync(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        parts = _parts.get()
        if parts is None:
            return await run_sync(func, *args, **kwargs)
        asked, ran = time.perf_counter(), [0.0, 0.0]

        def timed(*a: Any) -> Any:
            ran[0] = time.perf_counter()
            try:
                return func(*a)
            finally:
                ran[1] = time.perf_counter()

        try:
            return await run_sync(timed, *args, **kwargs)
        finally:
            back = time.perf_counter()
            parts[1] += ran[0] - asked
            parts[2] += ran[1] - ran[0]
            parts[4] += back - ran[1]
            parts[5] += 1

    anyio.to_thread.run_sync = timed_run_sync  # type: ignore[assignment]

    def before(conn: Any, *_args: Any) -> None:
        conn.info["load_trace_started"] = time.perf_counter()

    def after(conn: Any, *_args: Any) -> None:
        parts = _parts.get()
        if parts is not None:
            parts[3] += time.perf_counter() - conn.info.pop("load_trace_started", time.perf_counter())
            parts[6] += 1

    event.listen(Engine, "before_cursor_execute", before)
    event.listen(Engine, "after_cursor_execute", after)


def traced_app() -> Any:
    from service.events.worker import DeliveryWorker
    from tests.load.floor_app import app as service_app

    recorder = Recorder()
    gc.callbacks.append(recorder.on_gc)
    _time_the_parts()
    DeliveryWorker.run_jobs = _timed(recorder, "jobs", DeliveryWorker.run_jobs)  # type: ignore[method-assign]
    DeliveryWorker._due = _timed(recorder, "due", DeliveryWorker._due)  # type: ignore[method-assign]
    watching: list[asyncio.Task[None]] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            # multiprocessing ends uvicorn's workers with os._exit, so atexit would never write.
            async def send_then_write(message: dict[str, Any]) -> None:
                if message["type"] == "lifespan.shutdown.complete":
                    recorder.write()
                await send(message)

            await service_app(scope, receive, send_then_write)
            return
        if scope["type"] != "http":
            await service_app(scope, receive, send)
            return
        if not watching:
            watching.append(asyncio.get_running_loop().create_task(recorder.watch_loop()))
        started, parts = time.time(), [0.0] * len(PARTS)
        token = _parts.set(parts)
        try:
            await service_app(scope, receive, send)
        finally:
            _parts.reset(token)
            what = f"{scope['method']} {scope['path']}"
            recorder.requests.append((started, time.time(), what))
            recorder.parts.append((started, time.time(), what, parts))

    return app


def record_machine(directory: Path, stop: threading.Event, interval_s: float = 0.2) -> None:
    """The cores each process used in every `interval_s` until `stop` is set: what else ran when requests were
    slow."""
    samples: list[tuple[float, dict[str, float]]] = []
    before, then = cpu.seconds_by_process(), time.time()
    while not stop.wait(interval_s):
        now, used = cpu.seconds_by_process(), time.time()
        samples.append(
            (
                then,
                {
                    name: round((s - before.get(name, 0.0)) / (used - then), 2)
                    for name, s in now.items()
                    if s > before.get(name, 0.0)
                },
            )
        )
        before, then = now, used
    (directory / "machine.json").write_text(json.dumps(samples))


def record_client(environment: Any) -> None:
    """Locust's side: every request's start and end as the client saw them."""
    spans: list[Span] = []

    def on_request(name: str, response_time: float, start_time: float = 0.0, **_kwargs: Any) -> None:
        spans.append((start_time, start_time + response_time / 1000, name))

    def on_quit(**_kwargs: Any) -> None:
        (Path(TRACE_DIR) / f"client-{os.getpid()}.json").write_text(json.dumps(spans))

    environment.events.request.add_listener(on_request)
    environment.events.quitting.add_listener(on_quit)


def _overlaps(span: Span, others: list[Span]) -> list[Span]:
    return [o for o in others if o[0] < span[1] and o[1] > span[0]]


def _percentiles(seconds: list[float]) -> str:
    ms = sorted(x * 1000 for x in seconds)
    return " / ".join(f"{ms[min(len(ms) - 1, int(len(ms) * q))]:.0f}" for q in (0.5, 0.95, 0.99, 0.999))


def analyse(directory: Path, slow_ms: float) -> None:
    workers = {p.stem: json.loads(p.read_text()) for p in sorted(directory.glob("worker-*.json"))}
    client = [tuple(s) for p in directory.glob("client-*.json") for s in json.loads(p.read_text())]
    begin, end = min(s[0] for s in client), max(s[1] for s in client)
    print(f"{len(client)} client requests over {end - begin:.0f} s; slow means over {slow_ms:.0f} ms")
    slow_client = [s for s in client if (s[1] - s[0]) * 1000 > slow_ms]
    print(f"client: {len(slow_client)} slow ({len(slow_client) / len(client):.1%})")
    served = [tuple(s) for trace in workers.values() for s in trace["requests"] if begin <= s[0] <= end]
    for side, spans in (("client", client), ("service", served)):
        print(f"{side}, ms at p50/p95/p99/p99.9: {_percentiles([s[1] - s[0] for s in spans])}")
    # Arrivals as the client sent them: 320 a second spread evenly is about 3 in each 10 ms.
    counts = [0] * (int((end - begin) * 100) + 1)
    for s in client:
        counts[int((s[0] - begin) * 100)] += 1
    in_crowd = sum(c for c in counts if c >= 10) / len(client)
    print(
        f"requests sent per 10 ms: mean {len(client) / len(counts):.1f}, max {max(counts)}; "
        f"{in_crowd:.0%} of them sent in a 10 ms with 10 or more"
    )
    for name, trace in workers.items():
        within = {k: [tuple(s) for s in v if begin <= s[0] <= end] for k, v in trace.items()}
        requests = within["requests"]
        slow = [s for s in requests if (s[1] - s[0]) * 1000 > slow_ms]
        runs = [s for s in requests if s[2] == "POST /v1/match-runs"]
        print(
            f"\n{name}: {len(requests)} requests, {len(slow)} slow in the service "
            f"({len(slow) / max(1, len(requests)):.1%})"
        )
        for kind in ("gc", "worker"):
            by_what: dict[str, list[float]] = defaultdict(list)
            for s in within[kind]:
                by_what[s[2]].append((s[1] - s[0]) * 1000)
            for what, ms in sorted(by_what.items()):
                ms.sort()
                print(
                    f"  {kind} {what}: {len(ms)}, total {sum(ms):.0f} ms, max {ms[-1]:.1f} ms, "
                    f"p99 {ms[int(len(ms) * 0.99)]:.1f} ms"
                )
        late = within["loop_late"]
        print(
            f"  loop late over 10 ms: {len(late)} times, {sum(s[1] - s[0] for s in late) * 1000:.0f} ms in all, "
            f"max {max(((s[1] - s[0]) * 1000 for s in late), default=0):.0f} ms"
        )
        print(f"  match runs: {[round((s[1] - s[0]) * 1000) for s in runs]} ms")
        suspects = {
            "match run": runs,
            "gc gen2": [g for g in within["gc"] if g[2] == "gen2"],
            "jobs": [w for w in within["worker"] if w[2] == "jobs"],
            "loop late": late,
        }
        others = [s for s in requests if s not in runs]
        for label, spans in suspects.items():
            during = [s for s in others if _overlaps(s, spans)]
            if during:
                print(
                    f"  {len(during)} requests during {label}, ms at p50/p95/p99/p99.9: "
                    f"{_percentiles([s[1] - s[0] for s in during])}"
                )
        apart = [s for s in others if not any(_overlaps(s, spans) for spans in suspects.values())]
        print(
            f"  {len(apart)} requests during none of these: {_percentiles([s[1] - s[0] for s in apart])}; "
            f"{sum(1 for s in slow if s in apart)} of the {len(slow)} slow"
        )


def where_the_time_went(directory: Path, what: str = "POST /v1/referrals") -> None:
    """A post's wall time in the service, in parts: all posts, and the slowest 1% of them."""
    spans = [
        (s[1] - s[0], s[3])
        for p in sorted(directory.glob("worker-*.json"))
        for s in json.loads(p.read_text()).get("parts", [])
        if s[2] == what
    ]
    if not spans:
        return
    spans.sort(key=lambda s: s[0])
    print(f"\n{what} in the service, mean ms per request (pool trips and statements: counts)")
    print("| requests | wall | " + " | ".join(PARTS) + " |")
    print("| --- | ---: | " + " | ".join("---:" for _ in PARTS) + " |")
    for label, chosen in (("all", spans), ("slowest 1%", spans[-max(1, len(spans) // 100) :])):
        mean = [sum(c[1][i] for c in chosen) / len(chosen) for i in range(len(PARTS))]
        cells = [f"{m * 1000:.2f}" for m in mean[:5]] + [f"{m:.1f}" for m in mean[5:]]
        wall = sum(c[0] for c in chosen) / len(chosen) * 1000
        print(f"| {label} ({len(chosen)}) | {wall:.1f} | " + " | ".join(cells) + " |")


def others_when_slow(directory: Path, slow_ms: float) -> None:
    """Each second with a slow request in the service, and what used CPU beside the server, PostgreSQL and
    locust then."""
    machine_file = directory / "machine.json"
    if not machine_file.exists():
        return
    ours = {f"python:{p.stem.split('-')[1]}" for p in directory.glob("*-*.json")} | {"postgres", "machine"}
    slow_seconds = sorted(
        {
            int(s[0])
            for p in directory.glob("worker-*.json")
            for s in json.loads(p.read_text())["requests"]
            if (s[1] - s[0]) * 1000 > slow_ms
        }
    )
    by_second: dict[int, list[dict[str, float]]] = defaultdict(list)
    for when, cores in json.loads(machine_file.read_text()):
        by_second[int(when)].append(cores)
    print("\nseconds with slow requests: the whole machine's cores, and others over 0.1 core")
    for second in slow_seconds:
        samples = by_second.get(second, [])
        if not samples:
            continue
        mean = {k: sum(c.get(k, 0.0) for c in samples) / len(samples) for c in samples for k in c}
        others = {k: v for k, v in mean.items() if k not in ours and v > 0.1 and not k.startswith("kworker")}
        print(
            f"  {time.strftime('%H:%M:%S', time.localtime(second))}: machine {mean.get('machine', 0):.2f}"
            + "".join(f", {k} {v:.2f}" for k, v in sorted(others.items(), key=lambda kv: -kv[1]))
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("directory", type=Path)
    parser.add_argument("--slow-ms", type=float, default=100)
    args = parser.parse_args()
    analyse(args.directory, args.slow_ms)
    where_the_time_went(args.directory)
    others_when_slow(args.directory, args.slow_ms)


if __name__ == "__main__":
    main()
