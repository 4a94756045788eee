"""`cost savings` and `cost summary` through real subprocesses on a simulated history (issue 13):
at most one action per run, typed actions, no provider switch within one provider, and no
anomaly that is not at least 25% away from its median."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest


def cli(state: Path, *args: str) -> Any:
    result = subprocess.run(
        [sys.executable, "-m", "artenic_opt", "--state", str(state), *args, "--json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    state = tmp_path_factory.mktemp("cost-analyses") / "state.db"
    cli(state, "demo", "--jobs", "80", "--seed", "5")
    return state


def test_savings_actions_are_typed_and_one_per_run(history: Path) -> None:
    report = cli(history, "cost", "savings", "--period", "1y")
    ids = [record_id for action in report["actions"] for record_id in action["record_ids"]]
    assert len(ids) == len(set(ids))
    total = sum(a["estimated_monthly_savings"] for a in report["actions"])
    assert report["estimated_monthly_savings"] == pytest.approx(total)
    for action in report["actions"]:
        current, suggested = action["current_setup"], action["suggested_setup"]
        same_provider = current["provider"].lower() == suggested["provider"].lower()
        assert (action["kind"] == "provider_switch") == (not same_provider)
        assert action["changes"], action
        assert ("provider" in action["changes"]) == (not same_provider)


def test_summary_anomalies_are_material(history: Path) -> None:
    summary = cli(history, "cost", "summary", "--period", "1y")
    for anomaly in summary["anomalies"]:
        ratio = anomaly["ratio_to_median"]
        assert ratio is None or abs(ratio - 1.0) >= 0.25, anomaly
        assert abs(anomaly["robust_z"]) > 3.5
