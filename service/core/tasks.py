"""Background work behind one small interface: a use case registers a named task and defers it, with plain
string arguments, once the transaction that makes the work needed has committed; a worker runs it.

The default runner works inside the process on one background thread (SQLite, the two-command start). A
PostgreSQL deployment swaps in a job queue shared by every worker on every machine (`set_runner`), so the
code that defers does not change. A task must be safe to run twice: it reads its state from the database and
does nothing when that work is already done (a worker killed mid-task has its job run again)."""

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Protocol

import structlog
from sqlalchemy import Engine

log = structlog.get_logger("peer_match.tasks")

TaskFn = Callable[..., None]
_TASKS: dict[str, TaskFn] = {}


def task(name: str) -> Callable[[TaskFn], TaskFn]:
    """Register `fn(engine, **kwargs)` under `name`; the name is what a queue stores, so keep it stable."""

    def register(fn: TaskFn) -> TaskFn:
        if _TASKS.get(name, fn) is not fn:
            raise ValueError(f"task {name!r} is already registered")
        _TASKS[name] = fn
        return fn

    return register


def registered(name: str) -> TaskFn:
    try:
        return _TASKS[name]
    except KeyError:
        raise LookupError(f"no task named {name!r}") from None


class Runner(Protocol):
    def defer(self, engine: Engine, name: str, kwargs: dict[str, str]) -> None: ...


class InProcessRunner:
    """Runs deferred tasks one after another on a thread of this process. Work deferred here is lost if the
    process dies before it runs, so every task's state lives in the database and a scan can pick it up again."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tasks")
        self.last: Future[None] | None = None

    def defer(self, engine: Engine, name: str, kwargs: dict[str, str]) -> None:
        fn = registered(name)
        self.last = self._pool.submit(_run_logged, fn, engine, name, kwargs)


def _run_logged(fn: TaskFn, engine: Engine, name: str, kwargs: dict[str, str]) -> None:
    try:
        fn(engine, **kwargs)
    except Exception as exc:  # the thread must survive one task's failure; the task records its own state
        log.error("task_failed", task=name, error_type=type(exc).__name__)


_runner: Runner = InProcessRunner()


def set_runner(runner: Runner) -> Runner:
    """Use `runner` from now on; the old one is returned (tests put it back)."""
    global _runner
    old, _runner = _runner, runner
    return old


def runner() -> Runner:
    return _runner


def defer(engine: Engine, name: str, **kwargs: str) -> None:
    """Queue task `name` with these arguments; call it after the commit that makes the work needed."""
    registered(name)
    _runner.defer(engine, name, kwargs)
