"""`python -m tests.load.run`: the load scenario against uvicorn on PostgreSQL (or SQLite), on 127.0.0.1,
headless and bounded in time; prints requests per second and p50/p95/p99 per route, and errors.

PEER_MATCH_DATABASE_URL names the database; it is emptied first. Needs the `load` extra (locust)."""

import argparse
import csv
import importlib.util
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import astuple, dataclass
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlmodel import Session

from service.core import auth, migrate
from service.core.auth import Principal, Role
from service.core.config import Settings
from service.core.db import make_engine
from service.core.errors import Conflict
from service.core.ids import new_id
from service.match_runs import service as match_run_service
from service.matches import service as match_service
from service.tools import demo
from tests.load import cpu, floor, trace

HERE = Path(__file__).parent


def prepare(settings: Settings, *, integrators: int, volunteers_with_schedules: int) -> dict[str, object]:
    """An empty, migrated database with demo people, some matches with planned sessions, and keys."""
    engine = make_engine(settings)
    if not settings.is_sqlite:
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    migrate.upgrade(engine)
    floor.create_table(engine)
    actor = Principal(key_id=new_id(), role=Role.coordinator)
    with Session(engine) as session:
        demo.fill(session, referrals=300, volunteers=150, seed=5)
        run = demo.first_run(session)
        volunteer_ids: list[str] = []
        for proposal in run.proposals:
            if len(volunteer_ids) == volunteers_with_schedules:
                break
            if proposal.volunteer_id in volunteer_ids:
                continue
            # A proposal the accept's re-check refuses (the rules moved on since the run) is skipped.
            try:
                with session.begin_nested():
                    match = match_run_service.accept_proposal(session, actor=actor, proposal_id=proposal.id)
                    match_service.accept(session, actor=actor, match=match)
            except Conflict:
                continue
            volunteer_ids.append(proposal.volunteer_id)
        keys = {
            "coordinator": auth.create_key(session, name="load coordinator", role=Role.coordinator)[1],
            "integrators": [
                auth.create_key(session, name=f"load integrator {i}", role=Role.integrator, source=f"load-{i}")[1]
                for i in range(integrators)
            ],
            "volunteers": [
                auth.create_key(session, name="load volunteer", role=Role.volunteer, volunteer_id=vid)[1]
                for vid in volunteer_ids
            ],
        }
        session.commit()
    engine.dispose()
    return keys


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--warmup", type=int, default=10, help="seconds of unmeasured load first")
    parser.add_argument("--post-rate", type=float, default=320, help="referral posts a second offered in all")
    parser.add_argument(
        "--neighbour",
        type=float,
        metavar="SHARE",
        help="also keep this share of a core busy in another process, as other programs on the "
        "machine would, to see how much room the service has (tests/load/neighbour.py)",
    )
    parser.add_argument(
        "--floor-seconds",
        type=int,
        default=20,
        help="then, in the same run, the integrators post as often to the floor (tests/load/floor.py) for this "
        "long, alone, and the server CPU per post is given beside the floor's (0: no floor)",
    )
    parser.add_argument(
        "--no-match-runs",
        action="store_true",
        help="coordinators only list waiting referrals: how much of the posts' tail the runs they start make",
    )
    parser.add_argument(
        "--trace",
        type=Path,
        metavar="DIR",
        help="record what each worker did and when each request ran (tests/load/trace.py)",
    )
    args = parser.parse_args()
    if importlib.util.find_spec("locust") is None:
        sys.exit('the load scenario needs locust: pip install -e ".[load]"')
    settings = Settings()
    keys = prepare(settings, integrators=5, volunteers_with_schedules=20)
    port = free_port()
    env = {**os.environ, "PEER_MATCH_LOG_LEVEL": "WARNING", "PEER_MATCH_RATE_LIMIT_PER_MINUTE": "1000000"}
    if args.trace:
        args.trace.mkdir(parents=True, exist_ok=True)
        env["PEER_MATCH_LOAD_TRACE"] = str(args.trace.resolve())
    target = "tests.load.traced_app:app" if args.trace else "tests.load.floor_app:app"
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            target,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(args.workers),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        env=env,
    )
    neighbour = None
    if args.neighbour:
        neighbour = subprocess.Popen([sys.executable, "-m", "tests.load.neighbour", str(args.neighbour)])
    try:
        for _ in range(100):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        with tempfile.TemporaryDirectory() as out:
            key_file = Path(out) / "keys.json"
            key_file.write_text(json.dumps(keys))
            locust_env = {
                **env,
                "PEER_MATCH_LOAD_KEYS": str(key_file),
                "PEER_MATCH_LOAD_POST_RATE": str(args.post_rate),
                "PEER_MATCH_LOAD_MATCH_RUNS": "0" if args.no_match_runs else "1",
            }
            locust_env.pop("PEER_MATCH_LOAD_TRACE", None)  # the client records the measured run only
            # A first, unmeasured run fills the connection pools and the statement caches, as a server that has
            # been up for a minute has them; the figures come from the second run.
            phases = [(args.warmup, f"{out}/warmup"), (args.seconds, f"{out}/load")]
            if args.floor_seconds:
                phases.append((args.floor_seconds, f"{out}/floor"))
            used: dict[str, CpuUse] = {}
            for seconds, csv_prefix in phases:
                phase = csv_prefix.rsplit("/", 1)[1]
                floor_only = phase == "floor"
                before = CpuUse.now(server.pid, neighbour)
                stop_recording = threading.Event()
                if args.trace and csv_prefix.endswith("load"):
                    locust_env["PEER_MATCH_LOAD_TRACE"] = env["PEER_MATCH_LOAD_TRACE"]
                    threading.Thread(target=trace.record_machine, args=(args.trace, stop_recording)).start()
                subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "locust",
                        "-f",
                        str(HERE / "locustfile.py"),
                        "--headless",
                        "-u",
                        str(INTEGRATORS if floor_only else args.users),
                        "-r",
                        str(INTEGRATORS if floor_only else args.users),
                        "-t",
                        f"{seconds}s",
                        "--host",
                        f"http://127.0.0.1:{port}",
                        "--csv",
                        csv_prefix,
                        "--only-summary",
                        "--loglevel",
                        "WARNING",
                        # The floor: the integrators alone, posting the same bodies at the same rate to it.
                        *(["Integrator"] if floor_only else []),
                    ],
                    env={**locust_env, "PEER_MATCH_LOAD_POST_PATH": floor.PATH} if floor_only else locust_env,
                    check=False,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                used[phase] = CpuUse.now(server.pid, neighbour) - before
                stop_recording.set()
            report(Path(f"{out}/load_stats.csv"), args, used["load"])
            if args.floor_seconds:
                verdict(Path(out), args, used["load"], used["floor"])
    finally:
        server.terminate()
        server.wait(timeout=30)
        if neighbour is not None:
            neighbour.terminate()
            neighbour.wait(timeout=10)


@dataclass(frozen=True)
class CpuUse:
    """CPU seconds used so far by uvicorn and its workers, PostgreSQL, the load generator (locust, once it has
    ended) and the whole machine (everything else on it too), and the wall clock."""

    server: float
    postgres: float
    load_generator: float
    neighbour: float
    machine: float
    wall: float

    @classmethod
    def now(cls, server_pid: int, neighbour: subprocess.Popen[bytes] | None = None) -> "CpuUse":
        return cls(
            cpu.tree_seconds(server_pid),
            cpu.postgres_seconds(),
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
            + resource.getrusage(resource.RUSAGE_CHILDREN).ru_stime,
            cpu.process_seconds(neighbour.pid) if neighbour else 0.0,
            cpu.machine_busy_seconds()[0],
            time.monotonic(),
        )

    def __sub__(self, other: "CpuUse") -> "CpuUse":
        return CpuUse(*(a - b for a, b in zip(astuple(self), astuple(other), strict=True)))


def report(stats_file: Path, args: argparse.Namespace, used: CpuUse) -> None:
    rows = list(csv.DictReader(stats_file.open()))
    print(
        f"{args.users} users offering {args.post_rate:.0f} referral posts/s, {args.seconds} s, "
        f"uvicorn with {args.workers} workers on "
        f"{'SQLite' if Settings().is_sqlite else 'PostgreSQL'}, locust on the same 2-core machine"
        + (" -- no match runs: not the scenario the target is for" if args.no_match_runs else "")
    )
    print("| route | requests | failures | req/s | p50 ms | p95 ms | p99 ms |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for row in rows:
        print(
            f"| {row['Name']} | {row['Request Count']} | {row['Failure Count']} | "
            f"{float(row['Requests/s']):.1f} | {row['50%']} | {row['95%']} | {row['99%']} |"
        )
    requests = sum(int(row["Request Count"]) for row in rows if row["Name"] != "Aggregated")
    print(
        f"CPU, in cores busy on average: server {used.server / used.wall:.2f}, PostgreSQL "
        f"{used.postgres / used.wall:.2f}, locust {used.load_generator / used.wall:.2f}, the whole machine "
        f"{used.machine / used.wall:.2f} of {os.cpu_count()}; server CPU per request "
        f"{used.server / max(1, requests) * 1000:.2f} ms"
    )
    if args.neighbour:
        print(f"the neighbour (--neighbour {args.neighbour}): {used.neighbour / used.wall:.2f} cores")
    others = (used.machine - used.server - used.postgres - used.load_generator - used.neighbour) / used.wall
    # A second or two of another process taking half a core is enough to move p99 (tests/load/trace.py shows when).
    print(f"other processes: {others:.2f} cores" + (" -- something else ran: not comparable" if others > 0.05 else ""))
    failures = stats_file.with_name(stats_file.name.replace("_stats", "_failures"))
    for row in csv.DictReader(failures.open()) if failures.exists() else []:
        print(f"failure: {row['Method']} {row['Name']} x{row['Occurrences']}: {row['Error'][:200]}")


POST = "POST /v1/referrals"
INTEGRATORS = 40  # as in locustfile.py


def _row(stats_file: Path, name: str) -> dict[str, str]:
    return next((row for row in csv.DictReader(stats_file.open()) if row["Name"] == name), {})


def verdict(out: Path, args: argparse.Namespace, load: CpuUse, floor_use: CpuUse) -> None:
    """Server CPU per post beside the floor's, as a ratio, and issue 25's target, met or not, part by part."""
    rows = list(csv.DictReader((out / "load_stats.csv").open()))
    requests = sum(int(row["Request Count"]) for row in rows if row["Name"] != "Aggregated")
    failures = sum(int(row["Failure Count"]) for row in rows if row["Name"] != "Aggregated")
    post = _row(out / "load_stats.csv", POST)
    floor_row = _row(out / "floor_stats.csv", POST)
    floor_requests = int(floor_row.get("Request Count", 0))
    floor_failures = int(floor_row.get("Failure Count", 0))
    # Every route's CPU is counted against the scenario's requests (posts are ~97% of them; the match runs and
    # lists cost more each), so the ratio errs against the service.
    per_request = load.server / max(1, requests) * 1000
    per_floor = floor_use.server / max(1, floor_requests) * 1000
    ratio = per_request / per_floor if per_floor else float("inf")
    print(
        f"floor ({args.floor_seconds} s, the {INTEGRATORS} integrators alone posting to {floor.PATH}): "
        f"{float(floor_row.get('Requests/s', 0)):.1f}/s, p99 {floor_row.get('99%', '?')} ms, "
        f"{floor_failures} failures; server {floor_use.server / floor_use.wall:.2f} cores, whole machine "
        f"{floor_use.machine / floor_use.wall:.2f}; server CPU per request {per_floor:.2f} ms"
    )
    rate, p99 = float(post.get("Requests/s", 0)), float(post.get("99%", "inf") or "inf")
    checks = {
        f"posts/s {rate:.1f} >= 300": rate >= 300,
        f"posts p99 {p99:.0f} ms < 100": p99 < 100,
        f"failures {failures} == 0": failures == 0 and floor_failures == 0,
        f"server CPU per request / floor's {per_request:.2f} / {per_floor:.2f} = {ratio:.2f} <= 3": ratio <= 3,
    }
    print(
        f"target at {args.post_rate:.0f} offered: "
        + "; ".join(f"{check} {'yes' if ok else 'NO'}" for check, ok in checks.items())
        + f" -- {'met' if all(checks.values()) else 'missed'}"
    )


if __name__ == "__main__":
    main()
