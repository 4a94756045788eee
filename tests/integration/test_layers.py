"""Layering and start-up: heavy or UI libraries load only where they are needed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("lightgbm", "sklearn", "textual", "pyarrow", "fastapi", "uvicorn", "starlette")
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


def test_recommend_and_serve_help_import_no_server_library(tmp_path: Path) -> None:
    """``recommend`` and ``serve --help`` run without FastAPI/uvicorn (the ``[serve]`` extra)."""
    state = tmp_path / "s.db"
    for args in (
        ["--state", str(state), "recommend", "--params", "7B", "--dataset-gb", "10", "--json"],
        ["serve", "--help"],
    ):
        code = (
            "import sys\nfrom artenic_opt.cli.main import build_app, modules_for\n"
            f"args = {args!r}\n"
            "app = build_app(modules_for(args))\n"
            "try:\n    app(args, prog_name='artenic-opt')\nexcept SystemExit as exc:\n"
            "    assert exc.code == 0, exc.code\n"
        )
        loaded = modules_after(code)
        for name in ("fastapi", "uvicorn", "starlette"):
            assert name not in loaded, f"{args[-2:]} imported {name}"
