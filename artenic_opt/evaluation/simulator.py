"""End-to-end evaluation of the ranking modes on the simulator (above the pillars).

Split from ``training_advisor.evaluation`` (which keeps the backtest of measured runs and the
shared scoring): this module drives the simulated world, so it sits above the pillars, beside
the services that call it.

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
   set it is judged on: by default (``eval_top=10``) the heuristic's top 10, the neighbourhood
   the loop explores; ``widen=True`` adds the candidates the model's outcome support covers (the
   set ``recommend`` lets the model rank); ``eval_top=None`` ranks every candidate the hard
   filters keep. Features, the ``order_by_score`` tie-break and the hybrid weights (the model's
   learned ``blend_weight``) are those of ``TrainingAdvisor.recommend`` (min-max over the set
   ranked); a test pins
   that, with ``top=LTR_SHORTLIST`` and ``widen``, the orders equal ``recommend``'s. Ground truth is
   ``true_cost_table`` over that set: top-1 regret (``TrueCostTable.regret``: expected cost over
   the cheapest eligible candidate's in the set, an ineligible pick at least 1.0), within-5%
   share (regret <= 0.05), and NDCG@5 and MRR of the mode's order against
   ``TrueCostTable.relevance()`` grades. Orders are scored as positions (n, n-1, ...), so the
   metric sees the exact order the advisor would show, tie-break included. Workloads that are
   infeasible for the advisor or have no eligible candidate in the world are skipped (and
   counted): they have no best to compare with, for any mode.

Tuning (300 jobs, 80 held-out workloads; bench/bench_feedback_loop.py prints the tables). Four runs
per workload within the heuristic's top 10 with ``EVALUATION_LTR_PARAMS`` (100 trees at 0.05, 15
leaves, 20 samples per leaf, 80% row and column sampling) and cost-only feedback labels
(``feedback_collector``; issue 14): hybrid beats the heuristic on NDCG@5 and on mean regret for
every seed 0-9 (closest: seed 4, NDCG@5 0.755 against 0.747; measured on main 2026-12-04 after the
calibrated time and memory models landed). With the former labels (the worse of the cost ratio and
hours against the run's own estimate) hybrid lost NDCG@5 on seeds 2 and 4 once the calibrated time
model landed: the hours ratio graded how well the estimator guessed a run's duration, which the
held-out truth (whole-job cost) never rewards. Widened by outcome support (``widen=True``, 29-52
candidates per workload on average): hybrid ahead on NDCG@5 and on mean regret for all ten seeds
(closest: seed 4, NDCG@5 0.688 against 0.684). ``LTRParams()`` (100 trees at 0.1, 31 leaves, 5 per
leaf) overfits a few hundred samples. Ranked over *all* feasible candidates (``eval_top=None``,
~140 per workload) hybrid also leads on NDCG@5 and mean regret for seeds 0-9 on the same main
(closest: seed 4, 0.634 against 0.628), but before the memory model and the bandwidth fix landed it
lost seeds 1 and 4 there: a model that only ever saw the heuristic's top 10 extrapolates unreliably
to the long tail, which is why ``recommend`` lets it rank the shortlist widened by outcomes
(``TrainingAdvisor.recommend``), not every candidate.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import Field

from artenic_opt._internal.arrays import FloatArray, IntArray
from artenic_opt._internal.math_utils import ndcg_at_k, reciprocal_rank
from artenic_opt.catalog.loader import Catalog, CatalogArrays
from artenic_opt.errors import InfeasibleError
from artenic_opt.estimate.candidates import CandidateArrays, CandidateEstimates, build_candidates
from artenic_opt.schemas import RankingMetrics, TrainingSample, WorkloadProfile
from artenic_opt.simulate import RunSpec, World, generate_workloads, true_cost_table
from artenic_opt.training_advisor.advisor import TrainingAdvisor
from artenic_opt.training_advisor.blend import blend_weight_of
from artenic_opt.training_advisor.evaluation import (
    EVALUATED_MODES,
    EVALUATION_LTR_PARAMS,
    NDCG_K,
    RATIO_TOLERANCE,
    WITHIN_SHARE,
    ModeReport,
    Score,
    check_positive,
    format_table,
    hybrid_scores,
    new_ranker,
    summarise,
)
from artenic_opt.training_advisor.feature_extractor import FEATURE_SCHEMA_VERSION, extract_features
from artenic_opt.training_advisor.feedback_collector import CandidateRecord, FeedbackCollector
from artenic_opt.training_advisor.heuristic_ranker import (
    order_by_score,
    rank_candidates,
    weights_for_goal,
)
from artenic_opt.training_advisor.ltr_ranker import LTRParams, LTRRanker
from artenic_opt.training_advisor.outcome_support import learned_shortlist
from artenic_opt.types import OptimizationGoal, OptimizerMode

#: Exploratory picks are drawn among the heuristic's top this many.
DEFAULT_EXPLORE_TOP = 10
#: Jobs per training workload: the rank-1 pick plus three exploratory picks.
DEFAULT_RUNS_PER_WORKLOAD = 4
#: The evaluation ranks the heuristic's top this many (``None``: every feasible candidate).
DEFAULT_EVAL_TOP = 10
# Seed streams of ``evaluate_modes``: training and test workloads never share draws.
_TRAIN_STREAM = 1
_TEST_STREAM = 2
_EXPLORE_STREAM = 3


class ModeEvaluation(ModeReport):
    """Heuristic vs ltr vs hybrid on held-out simulated workloads, against the ground truth."""

    seed: int
    train_jobs: int = Field(ge=0, description="Simulated jobs run by the feedback loop")
    train_workloads: int = Field(ge=0)
    samples: int = Field(ge=0)
    label_counts: tuple[int, ...] = Field(description="Training samples per label 0..4")
    runs_per_workload: int = Field(ge=1)
    explore_top: int = Field(ge=1)
    eval_top: int | None = Field(default=None, description="Candidates ranked (None: all)")
    widened: bool = Field(
        default=False, description="The eval_top shortlist was widened by outcome support"
    )
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
            + (" widened by outcomes" if self.widened and self.eval_top is not None else "")
            + f" ({self.mean_candidates:.0f} candidates each)"
        )
        return format_table(title, self.modes, ())

    def __str__(self) -> str:
        return self.table()


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
    check_positive("train_jobs", train_jobs)
    check_positive("runs_per_workload", runs_per_workload)
    check_positive("explore_top", explore_top)
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
    widen: bool = False,
) -> ModeOrders:
    """Each mode's order of the advisor's feasible candidates, as ``recommend`` computes it.

    ``top``: only the heuristic's best ``top``; with ``widen`` also every candidate the model's
    outcome support covers (``learned_shortlist``, the set ``recommend`` lets the model rank when
    ``top`` is ``LTR_SHORTLIST``). One pass of estimates and features serves the three modes.
    Raises ``InfeasibleError`` when the hard filters leave nothing.
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
        keep = (
            learned_shortlist(
                ranking.order,
                features,
                model,
                top,
                cost=estimates.total_cost,
                hours=estimates.hours,
            )
            if widen
            else np.sort(ranking.order[:top])
        )
        subset = subset.take(keep)
        estimates = estimates.take(keep)
        features = features[keep]
        heuristic = heuristic[keep]
        heuristic_order = order_by_score(heuristic, subset, estimates)
    ltr = np.asarray(model.predict(features), dtype=np.float64)
    orders = {
        OptimizerMode.HEURISTIC: heuristic_order,
        OptimizerMode.LTR: order_by_score(ltr, subset, estimates),
        OptimizerMode.HYBRID: order_by_score(
            hybrid_scores(ltr, heuristic, blend_weight_of(model)), subset, estimates
        ),
    }
    return ModeOrders(candidates=subset, estimates=estimates, orders=orders)


def _score_order(order: IntArray, regret: FloatArray, grades: IntArray) -> Score:
    n = order.shape[0]
    positions = np.empty(n, dtype=np.float64)
    positions[order] = np.arange(n, 0, -1, dtype=np.float64)
    top = float(regret[int(order[0])])
    return Score(
        regret=top,
        within=float(top <= WITHIN_SHARE + RATIO_TOLERANCE),
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
    widen: bool = False,
) -> ModeEvaluation:
    """Run the feedback loop on the simulator, train LTR, and compare the modes on held-out
    workloads against the ground truth (see the module docstring)."""
    check_positive("seed", seed, least=0)
    check_positive("test_workloads", test_workloads)
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
        check_positive("eval_top", eval_top)
    ranker = new_ranker(params or EVALUATION_LTR_PARAMS, holdout_share=0.2)
    holdout = ranker.train(samples, seed=seed)

    scores: dict[OptimizerMode, list[Score]] = {mode: [] for mode in EVALUATED_MODES}
    skipped = 0
    ranked = 0
    test_rng = np.random.default_rng([seed, _TEST_STREAM])
    for workload in generate_workloads(test_rng, test_workloads, providers=providers):
        try:
            result = mode_orders(workload, advisor, ranker, top=eval_top, widen=widen)
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
        widened=widen,
        test_workloads=test_workloads,
        skipped_workloads=skipped,
        mean_candidates=ranked / scored if scored else 0.0,
        ltr_holdout=holdout,
        params=_params_dict(ranker.params),
        modes=tuple(summarise(mode, scores[mode]) for mode in EVALUATED_MODES),
    )


def _params_dict(params: LTRParams) -> dict[str, Any]:
    return {name: getattr(params, name) for name in params.__dataclass_fields__}


__all__ = [
    "DEFAULT_EVAL_TOP",
    "DEFAULT_EXPLORE_TOP",
    "DEFAULT_RUNS_PER_WORKLOAD",
    "EVALUATION_LTR_PARAMS",
    "ModeEvaluation",
    "ModeOrders",
    "collect_feedback",
    "evaluate_modes",
    "mode_orders",
]
