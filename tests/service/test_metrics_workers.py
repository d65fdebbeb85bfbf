"""/metrics with several workers counts every request, whichever worker served it and whichever answers."""

import re
from pathlib import Path

import httpx

from tests.served import served


def test_two_workers_count_every_request(tmp_path: Path) -> None:
    with served(data_dir=tmp_path, workers=2) as url:
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
