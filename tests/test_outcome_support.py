"""Outcome support: which candidates the learned model may rank beyond the heuristic's top 10."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from artenic_opt.catalog import load_catalog
from artenic_opt.estimate.pipeline import dominated_pairs
from artenic_opt.schemas import TrainingSample, WorkloadProfile
from artenic_opt.training_advisor import TrainingAdvisor
from artenic_opt.training_advisor.advisor import LTR_SHORTLIST
from artenic_opt.training_advisor.feature_extractor import (
    FEATURE_NAMES,
    FEATURE_SCHEMA_VERSION,
    extract_features,
)
from artenic_opt.training_advisor.ltr_ranker import METADATA_FILE_NAME, LTRParams, LTRRanker
from artenic_opt.training_advisor.outcome_support import (
    SUPPORT_COLUMNS,
    learned_shortlist,
    support_rows,
    supported,
)

COLUMN = {name: i for i, name in enumerate(FEATURE_NAMES)}
LORA = WorkloadProfile(
    name="lora-7b",
    model_params_m=7000,
    dataset_size_gb=1,
    num_epochs=3,
    fine_tuning="lora",
    batch_size=4,
)


@pytest.fixture(scope="module")
def lora_rows() -> tuple[np.ndarray, np.ndarray, object]:
    """Feature rows of LORA's feasible candidates and the heuristic order."""
    advisor = TrainingAdvisor(load_catalog())
    result = advisor.recommend(LORA, top=5)
    ranking = result.ranking
    assert ranking is not None
    features = extract_features(
        LORA, ranking.feasible_candidates, estimates=ranking.feasible_estimates
    ).values
    return features, ranking.order, ranking


def samples_of(rows: np.ndarray, labels: list[int], query: str = "q") -> list[TrainingSample]:
    return [
        TrainingSample(
            query_id=query,
            recommendation_id="rec",
            rank=i + 1,
            candidate_id=f"c{i}",
            features=tuple(float(x) for x in row),
            feature_schema_version=FEATURE_SCHEMA_VERSION,
            label=label,
        )
        for i, (row, label) in enumerate(zip(rows, labels, strict=True))
    ]


def test_support_rows_are_distinct_and_cover_their_own_rows(
    lora_rows: tuple[np.ndarray, np.ndarray, object],
) -> None:
    features, order, _ = lora_rows
    picked = features[order[[20, 20, 40]]]
    support = support_rows(picked, FEATURE_NAMES)
    assert support.shape == (2, len(SUPPORT_COLUMNS))
    covered = supported(features, support, FEATURE_NAMES)
    assert covered[order[20]] and covered[order[40]]
    # Same shape elsewhere (another region or provider) is covered too; other shapes are not.
    assert 2 <= covered.sum() < len(features)
    # Without the support columns there is no support.
    assert support_rows(picked, tuple(f"f{i}" for i in range(picked.shape[1]))).shape[0] == 0
    assert not supported(features, support, ("x",) * features.shape[1]).any()


def test_only_similar_workloads_lend_support(
    lora_rows: tuple[np.ndarray, np.ndarray, object],
) -> None:
    features, order, _ = lora_rows
    base = features[order[[30]]].copy()
    work = COLUMN["log_training_work"]
    for change, expected in [
        ({work: 0.9}, True),  # 8x the training work: similar
        ({work: 1.5}, False),  # 30x: not
        ({COLUMN["fine_tuning"]: 0.0}, False),  # a full fine-tune is another kind of job
        ({COLUMN["framework_family"]: 2.0}, False),
    ]:
        other = base.copy()
        for column, delta in change.items():
            other[0, column] = base[0, column] + delta if column == work else delta
        covered = supported(features, support_rows(other, FEATURE_NAMES), FEATURE_NAMES)
        assert bool(covered[order[30]]) is expected, change


def test_the_shortlist_adds_covered_rows_and_their_dominators(
    lora_rows: tuple[np.ndarray, np.ndarray, object],
) -> None:
    features, order, ranking = lora_rows
    estimates = ranking.feasible_estimates  # type: ignore[attr-defined]
    cost, hours = estimates.total_cost, estimates.hours

    class Plain:
        pass

    top_only = learned_shortlist(order, features, Plain(), LTR_SHORTLIST, cost=cost, hours=hours)
    assert top_only.tolist() == sorted(order[:LTR_SHORTLIST].tolist())

    class Supported:
        outcome_support = support_rows(features[order[[60]]], FEATURE_NAMES)

    rows = learned_shortlist(order, features, Supported(), LTR_SHORTLIST, cost=cost, hours=hours)
    assert set(order[:LTR_SHORTLIST].tolist()) < set(rows.tolist())
    assert order[60] in rows
    # Closed under dominance: whatever is cheaper and no slower than a member is a member.
    members = set(rows.tolist())
    for row in rows:
        dominators = np.flatnonzero((cost < cost[row]) & (hours <= hours[row]))
        assert set(dominators.tolist()) <= members


def test_recommend_lets_a_trained_model_rank_what_it_saw_outcomes_of(
    lora_rows: tuple[np.ndarray, np.ndarray, object], tmp_path: Path
) -> None:
    features, order, _ = lora_rows
    # Outcomes: the heuristic's ranks 40-49 were measured and were excellent, its top 10 poor.
    picked = np.concatenate([order[:10], order[40:50]])
    labels = [1] * 10 + [4] * 10
    ranker = LTRRanker(
        feature_names=FEATURE_NAMES,
        feature_schema_version=FEATURE_SCHEMA_VERSION,
        min_samples=2,
        holdout_share=0.0,
        params=LTRParams(n_estimators=20, min_child_samples=2),
    )
    ranker.train(samples_of(features[picked], labels) * 2)
    assert ranker.outcome_support.shape[1] == len(SUPPORT_COLUMNS)
    ranker.save(tmp_path)
    loaded = LTRRanker.load(tmp_path, FEATURE_SCHEMA_VERSION, expected_feature_names=FEATURE_NAMES)
    np.testing.assert_array_equal(loaded.outcome_support, ranker.outcome_support)

    heuristic = TrainingAdvisor(load_catalog()).recommend(LORA, top=10)
    learned = TrainingAdvisor(load_catalog(), ltr_model=loaded, mode="ltr").recommend(LORA, top=10)
    before = set(heuristic.candidate_ids)
    promoted = [c for c in learned.candidate_ids if c not in before]
    assert promoted, "the model saw outcomes beyond the top 10 but promoted nothing"
    ranks = learned.advice.recommendations
    assert (
        dominated_pairs(
            np.arange(len(ranks)),
            np.array([r.estimated_cost for r in ranks]),
            np.array([r.estimated_hours for r in ranks]),
        )
        == 0
    )


def test_metadata_without_support_loads_and_ranks_the_top_10_only(
    lora_rows: tuple[np.ndarray, np.ndarray, object], tmp_path: Path
) -> None:
    features, order, _ = lora_rows
    ranker = LTRRanker(
        feature_names=FEATURE_NAMES,
        feature_schema_version=FEATURE_SCHEMA_VERSION,
        min_samples=2,
        holdout_share=0.0,
        params=LTRParams(n_estimators=5, min_child_samples=2),
    )
    ranker.train(samples_of(features[order[:20]], [4, 1] * 10))
    ranker.save(tmp_path)
    # A model saved before outcome support existed: its metadata has no such field.
    path = tmp_path / METADATA_FILE_NAME
    metadata = json.loads(path.read_text())
    del metadata["outcome_support"]
    path.write_text(json.dumps(metadata))
    old = LTRRanker.load(tmp_path, FEATURE_SCHEMA_VERSION, expected_feature_names=FEATURE_NAMES)
    assert old.outcome_support.shape == (0, len(SUPPORT_COLUMNS))
    result = TrainingAdvisor(load_catalog(), ltr_model=old, mode="hybrid").recommend(LORA, top=20)
    scored = [r.ltr_score is not None for r in result.advice.recommendations]
    assert sum(scored) == LTR_SHORTLIST
