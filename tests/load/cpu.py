"""CPU seconds used by processes, read from /proc (Linux): the server's, PostgreSQL's, the machine's."""

import os
from collections.abc import Iterator
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[str, list[str]]:
    name, rest = Path(f"/proc/{pid}/stat").read_text().split(" (", 1)[1].rsplit(")", 1)
    return name, rest.split()


def process_seconds(pid: int) -> float:
    """User and system CPU a process has used so far."""
    fields = _stat(pid)[1]
    return (int(fields[11]) + int(fields[12])) / TICKS


def tree_seconds(root: int) -> float:
    """CPU used so far by a process and its living children (uvicorn's workers)."""
    total = process_seconds(root)
    for task in Path(f"/proc/{root}/task").iterdir():
        try:
            children = (task / "children").read_text().split()
        except OSError:  # a thread that ended while we looked (the pool's threads come and go)
            continue
        for child in children:
            try:
                total += process_seconds(int(child))
            except OSError:
                continue
    return total


def _living() -> Iterator[tuple[str, str, float]]:
    """(pid, name, CPU seconds used so far) of every living process on this machine."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            name, fields = _stat(int(entry.name))
        except (OSError, ValueError):  # it ended while we looked
            continue
        yield entry.name, name, (int(fields[11]) + int(fields[12])) / TICKS


def postgres_seconds() -> float:
    """CPU used so far by every living PostgreSQL process on this machine."""
    return sum(seconds for _, name, seconds in _living() if name.startswith("postgres"))


def machine_busy_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, over all cores."""
    ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = ticks[3] + ticks[4]
    return (sum(ticks) - idle) / TICKS, sum(ticks) / TICKS


def seconds_by_process() -> dict[str, float]:
    """CPU used so far by living processes: PostgreSQL's summed as "postgres", Python's by "python:<pid>" (uvicorn's
    workers, locust and anything else in Python share the name), the rest by name; "machine" is every core's
    busy time."""
    totals = {"machine": machine_busy_seconds()[0]}
    for pid, name, seconds in _living():
        key = "postgres" if name.startswith("postgres") else f"python:{pid}" if name.startswith("python") else name
        totals[key] = totals.get(key, 0.0) + seconds
    return totals
