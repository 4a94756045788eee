"""A seeded synthetic world: workloads, true run outcomes, ground truth and replay files.

Used by demo mode, by tests, and by the feedback-loop evaluation (DESIGN §6). Everything is
deterministic for a seed. A closed loop is a few lines::

    world = World(seed)
    collector = FeedbackCollector()
    for i, workload in enumerate(generate_workloads(seed, 300)):
        advice = advisor.recommend(workload, offerings)          # any ranking
        pick = advice.recommendations[0]                         # or an exploratory pick
        outcome = world.run(workload, pick.offering, pick.nodes, pick.spot, trial=i)
        job = outcome.in_currency(advice.display_currency, rates).to_job_outcome(
            advice.recommendation_id, pick.rank)
        samples.append(collector.collect(job, stored_candidate))  # label 0-4 + feature row
    ranker.train(samples)

and ``true_cost_table(world, workload, candidates)`` scores any pick against the truth (regret of
the top-1 pick, true relevance grades for NDCG). ``simulate_replay`` and ``write_replay_file``
produce a replay file for ``evaluate --replay``.
"""

from __future__ import annotations

from artenic_opt.simulate.ground_truth import (
    INELIGIBLE_REGRET,
    MIN_SUCCESS_PROBABILITY,
    CandidateLike,
    TrueCostTable,
    true_cost_table,
)
from artenic_opt.simulate.replay import (
    ReplayOutcome,
    ReplayRun,
    parse_replay_record,
    read_replay_file,
    replay_run,
    simulate_replay,
    write_replay_file,
)
from artenic_opt.simulate.workloads import WORKLOAD_FAMILIES, generate_workloads
from artenic_opt.simulate.world import (
    ExpectedOutcome,
    ProviderProfile,
    RunSpec,
    SimulatedOutcome,
    World,
)

__all__ = [
    "INELIGIBLE_REGRET",
    "MIN_SUCCESS_PROBABILITY",
    "WORKLOAD_FAMILIES",
    "CandidateLike",
    "ExpectedOutcome",
    "ProviderProfile",
    "ReplayOutcome",
    "ReplayRun",
    "RunSpec",
    "SimulatedOutcome",
    "TrueCostTable",
    "World",
    "generate_workloads",
    "parse_replay_record",
    "read_replay_file",
    "replay_run",
    "simulate_replay",
    "true_cost_table",
    "write_replay_file",
]
