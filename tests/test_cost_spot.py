"""Spot advisor: known answers computed by hand, thresholds, priors and currencies."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from artenic_opt._internal.money import ExchangeRates
from artenic_opt.cost_analyzer.spot_advisor import (
    SpotScenario,
    advise_spot,
    prior_rate_per_hour,
    prior_share,
    spot_economics,
)
from artenic_opt.errors import CurrencyError, InvalidInputError
from artenic_opt.schemas import Offering, SpendRecord, SpotThresholds
from artenic_opt.types import JobStatus

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def rec(i: int, **kw: Any) -> SpendRecord:
    base: dict[str, Any] = {
        "record_id": f"r{i}",
        "timestamp": T0 + timedelta(hours=i),
        "provider": "AWS",
        "region": "us-east-1",
        "instance_type": "p4d.24xlarge",
        "gpu_type": "A100-40GB",
        "gpu_count": 8,
        "hours": 10.0,
        "cost": 30.0,
        "spot": True,
        "on_demand_price_per_hour": 10.0,
    }
    base.update(kw)
    return SpendRecord(**base)


def six_spot_runs(preempted: dict[int, int]) -> list[SpendRecord]:
    """Six 10-hour spot runs at 3/h against an on-demand list price of 10/h."""
    return [rec(i, preemptions=preempted.get(i, 0)) for i in range(6)]


SCENARIO = SpotScenario(
    checkpointing=True, checkpoint_interval_hours=2.0, restart_overhead_hours=0.5, job_hours=10.0
)


def test_known_answer_spot_recommended() -> None:
    # 1 of 6 runs preempted (twice): rate 1/6, 2 preemptions per preempted run.
    # savings = 1 - 180 / 600 = 0.7; spot price = 10 x 0.3 = 3 per hour.
    # spot_cost = 3 x 10 = 30; lost = 2 / 2 = 1 h; retry_overhead = 2 x 3 x (1 + 0.5) = 9.
    # expected = 30 + 9 / 6 = 31.5; on-demand = 100; saving 68.5 (68.5%).
    (advice,) = advise_spot(six_spot_runs({0: 2}), scenario=SCENARIO)
    assert advice.basis == "history"
    assert advice.history_sufficient
    assert (advice.spot_runs, advice.preempted_runs) == (6, 1)
    assert advice.preemption_rate == pytest.approx(1 / 6)
    assert advice.preemptions_per_preempted_run == pytest.approx(2.0)
    assert advice.spot_savings == pytest.approx(0.7)
    assert advice.on_demand_price_per_hour == pytest.approx(10.0)
    assert advice.spot_price_per_hour == pytest.approx(3.0)
    assert advice.lost_hours_per_preemption == pytest.approx(1.0)
    assert advice.spot_cost == pytest.approx(30.0)
    assert advice.retry_overhead == pytest.approx(9.0)
    assert advice.expected_spot_cost == pytest.approx(31.5)
    assert advice.on_demand_cost == pytest.approx(100.0)
    assert advice.expected_savings == pytest.approx(68.5)
    assert advice.expected_savings_pct == pytest.approx(0.685)
    assert advice.recommend_spot
    assert advice.currency == "USD"
    assert any("70%" in r for r in advice.reasons)
    assert any("16.7% of spot runs preempted" in r for r in advice.reasons)
    assert not advice.warnings


def test_known_answer_without_checkpointing() -> None:
    # Without checkpoints a preemption loses half the job: lost = 5 h.
    # retry_overhead = 2 x 3 x (5 + 0.5) = 33; expected = 30 + 33 / 6 = 35.5.
    scenario = SpotScenario(
        checkpointing=False, restart_overhead_hours=0.5, job_hours=10.0, checkpoint_interval_hours=2
    )
    (advice,) = advise_spot(six_spot_runs({0: 2}), scenario=scenario)
    assert advice.lost_hours_per_preemption == pytest.approx(5.0)
    assert advice.retry_overhead == pytest.approx(33.0)
    assert advice.expected_spot_cost == pytest.approx(35.5)
    assert not advice.recommend_spot
    assert any("checkpointing is off" in r for r in advice.reasons)
    # The checkpointing rule is configurable.
    relaxed = SpotThresholds(require_checkpointing=False)
    (advice,) = advise_spot(six_spot_runs({0: 2}), scenario=scenario, thresholds=relaxed)
    assert advice.recommend_spot


def test_high_preemption_rate_blocks_spot() -> None:
    # 2 of 6 preempted = 33% >= 20%.
    (advice,) = advise_spot(six_spot_runs({0: 1, 1: 1}), scenario=SCENARIO)
    assert advice.preemption_rate == pytest.approx(1 / 3)
    assert not advice.recommend_spot
    assert any("not below 20%" in r for r in advice.reasons)
    # A looser threshold lets it through.
    loose = SpotThresholds(max_preemption_rate=0.4)
    (advice,) = advise_spot(six_spot_runs({0: 1, 1: 1}), scenario=SCENARIO, thresholds=loose)
    assert advice.recommend_spot


def test_small_savings_block_spot() -> None:
    # Paid 8/h against 10/h: savings 20% <= 30%.
    runs = [rec(i, cost=80.0) for i in range(6)]
    (advice,) = advise_spot(runs, scenario=SCENARIO)
    assert advice.spot_savings == pytest.approx(0.2)
    assert not advice.recommend_spot
    assert any("saves only 20%" in r for r in advice.reasons)
    (advice,) = advise_spot(runs, scenario=SCENARIO, thresholds=SpotThresholds(min_savings=0.1))
    assert advice.recommend_spot


def test_expected_cost_guard() -> None:
    # Savings 35% and rate 1/6 pass, but 50 preemptions per preempted run make retries ruinous:
    # spot 6.5/h, cost 65, retry = 50 x 6.5 x 1.5 = 487.5, expected = 65 + 487.5 / 6 = 146.25.
    runs = [rec(i, cost=65.0, preemptions=50 if i == 0 else 0) for i in range(6)]
    (advice,) = advise_spot(runs, scenario=SCENARIO)
    assert advice.expected_spot_cost == pytest.approx(146.25)
    assert not advice.recommend_spot
    assert any("is not below" in r for r in advice.reasons)


def test_status_preempted_counts_as_one_preemption() -> None:
    runs = six_spot_runs({})
    runs[3] = rec(3, status=JobStatus.PREEMPTED, preemptions=0)
    (advice,) = advise_spot(runs, scenario=SCENARIO)
    assert advice.preempted_runs == 1
    assert advice.preemptions_per_preempted_run == pytest.approx(1.0)


def test_prior_used_with_too_little_history() -> None:
    # Two GCP spot runs only. List prices 10 on-demand / 4 spot: discount 0.6.
    # Estimator prior for GCP: 0.02 preemptions per instance-hour. A 10-hour job on one node
    # expects m = 0.2 preemptions: share preempted 1 - exp(-0.2) = 0.181269, and a preempted
    # run sees 0.2 / 0.181269 = 1.103331 of them. Defaults: interval 1 h, restart 0.25 h, so
    # one preemption costs 4 x (0.5 + 0.25) = 3: retry_overhead = 1.103331 x 3 = 3.309993,
    # expected = 40 + 0.181269 x 3.309993 = 40 + 0.2 x 3 = 40.6.
    runs = [
        rec(
            i,
            provider="GCP",
            region="us-central1",
            instance_type="a2-highgpu-1g",
            spot_price_per_hour=4.0,
            cost=40.0,
        )
        for i in range(2)
    ]
    (advice,) = advise_spot(runs, scenario=SpotScenario(job_hours=10.0))
    assert advice.basis == "prior"
    assert not advice.history_sufficient
    assert advice.prior_preemptions_per_hour == pytest.approx(0.02)
    assert advice.preemption_rate == pytest.approx(0.181269, abs=1e-6)
    assert advice.preemptions_per_preempted_run == pytest.approx(1.103331, abs=1e-6)
    assert advice.spot_savings == pytest.approx(0.6)
    assert advice.retry_overhead == pytest.approx(3.309993, abs=1e-6)
    assert advice.expected_spot_cost == pytest.approx(40.6)
    assert advice.recommend_spot
    (warning,) = advice.warnings
    assert "only 2 spot runs of GCP/us-central1/a2-highgpu-1g recorded (need 5)" in warning
    assert "0.02 preemptions per instance-hour (the estimator's prior)" in warning
    assert "18.1% of 10-hour runs on 1 node preempted" in warning


def test_prior_share_poisson() -> None:
    share, per_run = prior_share(0.01, 2, 5.0)  # m = 0.1
    assert share == pytest.approx(0.0951626, abs=1e-7)
    assert share * per_run == pytest.approx(0.1)
    assert prior_share(0.0, 1, 10.0) == (0.0, 1.0)
    assert prior_rate_per_hour("aws", None) == pytest.approx(0.01)
    assert prior_rate_per_hour("AWS", {"aws": 0.5}) == pytest.approx(0.5)
    assert prior_rate_per_hour("Vast.ai", None) == pytest.approx(0.03)


def test_minimum_runs_is_configurable() -> None:
    runs = six_spot_runs({})
    (advice,) = advise_spot(runs, scenario=SCENARIO, thresholds=SpotThresholds(min_runs=7))
    assert advice.basis == "prior"
    # AWS prior 0.01/h over 10 h: 1 - exp(-0.1).
    assert advice.preemption_rate == pytest.approx(0.0951626, abs=1e-7)


def test_unknown_provider_prior_is_conservative() -> None:
    # 0.03/h over 10 h: 1 - exp(-0.3) = 25.9% preempted, not below 20%.
    runs = [
        rec(0, provider="Vast.ai", region="any", instance_type="rtx4090", spot_price_per_hour=2.0)
    ]
    (advice,) = advise_spot(runs, scenario=SCENARIO)
    assert advice.preemption_rate == pytest.approx(0.259182, abs=1e-6)
    assert not advice.recommend_spot
    # A measured rate replaces the prior and says so.
    (advice,) = advise_spot(runs, scenario=SCENARIO, preemption_rates={"vast.ai": 0.001})
    assert advice.recommend_spot
    assert "the measured rate given" in advice.warnings[0]


def test_no_price_known() -> None:
    runs = [rec(0, on_demand_price_per_hour=None, provider="Lambda", region="us-east-1")]
    (advice,) = advise_spot(runs, scenario=SCENARIO)
    assert not advice.recommend_spot
    assert advice.expected_spot_cost is None
    assert advice.spot_savings is None
    assert any("no spot price" in r for r in advice.reasons)


def test_prices_from_offering_and_provider_discount() -> None:
    offering = Offering(
        provider="AWS",
        region="us-east-1",
        instance_type="p4d.24xlarge",
        gpu_type="A100-40GB",
        gpu_count=8,
        price_per_hour=20.0,
        spot_price_per_hour=5.0,
        source="test",
        price_date=date(2026, 1, 1),
    )
    runs = [rec(0, on_demand_price_per_hour=None, spot=False, cost=200.0)]
    (advice,) = advise_spot(runs, scenario=SCENARIO, offerings=[offering])
    assert advice.on_demand_price_per_hour == pytest.approx(20.0)
    assert advice.spot_savings == pytest.approx(0.75)
    # Without the offering, the on-demand run's own price and the provider median discount.
    (advice,) = advise_spot(runs, scenario=SCENARIO, provider_discounts={"aws": 0.5})
    assert advice.on_demand_price_per_hour == pytest.approx(20.0)
    assert advice.spot_savings == pytest.approx(0.5)
    # Measured preemption rates replace the estimator's prior.
    (advice,) = advise_spot(runs, scenario=SCENARIO, preemption_rates={"AWS": 0.001})
    assert advice.preemption_rate == pytest.approx(-np.expm1(-0.01))


def test_nodes_scale_prices_and_costs() -> None:
    runs = [rec(i, nodes=2, cost=60.0) for i in range(6)]
    (advice,) = advise_spot(runs, scenario=SCENARIO)
    # 60 paid for 2 nodes x 10 h at a list price of 10 per node-hour: savings 0.7.
    assert advice.nodes == 2
    assert advice.spot_savings == pytest.approx(0.7)
    assert advice.on_demand_price_per_hour == pytest.approx(20.0)
    assert advice.on_demand_cost == pytest.approx(200.0)
    assert advice.spot_cost == pytest.approx(60.0)


def test_currency_conversion_and_error() -> None:
    runs = [
        rec(i, currency="EUR", cost=15.0, reference_currency="EUR", on_demand_price_per_hour=5.0)
        for i in range(6)
    ]
    with pytest.raises(CurrencyError, match="EUR"):
        advise_spot(runs, display_currency="USD", scenario=SCENARIO)
    rates = ExchangeRates({"EUR": 0.5}, source="test")
    (advice,) = advise_spot(runs, display_currency="USD", rates=rates, scenario=SCENARIO)
    # 1 EUR = 2 USD: list price 10 USD/h; paid 30 USD per 10 h -> savings 0.7.
    assert advice.on_demand_price_per_hour == pytest.approx(10.0)
    assert advice.spot_savings == pytest.approx(0.7)
    assert advice.currency == "USD"


def test_ordering_and_grouping() -> None:
    good = six_spot_runs({})
    bad = [rec(10 + i, instance_type="g5.xlarge", cost=90.0) for i in range(6)]
    advice = advise_spot(bad + good, scenario=SCENARIO)
    assert [a.instance_type for a in advice] == ["p4d.24xlarge", "g5.xlarge"]
    assert advice[0].recommend_spot and not advice[1].recommend_spot


def test_economics_function_and_scenario_validation() -> None:
    econ = spot_economics(
        on_demand_price_per_hour=4.0,
        spot_savings=0.5,
        preemption_rate=0.1,
        preemptions_per_preempted_run=1.0,
        job_hours=8.0,
        nodes=1,
        checkpointing=True,
        checkpoint_interval_hours=1.0,
        restart_overhead_hours=0.0,
    )
    # spot 2/h: cost 16; retry 2 x 0.5 = 1; expected 16.1; on-demand 32.
    assert econ.expected_spot_cost == pytest.approx(16.1)
    assert econ.expected_savings_pct == pytest.approx(15.9 / 32)
    with pytest.raises(InvalidInputError, match="checkpoint_interval_hours"):
        SpotScenario(checkpoint_interval_hours=0)
    with pytest.raises(InvalidInputError, match="restart_overhead_hours"):
        SpotScenario(restart_overhead_hours=-1)
    with pytest.raises(InvalidInputError, match="job_hours"):
        SpotScenario(job_hours=0)
    with pytest.raises(InvalidInputError, match="nodes"):
        SpotScenario(nodes=0)


def test_savings_from_the_groups_own_on_demand_runs() -> None:
    # No list prices anywhere: 3 on-demand runs paid 10/h; 5 spot runs paid 3/h; one spot run
    # failed at once (0 h) and counts as a run but not in the price average.
    on_demand = [rec(i, spot=False, cost=100.0, on_demand_price_per_hour=None) for i in range(3)]
    spot = [rec(10 + i, on_demand_price_per_hour=None) for i in range(5)]
    failed = rec(20, on_demand_price_per_hour=None, hours=0.0, cost=0.0, status=JobStatus.FAILED)
    (advice,) = advise_spot([*on_demand, *spot, failed], scenario=SCENARIO)
    assert advice.basis == "history"
    assert advice.runs == 9 and advice.spot_runs == 6
    assert advice.on_demand_price_per_hour == pytest.approx(10.0)
    assert advice.spot_savings == pytest.approx(0.7)
    # Only spot runs and no price at all: nothing to compare against.
    (advice,) = advise_spot([*spot, failed], scenario=SCENARIO)
    assert advice.spot_savings is None
    assert not advice.recommend_spot


def test_big_discount_low_preemption_without_checkpoints_advises_spot() -> None:
    # The verdict issue 13 reported: 89% savings at 0% preemption, checkpointing off, advised
    # on-demand. Six 10-hour runs paid 1.1/h against a list price of 10/h: savings 0.89, none
    # preempted, so 1 preemption per preempted run is assumed. A run preempted once and
    # restarted from zero: 1.1 x (10 + 1 x (10 + 0.5)) = 22.55 <= (1 - 0.30) x 100 = 70.
    runs = [rec(i, cost=11.0) for i in range(6)]
    scenario = SpotScenario(checkpointing=False, restart_overhead_hours=0.5, job_hours=10.0)
    (advice,) = advise_spot(runs, scenario=scenario)
    assert advice.spot_savings == pytest.approx(0.89)
    assert advice.preemption_rate == 0
    assert advice.recommend_spot
    assert any("22.55 USD" in r and "checkpointing is off, but" in r for r in advice.reasons)
    # The verdict's reason is the expected saving: 1 - 11 / 100 = 89%.
    assert advice.verdict_reason.startswith("89% cheaper with retries (11.00 USD against 100.00")


def test_verdict_reason_is_the_first_failed_condition() -> None:
    # Without checkpoints at 70% savings, 2 preemptions per preempted run: the worst case
    # 3 x (10 + 2 x 10.5) = 93 is not 30% below 100, so on-demand, and the table says why.
    scenario = SpotScenario(
        checkpointing=False, restart_overhead_hours=0.5, job_hours=10.0, checkpoint_interval_hours=2
    )
    (advice,) = advise_spot(six_spot_runs({0: 2}), scenario=scenario)
    assert not advice.recommend_spot
    assert advice.verdict_reason.startswith("checkpointing is off: a run preempted 2 times")
    assert "93.00 USD" in advice.verdict_reason
    # High preemption is named first when it fails too (reasons keep their order).
    (advice,) = advise_spot(six_spot_runs({0: 1, 1: 1}), scenario=SCENARIO)
    assert advice.verdict_reason == "33.3% of spot runs preempted, not below 20%"
