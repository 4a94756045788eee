"""How good is each ranking mode? End-to-end evaluation on the simulator, and backtesting.

Two questions, two entry points, one report shape (``ModeMetrics`` per mode: heuristic, ltr,
hybrid):

``evaluate_modes(seed)``: *does the feedback loop improve rankings?* On the simulated world of
``seed``:

1. **Feedback loop.** Training workloads are drawn from the seed stream ``[seed, 1]``. For each,
   the heuristic advisor recommends its top ``explore_top`` (10); the rank-1 pick is run, plus
   ``runs_per_workload - 1`` exploratory picks drawn uniformly among ranks 2..10, each one job
   in ``World.run`` (a fresh ``trial`` per job, so repeated candidates get fresh noise). Every
   outcome becomes a labelled sample through ``FeedbackCollector`` with its default cost
   reference (the rank-1 estimate), exactly as recorded outcomes would. Workloads keep coming
   until ``train_jobs`` jobs have run. The loop collects with the heuristic only (the bootstrap
   phase of ``auto`` mode), so every mode is later judged on what the heuristic taught.
2. **Training.** One ``LTRRanker`` on all samples, with ``EVALUATION_LTR_PARAMS`` unless
   ``params`` is given.
3. **Held-out test.** ``test_workloads`` fresh workloads from the stream ``[seed, 2]`` (never
   seen in training) on the same world. Each mode ranks the *same* set, so no mode chooses the
   set it is judged on: by default (``eval_top=10``) the heuristic's top 10, the shortlist
   ``recommend`` shows and the neighbourhood the loop explores; ``eval_top=None`` ranks every
   candidate the hard filters keep. Features, the ``order_by_score`` tie-break and the hybrid
   weights are those of ``TrainingAdvisor.recommend`` (min-max over the set ranked); a test pins
   that, over all feasible candidates, the orders equal ``recommend``'s. Ground truth is
   ``true_cost_table`` over that set: top-1 regret (``TrueCostTable.regret``: expected cost over
   the cheapest eligible candidate's in the set, an ineligible pick at least 1.0), within-5%
   share (regret <= 0.05), and NDCG@5 and MRR of the mode's order against
   ``TrueCostTable.relevance()`` grades. Orders are scored as positions (n, n-1, ...), so the
   metric sees the exact order the advisor would show, tie-break included. Workloads that are
   infeasible for the advisor or have no eligible candidate in the world are skipped (and
   counted): they have no best to compare with, for any mode.

Tuning (300 jobs, 80 held-out workloads, seeds 0-2; bench/bench_feedback_loop.py prints the
tables). Four runs per workload within the heuristic's top 10 with ``EVALUATION_LTR_PARAMS``
(100 trees at 0.05, 15 leaves, 20 samples per leaf, 80% row and column sampling): hybrid beats
the heuristic on NDCG@5 for all three seeds and on mean regret averaged over them, but not on
mean regret for seed 0, nor on MRR or the within-5% share for seeds 0 and 2. ``LTRParams()``
(100 trees at 0.1, 31 leaves, 5 per leaf) overfits a few hundred samples: hybrid then loses
NDCG@5 on seed 0. Six runs per workload helped NDCG but not regret; exploring the top 30 helped
both. Ranked over *all* feasible candidates (``eval_top=None``, ~140 per workload) hybrid loses
to the heuristic on NDCG@5 for seeds 0 and 2: a model that only ever saw the heuristic's top 10
extrapolates badly to the long tail, so a learned score is only trustworthy on the shortlist.

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
  feasible candidates, as the advisor does); hybrid = 0.7 x min-max(ltr) + 0.3 x min-max(heuristic)
  over the feasible runs. A run the advisor's hard filters reject (or that is no candidate at all,
  e.g. spot on a workload that refuses spot) ranks after every feasible run in every mode: the
  advisor would never have recommended it.
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

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

from artenic_opt._internal.math_utils import min_max_normalize, ndcg_at_k, reciprocal_rank
from artenic_opt._internal.money import DEFAULT_RATES, ExchangeRates
from artenic_opt.catalog.gpu_names import normalize_gpu_type_or_none
from artenic_opt.catalog.loader import Catalog, CatalogArrays
from artenic_opt.errors import InfeasibleError, InvalidInputError
from artenic_opt.estimate.candidates import (
    CandidateArrays,
    CandidateEstimates,
    build_candidates,
    estimate_candidates,
)
from artenic_opt.schemas import GpuSpec, Offering, RankingMetrics, TrainingSample, WorkloadProfile
from artenic_opt.simulate import (
    INELIGIBLE_REGRET,
    ReplayRun,
    RunSpec,
    World,
    generate_workloads,
    true_cost_table,
)
from artenic_opt.training_advisor.advisor import HYBRID_LTR_WEIGHT, TrainingAdvisor
from artenic_opt.training_advisor.feature_extractor import (
    FEATURE_NAMES,
    FEATURE_SCHEMA_VERSION,
    extract_features,
)
from artenic_opt.training_advisor.feedback_collector import CandidateRecord, FeedbackCollector
from artenic_opt.training_advisor.heuristic_ranker import (
    order_by_score,
    rank_candidates,
    weights_for_goal,
)
from artenic_opt.training_advisor.ltr_ranker import LTRParams, LTRRanker
from artenic_opt.types import JobStatus, OptimizationGoal, OptimizerMode

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

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
#: Exploratory picks are drawn among the heuristic's top this many.
DEFAULT_EXPLORE_TOP = 10
#: Jobs per training workload: the rank-1 pick plus three exploratory picks.
DEFAULT_RUNS_PER_WORKLOAD = 4
#: The evaluation ranks the heuristic's top this many (``None``: every feasible candidate).
DEFAULT_EVAL_TOP = 10
#: LightGBM settings tuned on the simulator's loop (see "Tuning" in the module docstring): a few
#: hundred noisy samples call for a gentler, more regularised model than ``LTRParams()``.
EVALUATION_LTR_PARAMS = LTRParams(
    n_estimators=100,
    learning_rate=0.05,
    num_leaves=15,
    min_child_samples=20,
    subsample=0.8,
    colsample_bytree=0.8,
)
#: Backtest: fewest other workloads a fold trains on.
DEFAULT_MIN_TRAIN_GROUPS = 5
#: Backtest grades: (upper bound of measured cost / reference, grade), best first.
BACKTEST_GRADE_BOUNDS: tuple[tuple[float, int], ...] = ((1.05, 4), (1.5, 3), (2.0, 2))
_RATIO_TOLERANCE = 1e-9
# Seed streams of ``evaluate_modes``: training and test workloads never share draws.
_TRAIN_STREAM = 1
_TEST_STREAM = 2
_EXPLORE_STREAM = 3


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


def _format_table(title: str, modes: Sequence[ModeMetrics], notes: Sequence[str]) -> str:
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


class _ModeReport(_Frozen):
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


class ModeEvaluation(_ModeReport):
    """Heuristic vs ltr vs hybrid on held-out simulated workloads, against the ground truth."""

    seed: int
    train_jobs: int = Field(ge=0, description="Simulated jobs run by the feedback loop")
    train_workloads: int = Field(ge=0)
    samples: int = Field(ge=0)
    label_counts: tuple[int, ...] = Field(description="Training samples per label 0..4")
    runs_per_workload: int = Field(ge=1)
    explore_top: int = Field(ge=1)
    eval_top: int | None = Field(default=None, description="Candidates ranked (None: all)")
    test_workloads: int = Field(ge=0, description="Held-out workloads drawn")
    skipped_workloads: int = Field(ge=0, description="Held-out workloads with nothing to score")
    mean_candidates: float = Field(ge=0, description="Mean candidates ranked per test workload")
    ltr_holdout: RankingMetrics | None = Field(
        default=None, description="The ranker's own metrics on held-out feedback groups"
    )
    params: dict[str, Any] = Field(default_factory=dict, description="LTRParams used")

    def table(self) -> str:
        title = (
            f"seed {self.seed}: {self.train_jobs} training jobs on {self.train_workloads} "
            f"workloads ({self.runs_per_workload} runs each, top {self.explore_top}), "
            f"{self.samples} samples; {self.modes[0].workloads if self.modes else 0} "
            f"held-out workloads scored ({self.skipped_workloads} skipped), ranking "
            + ("all feasible" if self.eval_top is None else f"the heuristic's top {self.eval_top}")
            + f" ({self.mean_candidates:.0f} candidates each)"
        )
        return _format_table(title, self.modes, ())

    def __str__(self) -> str:
        return self.table()


class BacktestReport(_ModeReport):
    """Leave-one-workload-out backtest of measured runs."""

    runs: int = Field(ge=0)
    workloads: int = Field(ge=0, description="Distinct workloads (query ids) in the runs")
    scored_workloads: int = Field(ge=0)
    skipped_workloads: int = Field(
        ge=0, description="Workloads without a successful run within the deadline"
    )
    infeasible_runs: int = Field(ge=0, description="Runs the advisor's hard filters reject")
    currency: str

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
        return _format_table(title, self.modes, notes)

    def __str__(self) -> str:
        return self.table()


# --------------------------------------------------------------------------------------------
# Shared scoring
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Score:
    regret: float
    within: float
    ndcg: float
    rr: float


def _summarise(mode: OptimizerMode, scores: Sequence[_Score]) -> ModeMetrics:
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


def _hybrid(ltr: FloatArray, heuristic: FloatArray) -> FloatArray:
    mixed: FloatArray = HYBRID_LTR_WEIGHT * min_max_normalize(ltr) + (
        1.0 - HYBRID_LTR_WEIGHT
    ) * min_max_normalize(heuristic)
    return mixed


def _new_ranker(params: LTRParams | None, *, holdout_share: float) -> LTRRanker:
    return LTRRanker(
        feature_names=FEATURE_NAMES,
        feature_schema_version=FEATURE_SCHEMA_VERSION,
        min_samples=2,
        holdout_share=holdout_share,
        params=params,
    )


# --------------------------------------------------------------------------------------------
# End-to-end evaluation on the simulator
# --------------------------------------------------------------------------------------------


def _check_positive(name: str, value: int, least: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise InvalidInputError(f"{name}: must be an integer of at least {least}, got {value!r}")


def collect_feedback(
    world: World,
    advisor: TrainingAdvisor,
    *,
    seed: int,
    train_jobs: int,
    runs_per_workload: int = DEFAULT_RUNS_PER_WORKLOAD,
    explore_top: int = DEFAULT_EXPLORE_TOP,
    providers: Sequence[str] = (),
    max_workloads: int | None = None,
) -> tuple[list[TrainingSample], int, int]:
    """Run the feedback loop until ``train_jobs`` jobs ran: ``(samples, jobs, workloads)``.

    Per workload: the advisor's rank-1 pick plus ``runs_per_workload - 1`` exploratory picks
    among its top ``explore_top``; each pick is one ``World.run`` labelled by
    ``FeedbackCollector``. ``max_workloads`` (default ``20 x train_jobs``) bounds the loop when
    almost every workload is infeasible.
    """
    _check_positive("train_jobs", train_jobs)
    _check_positive("runs_per_workload", runs_per_workload)
    _check_positive("explore_top", explore_top)
    limit = max_workloads if max_workloads is not None else 20 * train_jobs
    workload_rng = np.random.default_rng([seed, _TRAIN_STREAM])
    explore_rng = np.random.default_rng([seed, _EXPLORE_STREAM])
    collector = FeedbackCollector(feature_schema_version=FEATURE_SCHEMA_VERSION)
    samples: list[TrainingSample] = []
    jobs = 0
    workloads = 0
    drawn = 0
    while jobs < train_jobs:
        if drawn >= limit:
            raise InfeasibleError(
                f"train_jobs: only {jobs} of {train_jobs} jobs could run on {drawn} workloads; "
                "the catalog has nothing feasible for most of them"
            )
        workload = generate_workloads(workload_rng, 1, providers=providers)[0]
        drawn += 1
        try:
            result = advisor.recommend(workload, top=explore_top)
        except InfeasibleError:
            continue
        workloads += 1
        recs = result.advice.recommendations
        extra = min(runs_per_workload - 1, len(recs) - 1)
        picks = [0]
        if extra > 0:
            chosen = explore_rng.choice(np.arange(1, len(recs)), size=extra, replace=False)
            picks.extend(int(p) for p in chosen)
        for position in picks:
            pick = recs[position]
            outcome = world.run(workload, pick.offering, pick.nodes, pick.spot, trial=jobs)
            job = outcome.in_currency(pick.currency).to_job_outcome(
                result.advice.recommendation_id, pick.rank
            )
            stored = CandidateRecord.from_row(
                query_id=result.advice.query_id,
                recommendation_id=result.advice.recommendation_id,
                rank=pick.rank,
                candidate_id=result.candidate_ids[position],
                features=result.feature_rows[position],
                feature_schema_version=result.feature_schema_version,
                estimated_cost=pick.estimated_cost,
                estimated_hours=pick.estimated_hours,
                currency=pick.currency,
                recommended_cost=recs[0].estimated_cost,
            )
            samples.append(collector.collect(job, stored))
            jobs += 1
    return samples, jobs, workloads


@dataclass(frozen=True, slots=True, eq=False)
class ModeOrders:
    """The feasible candidates of one workload and each mode's order over them (best first)."""

    candidates: CandidateArrays
    estimates: CandidateEstimates
    orders: Mapping[OptimizerMode, IntArray]


def mode_orders(
    workload: WorkloadProfile,
    advisor: TrainingAdvisor,
    model: LTRRanker,
    *,
    top: int | None = None,
) -> ModeOrders:
    """Each mode's order of the advisor's feasible candidates, as ``recommend`` computes it.

    One pass of estimates and features serves the three modes. Raises ``InfeasibleError`` when
    the hard filters leave nothing.
    """
    candidates = build_candidates(
        workload,
        advisor.arrays,
        currency=advisor.display_currency,
        rates=advisor.rates,
        reliability=advisor.reliability,
        preemption_rates=advisor.preemption_rates,
    )
    weights = advisor.weights or weights_for_goal(OptimizationGoal.BALANCED)
    ranking = rank_candidates(workload, candidates, weights=weights)
    index = ranking.feasible_index
    subset = candidates.take(index)
    estimates = ranking.estimates.take(index)
    features = extract_features(workload, subset, estimates=estimates).values
    heuristic = ranking.scores
    heuristic_order = ranking.order
    if top is not None and top < len(subset):
        keep = np.sort(ranking.order[:top])
        subset = subset.take(keep)
        estimates = estimates.take(keep)
        features = features[keep]
        heuristic = heuristic[keep]
        heuristic_order = order_by_score(heuristic, subset, estimates)
    ltr = np.asarray(model.predict(features), dtype=np.float64)
    orders = {
        OptimizerMode.HEURISTIC: heuristic_order,
        OptimizerMode.LTR: order_by_score(ltr, subset, estimates),
        OptimizerMode.HYBRID: order_by_score(_hybrid(ltr, heuristic), subset, estimates),
    }
    return ModeOrders(candidates=subset, estimates=estimates, orders=orders)


def _score_order(order: IntArray, regret: FloatArray, grades: IntArray) -> _Score:
    n = order.shape[0]
    positions = np.empty(n, dtype=np.float64)
    positions[order] = np.arange(n, 0, -1, dtype=np.float64)
    top = float(regret[int(order[0])])
    return _Score(
        regret=top,
        within=float(top <= WITHIN_SHARE + _RATIO_TOLERANCE),
        ndcg=ndcg_at_k(grades, positions, k=NDCG_K),
        rr=reciprocal_rank(grades, positions),
    )


def evaluate_modes(
    seed: int,
    *,
    train_jobs: int = 300,
    test_workloads: int = 80,
    runs_per_workload: int = DEFAULT_RUNS_PER_WORKLOAD,
    explore_top: int = DEFAULT_EXPLORE_TOP,
    eval_top: int | None = DEFAULT_EVAL_TOP,
    catalog: Catalog | CatalogArrays | None = None,
    params: LTRParams | None = None,
) -> ModeEvaluation:
    """Run the feedback loop on the simulator, train LTR, and compare the modes on held-out
    workloads against the ground truth (see the module docstring)."""
    _check_positive("seed", seed, least=0)
    _check_positive("test_workloads", test_workloads)
    if catalog is None:
        from artenic_opt.catalog import load_catalog

        catalog = load_catalog()
    arrays = catalog.arrays if isinstance(catalog, Catalog) else catalog
    providers = tuple(sorted({str(p) for p in arrays.provider.tolist()}, key=str.casefold))
    world = World(seed)
    advisor = TrainingAdvisor(arrays)
    samples, jobs, workloads = collect_feedback(
        world,
        advisor,
        seed=seed,
        train_jobs=train_jobs,
        runs_per_workload=runs_per_workload,
        explore_top=explore_top,
        providers=providers,
    )
    if eval_top is not None:
        _check_positive("eval_top", eval_top)
    ranker = _new_ranker(params or EVALUATION_LTR_PARAMS, holdout_share=0.2)
    holdout = ranker.train(samples, seed=seed)

    scores: dict[OptimizerMode, list[_Score]] = {mode: [] for mode in EVALUATED_MODES}
    skipped = 0
    ranked = 0
    test_rng = np.random.default_rng([seed, _TEST_STREAM])
    for workload in generate_workloads(test_rng, test_workloads, providers=providers):
        try:
            result = mode_orders(workload, advisor, ranker, top=eval_top)
        except InfeasibleError:
            skipped += 1
            continue
        subset = result.candidates
        specs = [
            RunSpec(subset.offering(i), int(subset.nodes[i]), bool(subset.spot[i]))
            for i in range(len(subset))
        ]
        truth = true_cost_table(world, workload, specs, currency=subset.currency)
        if truth.best_index is None:
            skipped += 1
            continue
        regret = np.array([truth.regret(i) for i in range(len(subset))], dtype=np.float64)
        grades = truth.relevance()
        ranked += len(subset)
        for mode in EVALUATED_MODES:
            scores[mode].append(_score_order(result.orders[mode], regret, grades))

    scored = len(scores[OptimizerMode.HEURISTIC])
    labels = np.bincount([s.label for s in samples], minlength=5)
    return ModeEvaluation(
        seed=seed,
        train_jobs=jobs,
        train_workloads=workloads,
        samples=len(samples),
        label_counts=tuple(int(c) for c in labels),
        runs_per_workload=runs_per_workload,
        explore_top=explore_top,
        eval_top=eval_top,
        test_workloads=test_workloads,
        skipped_workloads=skipped,
        mean_candidates=ranked / scored if scored else 0.0,
        ltr_holdout=holdout,
        params=_params_dict(ranker.params),
        modes=tuple(_summarise(mode, scores[mode]) for mode in EVALUATED_MODES),
    )


def _params_dict(params: LTRParams) -> dict[str, Any]:
    return {name: getattr(params, name) for name in params.__dataclass_fields__}


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


def run_grades(runs: Sequence[ReplayRun], costs: FloatArray) -> tuple[IntArray, float | None]:
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
        grades[ok & (ratio <= bound * (1.0 + _RATIO_TOLERANCE))] = grade
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
    runs: Sequence[ReplayRun],
    offerings: Sequence[Offering],
    specs: Mapping[str, GpuSpec],
    currency: str,
    rates: ExchangeRates,
) -> _Group:
    members = [runs[i] for i in positions]
    workload = members[0].workload
    distinct: dict[Offering, int] = {}
    for i in positions:
        distinct.setdefault(offerings[i], len(distinct))
    candidates = _workload_candidates(workload, tuple(distinct), specs, currency, rates)
    estimates = estimate_candidates(workload, candidates)
    try:
        ranking = rank_candidates(workload, candidates, estimates)
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
    return _Group(
        query_id=query_id,
        runs=tuple(positions),
        features=features,
        heuristic=heuristic,
        feasible=~np.isnan(heuristic),
        grades=grades,
        costs=costs,
        reference=reference,
    )


def _tied_top(keys: FloatArray) -> IntArray:
    best = float(keys.max())
    top: IntArray = np.flatnonzero(keys == best).astype(np.int64)
    return top


def _score_runs(group: _Group, mode_scores: FloatArray) -> _Score:
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
    return _Score(
        regret=float(top_regrets.mean()),
        within=float(np.mean(top_regrets <= WITHIN_SHARE + _RATIO_TOLERANCE)),
        ndcg=ndcg_at_k(group.grades, keys, k=NDCG_K),
        rr=reciprocal_rank(group.grades, keys),
    )


def _mode_scores(group: _Group, ltr: FloatArray) -> dict[OptimizerMode, FloatArray]:
    feasible = group.feasible
    heuristic = np.where(feasible, group.heuristic, 0.0)
    hybrid = np.zeros(len(ltr), dtype=np.float64)
    if feasible.any():
        hybrid[feasible] = _hybrid(ltr[feasible], heuristic[feasible])
    if (~feasible).any():
        # Infeasible runs have no heuristic score; among themselves they keep the model's order.
        hybrid[~feasible] = min_max_normalize(ltr[~feasible])
    return {
        OptimizerMode.HEURISTIC: heuristic,
        OptimizerMode.LTR: ltr,
        OptimizerMode.HYBRID: hybrid,
    }


def _samples_of(group: _Group) -> list[TrainingSample]:
    return [
        TrainingSample(
            query_id=group.query_id,
            recommendation_id=f"backtest-{group.query_id}",
            rank=k + 1,
            candidate_id=f"run-{position}",
            features=tuple(float(x) for x in group.features[k]),
            feature_schema_version=FEATURE_SCHEMA_VERSION,
            label=int(group.grades[k]),
        )
        for k, position in enumerate(group.runs)
    ]


def backtest(
    runs: Sequence[ReplayRun],
    *,
    catalog_specs: Mapping[str, GpuSpec],
    params: LTRParams | None = None,
    min_train_groups: int = DEFAULT_MIN_TRAIN_GROUPS,
    currency: str = "USD",
    rates: ExchangeRates | None = None,
    seed: int = 0,
) -> BacktestReport:
    """Leave-one-workload-out backtest of measured runs (see the module docstring).

    ``catalog_specs`` is the GPU spec table (``Catalog.gpu_specs``). Raises
    ``InvalidInputError`` when there are fewer than ``min_train_groups + 1`` workloads, or a run's
    GPU type is unknown.
    """
    _check_positive("min_train_groups", min_train_groups)
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
        _prepare_group(query, positions, runs, offerings, catalog_specs, currency, table)
        for query, positions in by_query.items()
    ]
    group_samples = [_samples_of(group) for group in groups]

    scores: dict[OptimizerMode, list[_Score]] = {mode: [] for mode in EVALUATED_MODES}
    skipped = 0
    for index, group in enumerate(groups):
        if group.reference is None:
            skipped += 1
            continue
        training = [s for other, chunk in enumerate(group_samples) if other != index for s in chunk]
        ranker = _new_ranker(params, holdout_share=0.0)
        ranker.train(training, seed=seed)
        ltr = np.asarray(ranker.predict(group.features), dtype=np.float64)
        for mode, mode_scores in _mode_scores(group, ltr).items():
            scores[mode].append(_score_runs(group, mode_scores))

    return BacktestReport(
        runs=len(runs),
        workloads=len(groups),
        scored_workloads=len(groups) - skipped,
        skipped_workloads=skipped,
        infeasible_runs=int(sum(int((~g.feasible).sum()) for g in groups)),
        currency=currency,
        modes=tuple(_summarise(mode, scores[mode]) for mode in EVALUATED_MODES),
    )


__all__ = [
    "BACKTEST_GRADE_BOUNDS",
    "DEFAULT_EVAL_TOP",
    "DEFAULT_EXPLORE_TOP",
    "DEFAULT_MIN_TRAIN_GROUPS",
    "DEFAULT_RUNS_PER_WORKLOAD",
    "EVALUATED_MODES",
    "EVALUATION_LTR_PARAMS",
    "BacktestReport",
    "ModeEvaluation",
    "ModeMetrics",
    "ModeOrders",
    "backtest",
    "collect_feedback",
    "evaluate_modes",
    "mode_orders",
    "run_grades",
]
