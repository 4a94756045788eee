"""The hybrid score: a weighted blend of the learned and the heuristic scores.

``hybrid_blend`` is the one formula ``TrainingAdvisor.recommend`` and the evaluations
(``evaluation.hybrid_scores``: backtest and simulator) use, so they cannot drift apart.

Decisions:

* The weight is the model's: ``LTRRanker.train`` learns its ltr share by inner validation over
  queries and stores it in the model's metadata (``ltr_ranker`` docstring, issue 14).
  ``blend_weight_of`` reads it; a model without one (a stand-in scorer, or anything that does
  not say) gets ``HYBRID_LTR_WEIGHT``, the fixed weight used before, as do old model files.
* Both scores are min-maxed over the candidates ranked, so the weight trades orders, not scales.
"""

from __future__ import annotations

import math

from artenic_opt._internal.arrays import FloatArray
from artenic_opt._internal.math_utils import min_max_normalize

#: Share of the LTR score in hybrid mode when the model learned none; the heuristic score has
#: the rest. 0.5 rather than 0.7: on the simulator's closed loop (300 jobs, 80 held-out
#: workloads) hybrid then beats the heuristic on NDCG@5 and mean regret for seeds 0-4, where 0.7
#: lost seed 0 on NDCG@5 and seed 3 on regret (issue 14; bench/bench_feedback_loop.py).
HYBRID_LTR_WEIGHT = 0.5


def blend_weight_of(model: object) -> float:
    """The ltr share of the hybrid score for ``model``: its learned ``blend_weight`` when that is
    a number in [0, 1], else ``HYBRID_LTR_WEIGHT``."""
    weight = getattr(model, "blend_weight", None)
    if isinstance(weight, bool) or not isinstance(weight, int | float):
        return HYBRID_LTR_WEIGHT
    value = float(weight)
    return value if math.isfinite(value) and 0.0 <= value <= 1.0 else HYBRID_LTR_WEIGHT


def hybrid_blend(ltr: FloatArray, heuristic: FloatArray, weight: float) -> FloatArray:
    """``weight x min-max(ltr) + (1 - weight) x min-max(heuristic)``."""
    mixed: FloatArray = weight * min_max_normalize(ltr) + (1.0 - weight) * min_max_normalize(
        heuristic
    )
    return mixed


__all__ = ["HYBRID_LTR_WEIGHT", "blend_weight_of", "hybrid_blend"]
