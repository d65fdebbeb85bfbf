"""The command line as a new user meets it: keys bound to real volunteers, and links that carry the real port."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from service.cli import app
from service.core.config import Settings, get_settings


@pytest.fixture
def fresh_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("PEER_MATCH_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PEER_MATCH_DATABASE_URL", "")
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_a_volunteer_key_for_a_volunteer_who_does_not_exist_is_refused(fresh_data_dir: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["migrate"]).exit_code == 0
    result = runner.invoke(app, ["keys", "create", "--role", "volunteer", "--name", "Morag", "--volunteer-id", "nope"])
    assert result.exit_code != 0
    assert "no volunteer with id nope" in result.output
    listed = runner.invoke(app, ["keys", "list"])
    assert listed.exit_code == 0 and "Morag" not in listed.output


def test_the_public_url_follows_the_port_unless_it_is_set(tmp_path: Path) -> None:
    assert Settings(data_dir=tmp_path, port=9123).public_base_url == "http://127.0.0.1:9123"
    assert Settings(data_dir=tmp_path, host="0.0.0.0", port=8080).public_base_url == "http://127.0.0.1:8080"
    set_url = Settings(data_dir=tmp_path, port=9123, public_base_url="https://peer-match.example.org")
    assert set_url.public_base_url == "https://peer-match.example.org"
    with pytest.raises(ValueError, match="https"):
        Settings(data_dir=tmp_path, environment="production", port=9123)


def test_the_readme_s_example_referral_is_accepted_from_an_integrator(client, make_key) -> None:  # type: ignore[no-untyped-def]
    body = (Path(__file__).resolve().parents[2] / "docs" / "examples" / "referral.json").read_text()
    integrator = make_key("integrator", source="nhs-lothian")
    headers = {**integrator, "Idempotency-Key": "5d1c-01", "Content-Type": "application/json"}
    first = client.post("/v1/referrals", content=body, headers=headers)
    assert first.status_code == 201, first.text
    assert set(first.json()) == {"id", "external_id", "status", "received_at", "updated_at", "erased_at"}
    again = client.post("/v1/referrals", content=body, headers=headers)
    assert again.status_code == 201 and again.json() == first.json()


def test_the_worker_lowers_its_own_cpu_priority_so_requests_go_first() -> None:
    """`peer-match worker` calls lower_priority(settings.worker_nice) first: in a process of its own (niceness
    only rises), the priority drops by that much, and by nothing when it is 0."""
    import subprocess
    import sys

    script = "import os; from service.cli import lower_priority; before = os.nice(0); lower_priority({by}); "
    script += "print(os.nice(0) - before)"
    for by, expected in ((10, "10"), (0, "0")):
        done = subprocess.run([sys.executable, "-c", script.format(by=by)], capture_output=True, text=True, check=True)
        assert done.stdout.strip() == expected


def test_every_command_the_readme_and_compose_name_is_there() -> None:
    """`serve`, `worker`, `demo`, `migrate` and `keys` are commands of `peer-match` (a helper once took the
    worker's decorator, and compose's worker service would not have started)."""
    from service.cli import app

    help_text = CliRunner().invoke(app, ["--help"], terminal_width=200).output
    for command in ("serve", "worker", "demo", "migrate", "keys"):
        assert CliRunner().invoke(app, [command, "--help"]).exit_code == 0, command
    assert "lower-priority" not in help_text
