"""The container and lock files: what the build context leaves out, how the image installs, what compose runs.

`docker build` cannot run in CI (no registry), so these read the files as Docker and pip would.
"""

import re
import tomllib
from pathlib import Path

import pytest
import typer.main

from service.cli import app
from service.core.config import Settings

ROOT = Path(__file__).resolve().parent.parent
DIGEST_PINNED_BASE = re.compile(r"^python:3\.11-slim@sha256:[0-9a-f]{64}$")


def _dockerignore_patterns() -> list[tuple[bool, re.Pattern[str]]]:
    """(excludes, pattern) pairs in file order, with Docker's meaning of `*`, `**` and `?`."""
    patterns = []
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        excludes = not line.startswith("!")
        glob = line.lstrip("!").strip("/")
        regex = ""
        for token in re.split(r"(\*\*/|\*\*|\*|\?)", glob):
            regex += {"**/": "(?:.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}.get(token, re.escape(token))
        patterns.append((excludes, re.compile(regex)))
    return patterns


def _left_out_of_context(path: str) -> bool:
    """Whether Docker leaves `path` out of the build context: the last pattern matching it or a parent decides."""
    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    left_out = False
    for excludes, pattern in _dockerignore_patterns():
        if any(pattern.fullmatch(candidate) for candidate in candidates):
            left_out = excludes
    return left_out


def _dockerfile_instructions() -> list[str]:
    """The Dockerfile's instructions, continuation lines joined and comments dropped."""
    instructions: list[str] = []
    pending = ""
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.lstrip().startswith("#") or not line.strip():
            continue
        pending += line.rstrip()
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        instructions.append(pending)
        pending = ""
    return instructions


def _lock_pins(name: str) -> dict[str, str]:
    """{normalised name: version} of a lock file, and checks on the way that each pin carries a hash."""
    pins = {}
    entries = re.split(r"\n(?=[A-Za-z0-9])", (ROOT / name).read_text())
    for entry in entries:
        first = entry.splitlines()[0]
        if first.startswith("#"):
            continue
        match = re.match(r"^([A-Za-z0-9._-]+)(?:\[[^\]]*\])?==(\S+)", first)
        assert match, f"{name}: not an exact pin: {first}"
        assert "--hash=sha256:" in entry, f"{name}: {first} has no hash"
        pins[_normalised(match[1])] = match[2]
    return pins


def _normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pyproject_pins(*, extras: tuple[str, ...] = ()) -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    for extra in extras:
        requirements += project["optional-dependencies"][extra]
    pins = {}
    for requirement in requirements:
        match = re.match(r"^([A-Za-z0-9._-]+)(?:\[[^\]]*\])?==(\S+)$", requirement)
        assert match, f"pyproject.toml: not an exact pin: {requirement}"
        pins[_normalised(match[1])] = match[2]
    return pins


@pytest.mark.parametrize(
    "path",
    [".venv/bin/python", ".git/HEAD", "data/peer-match.sqlite3", ".env", "service/__pycache__/cli.cpython-311.pyc"],
)
def test_dockerignore_leaves_local_and_secret_files_out_of_the_build_context(path: str) -> None:
    assert _left_out_of_context(path)


def test_dockerignore_keeps_every_file_the_dockerfile_copies() -> None:
    sources = []
    for instruction in _dockerfile_instructions():
        words = instruction.split()
        if words[0] == "COPY" and not any(word.startswith("--from") for word in words):
            sources += words[1:-1]
    assert "requirements.lock" in sources
    for source in sources:
        assert (ROOT / source).exists(), source
        inside = next((ROOT / source).rglob("*.py"), None) if (ROOT / source).is_dir() else None
        for path in [source] + ([str(inside.relative_to(ROOT))] if inside else []):
            assert not _left_out_of_context(path), path


def test_every_stage_starts_from_python_3_11_slim_pinned_by_digest() -> None:
    instructions = _dockerfile_instructions()
    args = dict(re.findall(r"^ARG (\w+)=(\S+)$", "\n".join(instructions), flags=re.MULTILINE))
    bases = [instruction.split()[1] for instruction in instructions if instruction.startswith("FROM ")]
    assert bases
    for base in bases:
        resolved = args.get(base.strip("${}"), base) if base.startswith("$") else base
        assert DIGEST_PINNED_BASE.match(resolved), resolved


def test_image_installs_the_hashed_lock_before_it_copies_the_source() -> None:
    instructions = _dockerfile_instructions()

    def position(pattern: str) -> int:
        return next(i for i, instruction in enumerate(instructions) if re.search(pattern, instruction))

    copy_lock = position(r"^COPY requirements\.lock ")
    install_lock = position(r"^RUN pip install .*--require-hashes -r requirements\.lock")
    copy_source = position(r"^COPY service ")
    install_project = position(r"^RUN pip install .*--no-deps \.$")
    assert copy_lock < install_lock < copy_source < install_project
    assert not any(re.search(r"^COPY (\.|pyproject)", i) for i in instructions[:install_lock])


def test_image_serves_two_workers_on_all_interfaces_as_a_numeric_non_root_user() -> None:
    instructions = _dockerfile_instructions()
    final_stage = instructions[max(i for i, x in enumerate(instructions) if x.startswith("FROM ")) :]
    assert final_stage[-1] == 'CMD ["peer-match", "serve", "--workers", "2"]'
    assert any("PEER_MATCH_HOST=0.0.0.0" in x for x in final_stage if x.startswith("ENV "))
    user = next(x.split()[1] for x in final_stage if x.startswith("USER "))
    assert user.isdigit() and int(user) != 0
    assert 'VOLUME ["/data"]' in final_stage
    health = next(x for x in final_stage if x.startswith("HEALTHCHECK "))
    assert "PEER_MATCH_PORT" in health and "/readyz" in health


@pytest.mark.parametrize(("lock", "extras"), [("requirements.lock", ()), ("requirements-dev.lock", ("dev",))])
def test_lock_pins_every_dependency_of_pyproject_at_its_version_with_hashes(lock: str, extras: tuple[str, ...]) -> None:
    locked = _lock_pins(lock)
    for name, version in _pyproject_pins(extras=extras).items():
        assert locked.get(name) == version, f"{lock}: {name} is {locked.get(name)}, pyproject.toml says {version}"


def test_dev_lock_holds_the_runtime_lock_unchanged() -> None:
    runtime, dev = _lock_pins("requirements.lock"), _lock_pins("requirements-dev.lock")
    assert {name: dev.get(name) for name in runtime} == runtime


def _compose_services() -> dict[str, dict[str, object]]:
    yaml = pytest.importorskip("yaml")
    values = {"POSTGRES_PASSWORD": "secret", "PEER_MATCH_PUBLIC_BASE_URL": "https://peer-match.example.org"}
    text = re.sub(r"\$\{(\w+):\?[^}]*\}", lambda m: values[m[1]], (ROOT / "compose.yaml").read_text())
    assert "${" not in text
    services: dict[str, dict[str, object]] = yaml.safe_load(text)["services"]
    return services


def test_compose_runs_postgresql_15_with_a_named_volume_and_a_health_check() -> None:
    db = _compose_services()["db"]
    assert db["image"] == "postgres:15"
    assert db["volumes"] == ["pgdata:/var/lib/postgresql/data"]
    assert "pg_isready" in str(db["healthcheck"])


def test_compose_api_runs_two_replicas_whose_settings_production_accepts(monkeypatch: pytest.MonkeyPatch) -> None:
    api = _compose_services()["api"]
    assert api["deploy"] == {"replicas": 2}
    environment = api["environment"]
    assert isinstance(environment, dict)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.environment == "production"
    assert settings.database_url == "postgresql://peer_match:secret@db:5432/peer_match"
    assert not settings.run_worker_in_app


def test_compose_commands_are_commands_of_the_cli() -> None:
    commands = typer.main.get_command(app).commands  # type: ignore[attr-defined]
    services = _compose_services()
    assert {"api", "worker", "migrate"} <= services.keys()
    for name, service in services.items():
        if name == "db":
            continue
        program, command, *_ = service["command"]  # type: ignore[misc]
        assert program == "peer-match" and command in commands, f"{name}: {service['command']}"
