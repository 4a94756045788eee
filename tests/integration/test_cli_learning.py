"""CLI of the learning loop on measured runs: `evaluate --json` per workload (schema-checked)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from artenic_opt.cli.main import build_app
from artenic_opt.schemas import Offering
from artenic_opt.simulate import write_replay_file
from artenic_opt.training_advisor.evaluation import BASELINES, DEFAULT_KSHOT, BacktestReport
from tests.test_measured import measured_fixture


def invoke(*args: str, state: Path) -> Any:
    return CliRunner().invoke(build_app(), ["--state", str(state), *args])


@pytest.mark.slow
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


SUGGEST_RUN_LIMIT = 10


@pytest.mark.slow
def test_suggest_feedback_suggest_converges_on_a_seeded_simulated_workload(
    tmp_path: Path,
) -> None:
    """suggest -> run it (seeded simulator) -> feedback record -> suggest ..., through the CLI,
    stops within SUGGEST_RUN_LIMIT runs with a best run close to the world's true optimum."""
    import numpy as np

    from artenic_opt.simulate import RunSpec, World, generate_workloads, true_cost_table

    world = World(7)
    workload = generate_workloads(np.random.default_rng(7), 1, families=["vision"])[0]
    workload = workload.model_copy(update={"spot_allowed": False})
    workload_file = tmp_path / "workload.json"
    workload_file.write_text(workload.model_dump_json(exclude_none=True))
    state = tmp_path / "s.db"
    measured: list[float] = []
    document: dict[str, Any] = {}
    for trial in range(SUGGEST_RUN_LIMIT + 1):
        result = invoke("suggest", "--workload", str(workload_file), "--json", state=state)
        assert result.exit_code == 0, result.stderr
        document = json.loads(result.stdout)
        assert document["measured_runs"] == len(measured)
        if document["stop"]:
            break
        nxt = document["next"]
        offering = Offering.model_validate(nxt["offering"])
        outcome = world.run(workload, offering, nxt["nodes"], nxt["spot"], trial=trial)
        record = invoke(
            "feedback",
            "record",
            document["recommendation_id"],
            "--rank",
            "1",
            "--status",
            outcome.status.value,
            "--cost",
            f"{outcome.cost:.6f}",
            "--currency",
            outcome.currency,
            "--hours",
            f"{outcome.hours:.6f}",
            "--json",
            state=state,
        )
        assert record.exit_code == 0, record.stderr
        measured.append(outcome.cost)
    assert document["stop"], f"no stop after {len(measured)} runs: {document['reason']}"
    assert 1 <= len(measured) <= SUGGEST_RUN_LIMIT
    assert document["recommendation_id"] is None and "within 10%" in document["reason"]
    # The best run measured is close to the best the world offers among the candidates.
    best = document["best_measured"]
    assert (best is not None and best["measured_cost"] == min(measured)) or best["measured_cost"]
    catalog_candidates = invoke(
        "recommend",
        "--workload",
        str(workload_file),
        "--top",
        "200",
        "--mode",
        "heuristic",
        "--json",
        state=tmp_path / "other.db",
    )
    recs = json.loads(catalog_candidates.stdout)["recommendations"]
    specs = [RunSpec(Offering.model_validate(r["offering"]), r["nodes"], r["spot"]) for r in recs]
    truth = true_cost_table(world, workload, specs)
    assert truth.best_index is not None
    true_best = float(truth.cost[truth.best_index])
    print(f"suggest: {len(measured)} runs, best {min(measured):.3f}, true best {true_best:.3f}")
    assert min(measured) <= 1.5 * true_best, (min(measured), true_best)

    # Workload identity: the same fields under another name are another query, whose prior
    # the first workload's runs reshape; --same-as links it to the first one's outcomes.
    renamed = invoke(
        "suggest", "--workload", str(workload_file), "--name", "renamed", "--json", state=state
    )
    other = json.loads(renamed.stdout)
    assert other["query_id"] != document["query_id"]
    assert other["measured_runs"] == 0 and other["other_workloads"] == 1
    linked = invoke(
        "suggest",
        "--workload",
        str(workload_file),
        "--name",
        "renamed",
        "--same-as",
        document["query_id"],
        "--json",
        state=state,
    )
    same = json.loads(linked.stdout)
    assert same["query_id"] == document["query_id"] and same["measured_runs"] == len(measured)
    assert "same_as" not in linked.stderr
    # A mistyped id would start a new learning group: it is said, and still answered.
    typo = document["query_id"][:-1] + ("0" if document["query_id"][-1] != "0" else "1")
    mistyped = invoke(
        "suggest", "--workload", str(workload_file), "--same-as", typo, "--json", state=state
    )
    assert mistyped.exit_code == 0, mistyped.stderr
    assert f"warning: same_as {typo}: no stored workload has this query id" in mistyped.stderr
    assert json.loads(mistyped.stdout)["query_id"] == typo
