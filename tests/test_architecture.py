"""The architecture is kept by a tool: import-linter's contracts in pyproject.toml."""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_hold() -> None:
    lint_imports = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run([str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def _status_writes(tree: ast.AST) -> list[int]:
    """Lines that assign a status: `x.status = ...` (alone or in a tuple), or `.values(status=...)` in an UPDATE."""
    lines = []
    for node in ast.walk(tree):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            for target in node.targets:
                targets.extend(target.elts if isinstance(target, ast.Tuple) else [target])
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets.append(node.target)
        lines += [t.lineno for t in targets if isinstance(t, ast.Attribute) and t.attr == "status"]
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "values"
            and any(k.arg == "status" for k in node.keywords)
        ):
            lines.append(node.lineno)
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "setattr"
            and len(node.args) > 1
            and isinstance(node.args[1], ast.Constant)
            and node.args[1].value == "status"
        ):
            lines.append(node.lineno)
    return lines


def test_no_status_is_assigned_outside_a_lifecycle_module() -> None:
    offenders = []
    for path in sorted((ROOT / "service").rglob("*.py")):
        if path.name == "lifecycle.py" or "migrations" in path.parts:
            continue
        offenders += [f"{path.relative_to(ROOT)}:{line}" for line in _status_writes(ast.parse(path.read_text()))]
    assert offenders == [], "statuses move only through a lifecycle's transition(): " + ", ".join(offenders)


def test_the_status_check_finds_each_way_of_writing_a_status() -> None:
    source = (
        "row.status = 'x'\nrow.status, row.at = 'x', 1\nq.values(status='x')\nsetattr(row, 'status', 'x')\n"
        "row.kind = 'closing'\n"
    )
    assert _status_writes(ast.parse(source)) == [1, 2, 3, 4]
