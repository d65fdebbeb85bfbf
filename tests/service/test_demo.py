"""`peer-match demo` as a new user runs it: a fresh SQLite file, realistic data, a key, the first run's table."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from service.cli import app
from service.core.config import get_settings
from service.tools import demo


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
    lines = result.stdout.splitlines()
    assert lines[0] == "demo data: 40 referrals, 20 volunteers"
    header = next(i for i, line in enumerate(lines) if line.startswith("referral "))
    end = next(i for i, line in enumerate(lines) if line.startswith(("one match's messages", "coordinator")))
    rows = [line for line in lines[header + 1 : end] if line and not line.startswith("not matched")]
    assert rows and all("(+" in row for row in rows)  # every proposal shows its reasons with their points
    assert "coordinator key (shown once): pm_" in result.output
    assert (tmp_path / "peer-match.sqlite3").exists()


def test_the_demo_shows_one_matchs_messages_masked_from_offer_to_reminders(
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
    lines = result.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("one match's messages (log channel"))
    shown = lines[start + 1 : next(i for i, line in enumerate(lines) if line.startswith("coordinator key"))]
    kinds = [line.split()[4] for line in shown]
    assert kinds[:4] == ["match_offered", "match_confirmed", "session_reminder", "session_reminder"]
    assert kinds[4:] in ([], ["check_in_prompt"])  # a home visit's volunteer is prompted to check in
    assert [line.split()[5] for line in shown[:2]] == ["email", "sms"]
    text = "\n".join(shown).lower() + result.stderr.lower()  # and the worker's log lines
    never = [*demo.SURNAMES, *demo.FIRST, *demo.FATHERS, *(d for d, _ in demo.DISTRICTS), *demo.EXPERIENCES]
    never += [*demo.BACKGROUND, "depression", "anxiety", "07700", "@example.org", "volunteer"]
    for word in never:
        assert word.lower() not in text, word
