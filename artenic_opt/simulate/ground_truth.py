"""Ground truth for evaluation: what each candidate really costs, and which one was best.

``true_cost_table(world, workload, candidates)`` asks the world for the noise-free expectation of
every candidate and answers the evaluation's questions: which candidate is the cheapest that can
do the job within the deadline, how much worse a given pick is (regret), and how relevant each
candidate truly is (graded 0-4, for NDCG against the truth).

Decisions:

* The cost compared is the *expected cost to get the job done*: failed attempts are paid for and
  rerun, so a cheap spot offering that usually dies without a checkpoint is not cheap. It comes
  from ``World.expected`` (see world.py).
* A candidate is *eligible* when it can run at all (memory, GPU), succeeds at least half the time
  in one attempt (``MIN_SUCCESS_PROBABILITY``), meets the workload's deadline in expectation, and
  respects its provider, region and spot constraints. The budget is reported but does not change
  eligibility: regret measures how much money a pick wastes, and the cheapest eligible candidate is
  the one to compare with whether or not it fits the budget.
* Costs are converted to one currency with an explicit ``ExchangeRates`` table; a candidate in a
  currency the table does not know raises ``CurrencyError``.
* Regret of an eligible pick = its expected cost / the best expected cost - 1. A pick that is not
  eligible is paid for once (the expected cost of one attempt, failed or not) and then the job is
  run on the best candidate, so its regret is that attempt's cost / the best cost, but at least
  ``INELIGIBLE_REGRET`` (1.0): a recommendation that fails, misses the deadline or breaks a
  constraint always counts as a bad one, and the mean regret stays finite (rerunning a job that
  almost never succeeds would cost without bound).
* True relevance grades mirror the feedback labels: 4 within 5% of the best, 3 within 25%, 2
  within 50%, 1 eligible but dearer, 0 not eligible.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from artenic_opt._internal.money import DEFAULT_RATES, ExchangeRates
from artenic_opt.errors import InvalidInputError
from artenic_opt.schemas import Offering, WorkloadProfile
from artenic_opt.simulate.world import ExpectedOutcome, World

MIN_SUCCESS_PROBABILITY = 0.5
INELIGIBLE_REGRET = 1.0
_GRADE_BOUNDS = ((1.05, 4), (1.25, 3), (1.5, 2))


class CandidateLike(Protocol):
    """Anything with an offering, a node count and a spot flag (``RunSpec``, a recommendation)."""

    @property
    def offering(self) -> Offering: ...

    @property
    def nodes(self) -> int: ...

    @property
    def spot(self) -> bool: ...


@dataclass(frozen=True)
class TrueCostTable:
    """Expected truth for every candidate of one workload, in one currency."""

    workload: WorkloadProfile
    currency: str
    expected: tuple[ExpectedOutcome, ...]
    cost: NDArray[np.float64]  # expected cost to success, ``currency``; inf when impossible
    attempt_cost: NDArray[np.float64]  # expected cost of one attempt, failed or not
    hours: NDArray[np.float64]  # expected hours to success; inf when impossible
    eligible: NDArray[np.bool_]
    meets_deadline: NDArray[np.bool_]
    within_budget: NDArray[np.bool_]
    allowed: NDArray[np.bool_]

    @property
    def best_index(self) -> int | None:
        """Cheapest eligible candidate (lowest index among equal costs), or ``None``."""
        if not self.eligible.any():
            return None
        costs = np.where(self.eligible, self.cost, np.inf)
        return int(np.argmin(costs))

    @property
    def best_cost(self) -> float | None:
        best = self.best_index
        return None if best is None else float(self.cost[best])

    def regret(self, index: int) -> float | None:
        """How much dearer candidate ``index`` is than the best (0.25 = 25% more).

        ``None`` when no candidate is eligible (nothing to compare with).
        """
        if not 0 <= index < len(self.cost):
            raise InvalidInputError(f"index: {index} is outside 0..{len(self.cost) - 1}")
        best = self.best_cost
        if best is None:
            return None
        if not self.eligible[index]:
            attempt = float(self.attempt_cost[index])
            return max(INELIGIBLE_REGRET, attempt / best if best > 0 else INELIGIBLE_REGRET)
        cost = float(self.cost[index])
        return cost / best - 1.0 if best > 0 else 0.0

    def relevance(self) -> NDArray[np.int64]:
        """True relevance grade (0-4) of every candidate, from its cost relative to the best."""
        grades = np.zeros(len(self.cost), dtype=np.int64)
        best = self.best_cost
        if best is None:
            return grades
        ratio = self.cost / best if best > 0 else np.where(self.cost <= 0, 1.0, np.inf)
        grades[self.eligible] = 1
        for bound, grade in reversed(_GRADE_BOUNDS):
            grades[self.eligible & (ratio <= bound)] = grade
        return grades


def _allowed(workload: WorkloadProfile, candidate: CandidateLike) -> bool:
    offering = candidate.offering
    if workload.allowed_providers:
        wanted = {p.lower() for p in workload.allowed_providers}
        if offering.provider.lower() not in wanted:
            return False
    if workload.allowed_regions:
        wanted = {r.lower() for r in workload.allowed_regions}
        if offering.region.lower() not in wanted:
            return False
    return not (candidate.spot and not workload.spot_allowed)


def true_cost_table(
    world: World,
    workload: WorkloadProfile,
    candidates: Sequence[CandidateLike],
    *,
    currency: str = "USD",
    rates: ExchangeRates = DEFAULT_RATES,
) -> TrueCostTable:
    """The world's expected truth for each candidate of ``workload``, costs in ``currency``."""
    expected = tuple(world.expected(workload, c.offering, c.nodes, c.spot) for c in candidates)
    factors = np.array(
        [rates.factor(e.currency, currency) for e in expected], dtype=np.float64
    ).reshape(-1)
    cost = np.array([e.expected_cost for e in expected], dtype=np.float64).reshape(-1) * factors
    attempt_cost = (
        np.array([e.attempt_cost for e in expected], dtype=np.float64).reshape(-1) * factors
    )
    hours = np.array([e.expected_hours for e in expected], dtype=np.float64).reshape(-1)
    success = np.array([e.success_probability for e in expected], dtype=np.float64).reshape(-1)
    allowed = np.array([_allowed(workload, c) for c in candidates], dtype=bool).reshape(-1)
    deadline = workload.deadline_hours
    meets_deadline = np.isfinite(hours) & (hours <= deadline if deadline is not None else True)
    budget = workload.budget
    if budget is None:
        within_budget = np.isfinite(cost)
    else:
        budget_here = rates.convert(budget, workload.budget_currency, currency)
        within_budget = np.isfinite(cost) & (cost <= budget_here)
    eligible = np.isfinite(cost) & (success >= MIN_SUCCESS_PROBABILITY) & meets_deadline & allowed
    return TrueCostTable(
        workload=workload,
        currency=currency,
        expected=expected,
        cost=cost,
        attempt_cost=attempt_cost,
        hours=hours,
        eligible=eligible,
        meets_deadline=meets_deadline,
        within_budget=within_budget,
        allowed=allowed,
    )
