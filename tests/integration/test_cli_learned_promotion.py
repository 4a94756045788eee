"""Issue 14: measured outcomes let `recommend --mode ltr|hybrid` promote what the heuristic ranks
outside its top 10 (the learned model ranks the shortlist widened by outcomes).

Real parts: a fresh SQLite state, `recommend` storing the recommendation, `feedback import` of
the measured outcomes (the normal feedback path: labels, samples, automatic LightGBM retrain),
then `recommend` again with the trained model, all through the CLI.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from artenic_opt.cli.main import build_app
from artenic_opt.schemas import TrainingAdvice

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
WORKLOAD = str(EXAMPLES / "llm-lora-7b.toml")
#: Ranks measured: the heuristic's top 60.
MEASURED = 60
#: Runs recorded per configuration of the favoured GPU (a LightGBM leaf needs 20 samples).
FAVOURED_RUNS = 4


def ok_json(*args: str, state: Path) -> Any:
    result = CliRunner().invoke(build_app(), ["--state", str(state), *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def key(rec: dict[str, Any]) -> tuple[str, str, str, int, bool]:
    offering = rec["offering"]
    return (
        offering["provider"],
        offering["region"],
        offering["instance_type"],
        rec["nodes"],
        rec["spot"],
    )


@pytest.mark.slow
def test_measured_outcomes_promote_a_configuration_from_outside_the_top_10(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARTENIC_OPT_CONFIG", str(tmp_path / "no-config.toml"))
    state = tmp_path / "state.db"
    first = ok_json("recommend", "--workload", WORKLOAD, "--top", str(MEASURED), state=state)
    assert first["mode"] == "heuristic"
    recs = first["recommendations"]
    top10_types = {r["offering"]["gpu_type"] for r in recs[:10]}
    # The favoured GPU: the first one the heuristic ranks only below its top 10.
    favoured = next(
        r["offering"]["gpu_type"] for r in recs[10:] if r["offering"]["gpu_type"] not in top10_types
    )
    heuristic_rank = {key(r): r["rank"] for r in recs}
    reference = recs[0]["estimated_cost"]

    # Measured: the favoured GPU's runs cost half the top pick's estimate, the others 3x.
    lines = []
    for rec in recs:
        good = rec["offering"]["gpu_type"] == favoured
        for run in range(FAVOURED_RUNS if good else 1):
            lines.append(
                {
                    "recommendation_id": first["recommendation_id"],
                    "rank": rec["rank"],
                    "status": "completed",
                    "cost": round(reference * (0.5 if good else 3.0) * (1 + run / 100), 4),
                    "hours": rec["estimated_hours"],
                    "currency": first["display_currency"],
                }
            )
    outcomes = tmp_path / "outcomes.jsonl"
    outcomes.write_text("".join(json.dumps(line) + "\n" for line in lines))
    imported = ok_json("feedback", "import", str(outcomes), state=state)
    assert imported["stored"] == len(lines) >= 50 and imported["retrained"] is not None

    heuristic = ok_json("recommend", "--workload", WORKLOAD, "--mode", "heuristic", state=state)
    assert favoured not in {r["offering"]["gpu_type"] for r in heuristic["recommendations"]}
    for mode in ("ltr", "hybrid"):
        advice = ok_json("recommend", "--workload", WORKLOAD, "--mode", mode, state=state)
        TrainingAdvice.model_validate(advice)
        assert advice["mode"] == mode and advice["model_version"] is not None
        shown = advice["recommendations"]
        promoted = [
            r
            for r in shown
            if r["offering"]["gpu_type"] == favoured and heuristic_rank.get(key(r), 999) > 10
        ]
        assert promoted, f"{mode}: no {favoured} row promoted into the top 10"
        best = promoted[0]
        assert best["ltr_score"] is not None
        # It climbed: shown at a better rank than the heuristic gave it.
        assert best["rank"] < heuristic_rank[key(best)]
        # The ranking rule still holds: nothing above a cheaper and no slower candidate.
        for i, upper in enumerate(shown):
            for lower in shown[i + 1 :]:
                assert not (
                    lower["estimated_cost"] < upper["estimated_cost"]
                    and lower["estimated_hours"] <= upper["estimated_hours"]
                )
