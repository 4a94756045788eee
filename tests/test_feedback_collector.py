"""Relevance labels at every boundary, metric lift, and outcome -> training sample."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import given, strategies as st

from artenic_opt.errors import CurrencyError, InvalidInputError
from artenic_opt.schemas import JobOutcome
from artenic_opt.training_advisor.feedback_collector import (
    LABEL_NAMES,
    CandidateRecord,
    FeedbackCollector,
    metric_improvement,
    performance_ratio,
    relevance_label,
)
from artenic_opt.types import JobStatus, OutcomeSource

RECORDED = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def outcome(
    cost: float = 10.0,
    hours: float = 2.0,
    status: JobStatus = JobStatus.COMPLETED,
    before: float | None = None,
    after: float | None = None,
    higher_is_better: bool = True,
    currency: str = "USD",
) -> JobOutcome:
    return JobOutcome(
        recommendation_id="rec-1",
        rank=1,
        status=status,
        hours=hours,
        cost=cost,
        currency=currency,
        metric_before=before,
        metric_after=after,
        metric_higher_is_better=higher_is_better,
        source=OutcomeSource.SIMULATOR,
        recorded_at=RECORDED,
    )


# Predicted cost 10: actual = ratio x prediction.
@pytest.mark.parametrize(
    ("ratio", "label"),
    [
        (0.0, 4),
        (0.5, 4),
        (1.0, 4),  # at the prediction: optimal (inclusive)
        (1.0000001, 3),
        (1.25, 3),
        (1.5, 3),  # exactly 1.5x: good (inclusive)
        (1.5000001, 2),
        (1.75, 2),
        (2.0, 2),  # exactly 2.0x: adequate (inclusive)
        (2.0000001, 1),
        (10.0, 1),
    ],
)
def test_label_boundaries(ratio: float, label: int) -> None:
    actual = outcome(cost=10.0 * ratio, hours=2.0)
    assert relevance_label(actual, 10.0) == label


def test_boundaries_tolerate_float_rounding() -> None:
    # 0.3 / 0.2 is 1.4999999999999998 and 0.30000000000000004 / 0.2 is 1.5000000000000002.
    assert relevance_label(outcome(cost=0.30000000000000004, hours=1), 0.2) == 3
    assert relevance_label(outcome(cost=0.4000000000000001, hours=1), 0.2) == 2
    assert relevance_label(outcome(cost=0.1 + 0.2, hours=1), 0.3) == 4


def test_cost_alone_decides() -> None:
    # Half the predicted cost, however long it ran: optimal (its hours are paid in its cost).
    assert relevance_label(outcome(cost=5.0, hours=45.0), 10.0) == 4
    assert relevance_label(outcome(cost=14.0, hours=1.0), 10.0) == 3
    assert performance_ratio(outcome(cost=15.0, hours=3.0), 10.0) == 1.5


@pytest.mark.parametrize("status", [JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.PREEMPTED])
def test_any_non_completed_final_status_is_label_zero(status: JobStatus) -> None:
    cheap_and_better = outcome(cost=1.0, hours=0.1, status=status, before=0.5, after=0.9)
    assert relevance_label(cheap_and_better, 10.0) == 0


@pytest.mark.parametrize(
    ("ratio", "base", "lifted"),
    [(3.0, 1, 2), (1.8, 2, 3), (1.2, 3, 4), (0.9, 4, 4)],
)
def test_metric_improvement_lifts_a_label_by_one(ratio: float, base: int, lifted: int) -> None:
    plain = outcome(cost=10.0 * ratio)
    assert relevance_label(plain, 10.0) == base
    improved = outcome(cost=10.0 * ratio, before=0.8, after=0.84)  # exactly +5%
    assert relevance_label(improved, 10.0) == lifted
    barely_not = outcome(cost=10.0 * ratio, before=0.8, after=0.8399)
    assert relevance_label(barely_not, 10.0) == base


def test_metric_direction_and_zero_baseline() -> None:
    lower_is_better = outcome(cost=12.0, before=1.0, after=0.9, higher_is_better=False)
    assert relevance_label(lower_is_better, 10.0) == 4
    worse = outcome(cost=12.0, before=1.0, after=1.1, higher_is_better=False)
    assert relevance_label(worse, 10.0) == 3
    assert metric_improvement(outcome(before=0.0, after=0.1)) == math.inf
    assert metric_improvement(outcome(before=0.0, after=0.0)) == 0.0
    assert metric_improvement(outcome(before=0.0, after=-0.1)) == -math.inf
    assert metric_improvement(outcome()) is None
    assert relevance_label(outcome(cost=12.0, before=0.0, after=0.1), 10.0) == 4


def test_a_custom_lift_threshold() -> None:
    small_gain = outcome(cost=12.0, before=1.0, after=1.02)
    assert relevance_label(small_gain, 10.0) == 3
    assert relevance_label(small_gain, 10.0, metric_lift_threshold=0.01) == 4
    with pytest.raises(InvalidInputError, match="metric_lift_threshold"):
        relevance_label(small_gain, 10.0, metric_lift_threshold=0)


@pytest.mark.parametrize("cost", [0.0, -1.0, math.nan, math.inf])
def test_predictions_must_be_positive(cost: float) -> None:
    with pytest.raises(InvalidInputError, match="predicted_cost"):
        relevance_label(outcome(), cost)


def test_currencies_must_match() -> None:
    with pytest.raises(CurrencyError, match="EUR"):
        relevance_label(outcome(currency="EUR"), 10.0)
    assert relevance_label(outcome(currency="EUR"), 10.0, predicted_currency="EUR") == 4


@given(
    ratio_a=st.floats(min_value=0, max_value=50, allow_nan=False),
    ratio_b=st.floats(min_value=0, max_value=50, allow_nan=False),
    gain=st.one_of(st.none(), st.floats(min_value=-0.5, max_value=0.5, allow_nan=False)),
    completed=st.booleans(),
)
def test_labels_are_in_range_monotone_and_never_lift_failures(
    ratio_a: float, ratio_b: float, gain: float | None, completed: bool
) -> None:
    low, high = sorted((ratio_a, ratio_b))
    status = JobStatus.COMPLETED if completed else JobStatus.FAILED
    before, after = (None, None) if gain is None else (1.0, 1.0 + gain)
    better = relevance_label(
        outcome(cost=10 * low, status=status, before=before, after=after), 10.0
    )
    worse = relevance_label(
        outcome(cost=10 * high, status=status, before=before, after=after), 10.0
    )
    assert 0 <= worse <= better <= 4
    if not completed:
        assert better == worse == 0
    else:
        assert worse >= 1
    assert LABEL_NAMES[better]


def candidate(**overrides: object) -> CandidateRecord:
    fields: dict[str, object] = {
        "query_id": "q1",
        "recommendation_id": "rec-1",
        "rank": 1,
        "candidate_id": "AWS/us-east-1/p4d#1#on_demand",
        "features": np.array([0.5, 1.0, 2.0]),
        "feature_schema_version": 3,
        "estimated_cost": 10.0,
        "estimated_hours": 2.0,
    }
    fields.update(overrides)
    return CandidateRecord.from_row(**fields)  # type: ignore[arg-type]


def test_collect_builds_a_training_sample() -> None:
    sample = FeedbackCollector().collect(outcome(cost=16.0), candidate())
    assert sample.query_id == "q1"
    assert sample.recommendation_id == "rec-1"
    assert sample.rank == 1
    assert sample.candidate_id == "AWS/us-east-1/p4d#1#on_demand"
    assert sample.features == (0.5, 1.0, 2.0)
    assert sample.feature_schema_version == 3
    assert sample.label == 2
    assert sample.source is OutcomeSource.SIMULATOR
    assert sample.created_at == RECORDED


def test_collect_refuses_outcomes_of_another_candidate() -> None:
    collector = FeedbackCollector()
    with pytest.raises(InvalidInputError, match="recommendation_id"):
        collector.collect(outcome(), candidate(recommendation_id="rec-2"))
    with pytest.raises(InvalidInputError, match="rank"):
        collector.collect(outcome(), candidate(rank=2))


def test_collect_checks_the_feature_row() -> None:
    with pytest.raises(InvalidInputError, match="feature_schema_version"):
        FeedbackCollector(feature_schema_version=4).collect(outcome(), candidate())
    with pytest.raises(InvalidInputError, match="NaN"):
        FeedbackCollector().collect(outcome(), candidate(features=[1.0, math.nan]))
    with pytest.raises(InvalidInputError, match="no feature row"):
        FeedbackCollector().collect(outcome(), candidate(features=[]))


def test_collect_uses_the_candidate_currency_and_collector_threshold() -> None:
    eur = candidate(currency="EUR")
    with pytest.raises(CurrencyError):
        FeedbackCollector().collect(outcome(), eur)
    gain = outcome(cost=12.0, before=1.0, after=1.02)
    assert FeedbackCollector().collect(gain, candidate()).label == 3
    assert FeedbackCollector(metric_lift_threshold=0.01).collect(gain, candidate()).label == 4


def test_cost_is_compared_with_the_recommendation_by_default() -> None:
    # A rank-3 pick estimated at 15 while rank 1 was estimated at 10: it ran as estimated.
    lower_pick = candidate(rank=3, estimated_cost=15.0, recommended_cost=10.0)
    ran_as_estimated = outcome(cost=15.0).model_copy(update={"rank": 3})
    assert FeedbackCollector().collect(ran_as_estimated, lower_pick).label == 3
    by_candidate = FeedbackCollector(cost_reference="candidate")
    assert by_candidate.collect(ran_as_estimated, lower_pick).label == 4
    assert FeedbackCollector().predicted_cost(lower_pick) == 10.0
    assert by_candidate.predicted_cost(lower_pick) == 15.0
    # Without a recommended cost, the candidate's own estimate is the reference.
    assert FeedbackCollector().predicted_cost(candidate(estimated_cost=15.0)) == 15.0
    # Hours do not grade: 1.75x the candidate's estimated hours at the predicted cost is optimal.
    slow = outcome(cost=10.0, hours=3.5).model_copy(update={"rank": 3})
    assert FeedbackCollector().collect(slow, lower_pick).label == 4
    with pytest.raises(InvalidInputError, match="cost_reference"):
        FeedbackCollector(cost_reference="cheapest")  # type: ignore[arg-type]
