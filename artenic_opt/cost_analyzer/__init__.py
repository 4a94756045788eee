"""Cost analyzer: compare providers, read the spending history, advise on spot, find savings.

* ``pareto``: the cost / time Pareto frontier and its cheapest, fastest and balanced picks.
* ``provider_benchmark``: per provider and region, the best feasible candidate of a workload,
  GPU availability and coverage (``CandidateTable`` comes from the training advisor's estimates).
* ``spot_advisor``: preemption rate, spot savings and the expected cost with retries, per
  provider / region / instance type, from history or priors.
* ``periods``: look-back windows (``parse_period``) and time buckets of the history.
* ``spending``: spend by group and bucket, and cost per unit of metric improvement.
* ``anomalies``: runs both statistically and materially far from comparable runs.
* ``savings``: actual spend against the recommendations (the facts behind ``cost savings``).
* ``analyzer``: ``CostAnalyzer``, the orchestrator the CLI and TUI call.

Like the other pillars it receives loaded data and returns pydantic models (``schemas``); it
never opens files or sockets. Importing it loads numpy and pydantic only.
"""

from __future__ import annotations

from artenic_opt.cost_analyzer.analyzer import CostAnalyzer
from artenic_opt.cost_analyzer.anomalies import detect_anomalies
from artenic_opt.cost_analyzer.pareto import (
    FrontierPicks,
    dominates,
    pareto_frontier,
    pareto_mask,
    pick_frontier,
)
from artenic_opt.cost_analyzer.periods import LookbackWindow, parse_period
from artenic_opt.cost_analyzer.provider_benchmark import (
    CandidateTable,
    benchmark_providers,
    build_candidate_table,
    gpu_availability,
    provider_spot_discounts,
)
from artenic_opt.cost_analyzer.savings import savings_against_recommendations
from artenic_opt.cost_analyzer.spending import summarize_spending
from artenic_opt.cost_analyzer.spot_advisor import SpotScenario, advise_group, advise_spot

__all__ = [
    "CandidateTable",
    "CostAnalyzer",
    "FrontierPicks",
    "LookbackWindow",
    "SpotScenario",
    "advise_group",
    "advise_spot",
    "benchmark_providers",
    "build_candidate_table",
    "detect_anomalies",
    "dominates",
    "gpu_availability",
    "pareto_frontier",
    "pareto_mask",
    "parse_period",
    "pick_frontier",
    "provider_spot_discounts",
    "savings_against_recommendations",
    "summarize_spending",
]
