"""Hostile input to the training advisor's commands, through a real ``artenic-opt`` process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "artenic_opt", "--state", str(tmp_path / "s.db"), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={"ARTENIC_OPT_CONFIG": str(tmp_path / "none.toml"), "PATH": "/usr/bin:/bin"},
    )


def test_history_show_with_an_empty_id_is_bad_input(tmp_path: Path) -> None:
    # `history --show "$ID"` with an empty $ID listed every recommendation and exited 0, as if
    # no --show had been given; `feedback record ''` already refuses an empty id.
    made = run(tmp_path, "recommend", "--params", "125M", "--dataset-gb", "1", "--json")
    assert made.returncode == 0, made.stderr
    result = run(tmp_path, "history", "--show", "", "--json")
    assert result.returncode == 2, result.stdout
    assert "must not be empty" in json.loads(result.stdout)["error"]["message"]
    assert len(result.stderr.strip().splitlines()) == 1
