"""LambdaMART ranker: learns a real signal, is deterministic, saves and refuses bad model files."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from artenic_opt.errors import ExitCode, InvalidInputError, ModelFileError
from artenic_opt.schemas import TrainingSample
from artenic_opt.training_advisor.ltr_ranker import (
    METADATA_FILE_NAME,
    MODEL_FILE_NAME,
    LTRParams,
    LTRRanker,
    ModelMetadata,
    NotEnoughSamplesError,
    group_samples,
    holdout_groups,
    ranking_metrics,
    should_retrain,
)

WIDTH = 6
NAMES = tuple(f"f_{i}" for i in range(WIDTH))
FAST = LTRParams(n_estimators=40, num_leaves=15)


def synthetic(
    groups: int, per_group: int = 10, *, seed: int = 0, version: int = 1, prefix: str = "q"
) -> list[TrainingSample]:
    """Samples whose labels follow a noisy function of features 0 and 1 (the learnable signal)."""
    rng = np.random.default_rng(seed)
    samples: list[TrainingSample] = []
    for g in range(groups):
        x = rng.normal(size=(per_group, WIDTH))
        utility = 1.5 * x[:, 0] - x[:, 1] + rng.normal(scale=0.3, size=per_group)
        labels = np.digitize(utility, [-1.5, -0.5, 0.5, 1.5])
        for i in range(per_group):
            samples.append(
                TrainingSample(
                    query_id=f"{prefix}{seed}-{g}",
                    recommendation_id=f"rec-{seed}-{g}",
                    rank=i + 1,
                    candidate_id=f"c{i}",
                    features=tuple(float(v) for v in x[i]),
                    feature_schema_version=version,
                    label=int(labels[i]),
                )
            )
    return samples


@pytest.fixture(scope="module")
def trained() -> LTRRanker:
    ranker = LTRRanker(feature_names=NAMES, params=FAST)
    ranker.train(synthetic(60), seed=0)
    return ranker


def random_baseline(samples: Sequence[TrainingSample]) -> float:
    rng = np.random.default_rng(123)
    labels = [s.label for s in samples]
    ids = [s.query_id for s in samples]
    scores = [
        ranking_metrics(labels, rng.normal(size=len(samples)), ids).ndcg_at_5 for _ in range(20)
    ]
    return float(np.mean(scores))


def test_learns_a_signal_far_above_a_random_ranking(trained: LTRRanker) -> None:
    metrics = trained.metrics
    assert metrics is not None and metrics.groups == 12  # 20% of 60 groups held out
    unseen = synthetic(40, seed=7)
    evaluated = trained.evaluate(unseen)
    baseline = random_baseline(unseen)
    assert evaluated.groups == 40
    assert evaluated.ndcg_at_5 > baseline + 0.2
    assert evaluated.ndcg_at_5 > 0.85
    assert metrics.ndcg_at_5 > baseline + 0.2
    assert 0 < evaluated.mrr <= 1 and 0 < evaluated.ndcg_at_10 <= 1


def test_training_is_deterministic_for_a_seed() -> None:
    samples = synthetic(30)
    a = LTRRanker(params=FAST)
    b = LTRRanker(params=FAST)
    assert a.train(samples, seed=3) == b.train(samples, seed=3)
    assert a.to_text()[0] == b.to_text()[0]


def test_metadata_describes_the_training(trained: LTRRanker) -> None:
    meta = trained.metadata
    assert meta is not None
    assert meta.sample_count == 600 and meta.query_count == 60
    assert meta.feature_names == NAMES and meta.feature_schema_version == 1
    assert meta.params["n_estimators"] == 40
    info = meta.to_model_info(3, "/models/v3")
    assert info.version == 3 and info.sha256 == meta.sha256 and info.metrics == meta.metrics
    assert trained.num_features == WIDTH and trained.is_trained


def test_groups_keep_order_and_the_holdout_ignores_sample_order() -> None:
    samples = synthetic(5, per_group=3)
    interleaved = [samples[i] for i in (0, 3, 1, 6, 4, 2, 5, 7, 8, *range(9, 15))]
    grouped = group_samples(interleaved)
    assert grouped.group_ids[:3] == ("q0-0", "q0-1", "q0-2")
    assert grouped.group_sizes == (3, 3, 3, 3, 3)
    assert [interleaved[i].rank for i in grouped.indices[:3]] == [1, 2, 3]
    ids = [s.query_id for s in samples]
    assert holdout_groups(ids, 0.2, 0) == holdout_groups(list(reversed(ids)), 0.2, 0)
    assert len(holdout_groups(ids, 0.2, 0)) == 1
    assert len({frozenset(holdout_groups(ids, 0.2, seed)) for seed in range(10)}) > 1
    assert holdout_groups(["only"], 0.2, 0) == set()
    assert holdout_groups(ids, 0.0, 0) == set()
    assert len(holdout_groups(["a", "b"], 0.9, 0)) == 1  # always keeps one group to train on
    with pytest.raises(InvalidInputError, match="holdout_share"):
        holdout_groups(ids, 1.0, 0)


def test_minimum_samples_to_activate() -> None:
    with pytest.raises(NotEnoughSamplesError, match="at least 50"):
        LTRRanker(params=FAST).train(synthetic(4))  # 40 samples
    ranker = LTRRanker(min_samples=10, params=FAST)
    metrics = ranker.train(synthetic(2))
    assert ranker.is_trained and metrics.groups <= 1
    assert NotEnoughSamplesError("x").exit_code is ExitCode.USAGE
    with pytest.raises(InvalidInputError, match="min_samples"):
        LTRRanker(min_samples=1)
    with pytest.raises(InvalidInputError, match="holdout_share"):
        LTRRanker(holdout_share=1.5)


def test_training_input_is_checked() -> None:
    mixed = synthetic(5, version=1) + synthetic(5, version=2, prefix="v2-")
    with pytest.raises(InvalidInputError, match="mix versions 1, 2"):
        LTRRanker(params=FAST).train(mixed)
    with pytest.raises(InvalidInputError, match="expects 2"):
        LTRRanker(feature_schema_version=2, params=FAST).train(synthetic(6))
    with pytest.raises(InvalidInputError, match="feature names"):
        LTRRanker(feature_names=("a", "b"), params=FAST).train(synthetic(6))
    ragged = synthetic(6)
    ragged[7] = ragged[7].model_copy(update={"features": (1.0,)})
    with pytest.raises(InvalidInputError, match="sample 7 has 1 features"):
        LTRRanker(params=FAST).train(ragged)
    nan = synthetic(6)
    nan[3] = nan[3].model_copy(update={"features": (float("nan"),) * WIDTH})
    with pytest.raises(InvalidInputError, match="NaN"):
        LTRRanker(params=FAST).train(nan)
    with pytest.raises(InvalidInputError, match="no training samples"):
        group_samples([])
    empty_rows = [s.model_copy(update={"features": ()}) for s in synthetic(2)]
    with pytest.raises(InvalidInputError, match="no features"):
        group_samples(empty_rows)
    with pytest.raises(InvalidInputError, match="n_estimators"):
        LTRParams(n_estimators=0)


def test_predict_checks_its_input(trained: LTRRanker) -> None:
    with pytest.raises(InvalidInputError, match="no model"):
        LTRRanker().predict(np.zeros((2, WIDTH)))
    with pytest.raises(InvalidInputError, match=f"{WIDTH} columns"):
        trained.predict(np.zeros((2, WIDTH + 1)))
    one = trained.predict(np.ones(WIDTH))
    assert one.shape == (1,)
    assert trained.predict(np.zeros((0, WIDTH))).shape == (0,)
    with pytest.raises(InvalidInputError, match="no model"):
        LTRRanker().to_text()


def test_ranking_metrics_score_only_informative_groups() -> None:
    labels = [3, 0, 1, 1, 2, 2]
    ids = ["a", "a", "b", "b", "c", "c"]
    metrics = ranking_metrics(labels, [1.0, 0.0, 5.0, 1.0, 0.0, 0.0], ids)
    assert metrics.groups == 1
    assert metrics.ndcg_at_5 == pytest.approx(1.0) and metrics.mrr == pytest.approx(1.0)
    flat = ranking_metrics([1, 1], [0.2, 0.1], ["a", "a"])
    assert flat.groups == 0 and flat.ndcg_at_5 == 0.0
    with pytest.raises(InvalidInputError, match="must match"):
        ranking_metrics([1, 2], [0.1], ["a", "a"])


def test_should_retrain() -> None:
    assert should_retrain(25, 25)
    assert not should_retrain(24, 25)
    with pytest.raises(InvalidInputError, match="retrain_after"):
        should_retrain(3, 0)
    with pytest.raises(InvalidInputError, match="samples_since_last"):
        should_retrain(-1, 5)


# ------------------------------------------------------------------------------------------------
# Persistence
# ------------------------------------------------------------------------------------------------


def test_save_and_load_round_trip_gives_identical_predictions(
    trained: LTRRanker, tmp_path: Path
) -> None:
    folder = tmp_path / "models" / "v1"
    meta = trained.save(folder)
    assert sorted(p.name for p in folder.iterdir()) == [METADATA_FILE_NAME, MODEL_FILE_NAME]
    # User-only, like the state: the folders it made and the files in them.
    for path in (tmp_path / "models", folder):
        assert stat.S_IMODE(path.stat().st_mode) == 0o700
    for path in folder.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o755)
    trained.save(shared / "v2")
    assert stat.S_IMODE(shared.stat().st_mode) == 0o755  # a folder that existed keeps its mode
    model_text = (folder / MODEL_FILE_NAME).read_text()
    assert model_text.startswith("tree\nversion=v")
    stored = json.loads((folder / METADATA_FILE_NAME).read_text())
    assert stored["sha256"] == meta.sha256
    assert stored["feature_schema_version"] == 1
    assert stored["sample_count"] == 600 and stored["query_count"] == 60
    assert {"ndcg_at_5", "ndcg_at_10", "mrr"} <= set(stored["metrics"])
    assert "trained_at" in stored

    loaded = LTRRanker.load(folder, expected_schema_version=1, expected_feature_names=NAMES)
    matrix = np.random.default_rng(5).normal(size=(500, WIDTH))
    assert np.array_equal(loaded.predict(matrix), trained.predict(matrix))
    assert loaded.metadata == meta
    assert loaded.evaluate(synthetic(5, seed=9)) == trained.evaluate(synthetic(5, seed=9))


def test_load_by_model_file_path(trained: LTRRanker, tmp_path: Path) -> None:
    trained.save(tmp_path / "m")
    model = tmp_path / "m" / MODEL_FILE_NAME
    assert LTRRanker.load(model, 1).is_trained


@pytest.fixture
def saved(trained: LTRRanker, tmp_path: Path) -> Path:
    folder = tmp_path / "saved"
    trained.save(folder)
    return folder


def _rewrite_metadata(folder: Path, **changes: object) -> None:
    path = folder / METADATA_FILE_NAME
    data = json.loads(path.read_text())
    data.update(changes)
    path.write_text(json.dumps(data))


def test_refuses_a_tampered_model(saved: Path) -> None:
    model = saved / MODEL_FILE_NAME
    text = model.read_text()
    assert "leaf_value=" in text
    model.write_text(text.replace("leaf_value=", "leaf_value=9", 1))
    with pytest.raises(ModelFileError, match="checksum mismatch") as excinfo:
        LTRRanker.load(saved, 1)
    assert excinfo.value.exit_code is ExitCode.USAGE
    assert str(model) in str(excinfo.value)


def test_refuses_another_feature_schema(saved: Path) -> None:
    with pytest.raises(ModelFileError, match=r"feature schema version 1.*uses 2"):
        LTRRanker.load(saved, 2)
    with pytest.raises(ModelFileError, match="other features"):
        LTRRanker.load(saved, 1, expected_feature_names=("x",) * WIDTH)


def test_refuses_a_garbage_model_even_with_a_matching_checksum(saved: Path) -> None:
    import hashlib

    garbage = "this is not a model\n" * 10
    (saved / MODEL_FILE_NAME).write_text(garbage)
    _rewrite_metadata(saved, sha256=hashlib.sha256(garbage.encode()).hexdigest())
    with pytest.raises(ModelFileError, match="not a LightGBM text model"):
        LTRRanker.load(saved, 1)


def test_refuses_a_truncated_lightgbm_model_with_a_matching_checksum(saved: Path) -> None:
    import hashlib

    truncated = "tree\nversion=v4\nfeature_names=a b\n"
    (saved / MODEL_FILE_NAME).write_text(truncated)
    _rewrite_metadata(saved, sha256=hashlib.sha256(truncated.encode()).hexdigest())
    with pytest.raises(ModelFileError, match="unreadable LightGBM model"):
        LTRRanker.load(saved, 1)


def test_refuses_metadata_that_disagrees_with_the_model(saved: Path) -> None:
    _rewrite_metadata(saved, feature_names=["a", "b"])
    with pytest.raises(ModelFileError, match="model has 6 features, its metadata names 2"):
        LTRRanker.load(saved, 1)


def test_refuses_a_binary_file(saved: Path) -> None:
    (saved / MODEL_FILE_NAME).write_bytes(b"\x80\x04\x95pickle-ish\xff")
    with pytest.raises(ModelFileError, match="not text"):
        LTRRanker.load(saved, 1)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "model metadata file not found"),
        ("{not json", "not valid JSON"),
        ('{"format": "other"}', "not an artenic-opt ranking model"),
        ('["a"]', "not an artenic-opt ranking model"),
        ('{"format": "artenic-opt-ltr", "format_version": 99}', "format version 99"),
        ('{"format": "artenic-opt-ltr", "format_version": 1}', "metadata feature_schema_version"),
    ],
)
def test_refuses_missing_or_malformed_metadata(
    saved: Path, content: str | None, message: str
) -> None:
    meta = saved / METADATA_FILE_NAME
    if content is None:
        meta.unlink()
    else:
        meta.write_text(content)
    with pytest.raises(ModelFileError, match=message):
        LTRRanker.load(saved, 1)


def test_refuses_a_missing_model_file(saved: Path) -> None:
    (saved / MODEL_FILE_NAME).unlink()
    with pytest.raises(ModelFileError, match="model file not found"):
        LTRRanker.load(saved, 1)


def test_a_directory_in_place_of_the_model_file(saved: Path) -> None:
    (saved / MODEL_FILE_NAME).unlink()
    (saved / MODEL_FILE_NAME).mkdir()
    with pytest.raises(ModelFileError, match="is a directory"):
        LTRRanker.load(saved, 1)


def test_refuses_an_oversized_model(saved: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from artenic_opt.training_advisor import ltr_ranker

    monkeypatch.setattr(ltr_ranker, "MAX_MODEL_BYTES", 100)
    with pytest.raises(ModelFileError, match="too large"):
        LTRRanker.load(saved, 1)


def test_metadata_model_rejects_unknown_fields(trained: LTRRanker) -> None:
    _, metadata_json = trained.to_text()
    data = json.loads(metadata_json)
    data["surprise"] = 1
    with pytest.raises(ValueError, match="surprise"):
        ModelMetadata.model_validate(data)


def test_importing_the_ranker_does_not_import_lightgbm() -> None:
    code = (
        "import sys, artenic_opt.training_advisor.ltr_ranker, "
        "artenic_opt.training_advisor.feedback_collector, artenic_opt.simulate;"
        "print('lightgbm' in sys.modules, 'sklearn' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["False", "False"]


def test_a_failed_save_keeps_the_previous_files(
    trained: LTRRanker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    folder = tmp_path / "m"
    trained.save(folder)
    before = sorted((p.name, p.read_bytes()) for p in folder.iterdir())

    def refuse(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        trained.save(folder)
    assert sorted((p.name, p.read_bytes()) for p in folder.iterdir()) == before
