"""Hybrid blend weight learned by inner validation over queries (issue 14).

A real LightGBM model on synthetic feedback: when the model ranks better than the samples' rank
(the heuristic's stand-in), the learned ltr share rises above 0.5; when the rank is the better
ranker, it falls below; old model files load with 0.5; ``recommend`` and the evaluations use it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings, strategies as st

from artenic_opt._internal.math_utils import min_max_normalize, ndcg_at_k
from artenic_opt.catalog import load_catalog
from artenic_opt.errors import InvalidInputError
from artenic_opt.schemas import TrainingSample, WorkloadProfile
from artenic_opt.training_advisor import FEATURE_NAMES, FEATURE_SCHEMA_VERSION, TrainingAdvisor
from artenic_opt.training_advisor.advisor import LTR_SHORTLIST
from artenic_opt.training_advisor.blend import HYBRID_LTR_WEIGHT, blend_weight_of, hybrid_blend
from artenic_opt.training_advisor.evaluation import hybrid_scores
from artenic_opt.training_advisor.ltr_ranker import (
    BLEND_WEIGHT_GRID,
    DEFAULT_BLEND_WEIGHT,
    METADATA_FILE_NAME,
    LTRParams,
    LTRRanker,
    blend_curve,
    choose_blend_weight,
)
from artenic_opt.types import OptimizerMode

WIDTH = 4
NAMES = tuple(f"f_{i}" for i in range(WIDTH))
FAST = LTRParams(n_estimators=40, num_leaves=7, min_child_samples=5)


def feedback(groups: int, *, informative_rank: bool, seed: int = 0) -> list[TrainingSample]:
    """Groups of 8 candidates. ``informative_rank``: the rank follows the true utility and the
    features are noise (the heuristic knows, the model cannot learn); otherwise the labels follow
    feature 0 and the rank is random (the model learns, the heuristic guesses)."""
    rng = np.random.default_rng(seed)
    samples: list[TrainingSample] = []
    per_group = 8
    for g in range(groups):
        x = rng.normal(size=(per_group, WIDTH))
        utility = rng.normal(size=per_group) if informative_rank else x[:, 0]
        labels = np.digitize(utility, [-1.0, -0.3, 0.3, 1.0])
        if informative_rank:
            ranks = np.empty(per_group, dtype=np.int64)
            ranks[np.argsort(-utility)] = np.arange(1, per_group + 1)
        else:
            ranks = rng.permutation(per_group) + 1
        samples.extend(
            TrainingSample(
                query_id=f"q{seed}-{g}",
                recommendation_id=f"rec-{seed}-{g}",
                rank=int(ranks[i]),
                candidate_id=f"c{i}",
                features=tuple(float(v) for v in x[i]),
                feature_schema_version=1,
                label=int(labels[i]),
            )
            for i in range(per_group)
        )
    return samples


def train(samples: list[TrainingSample], **kwargs: int) -> LTRRanker:
    ranker = LTRRanker(feature_names=NAMES, params=FAST, min_samples=2, **kwargs)
    ranker.train(samples, seed=0)
    return ranker


def test_a_model_better_than_the_rank_gets_more_than_half_the_blend() -> None:
    ranker = train(feedback(45, informative_rank=False))
    assert ranker.blend_weight > 0.5
    metadata = ranker.metadata
    assert metadata is not None and metadata.blend_weight == ranker.blend_weight
    curve = metadata.blend_ndcg
    assert len(curve) == len(BLEND_WEIGHT_GRID)
    assert curve[-1] > curve[0]  # ltr alone beats the rank alone on held-out queries


def test_a_rank_better_than_the_model_gets_more_than_half_the_blend() -> None:
    ranker = train(feedback(45, informative_rank=True))
    assert ranker.blend_weight < 0.5
    metadata = ranker.metadata
    assert metadata is not None and metadata.blend_ndcg[0] > metadata.blend_ndcg[-1]


def test_learning_is_deterministic_and_can_be_switched_off() -> None:
    samples = feedback(30, informative_rank=False, seed=3)
    first, second = train(samples), train(samples)
    assert first.metadata is not None and second.metadata is not None
    assert first.metadata.blend_ndcg == second.metadata.blend_ndcg
    off = train(samples, blend_folds=0)
    assert off.blend_weight == DEFAULT_BLEND_WEIGHT
    assert off.metadata is not None and off.metadata.blend_ndcg == ()
    too_few = train(feedback(2, informative_rank=False), blend_folds=3)
    assert too_few.blend_weight == DEFAULT_BLEND_WEIGHT
    flat = train([s.model_copy(update={"label": 2}) for s in samples])  # nothing to rank
    assert flat.blend_weight == DEFAULT_BLEND_WEIGHT
    assert flat.metadata is not None and flat.metadata.blend_ndcg == ()
    with pytest.raises(InvalidInputError, match="blend_folds"):
        LTRRanker(blend_folds=1)
    assert LTRRanker().blend_weight == DEFAULT_BLEND_WEIGHT  # untrained


def test_a_model_file_without_a_blend_weight_loads_with_the_old_default(tmp_path: Path) -> None:
    ranker = train(feedback(30, informative_rank=False))
    ranker.save(tmp_path)
    loaded = LTRRanker.load(tmp_path, expected_schema_version=1)
    assert loaded.blend_weight == ranker.blend_weight
    path = tmp_path / METADATA_FILE_NAME
    raw = json.loads(path.read_text())
    del raw["blend_weight"], raw["blend_ndcg"]
    path.write_text(json.dumps(raw))
    old = LTRRanker.load(tmp_path, expected_schema_version=1)
    assert old.blend_weight == DEFAULT_BLEND_WEIGHT == HYBRID_LTR_WEIGHT


def test_choose_blend_weight_needs_a_material_gain_over_the_default() -> None:
    grid = BLEND_WEIGHT_GRID
    assert choose_blend_weight(np.zeros((0, len(grid)))) == DEFAULT_BLEND_WEIGHT
    assert choose_blend_weight(np.ones((4, len(grid)))) == DEFAULT_BLEND_WEIGHT  # all tied
    small = np.array([[0.80, 0.80, 0.80, 0.81, 0.82]])
    assert choose_blend_weight(small, min_gain=0.04) == DEFAULT_BLEND_WEIGHT
    assert choose_blend_weight(small, min_gain=0.0) == 1.0
    large = np.array([[0.70, 0.72, 0.75, 0.86, 0.85]])
    assert choose_blend_weight(large, min_gain=0.04) == 0.75
    tie = np.array([[0.90, 0.80, 0.80, 0.85, 0.90]])
    assert choose_blend_weight(tie, min_gain=0.0) == 0.0  # equally far: the lower one
    # No 0.5 in the grid: the best mean wins.
    assert choose_blend_weight(np.array([[0.1, 0.3]]), grid=(0.0, 1.0)) == 1.0


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(0, 4), min_size=2, max_size=12),
    st.integers(0, 2**31 - 1),
)
def test_blend_curve_ends_are_the_rank_and_the_model_alone(labels: list[int], seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = len(labels)
    ltr = rng.normal(size=n)
    ranks = rng.permutation(n) + 1
    table = blend_curve(labels, ltr, ranks, ["q"] * n)
    if min(labels) == max(labels):
        assert table.shape == (0, len(BLEND_WEIGHT_GRID))
        return
    assert table.shape == (1, len(BLEND_WEIGHT_GRID))
    assert table[0, -1] == pytest.approx(ndcg_at_k(labels, ltr, k=5))
    assert table[0, 0] == pytest.approx(ndcg_at_k(labels, -ranks.astype(float), k=5))
    assert np.all((table >= 0) & (table <= 1))


def test_blend_weight_of_reads_the_model_or_falls_back() -> None:
    class Weighted:
        def __init__(self, weight: object) -> None:
            self.blend_weight = weight

    assert blend_weight_of(object()) == HYBRID_LTR_WEIGHT
    assert blend_weight_of(Weighted(0.75)) == 0.75
    assert blend_weight_of(Weighted(1)) == 1.0
    for bad in (True, "0.7", 1.5, -0.1, float("nan")):
        assert blend_weight_of(Weighted(bad)) == HYBRID_LTR_WEIGHT
    ltr = np.array([3.0, 1.0, 2.0])
    heuristic = np.array([0.2, 0.9, 0.4])
    expected = 0.25 * min_max_normalize(ltr) + 0.75 * min_max_normalize(heuristic)
    assert np.allclose(hybrid_blend(ltr, heuristic, 0.25), expected)
    assert np.allclose(hybrid_scores(ltr, heuristic, 0.25), expected)
    assert np.allclose(hybrid_scores(ltr, heuristic), hybrid_blend(ltr, heuristic, 0.5))


class _CheapestFirst:
    feature_schema_version = FEATURE_SCHEMA_VERSION

    def __init__(self, blend_weight: float) -> None:
        self.blend_weight = blend_weight

    def predict(self, features: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        scores: npt.NDArray[np.float64] = -features[
            :, FEATURE_NAMES.index("log_estimated_cost_usd")
        ]
        return scores


@pytest.mark.parametrize("weight", [0.0, 0.25, 1.0])
def test_recommend_blends_with_the_models_learned_weight(weight: float) -> None:
    workload = WorkloadProfile(
        name="llama-7b-lora",
        model_params_m=7000,
        dataset_size_gb=1,
        num_epochs=3,
        fine_tuning="lora",
        batch_size=4,
        gradient_checkpointing=True,
    )
    advisor = TrainingAdvisor(
        load_catalog(), ltr_model=_CheapestFirst(weight), mode=OptimizerMode.HYBRID
    )
    head = advisor.recommend(workload, top=LTR_SHORTLIST).advice.recommendations
    ltr = np.array([r.ltr_score for r in head], dtype=np.float64)
    heuristic = np.array([r.heuristic_score for r in head], dtype=np.float64)
    expected = hybrid_blend(ltr, heuristic, weight)
    assert [r.score for r in head] == pytest.approx(expected.tolist())
