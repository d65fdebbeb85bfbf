"""/metrics with several workers counts every request, whichever worker served it and whichever answers."""

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_two_workers_count_every_request(tmp_path: Path) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "PEER_MATCH_DATABASE_URL": "",
        "PEER_MATCH_DATA_DIR": str(tmp_path),
        "PEER_MATCH_RUN_WORKER_IN_APP": "false",
        "PEER_MATCH_LOG_LEVEL": "WARNING",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "peer-match"), "serve", "--port", str(port), "--workers", "2"],
        env=env,
        cwd=Path(__file__).parents[2],
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90  # two workers each import the app: slow on a busy 2-core box
        while True:
            assert server.poll() is None, "the server exited"
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        for _ in range(40):
            # A new connection each time, so the kernel spreads them over both workers.
            with httpx.Client(timeout=10) as fresh:
                assert fresh.get(f"{url}/readyz").status_code == 200
        text = httpx.get(f"{url}/metrics", timeout=10).text
        counted = sum(
            float(value)
            for value in re.findall(
                r'^peer_match_requests_total\{[^}]*route="/readyz"[^}]*\} ([0-9.e+]+)$', text, re.MULTILINE
            )
        )
        assert counted == 40, text[:2000]
        assert len(list((tmp_path / "metrics").glob("*.db"))) >= 2  # both workers wrote their counts
    finally:
        server.terminate()
        server.wait(timeout=30)
