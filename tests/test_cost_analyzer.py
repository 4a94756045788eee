"""CostAnalyzer orchestration: summaries, spot advice and savings actions (hand-computed)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from artenic_opt._internal.money import ExchangeRates
from artenic_opt.catalog import CatalogArrays, load_catalog
from artenic_opt.cost_analyzer.analyzer import DAYS_PER_MONTH, CostAnalyzer
from artenic_opt.cost_analyzer.spot_advisor import SpotScenario
from artenic_opt.errors import CurrencyError, InfeasibleError, InvalidInputError
from artenic_opt.schemas import SpendRecord, SpotThresholds, WorkloadProfile
from tests.factories import make_offering

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


ARRAYS = CatalogArrays.from_offerings(
    (
        make_offering(
            "P1",
            "r1",
            "h100x8",
            gpu_type="H100 SXM",
            gpu_count=8,
            gpu_memory_gb=80,
            price_per_hour=10.0,
            spot_price_per_hour=4.0,
        ),
        make_offering(
            "P2", "r1", "a10", gpu_type="A10", gpu_count=1, gpu_memory_gb=24, price_per_hour=1.0
        ),
    ),
    {},
)


def rec(i: int, **kw: Any) -> SpendRecord:
    base: dict[str, Any] = {
        "record_id": f"r{i}",
        "timestamp": NOW - timedelta(days=2, hours=i),
        "provider": "P1",
        "region": "r1",
        "instance_type": "h100x8",
        "gpu_type": "H100 SXM",
        "gpu_count": 8,
        "hours": 2.0,
        "cost": 20.0,
    }
    base.update(kw)
    return SpendRecord(**base)


def analyzer(**kw: Any) -> CostAnalyzer:
    return CostAnalyzer(ARRAYS, **kw)


def test_constructor_validation() -> None:
    with pytest.raises(InvalidInputError, match="min_recurring_runs"):
        analyzer(min_recurring_runs=0)
    with pytest.raises(InvalidInputError, match="min_saving_share"):
        analyzer(min_saving_share=1.0)
    with pytest.raises(InvalidInputError, match="right_size_max_memory_use"):
        analyzer(right_size_max_memory_use=0)
    with pytest.raises(InvalidInputError, match="restart_overhead_hours"):
        analyzer(restart_overhead_hours=-1)
    with pytest.raises(InvalidInputError, match="currency"):
        analyzer(display_currency="dollars")


def test_spending_summary_and_currencies() -> None:
    a = analyzer()
    empty = a.spending_summary([], "30d", "provider", now=NOW)
    assert empty.empty and empty.message
    # Default rates: the platform's reference 1 USD = 0.92 EUR.
    summary = a.spending_summary([rec(1), rec(2, currency="EUR", cost=9.2)], now=NOW)
    assert summary.total_cost == pytest.approx(30.0)
    with pytest.raises(CurrencyError, match="GBP"):
        a.spending_summary([rec(1), rec(2, currency="GBP")], now=NOW)
    eur = analyzer(display_currency="EUR")
    assert eur.spending_summary([rec(1)], now=NOW).total_cost == pytest.approx(18.4)
    usd_only = analyzer(rates=ExchangeRates({}, source="none"))
    with pytest.raises(CurrencyError, match="EUR"):
        usd_only.spending_summary([rec(1), rec(2, currency="EUR")], now=NOW)


def test_spot_advice_uses_catalog_prices_and_workload_checkpointing() -> None:
    # On-demand runs only: prices from the catalog (10 on-demand, 4 spot: 60% off).
    # Prior for an unknown provider: 0.03/h; 2-hour runs on 1 node: m = 0.06.
    runs = [rec(i) for i in range(3)]
    (advice,) = analyzer().spot_advice(runs)
    assert advice.basis == "prior"
    assert advice.spot_savings == pytest.approx(0.6)
    assert advice.preemption_rate == pytest.approx(-math.expm1(-0.06))
    # spot 4/h x 2 h = 8; a preemption costs 4 x (0.5 + 0.25) = 3; expected 8 + 0.06 x 3.
    assert advice.expected_spot_cost == pytest.approx(8.18)
    assert advice.recommend_spot
    no_ckpt = WorkloadProfile(model_params_m=10, dataset_size_gb=1, checkpointing=False)
    (advice,) = analyzer().spot_advice(runs, workload=no_ckpt)
    assert not advice.checkpointing and not advice.recommend_spot
    # Runs that carry their workload: its checkpoint interval is used.
    slow = WorkloadProfile(model_params_m=10, dataset_size_gb=1, checkpoint_interval_hours=4)
    (advice,) = analyzer().spot_advice([rec(i, workload=slow) for i in range(3)])
    assert advice.checkpoint_interval_hours == 4
    assert advice.lost_hours_per_preemption == 2
    # An explicit scenario and thresholds win.
    (advice,) = analyzer().spot_advice(
        runs,
        scenario=SpotScenario(job_hours=1.0),
        thresholds=SpotThresholds(min_savings=0.7),
    )
    assert advice.job_hours == 1.0 and not advice.recommend_spot


def test_savings_follow_recommendation_and_spot_known_answer() -> None:
    month = DAYS_PER_MONTH / 90.0  # runs per month per run seen in a 90-day period
    bert = [
        rec(
            i,
            provider="P2",
            instance_type="a10",
            gpu_type="A10",
            gpu_count=1,
            cost=100.0,
            hours=10.0,
            workload_name="bert",
            recommended_cost=60.0,
            recommended_candidate="P1/r1/h100x8#1#on_demand",
        )
        for i in range(3)
    ]
    # Three on-demand runs on the spot-selling H100 box, with no workload attached.
    h100 = [rec(10 + i) for i in range(3)]
    report = analyzer().savings_opportunity(bert + h100, "90d", now=NOW)

    assert report.records_compared == 3
    assert report.actual_total == pytest.approx(300.0)
    assert report.recommended_total == pytest.approx(180.0)
    by_kind = {a.kind: a for a in report.actions}
    assert set(by_kind) == {"provider_switch", "spot"}

    switch = by_kind["provider_switch"]
    # 100 -> 60 per run, 3 runs in 90 days.
    assert switch.workload == "bert"
    assert switch.current == "P2/r1/a10#1#on_demand"
    assert switch.suggested == "P1/r1/h100x8#1#on_demand"
    assert switch.runs_per_month == pytest.approx(3 * month)
    assert switch.estimated_monthly_savings == pytest.approx(40.0 * 3 * month)
    assert "top recommendation" in switch.detail

    spot = by_kind["spot"]
    # Expected spot cost 8.18 against 20 on demand: 59.1% saved on 60 of spend per 90 days.
    pct = (20.0 - 8.18) / 20.0
    assert spot.current_cost_per_run == pytest.approx(20.0)
    assert spot.suggested_cost_per_run == pytest.approx(8.18)
    assert spot.estimated_monthly_savings == pytest.approx(60.0 * month * pct)
    assert spot.title == "Use spot on P1/r1/h100x8"

    assert all(a.counted_in_total for a in report.actions)
    assert report.estimated_monthly_savings == pytest.approx(
        switch.estimated_monthly_savings + spot.estimated_monthly_savings
    )
    # Largest saving first.
    assert (
        report.actions[0].estimated_monthly_savings >= report.actions[1].estimated_monthly_savings
    )


def test_at_most_one_action_per_run() -> None:
    # The same three on-demand runs: a recommendation to move them and a spot suggestion. They
    # are alternatives, so only the larger (spot: about 59% against 10%) is proposed.
    runs = [
        rec(
            i,
            workload_name="w",
            recommended_cost=18.0,
            recommended_candidate="P2/r1/a10#1#on_demand",
        )
        for i in range(3)
    ]
    report = analyzer().savings_opportunity(runs, "90d", now=NOW)
    kinds = [(a.kind, a.counted_in_total) for a in report.actions]
    assert kinds == [("spot", True)]
    (spot,) = report.actions
    assert spot.changes == ("capacity",)
    assert spot.current_setup.spot is False and spot.suggested_setup.spot is True
    assert spot.suggested_setup.model_dump(exclude={"spot"}) == spot.current_setup.model_dump(
        exclude={"spot"}
    )
    assert report.estimated_monthly_savings == pytest.approx(
        report.actions[0].estimated_monthly_savings
    )


def test_savings_thresholds_and_empty_history() -> None:
    empty = analyzer().savings_opportunity([], "90d", now=NOW)
    assert empty.empty and empty.actions == () and empty.estimated_monthly_savings == 0
    # A 2% gap is below the 5% minimum; a single run is not recurring.
    small = [
        rec(
            i,
            provider="P2",
            instance_type="a10",
            gpu_type="A10",
            gpu_count=1,
            cost=100.0,
            workload_name="w",
            recommended_cost=98.0,
            recommended_candidate="P1/r1/h100x8#1#on_demand",
        )
        for i in range(3)
    ]
    assert analyzer().savings_opportunity(small, "90d", now=NOW).actions == ()
    single = small[:1]
    assert analyzer().savings_opportunity(single, "90d", now=NOW).actions == ()
    assert (
        analyzer(min_recurring_runs=1, min_saving_share=0.0)
        .savings_opportunity(single, "90d", now=NOW)
        .actions
        != ()
    )
    with pytest.raises(InvalidInputError, match="period"):
        analyzer().savings_opportunity(small, "3 months", now=NOW)


# --------------------------------------------------------------------------------------------
# With workload profiles: the estimator prices the alternatives
# --------------------------------------------------------------------------------------------


SPECS = load_catalog().gpu_specs
A100 = {"gpu_type": "A100 80GB", "gpu_memory_gb": 80.0, "vcpus": 12, "memory_gb": 120.0}
GPU_ARRAYS = CatalogArrays.from_offerings(
    (
        make_offering("P1", "r1", "a100", gpu_count=1, price_per_hour=4.0, **A100),
        make_offering("P2", "r1", "a100", gpu_count=1, price_per_hour=2.0, **A100),
        make_offering("P1", "r1", "a100x8", gpu_count=8, price_per_hour=32.0, **A100),
    ),
    SPECS,
)
SMALL = WorkloadProfile(
    name="small", model_params_m=1000, dataset_size_gb=1, tokens=2e8, batch_size=4
)


def gpu_rec(i: int, instance: str = "a100", provider: str = "P1", **kw: Any) -> SpendRecord:
    gpus = 8 if instance == "a100x8" else 1
    base: dict[str, Any] = {
        "provider": provider,
        "instance_type": instance,
        "gpu_type": "A100 80GB",
        "gpu_count": gpus,
        "cost": 50.0,
        "workload": SMALL,
    }
    base.update(kw)
    return rec(i, **base)


def test_compare_providers_on_a_small_catalog() -> None:
    a = CostAnalyzer(GPU_ARRAYS)
    report = a.compare_providers(SMALL)
    assert report.candidates_feasible == 3
    assert report.cheapest.candidate_id == "P2/r1/a100#1#on_demand"
    assert report.fastest.candidate_id == "P1/r1/a100x8#1#on_demand"
    assert report.rates_source is not None and "0.92 EUR" in report.rates_source
    assert a.candidates(SMALL) is a.candidates(SMALL)  # cached
    with pytest.raises(InfeasibleError, match="budget"):
        a.compare_providers(SMALL.model_copy(update={"budget": 0.0001}))


def test_provider_switch_priced_by_the_estimate_ratio() -> None:
    # Same GPU at half the price elsewhere: estimates differ by exactly 2x, so the measured
    # 50 per run becomes 25 per run.
    month = DAYS_PER_MONTH / 90.0
    report = CostAnalyzer(GPU_ARRAYS).savings_opportunity(
        [gpu_rec(i) for i in range(3)], "90d", now=NOW
    )
    (action,) = [a for a in report.actions if a.kind == "provider_switch"]
    assert action.workload == "small"
    assert action.current == "P1/r1/a100#1#on_demand"
    assert action.suggested == "P2/r1/a100#1#on_demand"
    assert action.suggested_cost_per_run == pytest.approx(25.0)
    assert action.estimated_monthly_savings == pytest.approx(25.0 * 3 * month)
    assert "scaled to this workload's measured cost" in action.detail
    assert action.counted_in_total


def test_right_size_and_overlap() -> None:
    # The last run used 10 of 80 GB per GPU on 8 GPUs: the single A100 of the same provider is a
    # right-size option; the cheaper provider switch covers the same runs, so it alone is shown.
    runs = [
        gpu_rec(i, instance="a100x8", memory_needed_gb=10.0, memory_available_gb=80.0)
        for i in range(3)
    ]
    a = CostAnalyzer(GPU_ARRAYS)
    table = a.candidates(SMALL)
    cost = {table.candidate_id(i): float(table.estimated_cost[i]) for i in range(len(table))}
    report = a.savings_opportunity(runs, "90d", now=NOW)
    (switch,) = report.actions
    assert switch.kind == "provider_switch"
    assert switch.changes == ("provider", "instance")
    assert report.estimated_monthly_savings == pytest.approx(switch.estimated_monthly_savings)
    # Without the other provider, the right-size item is the one proposed.
    p1_only = CostAnalyzer(
        CatalogArrays.from_offerings(
            (
                make_offering("P1", "r1", "a100", gpu_count=1, price_per_hour=4.0, **A100),
                make_offering("P1", "r1", "a100x8", gpu_count=8, price_per_hour=32.0, **A100),
            ),
            SPECS,
        )
    )
    (right,) = p1_only.savings_opportunity(runs, "90d", now=NOW).actions
    assert right.kind == "right_size" and right.changes == ("instance",)
    assert right.suggested == "P1/r1/a100#1#on_demand"
    expected = 50.0 * cost["P1/r1/a100#1#on_demand"] / cost["P1/r1/a100x8#1#on_demand"]
    assert right.suggested_cost_per_run == pytest.approx(expected)
    assert "12.5% of its GPU memory" in right.detail
    # Memory well used: no right-size item.
    busy = [
        gpu_rec(i, instance="a100x8", memory_needed_gb=70.0, memory_available_gb=80.0)
        for i in range(3)
    ]
    kinds = {x.kind for x in a.savings_opportunity(busy, "90d", now=NOW).actions}
    assert "right_size" not in kinds


def test_unknown_current_setup_uses_calibration() -> None:
    # Runs on a machine the catalog no longer lists; predictions were half of the actual cost,
    # so the cheapest estimate is doubled.
    a = CostAnalyzer(GPU_ARRAYS)
    table = a.candidates(SMALL)
    best = min(float(table.estimated_cost[i]) for i in table.usable().tolist())
    runs = [
        gpu_rec(i, provider="P9", instance="old-box", cost=50.0, predicted_cost=25.0)
        for i in range(3)
    ]
    (action,) = a.savings_opportunity(runs, "90d", now=NOW).actions
    assert action.kind == "provider_switch"
    assert action.suggested_cost_per_run == pytest.approx(2 * best)
    assert action.detail.endswith("estimated with the cost model")
    # Without predictions the raw estimate is used.
    raw = [gpu_rec(i, provider="P9", instance="old-box", cost=50.0) for i in range(3)]
    (action,) = a.savings_opportunity(raw, "90d", now=NOW).actions
    assert action.suggested_cost_per_run == pytest.approx(best)


def test_infeasible_or_optimal_workloads_give_no_action() -> None:
    huge = SMALL.model_copy(update={"model_params_m": 400_000.0, "name": "huge"})
    runs = [gpu_rec(i, workload=huge) for i in range(3)]
    assert CostAnalyzer(GPU_ARRAYS).savings_opportunity(runs, "90d", now=NOW).actions == ()
    # Already on the cheapest setup.
    cheap = [gpu_rec(i, provider="P2") for i in range(3)]
    assert CostAnalyzer(GPU_ARRAYS).savings_opportunity(cheap, "90d", now=NOW).actions == ()


def test_spot_advice_period_filter() -> None:
    runs = [rec(1), rec(2, timestamp=NOW - timedelta(days=100), instance_type="other")]
    assert len(analyzer().spot_advice(runs)) == 2
    (advice,) = analyzer().spot_advice(runs, period="30d", now=NOW)
    assert advice.instance_type == "h100x8"
    assert analyzer().spot_advice(runs, period="1d", now=NOW) == []


def test_no_action_shares_a_run_with_another() -> None:
    bert = [
        rec(
            i,
            provider="P2",
            instance_type="a10",
            cost=100.0,
            workload_name="bert",
            recommended_cost=60.0,
            recommended_candidate="P1/r1/h100x8#1#on_demand",
        )
        for i in range(3)
    ]
    runs = [
        *bert,
        *(
            rec(
                10 + i,
                workload_name="w",
                recommended_cost=18.0,
                recommended_candidate="P2/r1/a10#1#on_demand",
            )
            for i in range(3)
        ),
    ]
    actions = analyzer().savings_opportunity(runs, "90d", now=NOW).actions
    ids = [record_id for a in actions for record_id in a.record_ids]
    assert len(ids) == len(set(ids)) == 6


def test_same_provider_in_another_case_is_not_a_provider_switch() -> None:
    # Runs stored with the platform's lower-case "aws"; the catalog says "AWS". Moving to a
    # cheaper AWS instance in the same region is an instance change, never "switch provider".
    arrays = CatalogArrays.from_offerings(
        (
            make_offering("AWS", "us-east-1", "p4d", gpu_count=1, price_per_hour=4.0, **A100),
            make_offering("AWS", "us-east-1", "p4e", gpu_count=1, price_per_hour=2.0, **A100),
        ),
        SPECS,
    )
    runs = [
        gpu_rec(i, provider="aws", region="us-east-1", instance="p4d", cost=50.0) for i in range(3)
    ]
    (action,) = CostAnalyzer(arrays).savings_opportunity(runs, "90d", now=NOW).actions
    assert action.kind == "instance"
    assert action.changes == ("instance",)
    assert action.title.startswith("Change instance")
    assert action.suggested_setup.provider == "AWS" and action.current_setup.provider == "aws"


def test_another_region_is_a_region_change() -> None:
    arrays = CatalogArrays.from_offerings(
        (
            make_offering("P1", "r1", "a100", gpu_count=1, price_per_hour=4.0, **A100),
            make_offering("P1", "r2", "a100", gpu_count=1, price_per_hour=2.0, **A100),
        ),
        SPECS,
    )
    (action,) = (
        CostAnalyzer(arrays)
        .savings_opportunity([gpu_rec(i) for i in range(3)], "90d", now=NOW)
        .actions
    )
    assert action.kind == "region" and action.changes == ("region",)
    assert action.title.startswith("Change region")


def test_cpu_job_is_never_moved_to_a_gpu_machine() -> None:
    # A CPU LightGBM job on c6i.8xlarge. A GPU pod is the cheapest row of the candidate table
    # (0.30/h against 1.22/h), but the job needs no GPU: the cheaper CPU machine is proposed.
    cpu = {"vcpus": 32, "memory_gb": 64.0}
    arrays = CatalogArrays.from_offerings(
        (
            make_offering("AWS", "us-east-1", "c6i.8xlarge", price_per_hour=1.36, **cpu),
            make_offering("AWS", "us-east-1", "c6a.8xlarge", price_per_hour=1.22, **cpu),
            make_offering(
                "RunPod",
                "us",
                "a4000-pod",
                gpu_type="RTX A4000",
                gpu_count=1,
                gpu_memory_gb=16,
                price_per_hour=0.3,
                **cpu,
            ),
        ),
        SPECS,
    )
    gbm = WorkloadProfile(
        name="gbm", framework="lightgbm", gpu_required=False, dataset_size_gb=20, model_params_m=1
    )
    runs = [
        rec(
            i,
            provider="AWS",
            region="us-east-1",
            instance_type="c6i.8xlarge",
            gpu_type=None,
            gpu_count=0,
            cost=2.0,
            workload=gbm,
        )
        for i in range(3)
    ]
    actions = CostAnalyzer(arrays).savings_opportunity(runs, "90d", now=NOW).actions
    assert [a.suggested for a in actions] == ["AWS/us-east-1/c6a.8xlarge#1#on_demand"]
    assert actions[0].kind == "instance"


def test_savings_count_only_the_runs_on_the_setup_they_replace() -> None:
    """Three bert runs on the a10 (100 each) and two already on the recommended H100 box (60):
    moving off the a10 saves 40 on three runs, not on five. The item claimed 40 x 5 runs (the
    two runs already on the suggestion were counted as if they would save too) and held their
    ids, so no other item could use them."""
    month = DAYS_PER_MONTH / 90.0
    common: dict[str, Any] = {
        "workload_name": "bert",
        "recommended_cost": 60.0,
        "recommended_candidate": "P1/r1/h100x8#1#on_demand",
    }
    on_a10 = [
        rec(
            i,
            provider="P2",
            instance_type="a10",
            gpu_type="A10",
            gpu_count=1,
            cost=100.0,
            hours=10.0,
            **common,
        )
        for i in range(3)
    ]
    followed = [rec(10 + i, cost=60.0, hours=6.0, **common) for i in range(2)]
    report = analyzer().savings_opportunity(on_a10 + followed, "90d", now=NOW)
    switch = next(a for a in report.actions if a.kind == "provider_switch")
    assert switch.current == "P2/r1/a10#1#on_demand"
    assert switch.suggested == "P1/r1/h100x8#1#on_demand"
    assert switch.runs_per_month == pytest.approx(3 * month)
    assert switch.estimated_monthly_savings == pytest.approx(40.0 * 3 * month)
    assert switch.evidence_runs == 3
    assert set(switch.record_ids) == {"r0", "r1", "r2"}
