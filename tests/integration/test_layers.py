"""Layering and start-up: heavy or UI libraries load only where they are needed."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("lightgbm", "sklearn", "textual", "pyarrow")
UI = ("typer", "rich", "textual", "httpx", "click")


def modules_after(code: str) -> set[str]:
    script = f"{code}\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    return set(json.loads(out.strip().splitlines()[-1]))


def test_help_imports_no_heavy_library() -> None:
    code = (
        "import sys\nfrom artenic_opt.cli.main import build_app\napp = build_app()\n"
        "try:\n    app(['--help'], prog_name='artenic-opt')\nexcept SystemExit:\n    pass"
    )
    loaded = modules_after(code)
    assert "artenic_opt.cli.main" in loaded
    for name in HEAVY:
        assert name not in loaded, f"{name} imported by --help"


def test_optimizer_group_help_imports_no_heavy_library() -> None:
    code = (
        "from artenic_opt.cli.main import build_artenic_app\nartenic_app = build_artenic_app()\n"
        "try:\n    artenic_app(['optimizer', '--help'], prog_name='artenic')\n"
        "except SystemExit:\n    pass"
    )
    loaded = modules_after(code)
    for name in HEAVY:
        assert name not in loaded


@pytest.mark.parametrize(
    "package",
    [
        "artenic_opt.training_advisor",
        "artenic_opt.estimate",
        "artenic_opt.storage_optimizer",
        "artenic_opt.cost_analyzer",
        "artenic_opt.catalog",
    ],
)
def test_pillars_import_no_ui_or_heavy_library(package: str) -> None:
    loaded = modules_after(f"import {package}")
    for name in (*UI, "lightgbm", "sklearn"):
        assert name not in loaded, f"{package} imports {name}"


def test_package_root_is_light() -> None:
    loaded = modules_after("import artenic_opt")
    for name in (*UI, *HEAVY, "numpy"):
        assert name not in loaded
