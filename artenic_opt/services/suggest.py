"""``suggest``: which configuration of a workload to measure next, learning from stored runs.

The candidate set is the advisor's (heuristic order, its best ``MAX_CANDIDATES``). The prior of
each candidate's whole-job cost is what the other workloads' stored runs taught
(``measured.fit_cost_prior``: gradient-boosted relative cost over the feature rows the runs were
ranked with; the estimator's own relative cost while fewer than two other workloads have two
runs), at the estimator's level. The workload's own stored outcomes (every outcome recorded
against a recommendation of the same query id, DESIGN §2) re-anchor and reshape it through
``training_advisor.measured`` (neighbouring workloads re-weighted by how well their stored runs
match, then a Gaussian process over configuration features). This is the rule
``evaluation.backtest``'s k-shot mode replays (bench/bench_replay.py). The next run is
chosen by ``measured.next_to_measure``: the predicted optimum first, the predicted cheapest
unmeasured candidate while fewer than three are measured, then the candidate of highest expected
improvement of the best measured whole-job cost; the stopping
rule says when the best measured run is within ``tolerance`` of the predicted optimum.

Decisions:

* Each suggestion is stored as a recommendation whose rank 1 is the suggested run (with its
  feature row), so ``feedback record ID --rank 1`` and ``sync`` link the outcome back and it
  also becomes a training sample of the ranking model, like any recommendation.
* When the rule says stop, nothing is stored (there is no run to make); the answer names the
  best measured run and the predicted optimum.
* Measured costs are converted to the display currency with the workspace's rate table.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass

import numpy as np

from artenic_opt._internal.arrays import FloatArray
from artenic_opt._internal.money import ExchangeRates
from artenic_opt.schemas import InstanceRecommendation, SuggestedConfig, Suggestion, WorkloadProfile
from artenic_opt.state import (
    candidate_features,
    get_recommendation,
    list_outcomes,
    save_recommendation,
)
from artenic_opt.state.store import StateStore
from artenic_opt.training_advisor.advisor import TrainingAdvisor
from artenic_opt.training_advisor.measured import (
    DEFAULT_TOLERANCE,
    CostPrior,
    config_features,
    fit_cost_prior,
    neighbour_prior,
    next_to_measure,
    posterior,
    run_log_costs,
)
from artenic_opt.types import JobStatus

#: Candidates ``suggest`` weighs: the heuristic's best this many (the advisor's maximum).
MAX_CANDIDATES = 1000


@dataclass(frozen=True, slots=True)
class _Measured:
    query_id: str
    candidate_id: str
    cost: float  # display currency
    ok: bool
    #: The feature row the run's candidate was ranked with, and its schema version (None when
    #: the recommendation kept no feature row).
    features: tuple[float, ...] | None = None
    feature_schema_version: int | None = None


def _stored_runs(store: StateStore, currency: str, rates: ExchangeRates) -> list[_Measured]:
    runs: list[_Measured] = []
    advices: dict[str, tuple[str, tuple[InstanceRecommendation, ...]]] = {}
    for stored in list_outcomes(store):
        if not stored.linked:
            continue
        outcome = stored.outcome
        rec_id = outcome.recommendation_id
        if rec_id not in advices:
            advice = get_recommendation(store, rec_id)
            advices[rec_id] = (advice.query_id, advice.recommendations)
        query_id, recs = advices[rec_id]
        if not 1 <= outcome.rank <= len(recs):
            continue
        stored_candidate = candidate_features(store, rec_id, outcome.rank)
        runs.append(
            _Measured(
                query_id=query_id,
                candidate_id=recs[outcome.rank - 1].candidate_id,
                cost=rates.convert(outcome.cost, outcome.currency, currency),
                ok=outcome.status is JobStatus.COMPLETED,
                features=stored_candidate.features,
                feature_schema_version=stored_candidate.feature_schema_version,
            )
        )
    return runs


def _learned_prior(
    stored: list[_Measured], query_id: str, feature_rows: FloatArray, schema_version: int
) -> CostPrior:
    """The cost prior other workloads' stored runs teach (``measured.fit_cost_prior``).

    A workload counts with its runs whose feature row has the current schema; the target's own
    runs are not in it (they enter the posterior).
    """
    groups: dict[str, tuple[list[tuple[float, ...]], list[float], list[bool]]] = {}
    width = feature_rows.shape[1]
    for m in stored:
        if (
            m.query_id == query_id
            or m.features is None
            or m.feature_schema_version != schema_version
            or len(m.features) != width
        ):
            continue
        rows, costs, oks = groups.setdefault(m.query_id, ([], [], []))
        rows.append(m.features)
        costs.append(m.cost)
        oks.append(m.ok)
    return fit_cost_prior(
        [
            (np.asarray(rows, dtype=np.float64), run_log_costs(costs, oks))
            for rows, costs, oks in groups.values()
        ]
    )


def _config(
    rec: InstanceRecommendation, predicted_log: float, measured: float | None
) -> SuggestedConfig:
    return SuggestedConfig(
        candidate_id=rec.candidate_id,
        offering=rec.offering,
        nodes=rec.nodes,
        spot=rec.spot,
        predicted_cost=math.exp(predicted_log),
        estimated_cost=rec.estimated_cost,
        estimated_hours=rec.estimated_hours,
        measured_cost=measured,
    )


def suggest(
    store: StateStore,
    advisor: TrainingAdvisor,
    workload: WorkloadProfile,
    rates: ExchangeRates,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
) -> Suggestion:
    """The next configuration of ``workload`` to measure (stored as a recommendation)."""
    result = advisor.recommend(workload, top=MAX_CANDIDATES)
    advice = result.advice
    recs = advice.recommendations
    currency = advice.display_currency
    row_of = {candidate_id: row for row, candidate_id in enumerate(result.candidate_ids)}
    stored = _stored_runs(store, currency, rates)
    own = [m for m in stored if m.query_id == advice.query_id and m.candidate_id in row_of]
    rows = [row_of[m.candidate_id] for m in own]
    values = run_log_costs([m.cost for m in own], [m.ok for m in own]).tolist()
    estimated = np.log(np.maximum([r.estimated_cost for r in recs], 1e-9))
    features = np.asarray(result.feature_rows, dtype=np.float64)
    learned = _learned_prior(stored, advice.query_id, features, result.feature_schema_version)
    # The learned shape at the estimator's level; measured runs re-anchor the level.
    prior = float(estimated.mean()) + learned.predict(features)
    others: dict[str, dict[int, float]] = {}
    for m in stored:
        row = row_of.get(m.candidate_id)
        if m.query_id == advice.query_id or row is None:
            continue
        value = float(run_log_costs([m.cost], [m.ok])[0])
        seen = others.setdefault(m.query_id, {})
        seen[row] = min(seen.get(row, math.inf), value)
    table = np.full((len(others), len(recs)), np.nan)
    for index, costs in enumerate(others.values()):
        for row, value in costs.items():
            table[index, row] = value
    blended = neighbour_prior(prior, table, rows, values)
    post = posterior(
        blended, config_features(result.feature_rows), rows, values, [m.ok for m in own]
    )
    choice = next_to_measure(post, tolerance=tolerance)
    measured_cost = {row: math.exp(post.mean[row]) for row in set(rows)}
    optimum = _config(
        recs[choice.optimum_row],
        choice.optimum_log_cost,
        measured_cost.get(choice.optimum_row),
    )
    best = (
        None
        if choice.best_measured_row is None or choice.best_measured_log_cost is None
        else _config(
            recs[choice.best_measured_row],
            choice.best_measured_log_cost,
            measured_cost[choice.best_measured_row],
        )
    )
    next_config = None
    recommendation_id = None
    if choice.row is not None:
        row = choice.row
        next_config = _config(recs[row], float(post.mean[row]), None)
        recommendation_id = uuid.uuid4().hex
        stored_advice = advice.model_copy(
            update={
                "recommendation_id": recommendation_id,
                "recommendations": (recs[row].model_copy(update={"rank": 1}),),
                "warnings": (
                    *advice.warnings,
                    f"suggest: run {recs[row].candidate_id} to learn this workload's costs",
                ),
            }
        )
        with store.transaction():
            save_recommendation(
                store,
                stored_advice,
                [list(result.feature_rows[row])],
                result.feature_schema_version,
            )
    return Suggestion(
        query_id=advice.query_id,
        workload=workload.name,
        recommendation_id=recommendation_id,
        currency=currency,
        candidates=len(recs),
        measured_runs=len(own),
        other_workloads=int(sum(1 for costs in others.values() if costs)),
        tolerance=tolerance,
        stop=choice.stop,
        reason=choice.reason,
        next=next_config,
        expected_improvement=-math.expm1(-choice.expected_improvement),
        predicted_optimum=optimum,
        best_measured=best,
    )


__all__ = ["MAX_CANDIDATES", "suggest"]
