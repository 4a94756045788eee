"""The layer contract (import-linter, pyproject's [tool.importlinter]) holds, and catches drift.

The package is copied to a temporary directory with the project's pyproject.toml, so the test can
add an upward import without touching the checkout: ``lint-imports`` must pass on the clean copy
and fail, naming the offending import, once an adapter imports the CLI.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

pytestmark = pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="import-linter not installed")


def _copy_project(tmp_path: Path) -> Path:
    shutil.copytree(
        ROOT / "artenic_opt",
        tmp_path / "artenic_opt",
        ignore=shutil.ignore_patterns("__pycache__", "data"),
    )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def _lint(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(cwd)},
    )


def test_contract_holds_and_an_upward_import_breaks_it(tmp_path: Path) -> None:
    project = _copy_project(tmp_path)
    clean = _lint(project)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "0 broken" in clean.stdout

    (project / "artenic_opt" / "state" / "upward.py").write_text(
        '"""An adapter reaching up into the CLI."""\n\nfrom artenic_opt.cli import output\n'
    )
    broken = _lint(project)
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "artenic_opt.state.upward -> artenic_opt.cli.output" in broken.stdout


def test_a_pillar_importing_the_simulator_breaks_the_contract(tmp_path: Path) -> None:
    project = _copy_project(tmp_path)
    (project / "artenic_opt" / "cost_analyzer" / "simulated.py").write_text(
        '"""A pillar using the simulated world."""\n\nimport artenic_opt.simulate\n'
    )
    broken = _lint(project)
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "artenic_opt.cost_analyzer.simulated -> artenic_opt.simulate" in broken.stdout
