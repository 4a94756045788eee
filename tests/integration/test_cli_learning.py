"""CLI of the learning loop on measured runs: `evaluate --json` per workload (schema-checked)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from artenic_opt.cli.main import build_app
from artenic_opt.simulate import write_replay_file
from artenic_opt.training_advisor.evaluation import BASELINES, DEFAULT_KSHOT, BacktestReport
from tests.test_measured import measured_fixture


def invoke(*args: str, state: Path) -> Any:
    return CliRunner().invoke(build_app(), ["--state", str(state), *args])


def test_evaluate_json_reports_every_workload_against_its_schema(tmp_path: Path) -> None:
    replay = tmp_path / "measured.jsonl"
    write_replay_file(replay, measured_fixture())
    result = invoke("evaluate", "--replay", str(replay), "--json", state=tmp_path / "s.db")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    # The schema: the report model, strict (unknown or missing fields fail).
    report = BacktestReport.model_validate(document)
    schema = BacktestReport.model_json_schema()
    assert {"per_workload", "baselines", "kshot", "modes"} <= set(schema["properties"])
    assert len(report.per_workload) == report.scored_workloads == 7
    expected = {"heuristic", "ltr", "hybrid", *BASELINES, *(f"k={k}" for k in DEFAULT_KSHOT)}
    for workload in document["per_workload"]:
        assert set(workload) == {"query_id", "name", "runs", "best_cost", "best_config", "picks"}
        assert {p["method"] for p in workload["picks"]} == expected
        for pick in workload["picks"]:
            assert set(pick) == {"method", "config", "cost", "regret", "heuristic_rank"}
            assert pick["regret"] >= 0
    assert [m["method"] for m in document["kshot"]] == [f"k={k}" for k in DEFAULT_KSHOT]
    table = invoke("evaluate", "--replay", str(replay), state=tmp_path / "s.db")
    assert table.exit_code == 0 and "per workload" in table.stdout and "etl-3" in table.stdout
