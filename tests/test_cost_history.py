"""Historical analyzer: periods, spend grouping, metric efficiency, anomalies and savings."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, strategies as st

from artenic_opt._internal.money import ExchangeRates
from artenic_opt.cost_analyzer._common import MIN_RATE_HOURS, NOTHING_RECORDED, hourly_rate
from artenic_opt.cost_analyzer.anomalies import (
    ANOMALY_Z_THRESHOLD,
    detect_anomalies,
    robust_stats,
    robust_z_scores,
)
from artenic_opt.cost_analyzer.periods import (
    LookbackWindow,
    auto_bucket,
    bucket_label,
    bucket_start,
    parse_period,
)
from artenic_opt.cost_analyzer.savings import savings_against_recommendations
from artenic_opt.cost_analyzer.spending import summarize_spending
from artenic_opt.errors import CurrencyError, InvalidInputError
from artenic_opt.schemas import SpendRecord
from artenic_opt.types import JobStatus, Period

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def rec(i: int, **kw: Any) -> SpendRecord:
    base: dict[str, Any] = {
        "record_id": f"r{i}",
        "timestamp": NOW - timedelta(days=1, hours=i),
        "provider": "AWS",
        "region": "us-east-1",
        "instance_type": "g5.xlarge",
        "gpu_type": "A10G",
        "gpu_count": 1,
        "hours": 1.0,
        "cost": 1.0,
    }
    base.update(kw)
    return SpendRecord(**base)


# --------------------------------------------------------------------------------------------
# Periods
# --------------------------------------------------------------------------------------------


@given(
    st.integers(1, 100),
    st.sampled_from("dwmyDWMY"),
    st.text(" ", max_size=2),
    st.text(" ", max_size=2),
)
def test_parse_period_accepts_the_documented_forms(
    amount: int, unit: str, lead: str, trail: str
) -> None:
    window = parse_period(f"{lead}{amount}{unit}{trail}")
    assert window == LookbackWindow(amount=amount, unit=unit.lower())
    assert window.text == f"{amount}{unit.lower()}"
    assert parse_period(window.text) == window


@given(st.text(max_size=12))
def test_parse_period_rejects_everything_else(text: str) -> None:
    stripped = text.strip()
    valid = (
        len(stripped) >= 2
        and stripped[:-1].strip().isdigit()
        and stripped[:-1].strip().isascii()
        and stripped[-1].lower() in "dwmy"
        and 1 <= int(stripped[:-1].strip()) <= 100
    )
    if valid:
        parse_period(text)
        return
    with pytest.raises(InvalidInputError, match=r"period: .*") as err:
        parse_period(text)
    message = str(err.value)
    assert "30d" in message or "at least 1" in message or "longer than" in message


@pytest.mark.parametrize("text", ["30", "d30", "3.5d", "-1d", "1h", "thirty days", "", "1 dw"])
def test_parse_period_message_lists_accepted_forms(text: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        parse_period(text)
    assert "30d, 12w, 6m, 90d or 1y" in str(err.value)


def test_parse_period_bounds() -> None:
    with pytest.raises(InvalidInputError, match="at least 1"):
        parse_period("0d")
    with pytest.raises(InvalidInputError, match="longer than"):
        parse_period("101y")
    assert parse_period("36500d").amount == 36500


def test_window_starts_use_calendar_months() -> None:
    leap = datetime(2024, 8, 31, 9, 30, tzinfo=UTC)
    assert parse_period("6m").start(leap) == datetime(2024, 2, 29, 9, 30, tzinfo=UTC)
    assert parse_period("1y").start(datetime(2024, 2, 29, tzinfo=UTC)) == datetime(
        2023, 2, 28, tzinfo=UTC
    )
    assert parse_period("13m").start(datetime(2025, 1, 15, tzinfo=UTC)) == datetime(
        2023, 12, 15, tzinfo=UTC
    )
    assert parse_period("30d").start(NOW) == NOW - timedelta(days=30)
    assert parse_period("12w").start(NOW) == NOW - timedelta(days=84)
    assert parse_period("1y").approx_days == pytest.approx(365.2425)
    assert parse_period("1d").describe() == "1 day"
    assert parse_period("6m").describe() == "6 months"
    with pytest.raises(InvalidInputError, match="before year 1"):
        parse_period("100y").start(datetime(50, 1, 1, tzinfo=UTC))


def test_buckets() -> None:
    moment = datetime(2026, 11, 27, 15, 45, tzinfo=UTC)  # a Friday
    assert bucket_start(moment, Period.DAY) == datetime(2026, 11, 27, tzinfo=UTC)
    assert bucket_start(moment, Period.WEEK) == datetime(2026, 11, 23, tzinfo=UTC)
    assert bucket_start(moment, Period.MONTH) == datetime(2026, 11, 1, tzinfo=UTC)
    assert bucket_label(datetime(2026, 11, 23, tzinfo=UTC), Period.WEEK) == "2026-W48"
    assert bucket_label(datetime(2026, 11, 1, tzinfo=UTC), Period.MONTH) == "2026-11"
    assert auto_bucket(parse_period("30d")) is Period.DAY
    assert auto_bucket(parse_period("12w")) is Period.WEEK
    assert auto_bucket(parse_period("1y")) is Period.MONTH


# --------------------------------------------------------------------------------------------
# Spend
# --------------------------------------------------------------------------------------------


def test_empty_history_is_not_an_error() -> None:
    summary = summarize_spending([], period="30d", now=NOW)
    assert summary.empty
    assert summary.message == NOTHING_RECORDED
    assert summary.jobs == 0 and summary.total_cost == 0
    assert summary.model_dump(mode="json")["empty"] is True


def test_history_outside_the_window() -> None:
    old = rec(1, timestamp=NOW - timedelta(days=60))
    summary = summarize_spending([old], period="30d", now=NOW)
    assert summary.empty
    assert summary.records_outside_period == 1
    assert "no finished jobs in the last 30 days (1 older record" in (summary.message or "")


def test_spend_by_provider_with_rates() -> None:
    records = [
        rec(1, cost=100.0, hours=10.0),
        rec(2, cost=50.0, hours=5.0, status=JobStatus.FAILED),
        rec(
            3,
            provider="OVHcloud",
            region="gra",
            instance_type="h100-380",
            cost=40.0,
            currency="EUR",
            hours=2.0,
        ),
        rec(4, cost=999.0, timestamp=NOW - timedelta(days=45)),
    ]
    rates = ExchangeRates({"EUR": 0.8}, source="test")
    summary = summarize_spending(records, period="30d", by="provider", rates=rates, now=NOW)
    # 40 EUR at 0.8 EUR per USD = 50 USD.
    assert summary.total_cost == pytest.approx(200.0)
    assert summary.jobs == 3
    assert summary.records_outside_period == 1
    assert summary.failed_cost == pytest.approx(50.0)
    assert [g.key for g in summary.groups] == ["AWS", "OVHcloud"]
    aws, ovh = summary.groups
    assert aws.cost == pytest.approx(150.0)
    assert aws.share == pytest.approx(0.75)
    assert aws.cost_per_hour == pytest.approx(10.0)
    assert (aws.failed_jobs, aws.failed_cost) == (1, pytest.approx(50.0))
    assert ovh.cost == pytest.approx(50.0)
    assert summary.bucket == "day"
    assert sum(g.cost for g in summary.timeline) == pytest.approx(200.0)


def test_mixed_currencies_without_rate_raise() -> None:
    records = [rec(1), rec(2, currency="EUR")]
    with pytest.raises(CurrencyError, match="record r2: amount in EUR"):
        summarize_spending(records, now=NOW)


@pytest.mark.parametrize(
    ("by", "keys"),
    [
        ("instance", ["AWS/g5.xlarge", "AWS/p5.48xlarge"]),
        ("region", ["AWS/us-east-1", "AWS/us-west-2"]),
        ("gpu", ["A10G", "H100"]),
        ("workload", ["(no workload)", "bert"]),
        ("month", ["2026-10", "2026-11"]),
    ],
)
def test_spend_dimensions(by: str, keys: list[str]) -> None:
    records = [
        rec(1, cost=10.0, workload_name="bert"),
        rec(
            2,
            cost=30.0,
            instance_type="p5.48xlarge",
            region="us-west-2",
            gpu_type="H100",
            timestamp=datetime(2026, 10, 30, tzinfo=UTC),
        ),
    ]
    summary = summarize_spending(records, period="3m", by=by, now=NOW)
    assert sorted(g.key for g in summary.groups) == keys
    assert summary.bucket == "week"


def test_time_dimension_is_chronological_and_bad_dimension() -> None:
    records = [rec(i, timestamp=NOW - timedelta(days=3 * i)) for i in range(5)]
    summary = summarize_spending(records, period="30d", by="day", now=NOW)
    assert [g.key for g in summary.groups] == sorted(g.key for g in summary.groups)
    assert all(g.start is not None for g in summary.groups)
    week = summarize_spending(records, period="30d", by="week", bucket=Period.MONTH, now=NOW)
    assert week.bucket == "month"
    with pytest.raises(InvalidInputError, match="by: 'vendor' is not one of provider"):
        summarize_spending(records, by="vendor", now=NOW)
    with pytest.raises(InvalidInputError, match="appears twice"):
        summarize_spending([rec(1), rec(1)], now=NOW)


def test_metric_efficiency_known_answer() -> None:
    records = [
        rec(1, cost=100.0, workload_name="bert", metric_before=0.80, metric_after=0.85),
        rec(2, cost=50.0, workload_name="bert", metric_before=0.85, metric_after=0.84),
        rec(
            3,
            cost=10.0,
            workload_name="gpt",
            metric_before=2.0,
            metric_after=1.5,
            metric_higher_is_better=False,
        ),
        rec(
            4,
            cost=10.0,
            workload_name="gpt",
            metric_before=1.5,
            metric_after=1.6,
            metric_higher_is_better=False,
            timestamp=NOW - timedelta(days=40),
        ),
        rec(5, cost=7.0),
    ]
    summary = summarize_spending(records, period="3m", by="workload", bucket=Period.MONTH, now=NOW)
    points = {(p.workload, p.bucket): p for p in summary.metric_efficiency}
    # bert: 150 spent, improvements +0.05 and -0.01 -> 0.05 counted -> 3000 per unit.
    bert = points[("bert", "2026-11")]
    assert bert.runs == 2
    assert bert.improvement == pytest.approx(0.05)
    assert bert.cost_per_unit == pytest.approx(3000.0)
    # gpt (loss, lower is better): 2.0 -> 1.5 is +0.5 for 10 -> 20 per unit.
    assert points[("gpt", "2026-11")].cost_per_unit == pytest.approx(20.0)
    # gpt in October got worse: nothing improved, no cost per unit.
    october = points[("gpt", "2026-10")]
    assert october.improvement == 0 and october.cost_per_unit is None


# --------------------------------------------------------------------------------------------
# Anomalies (hand-computed)
# --------------------------------------------------------------------------------------------


def test_robust_stats_known_answer() -> None:
    # Sorted: 3.8 3.9 4.0 4.0 4.1 4.2 9.3 -> median 4.0; |deviations| sorted:
    # 0 0 0.1 0.1 0.2 0.2 5.3 -> MAD 0.1. z(9.3) = 0.6745 x 5.3 / 0.1 = 35.7485.
    values = [4.0, 4.2, 3.8, 4.1, 3.9, 4.0, 9.3]
    stats = robust_stats(values)
    assert stats.median == pytest.approx(4.0)
    assert stats.mad == pytest.approx(0.1)
    z = robust_z_scores(values)
    assert z[6] == pytest.approx(35.7485)
    assert z[1] == pytest.approx(1.349)
    assert z[2] == pytest.approx(-1.349)
    with pytest.raises(InvalidInputError):
        robust_stats([])


def test_cost_per_hour_anomaly_known_answer() -> None:
    per_hour = [4.0, 4.2, 3.8, 4.1, 3.9, 4.0, 9.3]
    records = [rec(i, hours=2.0, cost=2.0 * p) for i, p in enumerate(per_hour)]
    summary = summarize_spending(records, period="30d", now=NOW)
    (anomaly,) = summary.anomalies
    assert anomaly.record_id == "r6"
    assert anomaly.metric == "cost_per_hour"
    assert anomaly.value == pytest.approx(9.3)
    assert anomaly.median == pytest.approx(4.0)
    assert anomaly.mad == pytest.approx(0.1)
    assert anomaly.robust_z == pytest.approx(35.7485)
    assert anomaly.ratio_to_median == pytest.approx(2.325)
    assert anomaly.comparable_runs == 7
    assert anomaly.unit == "USD"
    assert anomaly.reason.startswith("cost per hour 2.3x the median of 7 comparable runs")
    assert "AWS/us-east-1/g5.xlarge, 1 node, on-demand" in anomaly.reason
    assert "9.30 USD against 4.00 USD" in anomaly.reason


def test_zero_mad_falls_back_to_mean_absolute_deviation() -> None:
    # Hours 2,2,2,2,2,6 at 5/h: cost per hour is constant (nothing flagged there).
    # hours: median 2, MAD 0, MeanAD = 4 / 6; z(6) = 4 / (1.253314 x 0.6667) = 4.7873.
    # cost: 10,10,10,10,10,30: median 10, MeanAD = 20 / 6; z(30) = 4.7873 as well.
    records = [
        rec(i, hours=h, cost=5.0 * h, workload_name="bert", query_id="q1")
        for i, h in enumerate([2.0, 2.0, 2.0, 2.0, 2.0, 6.0])
    ]
    summary = summarize_spending(records, period="30d", now=NOW)
    found = {a.metric: a for a in summary.anomalies}
    assert set(found) == {"cost_per_run", "hours_per_run"}
    assert found["hours_per_run"].robust_z == pytest.approx(4.7873, rel=1e-4)
    assert found["hours_per_run"].mad == 0
    assert found["hours_per_run"].unit == "h"
    assert found["hours_per_run"].reason.startswith("duration 3.0x the median of 6")
    assert "completed runs of bert on 1x A10G, 1 node" in found["hours_per_run"].reason
    assert found["cost_per_run"].robust_z == pytest.approx(4.7873, rel=1e-4)
    assert all(a.record_id == "r5" for a in summary.anomalies)


def test_no_anomaly_below_threshold_or_in_small_groups() -> None:
    # Identical runs: MAD and MeanAD are 0, nothing to flag.
    same = [rec(i, cost=3.0) for i in range(6)]
    assert summarize_spending(same, now=NOW).anomalies == ()
    # An outlier in a group of 4 (< 5 comparable runs) is not judged.
    small = [rec(i, cost=c) for i, c in enumerate([1.0, 1.0, 1.1, 50.0])]
    assert summarize_spending(small, now=NOW).anomalies == ()
    assert summarize_spending(small, now=NOW, min_comparable_runs=4).anomalies != ()
    # Different instance types are never compared with each other.
    mixed = [rec(i, cost=1.0 + 0.01 * i) for i in range(5)] + [
        rec(9, cost=100.0, instance_type="p5.48xlarge")
    ]
    assert summarize_spending(mixed, now=NOW).anomalies == ()


def test_low_side_anomaly_and_validation() -> None:
    records = [rec(i, cost=c) for i, c in enumerate([10.0, 10.2, 9.8, 10.1, 9.9, 0.5])]
    costs = {r.record_id: r.cost for r in records}
    (anomaly,) = detect_anomalies(records, costs=costs, currency="USD")
    assert anomaly.record_id == "r5"
    assert anomaly.robust_z < -ANOMALY_Z_THRESHOLD
    assert anomaly.reason.startswith("cost per hour 0.1x the median")
    with pytest.raises(InvalidInputError, match="min_comparable_runs"):
        detect_anomalies(records, costs=costs, currency="USD", min_comparable_runs=1)
    with pytest.raises(InvalidInputError, match="z_threshold"):
        detect_anomalies(records, costs=costs, currency="USD", z_threshold=0)


def test_anomaly_against_zero_median() -> None:
    records = [rec(i, cost=0.0) for i in range(5)] + [rec(5, cost=4.0), rec(6, cost=0.0)]
    (anomaly,) = summarize_spending(records, now=NOW).anomalies
    assert anomaly.ratio_to_median is None
    assert anomaly.reason.startswith("cost per hour far from the median of 7")


# --------------------------------------------------------------------------------------------
# Savings against recommendations (hand-computed)
# --------------------------------------------------------------------------------------------


def test_savings_known_answer() -> None:
    rates = ExchangeRates({"EUR": 0.5}, source="test")  # 1 EUR = 2 USD
    records = [
        rec(
            1,
            cost=120.0,
            recommended_cost=100.0,
            recommended_candidate="AWS/us-east-1/g5.xlarge#1#on_demand",
        ),
        rec(
            2,
            cost=80.0,
            recommended_cost=100.0,
            recommended_candidate="Lambda/us/gpu_1x_a10#1#on_demand",
        ),
        rec(3, cost=50.0, currency="EUR", recommended_cost=40.0),
        rec(4, cost=500.0, recommended_cost=10.0, status=JobStatus.FAILED),
        rec(5, cost=70.0),
    ]
    report = savings_against_recommendations(records, period="30d", rates=rates, now=NOW)
    # Actual 120 + 80 + 100 = 300; recommended 100 + 100 + 80 = 280.
    assert report.records_compared == 3
    assert report.records_without_recommendation == 1
    assert report.actual_total == pytest.approx(300.0)
    assert report.recommended_total == pytest.approx(280.0)
    assert report.difference_total == pytest.approx(20.0)
    assert report.overspend_total == pytest.approx(40.0)
    by_id = {s.record_id: s for s in report.records}
    assert by_id["r1"].followed_recommendation is True
    assert by_id["r2"].followed_recommendation is False
    assert by_id["r3"].followed_recommendation is None
    assert by_id["r3"].actual_cost == pytest.approx(100.0)
    assert by_id["r3"].recommended_cost == pytest.approx(80.0)
    assert [s.record_id for s in report.records] == ["r3", "r1", "r2"]
    assert not report.empty


def test_savings_reference_currency_and_empty_cases() -> None:
    rates = ExchangeRates({"EUR": 0.5}, source="test")
    record = rec(1, cost=30.0, recommended_cost=10.0, reference_currency="EUR")
    report = savings_against_recommendations([record], rates=rates, now=NOW)
    assert report.records[0].recommended_cost == pytest.approx(20.0)
    with pytest.raises(CurrencyError):
        savings_against_recommendations([record], now=NOW)
    empty = savings_against_recommendations([], now=NOW)
    assert empty.empty and empty.message == NOTHING_RECORDED
    none = savings_against_recommendations([rec(1)], now=NOW)
    assert none.empty and "carries the cost of the recommendation" in (none.message or "")


def test_spend_record_validation() -> None:
    with pytest.raises(ValueError, match="final status"):
        rec(1, status=JobStatus.RUNNING)
    with pytest.raises(ValueError, match="metric_after"):
        rec(1, metric_before=1.0)
    with pytest.raises(ValueError, match="gpu_type"):
        rec(1, gpu_type=None, gpu_count=2)
    naive = rec(1, timestamp=datetime(2026, 1, 1, 12, 0))
    assert naive.timestamp.tzinfo is UTC
    assert naive.candidate_id == "AWS/us-east-1/g5.xlarge#1#on_demand"
    assert rec(1, query_id="q").workload_key == "q"
    assert rec(1, workload_name="n").workload_key == "n"
    assert rec(1).workload_key is None


def test_floating_point_noise_is_not_a_spread() -> None:

    values = [4.0, 4.0 + 4e-16, 4.0 - 4e-16, 4.0, 4.0 + 8e-16]
    stats = robust_stats(values)
    assert stats.mad == 0.0 and stats.mean_ad == 0.0
    assert stats.z(4.0 + 8e-16) is None


def test_an_anomaly_must_also_be_material() -> None:
    # Five runs at 10.00/h and one at 10.40/h: MAD is 0, and the MeanAD fallback gives
    # z = (10.4 - 10) / (1.253314 x 0.4/6) = +4.8 > 3.5, statistically unusual. But 1.04x the
    # median is no anomaly: it is 4% away, under the 25% floor.
    records = [rec(i, cost=c) for i, c in enumerate([10.0] * 5 + [10.4])]
    costs = {r.record_id: r.cost for r in records}
    assert detect_anomalies(records, costs=costs, currency="USD") == []
    assert summarize_spending(records, now=NOW).anomalies == ()
    # Without the floor it would be flagged, at "1.0x the median".
    (trivial,) = detect_anomalies(records, costs=costs, currency="USD", min_relative_deviation=0.0)
    assert trivial.robust_z == pytest.approx(0.4 / (1.253314 * 0.4 / 6))
    assert trivial.reason.startswith("cost per hour 1.0x the median")
    # 13.00/h is 30% above: both unusual and material.
    records[5] = rec(5, cost=13.0)
    costs = {r.record_id: r.cost for r in records}
    (real,) = detect_anomalies(records, costs=costs, currency="USD")
    assert real.ratio_to_median == pytest.approx(1.3)
    with pytest.raises(InvalidInputError, match="min_relative_deviation"):
        detect_anomalies(records, costs=costs, currency="USD", min_relative_deviation=-1)


@given(
    st.floats(min_value=1.0, max_value=1000.0),
    st.floats(min_value=0.0, max_value=0.2499),
)
def test_no_anomaly_within_a_quarter_of_the_median(base: float, share: float) -> None:
    records = [rec(i, cost=base) for i in range(5)] + [rec(5, cost=base * (1 + share))]
    costs = {r.record_id: r.cost for r in records}
    assert detect_anomalies(records, costs=costs, currency="USD") == []


@given(
    cost=st.floats(min_value=0.0, max_value=1e12),
    hours=st.floats(min_value=0.0, max_value=87_600.0),
)
def test_an_hourly_rate_is_finite_or_absent(cost: float, hours: float) -> None:
    # A run shorter than one second has no rate: cost / 5e-324 h would be infinite.
    rate = hourly_rate(cost, hours)
    if hours < MIN_RATE_HOURS:
        assert rate is None
    else:
        assert rate is not None and math.isfinite(rate) and rate == cost / hours


def test_an_anomaly_against_a_subnormal_median_has_no_infinite_factor() -> None:
    # Found by the hostile-input property test: runs that cost 5e-324 USD and one that cost
    # 1e12 made "1e12 / 5e-324 x the median" infinite, and cost summary --json exit 1.
    records = [rec(i, cost=5e-324) for i in range(5)] + [rec(9, cost=1e12)]
    costs = {r.record_id: r.cost for r in records}
    (anomaly,) = detect_anomalies(records, costs=costs, currency="USD")
    assert anomaly.record_id == "r9" and anomaly.ratio_to_median is None
    assert math.isfinite(anomaly.robust_z) and "far from the median" in anomaly.reason
