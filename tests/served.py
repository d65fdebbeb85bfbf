"""`peer-match serve` in a process of its own, as production runs it, for tests that need several workers."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def served(
    *, data_dir: Path, database_url: str = "", workers: int = 2, env: dict[str, str] | None = None
) -> Iterator[str]:
    """The service on a free port with `workers` processes (no in-app worker); yields its base URL."""
    port = free_port()
    environment = {
        **os.environ,
        "PEER_MATCH_DATABASE_URL": database_url,
        "PEER_MATCH_DATA_DIR": str(data_dir),
        "PEER_MATCH_RUN_WORKER_IN_APP": "false",
        "PEER_MATCH_LOG_LEVEL": "WARNING",
        **(env or {}),
    }
    environment.pop("PROMETHEUS_MULTIPROC_DIR", None)
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "peer-match"), "serve", "--port", str(port), "--workers", str(workers)],
        env=environment,
        cwd=Path(__file__).parents[1],
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90  # each worker imports the app: slow on a busy 2-core box
        while True:
            assert server.poll() is None, "the server exited"
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)
