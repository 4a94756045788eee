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


def test_feedback_record_with_an_empty_currency_is_bad_input(tmp_path: Path) -> None:
    # `--currency ""` (an unset variable) was read as "no --currency": the cost was stored in
    # the display currency the user had not named.
    made = run(tmp_path, "recommend", "--params", "125M", "--dataset-gb", "1", "--json")
    rec_id = json.loads(made.stdout)["recommendation_id"]
    args = ("feedback", "record", rec_id, "--cost", "5", "--hours", "1")
    result = run(tmp_path, *args, "--currency", "", "--json")
    assert result.returncode == 2, result.stdout
    assert "currency" in json.loads(result.stdout)["error"]["message"]
    listed = run(tmp_path, "feedback", "list", "--json")
    assert json.loads(listed.stdout) == []  # nothing stored
