"""Training advisor: rank where to train a workload, explain why, and learn from outcomes.

* ``feature_extractor``: the learning-to-rank feature rows (``FEATURE_NAMES``, schema version).
* ``heuristic_ranker``: hard filters (``estimate.filters``), weighted score, deterministic order.
  Candidates are built in ``estimate.candidates`` (shared with the cost analyzer).
* ``advisor``: ``TrainingAdvisor.recommend`` -> ``AdviceResult`` (the advice and its feature rows).
* ``ltr_ranker`` and ``feedback_collector``: the learning side (LightGBM loads lazily there).

Importing this package loads numpy and pydantic only.
"""

from __future__ import annotations

from artenic_opt.estimate.candidates import (
    CandidateArrays,
    CandidateEstimates,
    build_candidates,
    estimate_candidates,
)
from artenic_opt.training_advisor.advisor import (
    AdviceResult,
    RankingScorer,
    TrainingAdvisor,
)
from artenic_opt.training_advisor.blend import HYBRID_LTR_WEIGHT
from artenic_opt.training_advisor.feature_extractor import (
    FEATURE_NAMES,
    FEATURE_SCHEMA_VERSION,
    FeatureContext,
    FeatureMatrix,
    extract_features,
    extract_single,
)
from artenic_opt.training_advisor.heuristic_ranker import (
    FACTOR_NAMES,
    GOAL_WEIGHTS,
    HeuristicRanking,
    RankingWeights,
    rank_candidates,
    rank_offerings,
    weights_for_goal,
)

__all__ = [
    "FACTOR_NAMES",
    "FEATURE_NAMES",
    "FEATURE_SCHEMA_VERSION",
    "GOAL_WEIGHTS",
    "HYBRID_LTR_WEIGHT",
    "AdviceResult",
    "CandidateArrays",
    "CandidateEstimates",
    "FeatureContext",
    "FeatureMatrix",
    "HeuristicRanking",
    "RankingScorer",
    "RankingWeights",
    "TrainingAdvisor",
    "build_candidates",
    "estimate_candidates",
    "extract_features",
    "extract_single",
    "rank_candidates",
    "rank_offerings",
    "weights_for_goal",
]
