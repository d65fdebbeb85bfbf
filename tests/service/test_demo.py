"""`peer-match demo` as a new user runs it: a fresh SQLite file, realistic data, a key, the first run's table."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from service.cli import app
from service.core.config import get_settings


def test_demo_fills_an_empty_database_and_prints_the_first_runs_proposals(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PEER_MATCH_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PEER_MATCH_DATABASE_URL", "")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["demo", "--referrals", "40", "--volunteers", "20"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "demo data: 40 referrals, 20 volunteers"
    header = next(i for i, line in enumerate(lines) if line.startswith("referral "))
    rows = [
        line for line in lines[header + 1 :] if line and not line.startswith(("not matched", "coordinator", "docs"))
    ]
    assert rows and all("(+" in row for row in rows)  # every proposal shows its reasons with their points
    assert "coordinator key (shown once): pm_" in result.output
    assert (tmp_path / "peer-match.sqlite3").exists()
