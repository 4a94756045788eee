"""Learning from measured runs: predict a workload's cost on every configuration, and what to try.

Two sources of knowledge, blended (issue 14, DESIGN §2 query id):

1. **What other workloads taught** (``CostPrior``): a gradient-boosted regression (LightGBM) of
   each run's *relative* log cost (its log cost minus the mean log cost of its workload's runs)
   over the advisor's feature rows, with the estimated cost and hours made relative the same way.
   Relative, because workloads differ in size by orders of magnitude while the shape of "which
   configuration costs what" transfers. Without trained data the prior is the estimator's own
   relative log cost.
2. **Runs of the same workload** (``posterior``): with k measured runs of the target, the
   residual ``measured - prior`` is modelled over configuration features (nodes, vCPUs, memory and
   price per node, GPUs) by a Gaussian process (scikit-learn, Matern 5/2 + white noise), so a
   configuration near a measured one moves with it; its level (the mean residual) re-anchors
   every prediction to the workload's real scale. One run shifts the level only; two or more fit
   the process. Measured configurations predict their measured value.

``expected_improvement`` scores what measuring a configuration should gain over the best measured
run (on log cost, for minimisation) and ``next_to_measure`` picks the configuration to try:

* no run yet: the predicted optimum (the zero-shot pick);
* fewer than ``MIN_RUNS_BEFORE_STOP`` distinct configurations measured: the predicted cheapest
  configuration not yet measured (the posterior mean's minimum). With one or two runs the
  Gaussian process cannot estimate its own uncertainty (one run only shifts the level; two put
  its length scales at their bounds), so expected improvement would explore on an arbitrary
  spread; each of these runs instead tests the model where a good answer is most likely, and
  re-weights the neighbouring workloads by how they matched. On bench/bench_replay.py
  (leave-one-workload-out, Scout) this lowered the regret after 3 runs from 1.318 mean / 1.158
  median to 1.274 / 1.065 (with ``NEIGHBOUR_LOG_SCALE`` 0.175; 1.284 / 1.106 at the old 0.15).
  Those figures were one LightGBM prior with seed 0. The median sits on the 9th and 10th of 18
  workloads and moved with the seed (1.106, 1.158, 1.106 for seeds 1-3); the prior is now the
  mean of ``PRIOR_SEEDS`` models, and after 3 runs it measures 1.297 / 1.140, 1.306 / 1.158,
  1.297 / 1.140 and 1.321 / 1.158 (mean / median, base seeds 0-3): about 1.15, not the 1.065
  of the lucky seed (TensorFlow 1.007 / 1.000 either way);
* from then on: the configuration of highest expected improvement, with the stopping rule: stop
  once at least ``MIN_RUNS_BEFORE_STOP`` configurations were measured, the best measured run is
  within ``tolerance`` of the predicted optimum (no configuration is predicted cheaper by more than
  ``tolerance``) and no run is expected to improve on it by ``tolerance``.

Decisions:

* Failed runs count at ``FAILED_COST_FACTOR`` x what they cost (a failed job is paid for and then
  has to run again), so the model learns to avoid what fails; and a failed run is no answer:
  when any measured run succeeded, the best measured run (what expected improvement counts
  from, what the stopping rule compares) and the predicted optimum are among those that did.
* Predictions are in log space: costs are positive and their errors multiplicative.
* scikit-learn and LightGBM are imported inside the functions that use them (start-up stays fast).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from artenic_opt._internal.arrays import BoolArray, FloatArray
from artenic_opt.errors import InvalidInputError
from artenic_opt.training_advisor.feature_extractor import FEATURE_NAMES

#: A failed run is worth this many times what it cost (it was paid for, then the job re-ran).
FAILED_COST_FACTOR = 2.0
#: Spread (log cost) of a prior prediction before any run of the workload is measured: about a
#: factor of 1.65 either way, the typical error of the estimators on measured runs.
PRIOR_LOG_STD = 0.5
#: Measurement noise (log cost) of one run: repeated runs of one configuration differ by a few %.
RUN_LOG_NOISE = 0.05
#: Default stopping tolerance of ``next_to_measure``: best measured within 10% of the optimum.
DEFAULT_TOLERANCE = 0.10
#: LightGBM models of the cost prior, each on its own row and column subsample seed, whose mean
#: is the prior. One model's pick moves with its seed: on bench/bench_replay.py (Scout,
#: leave-one-workload-out, 3 runs) one model gave medians of 1.065, 1.106, 1.158 and 1.106 for
#: seeds 0-3; the mean of 5 gives 1.140, 1.158, 1.140 and 1.158 for base seeds 0-3 (means
#: 1.297-1.321), so a figure no longer hangs on which seed a run happened to use.
PRIOR_SEEDS = 5
#: Fewest measured configurations before the stopping rule may stop, and before the next run is
#: chosen by expected improvement rather than as the predicted cheapest: one run only shifts the
#: level of every prediction (so it always looks optimal), two are the least a Gaussian process
#: fits, a third tests its shape.
MIN_RUNS_BEFORE_STOP = 3

_COL = {name: i for i, name in enumerate(FEATURE_NAMES)}
#: Feature columns made relative to their workload's mean before the prior model sees them.
_RELATIVE = (_COL["log_estimated_cost_usd"], _COL["log_estimated_hours"])
#: Configuration features of the Gaussian process (per run, from the feature rows).
_CONFIG = (
    _COL["nodes"],
    _COL["vcpus"],
    _COL["system_memory_gb"],
    _COL["log_price_per_hour_usd"],
    _COL["gpus_per_node"],
)


def run_log_costs(costs: npt.ArrayLike, succeeded: npt.ArrayLike) -> FloatArray:
    """Log of each run's cost, failed runs at ``FAILED_COST_FACTOR`` x their cost."""
    cost = np.maximum(np.asarray(costs, dtype=np.float64), 1e-9)
    ok = np.asarray(succeeded, dtype=np.bool_)
    logs: FloatArray = np.log(cost) + np.where(ok, 0.0, math.log(FAILED_COST_FACTOR))
    return logs


def relative_features(features: FloatArray) -> FloatArray:
    """Feature rows of one workload with its estimated cost and hours made relative."""
    rows = np.array(features, dtype=np.float64, copy=True)
    for column in _RELATIVE:
        rows[:, column] -= rows[:, column].mean()
    return rows


def config_features(features: FloatArray) -> FloatArray:
    """The configuration columns the Gaussian process reads, on log scales."""
    block = np.asarray(features, dtype=np.float64)[:, _CONFIG]
    out = np.empty_like(block)
    out[:, 0] = np.log2(np.maximum(block[:, 0], 1.0))
    out[:, 1] = np.log2(np.maximum(block[:, 1], 1.0))
    out[:, 2] = np.log2(np.maximum(block[:, 2], 1.0))
    out[:, 3] = block[:, 3] / math.log10(2.0)  # log10 price -> log2
    out[:, 4] = np.log2(1.0 + np.maximum(block[:, 4], 0.0))
    return out


@dataclass(frozen=True, slots=True, eq=False)
class CostPrior:
    """What other workloads taught: relative log cost of a configuration from its feature row."""

    #: Fitted LightGBM regressors (one per bagging seed, ``PRIOR_SEEDS``); empty: estimator only.
    models: tuple[Any, ...]
    workloads: int

    def predict(self, features: FloatArray) -> FloatArray:
        """Relative log cost of each row of one workload (mean-centred)."""
        rows = relative_features(features)
        if not self.models:
            estimate: FloatArray = rows[:, _COL["log_estimated_cost_usd"]] * math.log(10.0)
            return estimate
        prediction = np.mean(
            [np.asarray(model.predict(rows), dtype=np.float64) for model in self.models], axis=0
        )
        centred: FloatArray = prediction - prediction.mean()
        return centred


def fit_cost_prior(
    groups: Sequence[tuple[FloatArray, FloatArray]], *, seed: int = 0, min_workloads: int = 2
) -> CostPrior:
    """Fit the prior on other workloads: each group is (feature rows, run log costs).

    With fewer than ``min_workloads`` groups the prior is the estimator's own relative cost.
    """
    usable = [(f, y) for f, y in groups if len(y) >= 2]
    if len(usable) < min_workloads:
        return CostPrior(models=(), workloads=len(usable))
    import lightgbm as lgb

    x = np.vstack([relative_features(f) for f, _ in usable])
    y = np.concatenate([y - y.mean() for _, y in usable])
    models = []
    for bag in range(PRIOR_SEEDS):
        model = lgb.LGBMRegressor(
            n_estimators=200,
            learning_rate=0.05,
            num_leaves=15,
            min_child_samples=10,
            subsample=0.8,
            subsample_freq=1,
            colsample_bytree=0.8,
            deterministic=True,
            num_threads=1,
            seed=seed * PRIOR_SEEDS + bag,
            verbose=-1,
        )
        model.fit(x, y)
        models.append(model)
    return CostPrior(models=tuple(models), workloads=len(usable))


@dataclass(frozen=True, slots=True, eq=False)
class Posterior:
    """Predicted log cost of every configuration of one workload, and its uncertainty."""

    mean: FloatArray
    std: FloatArray
    measured: BoolArray
    #: Measured configurations with at least one run that succeeded (None: every measured one).
    succeeded: BoolArray | None = None

    def answers(self) -> BoolArray:
        """Measured configurations that count as an answer: those that succeeded, when any did
        (a failed run is no answer: the job has to run again), else every measured one."""
        if self.succeeded is not None and bool((self.succeeded & self.measured).any()):
            ok: BoolArray = self.succeeded & self.measured
            return ok
        return self.measured

    def best_measured(self) -> float:
        """Lowest log cost of the measured answers (inf when nothing was measured)."""
        answers = self.answers()
        return float(self.mean[answers].min()) if answers.any() else math.inf


def posterior(
    prior: FloatArray,
    configs: FloatArray,
    measured_rows: Sequence[int],
    measured_log_costs: Sequence[float],
    measured_ok: Sequence[bool] | None = None,
) -> Posterior:
    """Blend the prior with k measured runs of the workload (see the module docstring).

    ``measured_ok`` says which runs succeeded (None: all did); the best measured run, which
    expected improvement is counted from, is then the best that succeeded.
    """
    prior = np.asarray(prior, dtype=np.float64)
    n = prior.shape[0]
    rows = np.asarray(list(measured_rows), dtype=np.int64)
    values = np.asarray(list(measured_log_costs), dtype=np.float64)
    if rows.shape != values.shape:
        raise InvalidInputError("measured runs: one log cost per measured row")
    if rows.size and (rows.min() < 0 or rows.max() >= n):
        raise InvalidInputError(f"measured runs: rows must be in 0..{n - 1}")
    measured = np.zeros(n, dtype=np.bool_)
    measured[rows] = True
    succeeded = None
    if measured_ok is not None:
        ok = np.asarray(list(measured_ok), dtype=np.bool_)
        if ok.shape != rows.shape:
            raise InvalidInputError("measured runs: one success flag per measured row")
        succeeded = np.zeros(n, dtype=np.bool_)
        succeeded[rows[ok]] = True
    if rows.size == 0:
        return Posterior(
            mean=prior.copy(),
            std=np.full(n, PRIOR_LOG_STD),
            measured=measured,
            succeeded=succeeded,
        )
    residual = values - prior[rows]
    level = float(residual.mean())
    mean = prior + level
    std = np.full(n, PRIOR_LOG_STD)
    distinct = np.unique(rows)
    if distinct.size >= 2:
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

        x = np.asarray(configs, dtype=np.float64)
        scale = x.std(axis=0)
        scale[scale == 0] = 1.0
        z = (x - x.mean(axis=0)) / scale
        kernel = ConstantKernel(PRIOR_LOG_STD**2, "fixed") * Matern(
            length_scale=np.ones(z.shape[1]), length_scale_bounds=(0.1, 10.0), nu=2.5
        ) + WhiteKernel(RUN_LOG_NOISE**2, (1e-5, 0.5))
        gp = GaussianProcessRegressor(kernel=kernel, normalize_y=False, random_state=0)
        with warnings.catch_warnings():
            # A few points often put a length scale at its bound; the fit is still usable.
            warnings.simplefilter("ignore")
            gp.fit(z[rows], residual - level)
        delta, sigma = gp.predict(z, return_std=True)
        mean = mean + np.asarray(delta, dtype=np.float64)
        std = np.asarray(sigma, dtype=np.float64)
    # What was measured is known: its own (best) measured value, with run noise.
    for row in distinct.tolist():
        mean[row] = float(values[rows == row].min())
        std[row] = RUN_LOG_NOISE
    return Posterior(mean=mean, std=np.maximum(std, 1e-6), measured=measured, succeeded=succeeded)


def expected_improvement(post: Posterior) -> FloatArray:
    """Expected decrease of the best measured log cost from measuring each configuration."""
    best = post.best_measured()
    if not math.isfinite(best):
        best = float(post.mean.min()) + PRIOR_LOG_STD
    gain = best - post.mean
    z = gain / post.std
    cdf = 0.5 * (1.0 + _erf(z / math.sqrt(2.0)))
    pdf = np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
    ei: FloatArray = gain * cdf + post.std * pdf
    ei[post.measured] = 0.0
    return np.maximum(ei, 0.0)


_erf = np.vectorize(math.erf, otypes=[np.float64])


@dataclass(frozen=True, slots=True)
class NextRun:
    """What to measure next (or that measuring more is not worth it)."""

    row: int | None
    expected_improvement: float
    #: Predicted optimum over every configuration (log cost) and where it is.
    optimum_row: int
    optimum_log_cost: float
    best_measured_row: int | None
    best_measured_log_cost: float | None
    stop: bool
    reason: str


def next_to_measure(post: Posterior, *, tolerance: float = DEFAULT_TOLERANCE) -> NextRun:
    """The configuration to measure next by expected improvement, with the stopping rule."""
    if not 0 < tolerance < 10:
        raise InvalidInputError(f"tolerance: must be in (0, 10), got {tolerance:g}")
    answers = post.answers()
    # A configuration measured to fail is no optimum, however little its run cost.
    eligible = ~post.measured | answers
    optimum_row = int(np.argmin(np.where(eligible, post.mean, np.inf)))
    optimum = float(post.mean[optimum_row])
    best_row = (
        int(np.flatnonzero(answers)[np.argmin(post.mean[answers])]) if answers.any() else None
    )
    best = None if best_row is None else float(post.mean[best_row])
    unmeasured = ~post.measured
    if not unmeasured.any():
        return NextRun(
            None, 0.0, optimum_row, optimum, best_row, best, True, "every configuration measured"
        )
    ei = expected_improvement(post)
    enough = int(np.unique(np.flatnonzero(post.measured)).size) >= MIN_RUNS_BEFORE_STOP
    unmeasured_optimum = float(post.mean[unmeasured].min())
    if (
        best is not None
        and enough
        and best <= min(optimum, unmeasured_optimum) + math.log1p(tolerance)
        and float(ei.max()) < math.log1p(tolerance)
    ):
        return NextRun(
            None,
            0.0,
            optimum_row,
            optimum,
            best_row,
            best,
            True,
            f"the best measured run is within {tolerance:.0%} of the predicted optimum",
        )
    if best is None:
        # Nothing measured yet: the predicted optimum is the most informative first run.
        return NextRun(
            optimum_row, 0.0, optimum_row, optimum, None, None, False, "no run measured yet"
        )
    if not enough:
        # Too few runs for the process's uncertainty to mean anything: test the prediction
        # where it matters, at the predicted cheapest configuration not yet measured.
        row = int(np.argmin(np.where(unmeasured, post.mean, np.inf)))
        return NextRun(
            row,
            float(ei[row]),
            optimum_row,
            optimum,
            best_row,
            best,
            False,
            "the predicted cheapest configuration not yet measured "
            f"({MIN_RUNS_BEFORE_STOP} measured configurations before expected improvement)",
        )
    row = int(np.argmax(np.where(unmeasured, ei, -1.0)))
    return NextRun(
        row,
        float(ei[row]),
        optimum_row,
        optimum,
        best_row,
        best,
        False,
        f"expected to lower the best measured cost by {math.expm1(float(ei[row])):.0%}",
    )


#: Spread (log cost) of how well another workload's cost shape must match the target's measured
#: runs to count as a neighbour: a mismatch of 0.15 (16%) per run weighs e^-0.5 of a perfect one.
#: Chosen on bench/bench_replay.py's k-shot figures (leave-one-workload-out, both data sets, no
#: per-workload tuning). With expected improvement from the second run on, 0.15 against 0.3 and
#: 0.6 lowered the mean regret after 3 runs from 1.385 to 1.318 (Scout) and 1.012 to 1.006
#: (TensorFlow); 0.6 did no better than 0.3. A loose match blends nearly every workload alike.
#: With the predicted cheapest as the second and third runs (``next_to_measure``), Scout after 3
#: runs, mean / median: 0.125 1.292 / 1.140, 0.15 1.284 / 1.106, 0.175 1.274 / 1.065, 0.2
#: 1.320 / 1.065, 0.25 1.329 / 1.106 (after 6 runs 1.205-1.250 mean, 1.003-1.041 median;
#: TensorFlow 1.005-1.012 / 1.000 throughout): 0.175, the lowest mean and median after 3 runs.
NEIGHBOUR_LOG_SCALE = 0.175
#: Weight of the absolute cost level in the neighbour match (the shape always counts fully). 0:
#: on the Scout data (bench/bench_replay.py) matching levels too (0.1, 0.5) picked worse after
#: 3 and 6 runs; similar jobs differ in size, not in which configuration suits them.
NEIGHBOUR_LEVEL_WEIGHT = 0.0


def neighbour_prior(
    prior: FloatArray,
    others: FloatArray,
    measured_rows: Sequence[int],
    measured_log_costs: Sequence[float],
) -> FloatArray:
    """Re-weight what other workloads taught by how well each matches the measured runs.

    ``others`` is ``(workloads x configurations)``: each other workload's log cost on the
    target's configurations (NaN where it has no run there). A workload whose costs, level
    aside, match the target's measured runs is a neighbour; the prior becomes the weighted mean
    of the neighbours' cost shapes where they have runs, and stays ``prior`` elsewhere. The match
    counts the shape (costs level aside) and, at ``NEIGHBOUR_LEVEL_WEIGHT``, the level itself.
    With one measured configuration every workload matches alike (their mean shape); without
    runs, ``prior`` returns.
    """
    prior = np.asarray(prior, dtype=np.float64)
    rows = np.asarray(list(measured_rows), dtype=np.int64)
    values = np.asarray(list(measured_log_costs), dtype=np.float64)
    table = np.asarray(others, dtype=np.float64).reshape(-1, prior.shape[0])
    if rows.size == 0 or table.shape[0] == 0:
        return prior.copy()
    weights = np.zeros(table.shape[0])
    shapes = np.full(table.shape, np.nan)
    for index, costs in enumerate(table):
        seen = costs[rows]
        known = np.isfinite(seen)
        if not known.any():
            continue
        level = float(np.mean(values[known] - seen[known]))
        shape = float(np.mean((values[known] - seen[known] - level) ** 2))
        error = math.sqrt(shape + NEIGHBOUR_LEVEL_WEIGHT * level**2)
        weights[index] = math.exp(-0.5 * (error / NEIGHBOUR_LOG_SCALE) ** 2) * known.mean()
        shapes[index] = costs + level
    total = np.where(np.isfinite(shapes), weights[:, None], 0.0).sum(axis=0)
    if not np.any(total > 1e-12):
        return prior.copy()
    blended = np.nansum(np.where(np.isfinite(shapes), shapes * weights[:, None], 0.0), axis=0)
    mixed = np.where(total > 1e-12, blended / np.maximum(total, 1e-12), np.nan)
    # Where neighbours have no run, the prior shifted to the neighbours' level.
    covered = np.isfinite(mixed)
    shift = float(np.mean(mixed[covered] - prior[covered])) if covered.any() else 0.0
    result: FloatArray = np.where(covered, mixed, prior + shift)
    return result


__all__ = [
    "DEFAULT_TOLERANCE",
    "FAILED_COST_FACTOR",
    "MIN_RUNS_BEFORE_STOP",
    "NEIGHBOUR_LEVEL_WEIGHT",
    "NEIGHBOUR_LOG_SCALE",
    "PRIOR_SEEDS",
    "CostPrior",
    "NextRun",
    "Posterior",
    "config_features",
    "expected_improvement",
    "fit_cost_prior",
    "neighbour_prior",
    "next_to_measure",
    "posterior",
    "relative_features",
    "run_log_costs",
]
