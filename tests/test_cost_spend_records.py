"""Building history records from outcomes and (real) advisor recommendations, end to end."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from artenic_opt.catalog import Catalog, load_catalog
from artenic_opt.cost_analyzer import CostAnalyzer
from artenic_opt.cost_analyzer.spend_records import spend_record_from_outcome
from artenic_opt.errors import InvalidInputError
from artenic_opt.schemas import JobOutcome, TrainingAdvice, WorkloadProfile
from artenic_opt.training_advisor import TrainingAdvisor
from artenic_opt.types import JobStatus

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
WORKLOAD = WorkloadProfile(
    name="lora-7b", model_params_m=7000, dataset_size_gb=2, fine_tuning="lora", tokens=5e8
)


def outcome(rank: int, cost: float, days_ago: float, **kw: object) -> JobOutcome:
    return JobOutcome.model_validate(
        {
            "recommendation_id": "rec",
            "rank": rank,
            "status": JobStatus.COMPLETED,
            "hours": 1.0,
            "cost": cost,
            "recorded_at": NOW - timedelta(days=days_ago),
            **kw,
        }
    )


@pytest.fixture(scope="module")
def advice_and_catalog() -> tuple[TrainingAdvice, Catalog]:
    catalog = load_catalog()
    advice = TrainingAdvisor(catalog).recommend(WORKLOAD, top=5).advice
    return advice, catalog


def test_record_from_advice(advice_and_catalog: tuple[TrainingAdvice, Catalog]) -> None:
    advice, _ = advice_and_catalog
    second = advice.recommendations[1]
    record = spend_record_from_outcome(outcome(2, 40.0, 1), record_id="o1", advice=advice)
    assert record.candidate_id == second.candidate_id
    assert record.query_id == WORKLOAD.query_id
    assert record.workload == WORKLOAD and record.workload_name == "lora-7b"
    assert record.predicted_cost == pytest.approx(second.estimated_cost)
    assert record.recommended_cost == pytest.approx(advice.recommendations[0].estimated_cost)
    assert record.recommended_candidate == advice.recommendations[0].candidate_id
    assert record.reference_currency == advice.display_currency
    assert record.on_demand_price_per_hour == pytest.approx(second.offering.price_per_hour)
    assert record.memory_needed_gb == pytest.approx(second.memory_needed_gb)
    assert record.timestamp == NOW - timedelta(days=1)
    with pytest.raises(InvalidInputError, match="no candidate of rank 9"):
        spend_record_from_outcome(outcome(9, 1.0, 1), record_id="o9", advice=advice)


def test_record_without_advice() -> None:
    record = spend_record_from_outcome(
        outcome(1, 10.0, 1, recommendation_id=""),
        record_id="job-7",
        provider="AWS",
        region="us-east-1",
        instance_type="g5.xlarge",
        gpu_type="A10G",
        gpu_count=1,
        spot=True,
    )
    assert record.candidate_id == "AWS/us-east-1/g5.xlarge#1#spot"
    assert record.recommended_cost is None and record.workload is None
    with pytest.raises(InvalidInputError, match="give region, instance_type"):
        spend_record_from_outcome(outcome(1, 1.0, 1), record_id="x", provider="AWS")


def test_history_end_to_end(advice_and_catalog: tuple[TrainingAdvice, Catalog]) -> None:
    # Three runs of the second-ranked candidate: the savings report compares them with the
    # top recommendation, and every cost view gives valid JSON.
    advice, catalog = advice_and_catalog
    second = advice.recommendations[1]
    actual = second.estimated_cost * 1.2
    records = [
        spend_record_from_outcome(outcome(2, actual, d), record_id=f"o{d}", advice=advice)
        for d in (1, 5, 9)
    ]
    analyzer = CostAnalyzer(catalog)
    report = analyzer.savings_opportunity(records, "30d", now=NOW)
    assert report.records_compared == 3
    assert report.actual_total == pytest.approx(3 * actual)
    assert report.recommended_total == pytest.approx(3 * advice.recommendations[0].estimated_cost)
    assert all(r.followed_recommendation is False for r in report.records)
    summary = analyzer.spending_summary(records, "30d", "instance", now=NOW)
    assert summary.jobs == 3 and summary.total_cost == pytest.approx(3 * actual)
    for model in (report, summary, analyzer.compare_providers(WORKLOAD)):
        assert model.model_validate_json(model.model_dump_json()) == model
    for advice_item in analyzer.spot_advice(records):
        assert advice_item.model_dump(mode="json")["currency"] == "USD"


def test_import_stays_light() -> None:
    code = (
        "import sys, artenic_opt.cost_analyzer; "
        "bad = [m for m in ('typer', 'rich', 'textual', 'httpx', 'lightgbm', 'sklearn') "
        "if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
