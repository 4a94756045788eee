"""Turn what really happened to a recommended job into a labelled learning-to-rank sample.

The relevance label (DESIGN §2) grades a run's whole-job cost against what the advisor predicted,
with ``ratio`` = actual cost / predicted cost:

=====  ========  ================================================================================
label  name      rule
=====  ========  ================================================================================
0      failed    the final status is anything but ``completed`` (failed, cancelled, preempted)
1      poor      ratio > 2.0
2      adequate  1.5 < ratio <= 2.0
3      good      1.0 < ratio <= 1.5
4      optimal   ratio <= 1.0 (at or below the prediction)
=====  ========  ================================================================================

Decisions:

* Boundaries belong to the better label: exactly 1.0x is optimal, exactly 1.5x good, exactly 2.0x
  adequate. Ratios are compared with a relative tolerance of 1e-9, so ``3.0000000000000004 / 2``
  still counts as exactly 1.5x.
* Cost alone decides (issue 14). Until 2026-12 the worse of the cost ratio and actual hours /
  the run's own estimated hours decided. That hours ratio measures how well the estimator guessed
  the run's duration, not whether the run was a good choice, and a slow run already pays for its
  hours in its cost. On the simulator's closed loop (300 jobs, 80 held-out workloads, seeds
  0-9) labels with the hours ratio left hybrid behind the heuristic on NDCG@5 for seeds 2 and 4;
  cost-only labels put hybrid ahead on NDCG@5 for all ten seeds (and on mean regret for nine),
  while comparing hours with the top pick's estimate, as cost is, was worse than either
  (bench/bench_feedback_loop.py; ``evaluation.simulator``). ``hours`` stays part of the
  outcome (stored, reported, used by backtests).
* Metric lift: when the outcome carries ``metric_before`` and ``metric_after`` and the metric
  improved by at least ``METRIC_LIFT_THRESHOLD`` (5%) relative to ``|metric_before|`` (direction
  from ``metric_higher_is_better``; same 1e-9 relative tolerance), labels 1-3 go up by one. A
  failed job (0) is never lifted and nothing goes above 4. When ``metric_before`` is 0, any
  improvement counts as a lift.
* Which predicted cost? ``relevance_label`` takes whatever prediction it is given.
  ``FeedbackCollector`` compares, by default (``cost_reference="recommendation"``), the actual
  cost with the cost the recommendation predicted for the job, i.e. the estimate of its rank-1
  candidate (``CandidateRecord.recommended_cost``). For the rank-1 candidate, the one run almost
  always, both readings agree. For a lower-ranked (exploratory) pick, comparing with its own
  estimate would only measure how accurate the estimator is on it, so an expensive candidate that
  costs what was estimated would be labelled "optimal" and a ranker trained on such labels learns
  estimator accuracy, not which candidate is best. On the simulator (300 jobs, four runs per
  workload among the top 10, three seeds), own-estimate labels left the hybrid ranking behind the
  heuristic alone on two seeds of three (top-1 regret and NDCG@5); recommendation labels gave it a
  better NDCG@5 on all three. ``cost_reference="candidate"`` restores the candidate's own
  estimate; a record without ``recommended_cost`` falls back to it.
* The predicted cost and the outcome must be in the same currency; a mismatch is a
  ``CurrencyError`` (convert first, with an explicit rate).
* Pure: no database, no files. ``FeedbackCollector.collect`` checks that the outcome belongs to the
  stored candidate (same recommendation id and rank) and returns a ``TrainingSample``; the CLI or
  sync layer stores it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from artenic_opt.errors import CurrencyError, InvalidInputError
from artenic_opt.schemas import JobOutcome, TrainingSample
from artenic_opt.types import JobStatus

LABEL_FAILED = 0
LABEL_POOR = 1
LABEL_ADEQUATE = 2
LABEL_GOOD = 3
LABEL_OPTIMAL = 4
LABEL_NAMES: dict[int, str] = {
    LABEL_FAILED: "failed",
    LABEL_POOR: "poor",
    LABEL_ADEQUATE: "adequate",
    LABEL_GOOD: "good",
    LABEL_OPTIMAL: "optimal",
}

#: Upper bounds of the ratio for labels 4, 3 and 2 (inclusive); above the last one: label 1.
OPTIMAL_MAX_RATIO = 1.0
GOOD_MAX_RATIO = 1.5
ADEQUATE_MAX_RATIO = 2.0
#: Relative metric improvement that lifts a label by one.
METRIC_LIFT_THRESHOLD = 0.05
_RATIO_TOLERANCE = 1e-9


def _check_prediction(name: str, value: float) -> float:
    number = float(value)
    if not math.isfinite(number) or number <= 0:
        raise InvalidInputError(f"{name}: must be a positive finite number, got {value!r}")
    return number


def performance_ratio(outcome: JobOutcome, predicted_cost: float) -> float:
    """Actual / predicted whole-job cost (what the label grades)."""
    cost = _check_prediction("predicted_cost", predicted_cost)
    return outcome.cost / cost


def metric_improvement(outcome: JobOutcome) -> float | None:
    """Relative improvement of the metric (0.05 = 5% better), or ``None`` without metrics."""
    if outcome.metric_before is None or outcome.metric_after is None:
        return None
    change = outcome.metric_after - outcome.metric_before
    if not outcome.metric_higher_is_better:
        change = -change
    scale = abs(outcome.metric_before)
    if scale == 0.0:
        return math.inf if change > 0 else (0.0 if change == 0 else -math.inf)
    return change / scale


def _at_most(ratio: float, bound: float) -> bool:
    return ratio <= bound * (1.0 + _RATIO_TOLERANCE)


def relevance_label(
    outcome: JobOutcome,
    predicted_cost: float,
    *,
    predicted_currency: str = "USD",
    metric_lift_threshold: float = METRIC_LIFT_THRESHOLD,
) -> int:
    """Relevance label 0-4 of a run against its prediction (see the module docstring)."""
    if outcome.currency != predicted_currency:
        raise CurrencyError(
            f"currency: the outcome is in {outcome.currency} but the prediction in "
            f"{predicted_currency}; convert one of them with an explicit exchange rate"
        )
    if not math.isfinite(metric_lift_threshold) or metric_lift_threshold <= 0:
        raise InvalidInputError(
            f"metric_lift_threshold: must be a positive number, got {metric_lift_threshold!r}"
        )
    ratio = performance_ratio(outcome, predicted_cost)
    if outcome.status is not JobStatus.COMPLETED:
        return LABEL_FAILED
    if _at_most(ratio, OPTIMAL_MAX_RATIO):
        label = LABEL_OPTIMAL
    elif _at_most(ratio, GOOD_MAX_RATIO):
        label = LABEL_GOOD
    elif _at_most(ratio, ADEQUATE_MAX_RATIO):
        label = LABEL_ADEQUATE
    else:
        label = LABEL_POOR
    improvement = metric_improvement(outcome)
    if improvement is not None and improvement >= metric_lift_threshold * (1.0 - _RATIO_TOLERANCE):
        label = min(LABEL_OPTIMAL, label + 1)
    return label


@dataclass(frozen=True, slots=True)
class CandidateRecord:
    """What the advisor stored about one recommended candidate when it made the recommendation."""

    query_id: str
    recommendation_id: str
    rank: int
    candidate_id: str
    features: tuple[float, ...]
    feature_schema_version: int
    estimated_cost: float
    estimated_hours: float
    currency: str = "USD"
    #: Estimated cost of the recommendation's rank-1 candidate (same currency), if known.
    recommended_cost: float | None = None

    @classmethod
    def from_row(
        cls,
        *,
        query_id: str,
        recommendation_id: str,
        rank: int,
        candidate_id: str,
        features: Sequence[float],
        feature_schema_version: int,
        estimated_cost: float,
        estimated_hours: float,
        currency: str = "USD",
        recommended_cost: float | None = None,
    ) -> CandidateRecord:
        """Build a record from a feature row of any float sequence (a numpy row, a list)."""
        return cls(
            query_id=query_id,
            recommendation_id=recommendation_id,
            rank=rank,
            candidate_id=candidate_id,
            features=tuple(float(x) for x in features),
            feature_schema_version=feature_schema_version,
            estimated_cost=estimated_cost,
            estimated_hours=estimated_hours,
            currency=currency,
            recommended_cost=recommended_cost,
        )


class FeedbackCollector:
    """Label outcomes against their stored candidates and produce training samples."""

    def __init__(
        self,
        *,
        feature_schema_version: int | None = None,
        metric_lift_threshold: float = METRIC_LIFT_THRESHOLD,
        cost_reference: Literal["recommendation", "candidate"] = "recommendation",
    ) -> None:
        """``feature_schema_version``, when given, is the only version ``collect`` accepts;
        ``cost_reference`` picks the predicted cost outcomes are compared with (module doc)."""
        if cost_reference not in ("recommendation", "candidate"):
            raise InvalidInputError(
                f"cost_reference: must be recommendation or candidate, got {cost_reference!r}"
            )
        self.feature_schema_version = feature_schema_version
        self.metric_lift_threshold = metric_lift_threshold
        self.cost_reference = cost_reference

    def predicted_cost(self, candidate: CandidateRecord) -> float:
        """The predicted cost an outcome of ``candidate`` is compared with."""
        if self.cost_reference == "recommendation" and candidate.recommended_cost is not None:
            return candidate.recommended_cost
        return candidate.estimated_cost

    def label(self, outcome: JobOutcome, candidate: CandidateRecord) -> int:
        return relevance_label(
            outcome,
            self.predicted_cost(candidate),
            predicted_currency=candidate.currency,
            metric_lift_threshold=self.metric_lift_threshold,
        )

    def collect(self, outcome: JobOutcome, candidate: CandidateRecord) -> TrainingSample:
        """A training sample for ``outcome``, which must belong to ``candidate``."""
        if outcome.recommendation_id != candidate.recommendation_id:
            raise InvalidInputError(
                f"recommendation_id: outcome is for {outcome.recommendation_id!r}, "
                f"the candidate for {candidate.recommendation_id!r}"
            )
        if outcome.rank != candidate.rank:
            raise InvalidInputError(
                f"rank: outcome is for rank {outcome.rank}, the candidate has rank {candidate.rank}"
            )
        if (
            self.feature_schema_version is not None
            and candidate.feature_schema_version != self.feature_schema_version
        ):
            raise InvalidInputError(
                f"feature_schema_version: the candidate was stored with version "
                f"{candidate.feature_schema_version}, expected {self.feature_schema_version}"
            )
        if not candidate.features:
            raise InvalidInputError("features: the stored candidate has no feature row")
        if not all(math.isfinite(x) for x in candidate.features):
            raise InvalidInputError("features: the stored feature row holds NaN or infinity")
        return TrainingSample(
            query_id=candidate.query_id,
            recommendation_id=candidate.recommendation_id,
            rank=candidate.rank,
            candidate_id=candidate.candidate_id,
            features=candidate.features,
            feature_schema_version=candidate.feature_schema_version,
            label=self.label(outcome, candidate),
            source=outcome.source,
            created_at=outcome.recorded_at,
        )
