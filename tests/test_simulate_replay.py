"""Replay files (DESIGN §2): written by the simulator, read back exactly, bad lines named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from artenic_opt.errors import InvalidInputError
from artenic_opt.simulate import (
    ReplayRun,
    World,
    generate_workloads,
    parse_replay_record,
    read_replay_file,
    replay_run,
    simulate_replay,
    write_replay_file,
)
from artenic_opt.types import JobStatus
from tests.test_simulate_world import LORA_7B, offering

MINIMAL = {
    "workload": {"name": "w", "model_params_m": 7000, "dataset_size_gb": 1},
    "offering": {
        "provider": "AWS",
        "region": "us-east-1",
        "instance_type": "g5.xlarge",
        "gpu_type": "A10G",
        "gpu_count": 1,
        "gpu_memory_gb": 24,
        "price_per_hour": 1.0,
        "source": "measured",
        "price_date": "2025-01-01",
        "nodes": 2,
    },
    "outcome": {"status": "completed", "hours": 3.0, "cost": 6.0},
}


@pytest.fixture(scope="module")
def runs() -> list[ReplayRun]:
    offerings = [
        offering(instance_type="a100"),
        offering(gpu_type="L4", gpu_memory_gb=24, price=0.8, spot=0.3, instance_type="l4"),
        offering(provider="OVHcloud", currency="EUR", spot=None, instance_type="eur"),
    ]
    workloads = generate_workloads(2, 6, families=["llm-lora", "tabular", "vision"])
    return simulate_replay(World(2), workloads, offerings, runs_per_workload=4, rng_or_seed=2)


def test_simulated_replay_is_deterministic_and_varied(runs: list[ReplayRun]) -> None:
    assert len(runs) >= 6
    assert {r.outcome.currency for r in runs} == {"USD", "EUR"} or len(runs) < 10
    again = simulate_replay(
        World(2),
        generate_workloads(2, 6, families=["llm-lora", "tabular", "vision"]),
        [
            offering(instance_type="a100"),
            offering(gpu_type="L4", gpu_memory_gb=24, price=0.8, spot=0.3, instance_type="l4"),
            offering(provider="OVHcloud", currency="EUR", spot=None, instance_type="eur"),
        ],
        runs_per_workload=4,
        rng_or_seed=2,
    )
    assert again == runs
    keys = [(r.workload.query_id, r.offering.offering_id, r.nodes, r.spot) for r in runs]
    assert len(keys) == len(set(keys))


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_round_trip(tmp_path: Path, runs: list[ReplayRun], suffix: str) -> None:
    path = tmp_path / "out" / f"replay{suffix}"
    assert write_replay_file(path, runs) == len(runs)
    assert read_replay_file(path) == runs
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left


def test_jsonl_lines_follow_the_documented_shape(tmp_path: Path, runs: list[ReplayRun]) -> None:
    path = tmp_path / "replay.jsonl"
    write_replay_file(path, runs)
    first = json.loads(path.read_text().splitlines()[0])
    assert set(first) == {"workload", "offering", "outcome"}
    assert {"nodes", "spot", "price_per_hour", "currency"} <= set(first["offering"])
    assert {"status", "hours", "cost", "currency"} <= set(first["outcome"])


def test_a_minimal_record_takes_schema_defaults(tmp_path: Path) -> None:
    run = parse_replay_record(MINIMAL, where="x:1")
    assert run.nodes == 2 and run.spot is False
    assert run.outcome.currency == "USD" and run.outcome.preemptions == 0
    assert run.workload.num_epochs == 1
    path = tmp_path / "replay.jsonl"
    write_replay_file(path, [MINIMAL])
    assert read_replay_file(path) == [run]


def test_csv_with_dotted_headers(tmp_path: Path) -> None:
    path = tmp_path / "replay.csv"
    path.write_text(
        "workload.name,workload.model_params_m,workload.dataset_size_gb,"
        "workload.allowed_providers,offering.provider,offering.region,offering.instance_type,"
        "offering.price_per_hour,offering.spot_price_per_hour,offering.source,"
        "offering.price_date,offering.spot,outcome.status,outcome.hours,outcome.cost\n"
        'w,100,2,"AWS,GCP",AWS,us-east-1,m5.large,0.1,,list,2025-01-01,false,failed,0.5,0.05\n'
        ",,,,,,,,,,,,,,\n"
        "\n"
    )
    (run,) = read_replay_file(path)
    assert run.workload.allowed_providers == ("AWS", "GCP")
    assert run.offering.spot_price_per_hour is None
    assert run.outcome.status is JobStatus.FAILED


def test_replay_run_from_a_simulated_outcome() -> None:
    node = offering()
    outcome = World(0).run(LORA_7B, node, 1, True)
    run = replay_run(LORA_7B, node, outcome)
    assert run.spot is True and run.nodes == 1
    assert run.outcome.cost == outcome.cost
    job = outcome.to_job_outcome("rec", 1)
    assert replay_run(LORA_7B, node, job, nodes=2).nodes == 2


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", r"replay.jsonl:2: not valid JSON"),
        ("[1, 2]", r"replay.jsonl:2: expected a JSON object"),
        (json.dumps({**MINIMAL, "extra": {}}), "unknown key 'extra'"),
        (json.dumps({k: v for k, v in MINIMAL.items() if k != "outcome"}), "outcome: missing"),
        (json.dumps({**MINIMAL, "outcome": 3}), "outcome: must be an object"),
        (
            json.dumps({**MINIMAL, "outcome": {"status": "running", "hours": 1, "cost": 1}}),
            "final status",
        ),
        (
            json.dumps({**MINIMAL, "outcome": {"status": "completed", "hours": 1, "cost": -1}}),
            "outcome.cost",
        ),
        (
            json.dumps({**MINIMAL, "workload": {"name": "w", "model_params_m": -5}}),
            "workload.model_params_m",
        ),
    ],
)
def test_a_bad_line_is_named_by_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "replay.jsonl"
    path.write_text(json.dumps(MINIMAL) + "\n" + line + "\n")
    with pytest.raises(InvalidInputError, match=message):
        read_replay_file(path)


def test_bad_csv_columns(tmp_path: Path) -> None:
    path = tmp_path / "replay.csv"
    path.write_text("workload.name,price\nw,1\n")
    with pytest.raises(InvalidInputError, match=r"replay.csv:2: column 'price'"):
        read_replay_file(path)
    path.write_text("workload.name\nw,1\n")
    with pytest.raises(InvalidInputError, match="more cells than headers"):
        read_replay_file(path)


def test_missing_empty_and_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="not found"):
        read_replay_file(tmp_path / "nope.jsonl")
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n")
    with pytest.raises(InvalidInputError, match="no runs"):
        read_replay_file(empty)
    binary = tmp_path / "binary.jsonl"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(InvalidInputError, match="replay file is not text"):
        read_replay_file(binary)


def test_writing_validates_plain_records(tmp_path: Path) -> None:
    bad = {**MINIMAL, "outcome": {"status": "completed", "hours": 1}}
    with pytest.raises(InvalidInputError, match=r"record 1: outcome.cost"):
        write_replay_file(tmp_path / "x.jsonl", [bad])
    assert not (tmp_path / "x.jsonl").exists()


def test_simulate_replay_arguments() -> None:
    with pytest.raises(InvalidInputError, match="runs_per_workload"):
        simulate_replay(World(0), [LORA_7B], [offering()], runs_per_workload=0)
    with pytest.raises(InvalidInputError, match="offerings"):
        simulate_replay(World(0), [LORA_7B], [])


def test_metrics_come_in_pairs() -> None:
    record = {
        **MINIMAL,
        "outcome": {"status": "completed", "hours": 1, "cost": 1, "metric_before": 0.5},
    }
    with pytest.raises(InvalidInputError, match="metric_after"):
        parse_replay_record(record, where="x:1")


def test_a_failed_write_leaves_no_file_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    def refuse(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", refuse)
    folder = tmp_path / "out"
    with pytest.raises(OSError, match="disk full"):
        write_replay_file(folder / "r.jsonl", [MINIMAL])
    assert list(folder.iterdir()) == []


def test_replay_offerings_need_no_source_nor_price_date_and_runs_carry_attributes(
    tmp_path: Path,
) -> None:
    record = json.loads(json.dumps(MINIMAL))
    del record["offering"]["source"], record["offering"]["price_date"]
    record["workload"] = {"name": "join", "dataset_size_gb": 187.6, "gpu_required": False}
    record["offering"].update(gpu_type=None, gpu_count=0, gpu_memory_gb=None, vcpus=8)
    record["run"] = {"input_size_gb": "187.6", "program": "ScalaSparkJoin"}
    second = json.loads(json.dumps(record))
    second["run"]["input_size_gb"] = 190.0
    path = tmp_path / "r.jsonl"
    path.write_text(json.dumps(record) + "\n" + json.dumps(second) + "\n")
    first, other = read_replay_file(path)
    assert first.offering.source and first.offering.price_date.year == 1970
    assert first.attributes == {"input_size_gb": 187.6, "program": "ScalaSparkJoin"}
    # A per-run measured field is a run attribute: both runs stay one workload (query).
    assert first.workload.query_id == other.workload.query_id
    assert first.workload.model_params_m is None
    # Written back (JSONL and CSV) they read back the same.
    for name in ("back.jsonl", "back.csv"):
        write_replay_file(tmp_path / name, [first, other])
        assert read_replay_file(tmp_path / name) == [first, other]


@pytest.mark.parametrize(
    ("run", "message"),
    [
        ([1], "run: must be an object"),
        ({"x": [1]}, "run.x: must be a number or a string"),
        ({"x": "y" * 201}, "run.x: longer than 200"),
        ({"x": float("inf")}, "run.x: must be finite"),
    ],
)
def test_bad_run_attributes_name_their_line(tmp_path: Path, run: object, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    bad = {**MINIMAL, "run": run}
    path.write_text(json.dumps(MINIMAL) + "\n" + json.dumps(bad) + "\n")
    with pytest.raises(InvalidInputError, match=rf"bad.jsonl:2: {message}"):
        read_replay_file(path)
