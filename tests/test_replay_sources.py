"""bench/replay_sources.py: the CherryPick loader's parsing and cost rule, on inline samples.

No network and no mirror: the rows below copy the layout of the Lynceus-ICDCS files
(``data/cherrypick/CP_*.csv``); the first row is CP_kmeans.csv's first data row.
"""

from __future__ import annotations

import functools
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given, settings, strategies as st

from artenic_opt.simulate.replay import parse_replay_record
from artenic_opt.types import JobStatus

_BENCH = Path(__file__).resolve().parents[1] / "bench"
_HEADER = (
    '"exp_name","exp_id","config_id","num_machines","time","num","machine_id","disk_id",'
    '"disk_name","disk_count","disk_speed","disk_cost","disk_size","vm_id","vm_name","ram",'
    '"cpu_count","vm_speed","vm_cost"\n'
)
_KMEANS = (
    '"kmeans","1","1","10","936.59","1","1","1","ebs","2","slow","0.12","500.0","12",'
    '"c4.2xlarge","15.0","8","fast","0.552"\n'
)


@functools.cache
def _load(name: str) -> ModuleType:
    if str(_BENCH.parent) not in sys.path:
        sys.path.insert(0, str(_BENCH.parent))  # bench_replay imports bench.replay_sources
    spec = importlib.util.spec_from_file_location(f"{name}_under_test", _BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def sources() -> Any:
    return _load("replay_sources")


def _row(vm: str, nodes: int, seconds: float, price: float, **disk: Any) -> str:
    name, count, cost = disk.get("name", "ebs"), disk.get("count", 2), disk.get("cost", 0.12)
    return (
        f'"kmeans","1","9","{nodes}","{seconds}","1","1","1","{name}","{count}","slow",'
        f'"{cost}","500.0","12","{vm}","15.0","8","fast","{price}"\n'
    )


def test_a_row_costs_hours_times_machines_times_the_authors_vm_price(sources: Any) -> None:
    (run,) = sources.parse_cherrypick("kmeans", _HEADER + _KMEANS)
    assert run.nodes == 10
    assert run.outcome.status is JobStatus.COMPLETED
    assert run.outcome.hours == pytest.approx(936.59 / 3600)
    # 936.59 s on 10 c4.2xlarge at 0.552 USD/h; the EBS disks' disk_cost (0.12) adds nothing.
    assert run.outcome.cost == pytest.approx(936.59 / 3600 * 10 * 0.552)
    offering = run.offering
    assert (offering.instance_type, offering.vcpus, offering.price_per_hour) == (
        "c4.2xlarge",
        8,
        0.552,
    )
    assert offering.memory_gb == pytest.approx(15.0 * 1.073741824)  # GiB in the file
    assert offering.gpu_count == 0
    assert run.attributes == {"disk_type": "ebs", "disk_count": 2.0}
    workload = run.workload
    assert workload.name == "cherrypick-kmeans"
    assert not workload.gpu_required and workload.distributed
    assert workload.max_nodes >= 56


def test_disk_cost_never_changes_the_cost(sources: Any) -> None:
    ebs = sources.parse_cherrypick("a", _HEADER + _row("m4.large", 4, 100.0, 0.147, cost=0.12))
    free = sources.parse_cherrypick("a", _HEADER + _row("m4.large", 4, 100.0, 0.147, cost=0.0))
    assert ebs[0].outcome.cost == free[0].outcome.cost


def test_one_vm_type_with_two_disk_setups_becomes_two_offerings(sources: Any) -> None:
    text = (
        _HEADER
        + _row("i2.2xlarge", 4, 100.0, 1.876, name="local", count=2)
        + _row("i2.2xlarge", 4, 90.0, 1.876, name="local", count=3)
        + _row("c4.large", 4, 300.0, 0.138)
    )
    runs = sources.parse_cherrypick("a", text)
    assert [r.offering.instance_type for r in runs] == [
        "i2.2xlarge+2xlocal",
        "i2.2xlarge+3xlocal",
        "c4.large",
    ]
    keys = {(r.offering.offering_id, r.nodes, r.spot) for r in runs}
    assert len(keys) == 3  # the evaluation's configuration key keeps them apart


def test_every_workload_file_is_its_own_query(sources: Any) -> None:
    a = sources.parse_cherrypick("tpch", _HEADER + _row("c4.large", 4, 300.0, 0.138))
    b = sources.parse_cherrypick("tpcds", _HEADER + _row("c4.large", 4, 300.0, 0.138))
    assert a[0].workload.query_id != b[0].workload.query_id


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (_HEADER + _row("c4.large", 4, 300.0, 0.1), "line 2: vm_cost 0.1 is not the authors'"),
        (_HEADER + _row("x9.huge", 4, 300.0, 0.1), "line 2: no price for 'x9.huge'"),
        (_HEADER, "no runs"),
    ],
)
def test_bad_files_are_refused_naming_the_line(sources: Any, text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        sources.parse_cherrypick("a", text)


def test_runs_round_trip_through_the_replay_format(sources: Any) -> None:
    (run,) = sources.parse_cherrypick("kmeans", _HEADER + _KMEANS)
    again = parse_replay_record(run.to_record(), where="line 1")
    assert again.outcome.cost == pytest.approx(run.outcome.cost)
    assert again.attributes == run.attributes
    assert again.workload.query_id == run.workload.query_id


@settings(max_examples=60, deadline=None)
@given(
    vm=st.sampled_from(
        ["c4.large", "c4.2xlarge", "m4.xlarge", "r3.large", "r3.2xlarge", "i2.xlarge"]
    ),
    nodes=st.integers(min_value=1, max_value=56),
    seconds=st.floats(min_value=1.0, max_value=1e5, allow_nan=False),
)
def test_cost_is_the_java_rule(vm: str, nodes: int, seconds: float) -> None:
    sources = _load("replay_sources")
    price = sources._CHERRYPICK_PRICES[vm]
    (run,) = sources.parse_cherrypick("a", _HEADER + _row(vm, nodes, seconds, price))
    # CherrypickConfigCostGenerator: (time / 60) x cherrypickCostPerConfigPerMinute(n x price / 60)
    assert run.outcome.cost == pytest.approx((seconds / 60) * (nodes * price / 60.0))


def test_the_bench_trains_on_every_other_workload_when_there_are_few(sources: Any) -> None:
    bench = _load("bench_replay")
    runs = [
        run
        for name in ("kmeans", "spark", "terasort", "tpcds", "tpch")
        for run in sources.parse_cherrypick(name, _HEADER + _row("c4.large", 4, 300.0, 0.138))
    ]
    assert bench.min_train_groups(runs) == 4
    many = [
        run
        for index in range(9)
        for run in sources.parse_cherrypick(f"w{index}", _HEADER + _row("c4.large", 4, 1.0, 0.138))
    ]
    assert bench.min_train_groups(many) == bench.DEFAULT_MIN_TRAIN_GROUPS


def test_the_hindsight_bound_says_when_a_zero_shot_target_is_out_of_reach(sources: Any) -> None:
    bench = _load("bench_replay")
    large, xlarge = sources._CHERRYPICK_PRICES["c4.large"], sources._CHERRYPICK_PRICES["c4.xlarge"]
    # Two identically declared jobs that want opposite machines: each is 2x off on the other's.
    runs = sources.parse_cherrypick(
        "a", _HEADER + _row("c4.large", 4, 100.0, large) + _row("c4.xlarge", 4, 100.0, xlarge)
    ) + sources.parse_cherrypick(
        "b", _HEADER + _row("c4.large", 4, 200.0, large) + _row("c4.xlarge", 4, 50.0, xlarge)
    )
    bound, groups = bench.hindsight_bound(runs)
    assert groups == 1
    assert bound == pytest.approx(1.5)
    (line,) = bench.reachability(bound, heuristic=1.6)
    assert "<= 1.2 NO" in line and "= 1.440 NO" in line
    (line,) = bench.reachability(1.1, heuristic=1.6)
    assert "<= 1.2 yes" in line and "= 1.440 yes" in line
