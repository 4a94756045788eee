"""The command tree end to end, in process (Typer's CliRunner), on fresh and demo states."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from artenic_opt.cli.main import build_app
from artenic_opt.schemas import TrainingAdvice

app = build_app()

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
GOLDEN = Path(__file__).resolve().parents[1] / "golden"
runner = CliRunner()


def invoke(*args: str, state: Path | None = None, input: str | None = None) -> Any:
    full = ["--state", str(state), *args] if state else list(args)
    return runner.invoke(app, full, input=input, catch_exceptions=False)


def ok_json(*args: str, state: Path | None = None) -> Any:
    result = invoke(*args, "--json", state=state)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def demo_state(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("demo") / "state.db"
    old = os.environ.get("ARTENIC_OPT_CONFIG")
    os.environ["ARTENIC_OPT_CONFIG"] = str(path.parent / "none.toml")
    try:
        result = runner.invoke(
            app, ["--state", str(path), "demo", "--jobs", "160", "--seed", "3", "--json"]
        )
        assert result.exit_code == 0, result.output
        yield path
    finally:
        if old is not None:
            os.environ["ARTENIC_OPT_CONFIG"] = old


def copy_state(src: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "copy.db"
    shutil.copy(src, dst)
    models = src.parent / (src.stem + "-models")
    if models.exists():
        shutil.copytree(models, tmp_path / "copy-models")
    return dst


def test_recommend_lora_7b_json_validates_carries_plans_and_no_dominated_pick() -> None:
    data = ok_json("recommend", "--workload", str(EXAMPLES / "llm-lora-7b.toml"), "--top", "10")
    advice = TrainingAdvice.model_validate(data)
    assert advice.mode.value == "heuristic"
    assert [r.rank for r in advice.recommendations] == list(range(1, 11))
    recs = advice.recommendations
    assert all(r.plan is not None for r in recs)
    # Issue 12: --goal balanced never ranks a candidate above one cheaper and no slower.
    for i, upper in enumerate(recs):
        for lower in recs[i + 1 :]:
            assert not (
                lower.estimated_cost < upper.estimated_cost
                and lower.estimated_hours <= upper.estimated_hours
            )


def test_recommend_json_golden() -> None:
    data = ok_json("recommend", "--workload", str(EXAMPLES / "llm-lora-7b.toml"), "--top", "3")
    for volatile in ("recommendation_id", "created_at"):
        data.pop(volatile)
    golden = GOLDEN / "recommend_llm_lora_7b.json"
    text = json.dumps(data, indent=2, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(text)
    assert text == golden.read_text(), "recommend --json changed; UPDATE_GOLDEN=1 to accept"


def test_full_70b_never_lists_what_cannot_hold_it() -> None:
    data = ok_json(
        "recommend",
        "--params",
        "70B",
        "--batch-size",
        "1",
        "--gradient-checkpointing",
        "--dataset-gb",
        "20",
        "--tokens",
        "1B",
        "--fine-tuning",
        "full",
        "--gpus",
        "8",
        "--max-nodes",
        "8",
        "--top",
        "20",
    )
    assert data["recommendations"]
    for rec in data["recommendations"]:
        assert rec["memory_needed_gb"] <= rec["memory_available_gb"]
        assert rec["offering"]["gpu_memory_gb"] >= rec["memory_needed_gb"]


def test_budget_below_cheapest_exits_4_naming_the_budget() -> None:
    result = invoke("recommend", "--workload", str(EXAMPLES / "llm-lora-7b.toml"), "--budget", "1")
    assert result.exit_code == 4
    assert "budget 1" in result.stderr


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--params", "7B", "--dataset-gb", "1", "--framework", "torchy"], "framework"),
        (["--params", "0", "--dataset-gb", "1"], "--params"),
        (["--params", "7B", "--dataset-gb", "-2"], "dataset_size_gb"),
        (["--params", "7B"], "--dataset-gb"),
        (["--params", "7B", "--dataset-gb", "1", "--reference-gpu", "Voodoo"], "Voodoo"),
        (["--params", "7B", "--dataset-gb", "1", "--dispatch"], "--service"),
    ],
)
def test_bad_recommend_input_exits_2(args: list[str], fragment: str) -> None:
    result = invoke("recommend", *args)
    assert result.exit_code == 2
    assert fragment in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 3


def test_empty_workload_file_and_stdin(tmp_path: Path) -> None:
    empty = tmp_path / "w.json"
    empty.write_text("")
    assert invoke("recommend", "--workload", str(empty)).exit_code == 2
    piped = invoke(
        "recommend",
        "--workload",
        "-",
        "--top",
        "2",
        "--json",
        input='{"model_params_m": 125, "dataset_size_gb": 1}',
    )
    assert piped.exit_code == 0, piped.output
    assert len(json.loads(piped.stdout)["recommendations"]) == 2


def test_history_and_feedback_roundtrip(tmp_path: Path) -> None:
    state = tmp_path / "s.db"
    advice = ok_json(
        "recommend", "--workload", str(EXAMPLES / "tabular-gbdt.json"), "--top", "3", state=state
    )
    rec_id = advice["recommendation_id"]
    rows = ok_json("history", state=state)
    assert rows[0]["recommendation_id"] == rec_id
    shown = ok_json("history", "--show", rec_id[:8], state=state)
    assert shown["recommendation_id"] == rec_id

    unknown = invoke("feedback", "record", "nosuchrec", "--cost", "1", "--hours", "1", state=state)
    assert unknown.exit_code == 2
    negative = invoke("feedback", "record", rec_id, "--cost", "-1", "--hours", "1", state=state)
    assert negative.exit_code == 2 and "cost" in negative.stderr
    bad_rank = invoke(
        "feedback", "record", rec_id, "--rank", "9", "--cost", "1", "--hours", "1", state=state
    )
    assert bad_rank.exit_code == 2

    est = advice["recommendations"][0]
    good = ok_json(
        "feedback",
        "record",
        rec_id,
        "--cost",
        str(est["estimated_cost"] * 0.9),
        "--hours",
        str(est["estimated_hours"]),
        "--currency",
        "USD",
        state=state,
    )
    assert good["label"] == 4
    rows = ok_json("history", state=state)
    assert rows[0]["outcome_status"] == "completed"

    lines = tmp_path / "outcomes.jsonl"
    lines.write_text(
        json.dumps(
            {
                "recommendation_id": rec_id,
                "rank": 2,
                "status": "failed",
                "hours": 1,
                "cost": 3,
                "currency": "USD",
            }
        )
        + "\n"
        "not json\n"
        + json.dumps(
            {"recommendation_id": rec_id, "rank": 3, "status": "completed", "hours": -1, "cost": 3}
        )
        + "\n"
    )
    imported = invoke("feedback", "import", str(lines), "--json", state=state)
    assert imported.exit_code == 0, imported.output
    report = json.loads(imported.stdout)
    assert report["stored"] == 1
    assert [e["line"] for e in report["errors"]] == [2, 3]
    assert "outcomes.jsonl:2" in imported.stderr

    metrics = ok_json("metrics", state=state)
    assert metrics["samples"] == 2 and metrics["model_version"] is None
    retrained = ok_json("retrain", state=state)
    assert retrained["trained"] is False and "fewer than" in retrained["reason"]


def test_demo_state_supports_every_reporting_command(demo_state: Path) -> None:
    status = ok_json("status", "--no-probe", state=demo_state)
    assert status["training_samples"] >= 150
    assert status["model"] is not None and status["effective_mode"] == "hybrid"
    metrics = ok_json("metrics", state=demo_state)
    assert 0 <= metrics["metrics"]["ndcg_at_5"] <= 1
    hybrid = ok_json(
        "recommend",
        "--mode",
        "hybrid",
        "--workload",
        str(EXAMPLES / "vision-vit-b16.toml"),
        state=demo_state,
    )
    assert hybrid["mode"] == "hybrid" and hybrid["model_version"] == status["model"]["version"]
    assert all(r["ltr_score"] is not None for r in hybrid["recommendations"])

    compare = ok_json("cost", "compare", "--workload", str(EXAMPLES / "llm-lora-7b.toml"))
    assert compare["frontier"] and compare["cheapest"]["cheapest"] is True
    frontier = ok_json(
        "cost", "compare", "--workload", str(EXAMPLES / "llm-lora-7b.toml"), "--frontier-only"
    )
    assert len(frontier) == len(compare["frontier"])
    summary = ok_json("cost", "summary", "--period", "120d", "--by", "provider", state=demo_state)
    assert summary["jobs"] > 0 and summary["groups"]
    by_month = ok_json("cost", "summary", "--period", "6m", "--by", "month", state=demo_state)
    assert by_month["groups"]
    savings = ok_json("cost", "savings", "--period", "120d", state=demo_state)
    assert savings["records_compared"] > 0
    spot = ok_json("cost", "spot", state=demo_state)
    assert isinstance(spot, list) and spot
    storage = ok_json("storage", "recommendations", state=demo_state)
    assert len(storage) == 6
    assert storage == sorted(storage, key=lambda a: (-a["monthly_savings"], a["dataset_id"]))

    for args in (
        ["status", "--no-probe"],
        ["metrics"],
        ["history"],
        ["cost", "summary", "--period", "120d"],
        ["cost", "savings", "--period", "120d"],
        ["cost", "spot"],
        ["storage", "recommendations"],
        ["cost", "compare", "--workload", str(EXAMPLES / "tabular-gbdt.json")],
    ):
        table = invoke(*args, state=demo_state)
        assert table.exit_code == 0, (args, table.output)
        assert "┃" in table.stdout or "\n" in table.stdout


def test_cost_bad_input(tmp_path: Path) -> None:
    result = invoke("cost", "summary", "--period", "fortnight", state=tmp_path / "s.db")
    assert result.exit_code == 2 and "period" in result.stderr.lower()
    empty = ok_json("cost", "summary", state=tmp_path / "s.db")
    assert empty["empty"] is True


def test_corrupt_model_is_refused_and_kept(demo_state: Path, tmp_path: Path) -> None:
    state = copy_state(demo_state, tmp_path)
    models = sorted((tmp_path / "copy-models").glob("v*"), key=lambda p: int(p.name[1:]))
    target = models[-1] / "model.txt"
    target.write_text(target.read_text().replace("tree", "TREE", 3))
    before = target.read_bytes()
    strict = invoke(
        "recommend", "--mode", "hybrid", "--params", "1B", "--dataset-gb", "1", state=state
    )
    assert strict.exit_code == 2
    assert "sha256" in strict.stderr or "model" in strict.stderr
    auto = invoke("recommend", "--params", "1B", "--dataset-gb", "1", "--json", state=state)
    assert auto.exit_code == 0
    assert json.loads(auto.stdout)["mode"] == "heuristic"
    assert target.read_bytes() == before


def test_storage_commands_on_local_files(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "t.csv").write_text("a,b\n" + "".join(f"{i},{i * 2}\n" for i in range(5000)))
    state = tmp_path / "s.db"
    result = ok_json("storage", "analyze", str(data), state=state)
    assert result["advice"]["dataset_id"].startswith("local:")
    assert invoke("storage", "analyze", str(tmp_path / "missing"), state=state).exit_code == 2
    log = tmp_path / "access.csv"
    log.write_text(
        "timestamp,dataset,operation\n2026-11-01T00:00:00Z,"
        + result["advice"]["dataset_id"]
        + ",read\nbad,line\n"
    )
    imported = ok_json("storage", "import-access", str(log), state=state)
    assert imported["events_added"] == 1 and len(imported["errors"]) == 1
    recs = ok_json("storage", "recommendations", state=state)
    assert len(recs) == 1
    unknown = invoke("storage", "recommendations", "--provider", "Nowhere", state=state)
    assert unknown.exit_code == 2


def test_evaluate_on_history_and_on_a_simulated_replay(demo_state: Path, tmp_path: Path) -> None:
    report = ok_json("evaluate", state=demo_state)
    assert {m["mode"] for m in report["modes"]} == {"heuristic", "ltr", "hybrid"}
    assert report["scored_workloads"] > 10
    for mode in report["modes"]:
        assert 0 <= mode["ndcg_at_5"] <= 1 and mode["mean_regret"] >= 0

    replay = tmp_path / "replay.jsonl"
    written = ok_json("demo", "--replay-out", str(replay), "--workloads", "12", "--seed", "5")
    assert written["runs"] == len(replay.read_text().splitlines())
    replayed = ok_json("evaluate", "--replay", str(replay), state=tmp_path / "fresh.db")
    assert replayed["runs"] == written["runs"]
    table = invoke("evaluate", "--replay", str(replay), state=tmp_path / "fresh.db")
    assert table.exit_code == 0 and "hybrid" in table.stdout

    broken = tmp_path / "broken.jsonl"
    broken.write_text(replay.read_text().splitlines()[0] + "\n{not json\n")
    bad = invoke("evaluate", "--replay", str(broken), state=tmp_path / "fresh.db")
    assert bad.exit_code == 2 and "broken.jsonl:2" in bad.stderr


def test_demo_rejects_bad_arguments(tmp_path: Path) -> None:
    from artenic_opt.services.demo import MAX_JOBS

    assert invoke("demo", "--jobs", "0", state=tmp_path / "s.db").exit_code == 2
    # Refused while parsing (no progress bar first), at the bound the service checks.
    for option in ("--jobs", "--workloads"):
        over = invoke("demo", option, str(MAX_JOBS + 1), state=tmp_path / "s.db")
        assert over.exit_code == 2
        assert f"less than or equal to {MAX_JOBS}" in over.stderr
        assert "simulated jobs" not in over.stderr
    assert not (tmp_path / "s.db").exists()


def test_catalog_json_covers_providers_and_gpu_families() -> None:
    offerings = ok_json("catalog", "list")
    assert len(offerings) >= 150
    assert len({o["provider"] for o in offerings}) >= 6
    assert all(o["source"] and o["price_date"] and o["currency"] for o in offerings)
    gpus = {row["gpu_type"] for row in ok_json("catalog", "gpus")}
    for family in (
        "H200",
        "H100",
        "A100 80GB",
        "A100 40GB",
        "L40S",
        "L4",
        "T4",
        "V100",
        "RTX 4090",
        "RTX A6000",
        "MI300X",
    ):
        assert any(g == family or g.startswith(family + " ") for g in gpus), family
    assert gpus & {"A10G", "A10"}
    assert any(o["gpu_count"] == 0 for o in offerings)
    h100 = ok_json("catalog", "list", "--gpu", "h100-sxm", "--spot")
    assert h100 and all(o["spot_price_per_hour"] for o in h100)


def test_discount_setting_lowers_list_prices(tmp_path: Path) -> None:
    before = {
        o["instance_type"]: o["price_per_hour"]
        for o in ok_json("catalog", "list", "--provider", "Lambda")
    }
    config = Path(os.environ["ARTENIC_OPT_CONFIG"])
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text("[discounts]\nLambda = 20\n")
    after = {
        o["instance_type"]: o["price_per_hour"]
        for o in ok_json("catalog", "list", "--provider", "Lambda")
    }
    assert after.keys() == before.keys()
    for name, price in before.items():
        assert after[name] == pytest.approx(price * 0.8)


def test_catalog_gpus_with_no_match_says_so_like_catalog_list() -> None:
    """An empty GPU price table used to print with exit 0 where `catalog list` says exit 4."""
    listed = invoke("catalog", "list", "--provider", "nope", "--json")
    gpus = invoke("catalog", "gpus", "--provider", "nope", "--json")
    assert listed.exit_code == gpus.exit_code == 4
    assert json.loads(gpus.stdout)["error"]["message"] == "no GPU offering matches --provider nope"
    assert ok_json("catalog", "gpus", "--provider", "AWS")  # a match still lists
