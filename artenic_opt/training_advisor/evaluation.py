# Over 600 lines: one backtest; per-workload picks, baselines and k-shot share its scoring.
"""How good is each ranking mode? Backtesting measured runs.

Two questions, two entry points, one report shape (``ModeMetrics`` per mode: heuristic, ltr,
hybrid):

``backtest(runs)``: *how good would the optimizer have been on these measured jobs?* Runs are
grouped into workloads by query id (the hash of the workload's canonical fields). For each
workload, leave-one-workload-out: an LTR model is trained on the other workloads' runs, and the
workload's own runs are ranked by each mode and scored against what was measured.

* **Labels** (training) and **grades** (NDCG, MRR) come from measured outcomes, per workload:
  the reference is the cheapest *successful* run that met the workload's deadline. A failed run,
  or one slower than the deadline, grades 0; otherwise by measured cost / reference:
  <= 1.05 grades 4, <= 1.5 grades 3, <= 2 grades 2, above 1. This is relative to the best run
  measured, unlike the feedback labels (relative to a prediction), because a backtest knows what
  the alternatives really cost.
* **Scores.** Each run is the candidate (offering, nodes, spot) it used, built over the
  workload's own offerings (``CatalogArrays.from_offerings`` with the given GPU spec table, then
  ``build_candidates`` and ``rank_candidates``): heuristic = the advisor's heuristic score;
  ltr = the model's score of the run's feature row (features computed over the workload's
  feasible candidates, as the advisor does); hybrid = w x min-max(ltr) + (1 - w) x
  min-max(heuristic) over the feasible runs, w the fold's model's learned ``blend_weight``. The
  fold's training samples carry the heuristic's rank of each run (``rank``), as a recommendation
  would have stored it: the blend weight's inner validation reads it. A run the advisor's hard
  filters reject (or that is no candidate at all, e.g. spot on a workload that refuses spot) ranks
  after every feasible run in every mode: the advisor would never have recommended it.
* **Top-1 regret**: measured cost of the mode's top-1 run / the reference - 1. A failed or
  late top-1 was paid for and the job then had to run elsewhere, so it counts its measured cost
  against the reference and at least ``INELIGIBLE_REGRET`` (1.0), as the simulator's ground
  truth does (otherwise a run that crashed cheaply after five minutes would look like a bargain).
  When several runs tie for the top score, the metrics average over them (a random tie-break).
* Workloads without a successful in-deadline run cannot be scored (no reference) and are
  skipped, but their runs still train the other folds (all label 0: they teach what fails).
* Costs are compared in one ``currency`` through an explicit rate table.
* Offerings need not exist in the catalog, but their GPU types must be in the spec table (any
  spelling ``normalize_gpu_type`` understands); an unknown one raises ``InvalidInputError`` naming
  the run and offering.

Pure logic: no files, no database; the caller reads the replay file (``read_replay_file``). When
``catalog`` is omitted, ``evaluate_modes`` uses the embedded catalog (package data).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

from artenic_opt._internal.arrays import FloatArray, IntArray
from artenic_opt._internal.math_utils import min_max_normalize, ndcg_at_k, reciprocal_rank
from artenic_opt._internal.money import DEFAULT_RATES, ExchangeRates
from artenic_opt.catalog.gpu_names import normalize_gpu_type_or_none
from artenic_opt.catalog.loader import CatalogArrays
from artenic_opt.errors import InfeasibleError, InvalidInputError
from artenic_opt.estimate.candidates import (
    CandidateArrays,
    build_candidates,
    estimate_candidates,
)
from artenic_opt.schemas import GpuSpec, Offering, TrainingSample, WorkloadProfile
from artenic_opt.training_advisor.blend import HYBRID_LTR_WEIGHT, hybrid_blend
from artenic_opt.training_advisor.feature_extractor import (
    FEATURE_NAMES,
    FEATURE_SCHEMA_VERSION,
    extract_features,
)
from artenic_opt.training_advisor.heuristic_ranker import (
    rank_candidates,
)
from artenic_opt.training_advisor.ltr_ranker import RETRAIN_LTR_PARAMS, LTRParams, LTRRanker
from artenic_opt.training_advisor.measured import (
    config_features,
    fit_cost_prior,
    neighbour_prior,
    next_to_measure,
    posterior,
    run_log_costs,
)
from artenic_opt.types import JobStatus, OptimizationGoal, OptimizerMode


class MeasuredOutcome(Protocol):
    """What a measured run's outcome must carry (``simulate.ReplayOutcome`` does)."""

    @property
    def status(self) -> JobStatus: ...
    @property
    def hours(self) -> float: ...
    @property
    def cost(self) -> float: ...
    @property
    def currency(self) -> str: ...


class MeasuredRun(Protocol):
    """One measured run: ``simulate.ReplayRun`` (a replay line), or a stored outcome as one.

    A protocol rather than the replay class, so the pillar does not import the simulator
    package (layer contract: pillars never use the simulated world).
    """

    @property
    def workload(self) -> WorkloadProfile: ...
    @property
    def offering(self) -> Offering: ...
    @property
    def nodes(self) -> int: ...
    @property
    def spot(self) -> bool: ...
    @property
    def outcome(self) -> MeasuredOutcome: ...


#: Regret of a failed or late pick at least: it was paid for and the job ran again elsewhere
#: (the same rule as the simulator's ground truth, ``simulate.INELIGIBLE_REGRET``).
INELIGIBLE_REGRET = 1.0

#: The modes compared, in table order.
EVALUATED_MODES: tuple[OptimizerMode, ...] = (
    OptimizerMode.HEURISTIC,
    OptimizerMode.LTR,
    OptimizerMode.HYBRID,
)
#: A top-1 pick within this share of the best counts as "within 5%".
WITHIN_SHARE = 0.05
#: Cut-off of the NDCG reported.
NDCG_K = 5
#: The LightGBM settings retraining and the evaluations use (defined with the ranker).
EVALUATION_LTR_PARAMS = RETRAIN_LTR_PARAMS
#: Backtest: fewest other workloads a fold trains on.
DEFAULT_MIN_TRAIN_GROUPS = 5
#: Backtest grades: (upper bound of measured cost / reference, grade), best first.
BACKTEST_GRADE_BOUNDS: tuple[tuple[float, int], ...] = ((1.05, 4), (1.5, 3), (2.0, 2))
RATIO_TOLERANCE = 1e-9


# --------------------------------------------------------------------------------------------
# Report models
# --------------------------------------------------------------------------------------------


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class ModeMetrics(_Frozen):
    """How one mode's rankings scored over the evaluated workloads."""

    mode: OptimizerMode
    workloads: int = Field(ge=0, description="Workloads scored")
    mean_regret: float = Field(description="Mean top-1 regret (0.10 = 10% dearer than the best)")
    median_regret: float
    within_5pct_share: float = Field(ge=0, le=1, description="Share of top-1 picks within 5%")
    ndcg_at_5: float = Field(ge=0, le=1)
    mrr: float = Field(ge=0, le=1)


def format_table(title: str, modes: Sequence[ModeMetrics], notes: Sequence[str]) -> str:
    header = (
        f"{'mode':<10} {'workloads':>9} {'mean regret':>12} {'median regret':>14} "
        f"{'within 5%':>10} {'NDCG@5':>7} {'MRR':>6}"
    )
    lines = [title, header, "-" * len(header)]
    for m in modes:
        lines.append(
            f"{m.mode.value:<10} {m.workloads:>9} {m.mean_regret:>12.4f} {m.median_regret:>14.4f} "
            f"{m.within_5pct_share:>10.1%} {m.ndcg_at_5:>7.4f} {m.mrr:>6.4f}"
        )
    lines.extend(notes)
    return "\n".join(lines)


class ModeReport(_Frozen):
    modes: tuple[ModeMetrics, ...]

    def mode(self, mode: OptimizerMode | str) -> ModeMetrics:
        """The metrics of one mode."""
        wanted = OptimizerMode(mode)
        for metrics in self.modes:
            if metrics.mode is wanted:
                return metrics
        raise InvalidInputError(
            f"mode: {wanted.value} was not evaluated; evaluated: "
            + ", ".join(m.mode.value for m in self.modes)
        )


#: Runs of the held-out workload revealed in the k-shot mode (chosen by ``suggest``'s rule).
DEFAULT_KSHOT: tuple[int, ...] = (0, 1, 3, 6)
#: Baselines scored on the same runs: what price-sorting tools pick, a random pick (its
#: expected regret) and the median run.
BASELINES: tuple[str, ...] = ("cheapest_price", "random", "median_run")


class Pick(_Frozen):
    """What one method picked for one workload, what it cost, and its regret."""

    method: str = Field(description="Mode, baseline, or k-shot ('k=3')")
    config: str | None = Field(
        description="offering_id#nodes#kind of the pick; None for expectation baselines"
    )
    cost: float | None = Field(description="Measured cost of the pick (None: an expectation)")
    regret: float = Field(ge=0, description="cost / best - 1 (failed or late: at least 1)")
    heuristic_rank: int | None = Field(
        default=None, description="Where the heuristic ranked this pick among the runs (1 = top)"
    )


class WorkloadBacktest(_Frozen):
    """One held-out workload: its best measured run and every method's pick."""

    query_id: str
    name: str
    runs: int = Field(ge=1)
    best_cost: float = Field(ge=0)
    best_config: str
    picks: tuple[Pick, ...]


class MethodSummary(_Frozen):
    """Regret of one baseline or k-shot method over the scored workloads."""

    method: str
    workloads: int = Field(ge=0)
    mean_regret: float
    median_regret: float
    within_5pct_share: float = Field(ge=0, le=1)


def _summarise_method(method: str, regrets: Sequence[float]) -> MethodSummary:
    values = np.asarray(regrets, dtype=np.float64)
    if values.size == 0:
        return MethodSummary(
            method=method, workloads=0, mean_regret=0.0, median_regret=0.0, within_5pct_share=0.0
        )
    return MethodSummary(
        method=method,
        workloads=int(values.size),
        mean_regret=float(values.mean()),
        median_regret=float(np.median(values)),
        within_5pct_share=float(np.mean(values <= WITHIN_SHARE + RATIO_TOLERANCE)),
    )


class BacktestReport(ModeReport):
    """Leave-one-workload-out backtest of measured runs."""

    runs: int = Field(ge=0)
    workloads: int = Field(ge=0, description="Distinct workloads (query ids) in the runs")
    scored_workloads: int = Field(ge=0)
    skipped_workloads: int = Field(
        ge=0, description="Workloads without a successful run within the deadline"
    )
    infeasible_runs: int = Field(ge=0, description="Runs the advisor's hard filters reject")
    currency: str
    baselines: tuple[MethodSummary, ...] = ()
    kshot: tuple[MethodSummary, ...] = Field(
        default=(), description="Regret after k runs of the held-out workload (k=0: none)"
    )
    per_workload: tuple[WorkloadBacktest, ...] = ()

    def table(self) -> str:
        title = (
            f"backtest: {self.runs} runs of {self.workloads} workloads, "
            f"{self.scored_workloads} scored ({self.skipped_workloads} without a successful "
            f"run in time), leave-one-workload-out; costs in {self.currency}"
        )
        notes = (
            [f"{self.infeasible_runs} runs rejected by the advisor's filters rank last"]
            if self.infeasible_runs
            else []
        )
        extra = [*self.baselines, *self.kshot]
        if extra:
            notes.append(f"{'baseline / k-shot':<18} {'mean regret':>12} {'median regret':>14}")
            notes.extend(
                f"{m.method:<18} {m.mean_regret:>12.4f} {m.median_regret:>14.4f}" for m in extra
            )
        return format_table(title, self.modes, notes)

    def __str__(self) -> str:
        return self.table()


# --------------------------------------------------------------------------------------------
# Shared scoring
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Score:
    regret: float
    within: float
    ndcg: float
    rr: float


def summarise(mode: OptimizerMode, scores: Sequence[Score]) -> ModeMetrics:
    if not scores:
        return ModeMetrics(
            mode=mode,
            workloads=0,
            mean_regret=0.0,
            median_regret=0.0,
            within_5pct_share=0.0,
            ndcg_at_5=0.0,
            mrr=0.0,
        )
    regrets = np.array([s.regret for s in scores], dtype=np.float64)
    return ModeMetrics(
        mode=mode,
        workloads=len(scores),
        mean_regret=float(regrets.mean()),
        median_regret=float(np.median(regrets)),
        within_5pct_share=float(np.mean([s.within for s in scores])),
        ndcg_at_5=float(np.mean([s.ndcg for s in scores])),
        mrr=float(np.mean([s.rr for s in scores])),
    )


def hybrid_scores(
    ltr: FloatArray, heuristic: FloatArray, weight: float = HYBRID_LTR_WEIGHT
) -> FloatArray:
    """The hybrid score as ``recommend`` computes it (``weight``: the model's ``blend_weight``)."""
    return hybrid_blend(ltr, heuristic, weight)


def new_ranker(params: LTRParams | None, *, holdout_share: float) -> LTRRanker:
    return LTRRanker(
        feature_names=FEATURE_NAMES,
        feature_schema_version=FEATURE_SCHEMA_VERSION,
        min_samples=2,
        holdout_share=holdout_share,
        params=params,
    )


def check_positive(name: str, value: int, least: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise InvalidInputError(f"{name}: must be an integer of at least {least}, got {value!r}")


# --------------------------------------------------------------------------------------------
# Backtesting measured runs
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class _Group:
    """One workload's runs with everything the folds need."""

    query_id: str
    runs: tuple[int, ...]  # positions in the input
    features: FloatArray  # one row per run
    heuristic: FloatArray  # one per run; NaN where the run is not a feasible candidate
    feasible: npt.NDArray[np.bool_]
    grades: IntArray
    costs: FloatArray  # measured, ``currency``
    reference: float | None  # cheapest successful in-deadline cost
    name: str = ""
    #: ``offering_id#nodes#kind`` of each run: the same configuration across workloads.
    configs: tuple[str, ...] = ()
    #: Hourly price of each run's whole cluster (price per node x nodes), ``currency``.
    hourly: FloatArray = dataclasses.field(default_factory=lambda: np.zeros(0))

    @property
    def good(self) -> npt.NDArray[np.bool_]:
        good: npt.NDArray[np.bool_] = self.grades > 0
        return good

    def regrets(self) -> FloatArray:
        """Top-1 regret of each run if it were the pick (see ``_run_regret``)."""
        assert self.reference is not None
        reference = self.reference
        return np.array(
            [
                _run_regret(float(c), bool(g), reference)
                for c, g in zip(self.costs, self.good, strict=True)
            ],
            dtype=np.float64,
        )


def _canonical_offering(
    offering: Offering, specs: Mapping[str, GpuSpec], position: int, known: str
) -> Offering:
    if offering.gpu_count == 0:
        return offering
    canonical = normalize_gpu_type_or_none(offering.gpu_type)
    if canonical is None or canonical not in specs:
        raise InvalidInputError(
            f"run {position} (offering {offering.offering_id}): GPU type "
            f"{offering.gpu_type!r} is not in the GPU spec table; known: {known}"
        )
    if canonical == offering.gpu_type:
        return offering
    return offering.model_copy(update={"gpu_type": canonical})


def run_grades(runs: Sequence[MeasuredRun], costs: FloatArray) -> tuple[IntArray, float | None]:
    """Grades 0-4 of one workload's runs and the reference cost (see the module docstring)."""
    ok = np.array(
        [
            r.outcome.status is JobStatus.COMPLETED
            and (r.workload.deadline_hours is None or r.outcome.hours <= r.workload.deadline_hours)
            for r in runs
        ],
        dtype=bool,
    )
    grades = np.zeros(len(runs), dtype=np.int64)
    if not ok.any():
        return grades, None
    reference = float(costs[ok].min())
    ratio = costs / reference if reference > 0 else np.where(costs <= 0, 1.0, np.inf)
    grades[ok] = 1
    for bound, grade in reversed(BACKTEST_GRADE_BOUNDS):
        grades[ok & (ratio <= bound * (1.0 + RATIO_TOLERANCE))] = grade
    return grades, reference


def _run_regret(cost: float, good: bool, reference: float) -> float:
    ratio = cost / reference if reference > 0 else (1.0 if cost <= 0 else math.inf)
    if good:
        return max(0.0, ratio - 1.0)
    return max(INELIGIBLE_REGRET, ratio)


def _workload_candidates(
    workload: WorkloadProfile,
    offerings: tuple[Offering, ...],
    specs: Mapping[str, GpuSpec],
    currency: str,
    rates: ExchangeRates,
) -> CandidateArrays:
    """Candidates of ``workload`` over its own offerings.

    A workload calibrated on a ``reference_gpu`` that none of its runs used still needs that
    GPU's figures: a stand-in offering of it is added for ``build_candidates`` to resolve the
    reference, then its rows are dropped (they were never run, so they are not ranked).
    """
    extra: tuple[Offering, ...] = ()
    reference = workload.reference_gpu
    if workload.estimated_hours is not None and reference:
        canonical = normalize_gpu_type_or_none(reference)
        spec = specs.get(canonical or "")
        if spec is None:
            raise InvalidInputError(
                f"workload {workload.name}: reference_gpu {reference!r} is not in the GPU spec "
                f"table; known: {', '.join(sorted(specs))}"
            )
        if all(o.gpu_type != canonical for o in offerings):
            extra = (_reference_offering(spec),)
    arrays = CatalogArrays.from_offerings(offerings + extra, specs)
    candidates = build_candidates(workload, arrays, currency=currency, rates=rates)
    if extra:
        candidates = candidates.take(candidates.offering_index < len(offerings))
    return candidates


def _reference_offering(spec: GpuSpec) -> Offering:
    return Offering(
        provider="reference",
        region="reference",
        instance_type=f"reference-{spec.gpu_type}",
        gpu_type=spec.gpu_type,
        gpu_count=1,
        gpu_memory_gb=spec.memory_gb,
        price_per_hour=1.0,
        source="backtest stand-in for the workload's reference GPU",
        price_date=date(2000, 1, 1),
    )


def _prepare_group(
    query_id: str,
    positions: Sequence[int],
    runs: Sequence[MeasuredRun],
    offerings: Sequence[Offering],
    specs: Mapping[str, GpuSpec],
    currency: str,
    rates: ExchangeRates,
    goal: OptimizationGoal = OptimizationGoal.BALANCED,
) -> _Group:
    members = [runs[i] for i in positions]
    workload = members[0].workload
    distinct: dict[Offering, int] = {}
    for i in positions:
        distinct.setdefault(offerings[i], len(distinct))
    candidates = _workload_candidates(workload, tuple(distinct), specs, currency, rates)
    estimates = estimate_candidates(workload, candidates)
    try:
        ranking = rank_candidates(workload, candidates, estimates, goal=goal)
    except InfeasibleError:
        # Nothing passes the hard filters: every run ranks last, in the model's order.
        ranking = None
    if ranking is not None:
        feasible_rows = ranking.feasible_index
        heuristic_scores = ranking.scores
        context = extract_features(
            workload, candidates.take(feasible_rows), estimates=estimates.take(feasible_rows)
        ).context
    else:
        feasible_rows = np.zeros(0, dtype=np.int64)
        heuristic_scores = np.zeros(0, dtype=np.float64)
        context = None
    # Candidate rows by (offering, nodes, spot), and their position among the feasible ones.
    row_of = {
        (int(candidates.offering_index[r]), int(candidates.nodes[r]), bool(candidates.spot[r])): r
        for r in range(len(candidates))
    }
    feasible_pos = {int(r): p for p, r in enumerate(feasible_rows.tolist())}
    all_features = extract_features(
        workload, candidates, estimates=estimates, context=context
    ).values
    width = len(FEATURE_NAMES)
    features = np.empty((len(members), width), dtype=np.float64)
    heuristic = np.full(len(members), np.nan)
    for k, (i, run) in enumerate(zip(positions, members, strict=True)):
        row = row_of.get((distinct[offerings[i]], run.nodes, run.spot))
        if row is None:
            # Not a candidate of this workload (e.g. spot where spot is refused, or more nodes
            # than it uses): score it as its offering's one-node on-demand candidate.
            row = row_of[(distinct[offerings[i]], 1, False)]
        else:
            position = feasible_pos.get(row)
            if position is not None:
                heuristic[k] = heuristic_scores[position]
        features[k] = all_features[row]
    costs = np.array(
        [rates.convert(r.outcome.cost, r.outcome.currency, currency) for r in members],
        dtype=np.float64,
    )
    grades, reference = run_grades(members, costs)
    hourly = np.array(
        [
            rates.convert(
                (r.offering.spot_price_per_hour or r.offering.price_per_hour)
                if r.spot
                else r.offering.price_per_hour,
                r.offering.currency,
                currency,
            )
            * r.nodes
            for r in members
        ],
        dtype=np.float64,
    )
    return _Group(
        query_id=query_id,
        runs=tuple(positions),
        features=features,
        heuristic=heuristic,
        feasible=~np.isnan(heuristic),
        grades=grades,
        costs=costs,
        reference=reference,
        name=workload.name,
        configs=tuple(
            f"{offerings[i].offering_id}#{r.nodes}#{'spot' if r.spot else 'on_demand'}"
            for i, r in zip(positions, members, strict=True)
        ),
        hourly=hourly,
    )


def _tied_top(keys: FloatArray) -> IntArray:
    best = float(keys.max())
    top: IntArray = np.flatnonzero(keys == best).astype(np.int64)
    return top


def _score_runs(group: _Group, mode_scores: FloatArray) -> Score:
    """Score one mode's run scores; infeasible runs are pushed below every feasible one."""
    reference = group.reference
    assert reference is not None  # only scored groups get here
    feasible = group.feasible
    # Rank keys: feasible runs by score in [0, 1] + 2, infeasible ones by score in [0, 1].
    keys = min_max_normalize(mode_scores) + np.where(feasible, 2.0, 0.0)
    good = group.grades > 0
    regrets = np.array(
        [_run_regret(float(c), bool(g), reference) for c, g in zip(group.costs, good, strict=True)],
        dtype=np.float64,
    )
    top = _tied_top(keys)
    top_regrets = regrets[top]
    return Score(
        regret=float(top_regrets.mean()),
        within=float(np.mean(top_regrets <= WITHIN_SHARE + RATIO_TOLERANCE)),
        ndcg=ndcg_at_k(group.grades, keys, k=NDCG_K),
        rr=reciprocal_rank(group.grades, keys),
    )


def _mode_scores(
    group: _Group, ltr: FloatArray, weight: float = HYBRID_LTR_WEIGHT
) -> dict[OptimizerMode, FloatArray]:
    feasible = group.feasible
    heuristic = np.where(feasible, group.heuristic, 0.0)
    hybrid = np.zeros(len(ltr), dtype=np.float64)
    if feasible.any():
        hybrid[feasible] = hybrid_scores(ltr[feasible], heuristic[feasible], weight)
    if (~feasible).any():
        # Infeasible runs have no heuristic score; among themselves they keep the model's order.
        hybrid[~feasible] = min_max_normalize(ltr[~feasible])
    return {
        OptimizerMode.HEURISTIC: heuristic,
        OptimizerMode.LTR: ltr,
        OptimizerMode.HYBRID: hybrid,
    }


def _samples_of(group: _Group) -> list[TrainingSample]:
    # ``rank``: the heuristic's rank of the run, what a recommendation would have stored (the
    # blend weight's inner validation reads it as the heuristic's stand-in).
    ranks = _heuristic_ranks(group)
    return [
        TrainingSample(
            query_id=group.query_id,
            recommendation_id=f"backtest-{group.query_id}",
            rank=int(ranks[k]),
            candidate_id=f"run-{position}",
            features=tuple(float(x) for x in group.features[k]),
            feature_schema_version=FEATURE_SCHEMA_VERSION,
            label=int(group.grades[k]),
        )
        for k, position in enumerate(group.runs)
    ]


def backtest(
    runs: Sequence[MeasuredRun],
    *,
    catalog_specs: Mapping[str, GpuSpec],
    params: LTRParams | None = None,
    min_train_groups: int = DEFAULT_MIN_TRAIN_GROUPS,
    currency: str = "USD",
    rates: ExchangeRates | None = None,
    seed: int = 0,
    kshot: Sequence[int] = (),
    goal: OptimizationGoal = OptimizationGoal.BALANCED,
) -> BacktestReport:
    """Leave-one-workload-out backtest of measured runs (see the module docstring).

    ``catalog_specs`` is the GPU spec table (``Catalog.gpu_specs``); ``kshot`` the run counts of
    the k-shot mode (``DEFAULT_KSHOT`` is what ``evaluate`` uses; empty: no k-shot); ``goal`` the
    heuristic's goal preset (the regret is on cost, so ``COST`` matches it best). Raises
    ``InvalidInputError`` when there are fewer than ``min_train_groups + 1`` workloads, or a run's
    GPU type is unknown.
    """
    check_positive("min_train_groups", min_train_groups)
    if not runs:
        raise InvalidInputError("runs: no measured runs to backtest")
    table = rates or DEFAULT_RATES
    known = ", ".join(sorted(catalog_specs))
    offerings = [
        _canonical_offering(run.offering, catalog_specs, position, known)
        for position, run in enumerate(runs, start=1)
    ]
    by_query: dict[str, list[int]] = {}
    for position, run in enumerate(runs):
        by_query.setdefault(run.workload.query_id, []).append(position)
    if len(by_query) < min_train_groups + 1:
        raise InvalidInputError(
            f"runs: {len(by_query)} workloads; a leave-one-workload-out backtest needs at least "
            f"{min_train_groups + 1} (min_train_groups {min_train_groups} to train on, plus one)"
        )
    groups = [
        _prepare_group(query, positions, runs, offerings, catalog_specs, currency, table, goal)
        for query, positions in by_query.items()
    ]
    group_samples = [_samples_of(group) for group in groups]
    ks = sorted({int(k) for k in kshot})
    if any(k < 0 for k in ks):
        raise InvalidInputError(f"kshot: run counts must be at least 0, got {list(kshot)}")
    log_costs = [run_log_costs(g.costs, g.good) for g in groups]

    scores: dict[OptimizerMode, list[Score]] = {mode: [] for mode in EVALUATED_MODES}
    method_regrets: dict[str, list[float]] = {
        name: [] for name in (*BASELINES, *(f"k={k}" for k in ks))
    }
    per_workload: list[WorkloadBacktest] = []
    skipped = 0
    for index, group in enumerate(groups):
        if group.reference is None:
            skipped += 1
            continue
        training = [s for other, chunk in enumerate(group_samples) if other != index for s in chunk]
        ranker = new_ranker(params, holdout_share=0.0)
        ranker.train(training, seed=seed)
        ltr = np.asarray(ranker.predict(group.features), dtype=np.float64)
        picks: list[Pick] = []
        for mode, mode_scores in _mode_scores(group, ltr, ranker.blend_weight).items():
            scores[mode].append(_score_runs(group, mode_scores))
            picks.append(_mode_pick(group, mode.value, mode_scores))
        picks.extend(_baseline_picks(group))
        if ks:
            others = [(groups[o], log_costs[o]) for o in range(len(groups)) if o != index]
            picks.extend(_kshot_picks(group, log_costs[index], others, ks, seed=seed))
        picks = _with_ranks(picks, group)
        for pick in picks:
            if pick.method in method_regrets:
                method_regrets[pick.method].append(pick.regret)
        best = int(np.argmin(np.where(group.good, group.costs, np.inf)))
        per_workload.append(
            WorkloadBacktest(
                query_id=group.query_id,
                name=group.name,
                runs=len(group.runs),
                best_cost=float(group.costs[best]),
                best_config=group.configs[best],
                picks=tuple(picks),
            )
        )

    return BacktestReport(
        runs=len(runs),
        workloads=len(groups),
        scored_workloads=len(groups) - skipped,
        skipped_workloads=skipped,
        infeasible_runs=int(sum(int((~g.feasible).sum()) for g in groups)),
        currency=currency,
        modes=tuple(summarise(mode, scores[mode]) for mode in EVALUATED_MODES),
        baselines=tuple(_summarise_method(b, method_regrets[b]) for b in BASELINES),
        kshot=tuple(_summarise_method(f"k={k}", method_regrets[f"k={k}"]) for k in ks),
        per_workload=tuple(per_workload),
    )


def _heuristic_ranks(group: _Group) -> IntArray:
    """1-based rank of each run in the heuristic's order (infeasible runs after feasible ones)."""
    keys = np.where(group.feasible, np.nan_to_num(group.heuristic, nan=0.0) + 2.0, 0.0)
    order = np.argsort(-keys, kind="stable")
    ranks = np.empty(len(order), dtype=np.int64)
    ranks[order] = np.arange(1, len(order) + 1)
    return ranks


def _with_ranks(picks: Sequence[Pick], group: _Group) -> list[Pick]:
    ranks = _heuristic_ranks(group)
    row_of = {config: row for row, config in enumerate(group.configs)}
    return [
        p
        if p.config is None
        else p.model_copy(update={"heuristic_rank": int(ranks[row_of[p.config]])})
        for p in picks
    ]


def _mode_pick(group: _Group, method: str, mode_scores: FloatArray) -> Pick:
    """A mode's top-1 run (ties: the first shown, regret averaged over the tie)."""
    keys = min_max_normalize(mode_scores) + np.where(group.feasible, 2.0, 0.0)
    top = _tied_top(keys)
    first = int(top[0])
    return Pick(
        method=method,
        config=group.configs[first],
        cost=float(group.costs[first]),
        regret=float(group.regrets()[top].mean()),
    )


def _baseline_picks(group: _Group) -> list[Pick]:
    regrets = group.regrets()
    cheapest = np.flatnonzero(group.hourly <= group.hourly.min() * (1.0 + RATIO_TOLERANCE))
    first = int(cheapest[0])
    return [
        Pick(
            method="cheapest_price",
            config=group.configs[first],
            cost=float(group.costs[first]),
            regret=float(regrets[cheapest].mean()),
        ),
        Pick(method="random", config=None, cost=None, regret=float(regrets.mean())),
        Pick(method="median_run", config=None, cost=None, regret=float(np.median(regrets))),
    ]


def _kshot_picks(
    group: _Group,
    log_costs: FloatArray,
    others: Sequence[tuple[_Group, FloatArray]],
    ks: Sequence[int],
    *,
    seed: int,
) -> list[Pick]:
    """Reveal runs of the held-out workload one at a time, chosen as ``suggest`` chooses them.

    The prior is what the other workloads taught (``fit_cost_prior``) re-weighted towards the
    workloads whose costs match the runs seen so far (``neighbour_prior``); the posterior adds
    the runs themselves (``posterior``). After k runs the pick is the best run measured that
    succeeded (a failed run is no answer: the job has to run again; only when every measured run
    failed, the least costly of them), k = 0: the predicted optimum. A workload with fewer than k
    runs stops at all of them.
    """
    prior_model = fit_cost_prior([(g.features, y) for g, y in others], seed=seed)
    base = prior_model.predict(group.features)
    position = {config: row for row, config in enumerate(group.configs)}
    table = np.full((len(others), len(group.configs)), np.nan)
    for index, (other, costs) in enumerate(others):
        for config, value in zip(other.configs, costs, strict=True):
            row = position.get(config)
            if row is not None:
                table[index, row] = (
                    value if np.isnan(table[index, row]) else min(table[index, row], value)
                )
    configs = config_features(group.features)
    regrets = group.regrets()
    measured: list[int] = []
    picks: list[Pick] = []

    def pick_now(k: int) -> Pick:
        if measured:
            keys = [float(log_costs[r]) + (0.0 if group.good[r] else np.inf) for r in measured]
            if not np.isfinite(min(keys)):
                keys = [float(log_costs[r]) for r in measured]
            row = measured[int(np.argmin(keys))]
        else:
            row = int(np.argmin(base))
        return Pick(
            method=f"k={k}",
            config=group.configs[row],
            cost=float(group.costs[row]),
            regret=float(regrets[row]),
        )

    for step in range(max(ks) + 1):
        if step in ks:
            picks.append(pick_now(step))
        if len(measured) >= len(group.configs):
            # Every run revealed: larger k pick the same.
            picks.extend(pick_now(k) for k in ks if k > step)
            break
        if step == max(ks):
            break
        values = [float(log_costs[r]) for r in measured]
        prior = neighbour_prior(base, table, measured, values)
        post = posterior(prior, configs, measured, values, [bool(group.good[r]) for r in measured])
        choice = next_to_measure(post)
        # Stopped (choice.row None): keep revealing the predicted cheapest unmeasured run.
        row = (
            choice.row
            if choice.row is not None
            else int(np.argmin(np.where(post.measured, np.inf, post.mean)))
        )
        measured.append(row)
    return picks


__all__ = [
    "BACKTEST_GRADE_BOUNDS",
    "BASELINES",
    "DEFAULT_KSHOT",
    "DEFAULT_MIN_TRAIN_GROUPS",
    "EVALUATED_MODES",
    "EVALUATION_LTR_PARAMS",
    "BacktestReport",
    "MethodSummary",
    "ModeMetrics",
    "ModeReport",
    "Pick",
    "Score",
    "WorkloadBacktest",
    "backtest",
    "check_positive",
    "format_table",
    "hybrid_scores",
    "new_ranker",
    "run_grades",
    "summarise",
]
