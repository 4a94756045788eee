# Over 600 lines: one model class with its training, file format and load checks, kept together.
"""Learning to rank: a LightGBM LambdaMART model trained on labelled feedback samples.

``LTRRanker`` wraps ``lightgbm.LGBMRanker(objective="lambdarank")``. LightGBM is imported inside
the methods that need it, so importing this module stays cheap.

Decisions:

* Groups are query ids (one workload = one group). Samples keep their order inside a group and
  groups keep the order of their first appearance, so the same samples always give the same
  matrix and, with LightGBM's ``deterministic`` mode, a fixed thread count and seed, the same
  model.
* Evaluation holds out ``holdout_share`` (20%) of the query groups: the groups whose
  ``sha256(seed:query_id)`` sorts first, so the split depends neither on sample order nor on
  Python's hash seed, and at least one group is held out (and one kept) when there are two or
  more. The model is fitted on the rest, scored on the held-out groups (NDCG@5, NDCG@10, MRR from
  ``_internal.math_utils``), then refitted on every group: the stored metrics describe unseen
  workloads, the stored model uses all the data.
* Only *informative* groups are scored: a group whose samples all carry the same label has
  nothing to rank (every order scores the same), so it would only pull the mean towards 0 or 1.
  ``RankingMetrics.groups`` says how many groups were scored; 0 means none could be (the metric
  values are then 0.0).
* Persistence uses LightGBM's own text format (``model_to_string``) plus a JSON metadata file
  (format tag, feature schema version and names, sample and query counts, metrics, trained-at,
  sha256 of the model text, LightGBM version, parameters). No pickle or joblib: loading a model
  never executes code. ``load`` refuses, with ``ModelFileError`` (exit 2), a missing or
  malformed metadata file, a model whose sha256 differs from the metadata, a feature schema
  version or feature names other than expected, and anything that is not a LightGBM text model.
* ``to_text`` / ``from_text`` are the pure core; ``save`` / ``load`` only add the two files. The
  metadata is written last, so an interrupted save leaves a model that ``load`` refuses rather
  than one it trusts.
* Outcome support (``outcome_support``): the distinct (workload kind, configuration) rows the
  model was trained on are stored in its metadata, so ``recommend`` knows which candidates beyond
  the heuristic's shortlist the model may rank (``outcome_support.supported``). Metadata written
  before the field existed loads with no support: the model then re-ranks the shortlist only.
* Hybrid blend weight (issue 14): ``train`` also learns the ltr share ``w`` of the hybrid score
  ``w x min-max(ltr) + (1 - w) x min-max(heuristic)`` by inner validation over queries:
  ``blend_folds`` (3) group folds of the query ids (``sha256(seed:blend:query_id)`` order, dealt
  round-robin), a model fitted on the other folds scores each fold, and every informative held-out
  group scores NDCG@5 of each weight in ``BLEND_WEIGHT_GRID`` against the samples' labels. The
  heuristic's score is not stored in a sample, so its stand-in is ``-rank`` (the rank the sample's
  candidate had when it was recommended: the heuristic's rank while no model is active, and in
  the backtest; once a model is active, the rank the blend itself gave). 0.5 (the former fixed
  weight, ``DEFAULT_BLEND_WEIGHT``) stays unless another weight's mean beats it by more than
  ``DEFAULT_BLEND_MIN_GAIN`` (0.04 NDCG@5); then the best mean wins (ties: nearest 0.5). Without
  that margin (best mean wins) the simulator's closed loop lost 11 of its 30 seed x setting
  checks (``bench_feedback_loop.py`` seeds 0-9, top 10 / widened / all feasible; measured
  2026-12-04): its inner curves are flat (a few hundred noisy labels, groups of 4 runs) and the
  noise picked 0 on seeds 1, 2 and 8 and 1.0 on seed 4, with gains over 0.5 of at most 0.022.
  On the Scout replay (``bench_replay.py``, groups of ~69 measured runs) the gains of 0.75 and
  1.0 over 0.5 are 0.03-0.10, so the margin keeps the simulator at 0.5 (its tables unchanged)
  and lets Scout move. Every margin from 0.025 to 0.06 passes both benches (Scout hybrid mean
  regret 1.544 at 0.025-0.03, 1.718 at 0.04, 1.744 at 0.06, 2.078 at 0.08; target 1.784): 0.04
  sits in the middle of that window, about twice the simulator's largest noise gain. The
  weight and the curve (``blend_ndcg``) are stored in the metadata; metadata written before the
  fields existed loads with 0.5. The three extra fits make ``train`` about 2.7 times slower
  (bench/bench_ltr.py, 10k samples: 1.20 s -> 3.18 s).
* Activation threshold: ``train`` refuses fewer than ``min_samples`` samples (50 by default)
  with ``NotEnoughSamplesError``. ``should_retrain`` is the auto-retrain rule: retrain once the
  samples recorded since the last training reach the threshold.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from artenic_opt._internal.files import atomic_write_text, read_text_file
from artenic_opt._internal.math_utils import mean_ndcg_at_k, min_max_normalize, mrr, ndcg_at_k
from artenic_opt.errors import InvalidInputError, ModelFileError
from artenic_opt.schemas import ModelInfo, RankingMetrics, TrainingSample, utc_now
from artenic_opt.training_advisor.outcome_support import SUPPORT_COLUMNS, support_rows

DEFAULT_MIN_SAMPLES = 50
DEFAULT_HOLDOUT_SHARE = 0.2
MODEL_FILE_NAME = "model.txt"
METADATA_FILE_NAME = "model.json"
MODEL_FORMAT = "artenic-opt-ltr"
MODEL_FORMAT_VERSION = 1
#: The ltr share of the hybrid score when none was learned (the former fixed weight).
DEFAULT_BLEND_WEIGHT = 0.5
#: The ltr shares ``train`` compares by inner validation.
BLEND_WEIGHT_GRID: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 1.0)
#: Query folds of that inner validation (fewer queries than this: no learning, 0.5).
DEFAULT_BLEND_FOLDS = 3
#: Held-out mean NDCG@5 gain over 0.5 a weight needs to replace it (see the module docstring).
DEFAULT_BLEND_MIN_GAIN = 0.04
#: Cut-off of the NDCG the blend weight is chosen on (the simulator's and backtest's NDCG@5).
BLEND_NDCG_K = 5
#: A LightGBM text model larger than this is not one of ours (ours are a few MB at most).
MAX_MODEL_BYTES = 256 * 1024 * 1024


def _empty_metrics() -> RankingMetrics:
    return RankingMetrics(ndcg_at_5=0.0, ndcg_at_10=0.0, mrr=0.0, groups=0)


class NotEnoughSamplesError(InvalidInputError):
    """Too few labelled samples to train a ranking model."""

    code = "not_enough_samples"


@dataclass(frozen=True, slots=True)
class LTRParams:
    """LightGBM settings: LightGBM's own defaults (100 trees, learning rate 0.1, 31 leaves) with a
    smaller minimum leaf (5 samples, since feedback data starts at a few hundred rows) and one
    fixed thread, so that a seed gives the same model on any machine. On the simulator's closed
    loop, 200 trees at 0.05 ranked no better and took twice as long to train and score."""

    n_estimators: int = 100
    learning_rate: float = 0.1
    num_leaves: int = 31
    min_child_samples: int = 5
    subsample: float = 1.0
    colsample_bytree: float = 1.0
    reg_lambda: float = 1.0
    num_threads: int = 1

    def __post_init__(self) -> None:
        checks = {
            "n_estimators": self.n_estimators >= 1,
            "learning_rate": 0 < self.learning_rate <= 1,
            "num_leaves": self.num_leaves >= 2,
            "min_child_samples": self.min_child_samples >= 1,
            "subsample": 0 < self.subsample <= 1,
            "colsample_bytree": 0 < self.colsample_bytree <= 1,
            "reg_lambda": self.reg_lambda >= 0,
            "num_threads": self.num_threads >= 1,
        }
        for name, ok in checks.items():
            if not ok:
                raise InvalidInputError(f"{name}: invalid value {getattr(self, name)!r}")

    def to_lightgbm(self, seed: int) -> dict[str, Any]:
        return {
            "objective": "lambdarank",
            "n_estimators": self.n_estimators,
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_child_samples": self.min_child_samples,
            "subsample": self.subsample,
            "subsample_freq": 1 if self.subsample < 1 else 0,
            "colsample_bytree": self.colsample_bytree,
            "reg_lambda": self.reg_lambda,
            "random_state": seed,
            "n_jobs": self.num_threads,
            "deterministic": True,
            "force_row_wise": True,
            "verbose": -1,
        }


#: LightGBM settings production retraining uses (and the evaluations measure): a few hundred noisy
#: samples call for a gentler, more regularised model than ``LTRParams()`` (100 trees at 0.05, 15
#: leaves, 20 samples per leaf, 80% row and column sampling). Tuned on the simulator's closed
#: loop (``evaluation.simulator``; bench/bench_feedback_loop.py prints the tables).
RETRAIN_LTR_PARAMS = LTRParams(
    n_estimators=100,
    learning_rate=0.05,
    num_leaves=15,
    min_child_samples=20,
    subsample=0.8,
    colsample_bytree=0.8,
)


class ModelMetadata(BaseModel):
    """The JSON file stored beside a LightGBM text model."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    format: Literal["artenic-opt-ltr"] = "artenic-opt-ltr"
    format_version: int = MODEL_FORMAT_VERSION
    feature_schema_version: int
    feature_names: tuple[str, ...] = Field(min_length=1)
    sample_count: int = Field(ge=0)
    query_count: int = Field(ge=0)
    metrics: RankingMetrics | None = None
    trained_at: datetime
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    model_file: str = MODEL_FILE_NAME
    lightgbm_version: str
    seed: int
    params: dict[str, Any] = Field(default_factory=dict)
    #: Distinct ``SUPPORT_COLUMNS`` rows of the training samples (``outcome_support``).
    outcome_support: tuple[tuple[float, ...], ...] = ()
    #: The ltr share of the hybrid score, learned by inner validation (older files: 0.5).
    blend_weight: float = Field(default=DEFAULT_BLEND_WEIGHT, ge=0, le=1)
    #: Mean held-out NDCG@5 of each ``BLEND_WEIGHT_GRID`` weight (empty: nothing learned).
    blend_ndcg: tuple[float, ...] = ()

    def to_model_info(self, version: int, path: str, *, active: bool = True) -> ModelInfo:
        """The state's record of this model as version ``version`` stored at ``path``."""
        return ModelInfo(
            version=version,
            path=path,
            trained_at=self.trained_at,
            sample_count=self.sample_count,
            query_count=self.query_count,
            feature_schema_version=self.feature_schema_version,
            metrics=self.metrics,
            sha256=self.sha256,
            active=active,
        )


@dataclass(frozen=True, slots=True)
class GroupedSamples:
    """Samples as LightGBM wants them: rows contiguous per query, with the group sizes."""

    features: NDArray[np.float64]
    labels: NDArray[np.int64]
    query_ids: tuple[str, ...]  # one per row
    group_ids: tuple[str, ...]  # one per group, in order
    group_sizes: tuple[int, ...]
    feature_schema_version: int
    indices: NDArray[np.int64] = field(repr=False)  # position of each row in the input

    def select(self, keep: set[str]) -> GroupedSamples:
        """Only the groups whose query id is in ``keep`` (order preserved)."""
        mask = np.array([q in keep for q in self.query_ids], dtype=bool)
        pairs = [(g, s) for g, s in zip(self.group_ids, self.group_sizes, strict=True) if g in keep]
        return GroupedSamples(
            features=self.features[mask],
            labels=self.labels[mask],
            query_ids=tuple(q for q, m in zip(self.query_ids, mask, strict=True) if m),
            group_ids=tuple(g for g, _ in pairs),
            group_sizes=tuple(s for _, s in pairs),
            feature_schema_version=self.feature_schema_version,
            indices=self.indices[mask],
        )


def group_samples(samples: Sequence[TrainingSample]) -> GroupedSamples:
    """Order samples by query group (first appearance), keeping their order inside a group."""
    if not samples:
        raise InvalidInputError("samples: no training samples given")
    versions = sorted({s.feature_schema_version for s in samples})
    if len(versions) > 1:
        raise InvalidInputError(
            f"feature_schema_version: samples mix versions {', '.join(map(str, versions))}; "
            "train on one version at a time"
        )
    width = len(samples[0].features)
    positions: dict[str, list[int]] = {}
    for index, sample in enumerate(samples):
        if len(sample.features) != width:
            raise InvalidInputError(
                f"features: sample {index} has {len(sample.features)} features, the first "
                f"has {width}"
            )
        positions.setdefault(sample.query_id, []).append(index)
    order = np.array([i for rows in positions.values() for i in rows], dtype=np.int64)
    features = np.array([samples[i].features for i in order], dtype=np.float64).reshape(
        len(order), width
    )
    if width == 0:
        raise InvalidInputError("features: samples have no features")
    if not np.all(np.isfinite(features)):
        raise InvalidInputError("features: samples hold NaN or infinite feature values")
    return GroupedSamples(
        features=features,
        labels=np.array([samples[i].label for i in order], dtype=np.int64),
        query_ids=tuple(samples[i].query_id for i in order),
        group_ids=tuple(positions),
        group_sizes=tuple(len(rows) for rows in positions.values()),
        feature_schema_version=versions[0],
        indices=order,
    )


def holdout_groups(group_ids: Sequence[str], share: float, seed: int) -> set[str]:
    """The query ids held out for evaluation: those whose ``sha256(seed:id)`` sorts first."""
    if not 0 <= share < 1:
        raise InvalidInputError(f"holdout_share: must be in [0, 1), got {share!r}")
    distinct = list(dict.fromkeys(group_ids))
    if len(distinct) < 2 or share == 0:
        return set()
    count = min(len(distinct) - 1, max(1, round(share * len(distinct))))
    keyed = sorted(distinct, key=lambda q: hashlib.sha256(f"{seed}:{q}".encode()).hexdigest())
    return set(keyed[:count])


def ranking_metrics(
    labels: ArrayLike, scores: ArrayLike, query_ids: Sequence[str]
) -> RankingMetrics:
    """NDCG@5, NDCG@10 and MRR over the informative groups (labels not all equal)."""
    label_array = np.asarray(labels, dtype=np.float64).reshape(-1)
    score_array = np.asarray(scores, dtype=np.float64).reshape(-1)
    ids = np.asarray(query_ids, dtype=object).reshape(-1)
    if not label_array.shape == score_array.shape == ids.shape:
        raise InvalidInputError(
            f"scores: {score_array.shape[0]} scores, {label_array.shape[0]} labels and "
            f"{ids.shape[0]} query ids must match"
        )
    informative = np.zeros(label_array.shape[0], dtype=bool)
    for query in dict.fromkeys(ids.tolist()):
        rows = ids == query
        group_labels = label_array[rows]
        if group_labels.size and group_labels.min() != group_labels.max():
            informative |= rows
    if not informative.any():
        return _empty_metrics()
    kept_labels = label_array[informative]
    kept_scores = score_array[informative]
    kept_ids = ids[informative].astype(str)
    return RankingMetrics(
        ndcg_at_5=mean_ndcg_at_k(kept_labels, kept_scores, kept_ids, k=5),
        ndcg_at_10=mean_ndcg_at_k(kept_labels, kept_scores, kept_ids, k=10),
        mrr=mrr(kept_labels, kept_scores, kept_ids),
        groups=len(set(kept_ids.tolist())),
    )


def _fold_order(group_ids: Sequence[str], seed: int) -> list[str]:
    distinct = list(dict.fromkeys(group_ids))
    return sorted(distinct, key=lambda q: hashlib.sha256(f"{seed}:blend:{q}".encode()).hexdigest())


def blend_curve(
    labels: ArrayLike,
    ltr: ArrayLike,
    ranks: ArrayLike,
    query_ids: Sequence[str],
    grid: Sequence[float] = BLEND_WEIGHT_GRID,
) -> NDArray[np.float64]:
    """NDCG@5 of ``w x minmax(ltr) + (1-w) x minmax(-rank)`` per informative group (rows, in
    order of first appearance) and weight ``w`` of ``grid`` (columns); min-max per group, as in
    ``recommend``."""
    label_array = np.asarray(labels, dtype=np.float64).reshape(-1)
    ltr_array = np.asarray(ltr, dtype=np.float64).reshape(-1)
    proxy = -np.asarray(ranks, dtype=np.float64).reshape(-1)
    ids = np.asarray(query_ids, dtype=object).reshape(-1)
    rows_out: list[list[float]] = []
    for query in dict.fromkeys(ids.tolist()):
        rows = ids == query
        graded = label_array[rows]
        if graded.min() == graded.max():
            continue
        learned = min_max_normalize(ltr_array[rows])
        heuristic = min_max_normalize(proxy[rows])
        rows_out.append(
            [
                ndcg_at_k(graded, weight * learned + (1.0 - weight) * heuristic, k=BLEND_NDCG_K)
                for weight in grid
            ]
        )
    return np.array(rows_out, dtype=np.float64).reshape(len(rows_out), len(grid))


def choose_blend_weight(
    per_group: ArrayLike,
    grid: Sequence[float] = BLEND_WEIGHT_GRID,
    *,
    min_gain: float = DEFAULT_BLEND_MIN_GAIN,
) -> float:
    """The weight of ``grid`` with the best mean NDCG over the groups (rows of ``per_group``),
    among ``DEFAULT_BLEND_WEIGHT`` and the weights whose mean gain over it exceeds ``min_gain``;
    ties go to the one nearest ``DEFAULT_BLEND_WEIGHT``. No groups: ``DEFAULT_BLEND_WEIGHT``."""
    table = np.asarray(per_group, dtype=np.float64)
    if table.ndim != 2 or table.shape[0] == 0 or table.shape[1] != len(grid):
        return DEFAULT_BLEND_WEIGHT
    means = table.mean(axis=0)
    base = [j for j, w in enumerate(grid) if w == DEFAULT_BLEND_WEIGHT]
    eligible = np.ones(len(grid), dtype=bool)
    if base:
        eligible = means > means[base[0]] + min_gain
        eligible[base[0]] = True
    best = float(means[eligible].max())
    tied = [float(w) for j, w in enumerate(grid) if eligible[j] and means[j] >= best - 1e-12]
    return min(tied, key=lambda w: (abs(w - DEFAULT_BLEND_WEIGHT), w))


def should_retrain(samples_since_last: int, threshold: int) -> bool:
    """Auto-retrain rule: the samples recorded since the last training reached ``threshold``."""
    if threshold < 1:
        raise InvalidInputError(f"retrain_after: must be at least 1, got {threshold}")
    if samples_since_last < 0:
        raise InvalidInputError(
            f"samples_since_last: must not be negative, got {samples_since_last}"
        )
    return samples_since_last >= threshold


def _sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _looks_like_lightgbm_text(text: str) -> bool:
    head = text[:4096].splitlines()
    return len(head) >= 2 and head[0].strip() == "tree" and head[1].startswith("version=v")


def _default_feature_names(width: int) -> tuple[str, ...]:
    return tuple(f"feature_{i}" for i in range(width))


def _make_private_dirs(folder: Path) -> None:
    """Create ``folder`` and its missing parents user-only (0700), as the state's own folder is;
    folders that exist already keep their mode."""
    missing = [p for p in (folder, *folder.parents) if not p.exists()]
    for path in reversed(missing):
        try:
            path.mkdir(mode=0o700)
        except FileExistsError:
            continue  # made meanwhile by another process: theirs to set up
        os.chmod(path, 0o700)  # mkdir's mode is filtered by the umask


class LTRRanker:
    """A LambdaMART ranking model over the advisor's feature rows."""

    def __init__(
        self,
        *,
        feature_names: Sequence[str] | None = None,
        feature_schema_version: int | None = None,
        min_samples: int = DEFAULT_MIN_SAMPLES,
        holdout_share: float = DEFAULT_HOLDOUT_SHARE,
        params: LTRParams | None = None,
        blend_folds: int = DEFAULT_BLEND_FOLDS,
    ) -> None:
        """``feature_names`` and ``feature_schema_version`` pin what ``train`` accepts when given
        (normally ``FEATURE_NAMES`` and ``FEATURE_SCHEMA_VERSION`` of the feature extractor).
        ``blend_folds``: query folds of the blend weight's inner validation (0: keep 0.5)."""
        if blend_folds < 0 or blend_folds == 1:
            raise InvalidInputError(f"blend_folds: must be 0 or at least 2, got {blend_folds}")
        self.blend_folds = blend_folds
        if min_samples < 2:
            raise InvalidInputError(f"min_samples: must be at least 2, got {min_samples}")
        if not 0 <= holdout_share < 1:
            raise InvalidInputError(f"holdout_share: must be in [0, 1), got {holdout_share!r}")
        self.feature_names = tuple(feature_names) if feature_names is not None else None
        self.feature_schema_version = feature_schema_version
        self.min_samples = min_samples
        self.holdout_share = holdout_share
        self.params = params or LTRParams()
        self._booster: Any = None
        self._metadata: ModelMetadata | None = None
        self._model_text: str | None = None
        self._support: NDArray[np.float64] | None = None

    # -- state -----------------------------------------------------------------------------------

    @property
    def is_trained(self) -> bool:
        return self._booster is not None

    @property
    def metadata(self) -> ModelMetadata | None:
        return self._metadata

    @property
    def metrics(self) -> RankingMetrics | None:
        return self._metadata.metrics if self._metadata else None

    @property
    def outcome_support(self) -> NDArray[np.float64]:
        """``(n x len(SUPPORT_COLUMNS))`` rows the model saw outcomes for (empty: none known)."""
        if self._support is None:
            rows = self._metadata.outcome_support if self._metadata else ()
            width = len(SUPPORT_COLUMNS)
            self._support = np.array(rows, dtype=np.float64).reshape(len(rows), width)
        return self._support

    @property
    def blend_weight(self) -> float:
        """The ltr share of the hybrid score (``DEFAULT_BLEND_WEIGHT`` when none was learned)."""
        return self._metadata.blend_weight if self._metadata else DEFAULT_BLEND_WEIGHT

    @property
    def num_features(self) -> int | None:
        return len(self._metadata.feature_names) if self._metadata else None

    # -- training --------------------------------------------------------------------------------

    def _fit(self, data: GroupedSamples, names: Sequence[str], seed: int) -> Any:
        import lightgbm

        model = lightgbm.LGBMRanker(**self.params.to_lightgbm(seed))
        model.fit(
            data.features,
            data.labels,
            group=list(data.group_sizes),
            feature_name=list(names),
        )
        return model.booster_

    def train(self, samples: Sequence[TrainingSample], *, seed: int = 0) -> RankingMetrics:
        """Fit on ``samples``; return NDCG@5/@10 and MRR measured on held-out query groups."""
        import lightgbm

        if len(samples) < self.min_samples:
            raise NotEnoughSamplesError(
                f"samples: {len(samples)} labelled samples, at least {self.min_samples} are "
                "needed to train a ranking model"
            )
        data = group_samples(samples)
        if (
            self.feature_schema_version is not None
            and data.feature_schema_version != self.feature_schema_version
        ):
            raise InvalidInputError(
                f"feature_schema_version: samples have version {data.feature_schema_version}, "
                f"this ranker expects {self.feature_schema_version}"
            )
        width = data.features.shape[1]
        names = self.feature_names or _default_feature_names(width)
        if len(names) != width:
            raise InvalidInputError(
                f"features: samples have {width} features, {len(names)} feature names are set"
            )

        held_out = holdout_groups(data.group_ids, self.holdout_share, seed)
        metrics = _empty_metrics()
        if held_out:
            train_part = data.select(set(data.group_ids) - held_out)
            test_part = data.select(held_out)
            booster = self._fit(train_part, names, seed)
            scores = booster.predict(test_part.features, num_threads=self.params.num_threads)
            metrics = ranking_metrics(test_part.labels, scores, test_part.query_ids)

        ranks = np.array([samples[i].rank for i in data.indices], dtype=np.float64)
        curve = self._blend_curve(data, ranks, names, seed)
        booster = self._fit(data, names, seed)
        text = booster.model_to_string()
        self._booster = booster
        self._model_text = text
        self._metadata = ModelMetadata(
            feature_schema_version=data.feature_schema_version,
            feature_names=tuple(names),
            sample_count=len(samples),
            query_count=len(data.group_ids),
            metrics=metrics,
            trained_at=utc_now(),
            sha256=_sha256_text(text),
            lightgbm_version=str(lightgbm.__version__),
            seed=seed,
            params=asdict(self.params),
            outcome_support=tuple(
                tuple(float(x) for x in row) for row in support_rows(data.features, names)
            ),
            blend_weight=choose_blend_weight(curve),
            blend_ndcg=tuple(float(v) for v in curve.mean(axis=0)) if len(curve) else (),
        )
        self._support = None
        self.feature_schema_version = data.feature_schema_version
        self.feature_names = tuple(names)
        return metrics

    def _blend_curve(
        self, data: GroupedSamples, ranks: NDArray[np.float64], names: Sequence[str], seed: int
    ) -> NDArray[np.float64]:
        """Held-out NDCG@5 per informative group (rows) and ``BLEND_WEIGHT_GRID`` weight."""
        order = _fold_order(data.group_ids, seed)
        width = len(BLEND_WEIGHT_GRID)
        parts = [np.zeros((0, width), dtype=np.float64)]
        if self.blend_folds < 2 or len(order) < self.blend_folds:
            return parts[0]
        for fold in range(self.blend_folds):
            held = set(order[fold :: self.blend_folds])
            test = data.select(held)
            if int(np.ptp(test.labels)) == 0:
                continue  # nothing to rank in this fold
            booster = self._fit(data.select(set(order) - held), names, seed)
            scores = booster.predict(test.features, num_threads=self.params.num_threads)
            fold_ranks = ranks[np.isin(data.indices, test.indices)]
            parts.append(blend_curve(test.labels, scores, fold_ranks, test.query_ids))
        return np.concatenate(parts)

    # -- scoring ---------------------------------------------------------------------------------

    def predict(self, features: ArrayLike) -> NDArray[np.float64]:
        """Scores of the rows of a ``(n_candidates x n_features)`` matrix; higher ranks first."""
        if self._booster is None or self._metadata is None:
            raise InvalidInputError("ltr model: no model is trained or loaded")
        matrix = np.asarray(features, dtype=np.float64)
        if matrix.ndim == 1:
            matrix = matrix.reshape(1, -1)
        width = len(self._metadata.feature_names)
        if matrix.ndim != 2 or matrix.shape[1] != width:
            raise InvalidInputError(
                f"features: expected a matrix with {width} columns, got shape {matrix.shape}"
            )
        if matrix.shape[0] == 0:
            return np.zeros(0, dtype=np.float64)
        scores = self._booster.predict(matrix, num_threads=self.params.num_threads)
        return np.asarray(scores, dtype=np.float64)

    def evaluate(self, samples: Sequence[TrainingSample]) -> RankingMetrics:
        """NDCG@5, NDCG@10 and MRR of this model on ``samples`` (for example unseen workloads)."""
        data = group_samples(samples)
        scores = self.predict(data.features)
        return ranking_metrics(data.labels, scores, data.query_ids)

    # -- persistence -----------------------------------------------------------------------------

    def to_text(self) -> tuple[str, str]:
        """The model in LightGBM's text format and its metadata as JSON."""
        if self._model_text is None or self._metadata is None:
            raise InvalidInputError("ltr model: no model is trained or loaded")
        return self._model_text, self._metadata.model_dump_json(indent=2) + "\n"

    @classmethod
    def from_text(
        cls,
        model_text: str,
        metadata_json: str,
        *,
        expected_schema_version: int,
        expected_feature_names: Sequence[str] | None = None,
        source: str = "model",
        params: LTRParams | None = None,
    ) -> LTRRanker:
        """Rebuild a ranker from ``to_text`` output, refusing anything that does not check out.

        ``source`` names the files in error messages.
        """
        try:
            raw = json.loads(metadata_json)
        except json.JSONDecodeError as exc:
            raise ModelFileError(f"{source}: metadata is not valid JSON ({exc.msg})") from None
        if not isinstance(raw, Mapping) or raw.get("format") != MODEL_FORMAT:
            raise ModelFileError(f"{source}: metadata is not an artenic-opt ranking model")
        if raw.get("format_version") != MODEL_FORMAT_VERSION:
            raise ModelFileError(
                f"{source}: model format version {raw.get('format_version')!r} is not "
                f"supported (expected {MODEL_FORMAT_VERSION})"
            )
        try:
            metadata = ModelMetadata.model_validate(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise ModelFileError(f"{source}: metadata {where}: {first['msg']}") from None
        if _sha256_text(model_text) != metadata.sha256:
            raise ModelFileError(
                f"{source}: checksum mismatch: the model file was changed or corrupted "
                "after it was saved"
            )
        if metadata.feature_schema_version != expected_schema_version:
            raise ModelFileError(
                f"{source}: trained for feature schema version "
                f"{metadata.feature_schema_version}, this version of artenic-opt uses "
                f"{expected_schema_version}; run retrain"
            )
        if expected_feature_names is not None and tuple(expected_feature_names) != tuple(
            metadata.feature_names
        ):
            raise ModelFileError(
                f"{source}: trained on other features than this version of artenic-opt "
                "computes; run retrain"
            )
        if not _looks_like_lightgbm_text(model_text):
            raise ModelFileError(f"{source}: not a LightGBM text model")

        import lightgbm

        try:
            booster = lightgbm.Booster(model_str=model_text)
        except (lightgbm.basic.LightGBMError, ValueError, TypeError) as exc:
            raise ModelFileError(f"{source}: unreadable LightGBM model ({exc})") from None
        if booster.num_feature() != len(metadata.feature_names):
            raise ModelFileError(
                f"{source}: the model has {booster.num_feature()} features, its metadata "
                f"names {len(metadata.feature_names)}"
            )
        ranker = cls(
            feature_names=metadata.feature_names,
            feature_schema_version=metadata.feature_schema_version,
            params=params,
        )
        ranker._booster = booster
        ranker._model_text = model_text
        ranker._metadata = metadata
        return ranker

    def save(self, directory: str | os.PathLike[str]) -> ModelMetadata:
        """Write ``model.txt`` (LightGBM text) and then ``model.json`` into ``directory``."""
        model_text, metadata_json = self.to_text()
        folder = Path(directory)
        _make_private_dirs(folder)
        atomic_write_text(folder / MODEL_FILE_NAME, model_text)
        atomic_write_text(folder / METADATA_FILE_NAME, metadata_json)
        assert self._metadata is not None  # to_text checked it
        return self._metadata

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str],
        expected_schema_version: int,
        *,
        expected_feature_names: Sequence[str] | None = None,
        params: LTRParams | None = None,
    ) -> LTRRanker:
        """Load a saved model: a directory holding ``model.txt`` and ``model.json``, or the path
        of the model file itself (its metadata is the same name with ``.json``)."""
        target = Path(path)
        if target.is_dir():
            model_path = target / MODEL_FILE_NAME
            metadata_path = target / METADATA_FILE_NAME
        else:
            model_path = target
            metadata_path = target.with_suffix(".json")
        metadata_json = read_text_file(
            metadata_path,
            what="model metadata file",
            error=ModelFileError,
            max_bytes=MAX_MODEL_BYTES,
        )
        model_text = read_text_file(
            model_path, what="model file", error=ModelFileError, max_bytes=MAX_MODEL_BYTES
        )
        return cls.from_text(
            model_text,
            metadata_json,
            expected_schema_version=expected_schema_version,
            expected_feature_names=expected_feature_names,
            source=str(model_path),
            params=params,
        )


__all__ = [
    "BLEND_WEIGHT_GRID",
    "DEFAULT_BLEND_FOLDS",
    "DEFAULT_BLEND_WEIGHT",
    "DEFAULT_HOLDOUT_SHARE",
    "DEFAULT_MIN_SAMPLES",
    "METADATA_FILE_NAME",
    "MODEL_FILE_NAME",
    "GroupedSamples",
    "LTRParams",
    "LTRRanker",
    "ModelMetadata",
    "NotEnoughSamplesError",
    "blend_curve",
    "choose_blend_weight",
    "group_samples",
    "holdout_groups",
    "ranking_metrics",
    "should_retrain",
]
