"""Trained ranking-model versions recorded in the state.

The model files themselves live beside the state (``paths.models_dir``) in LightGBM's text format
with a JSON metadata file; the state records each version's path, checksum, feature schema
version, sample counts and metrics, and which version is active. At most one version is active:
recording or activating one deactivates the others in the same transaction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from artenic_opt.errors import InvalidInputError, NotFoundError
from artenic_opt.state._codec import (
    decode_bool,
    decode_datetime,
    encode_bool,
    encode_datetime,
    reads_row,
)
from artenic_opt.state.store import StateStore

if TYPE_CHECKING:
    from artenic_opt.schemas import ModelInfo


def next_model_version(store: StateStore) -> int:
    """The number the next trained model should get."""
    return int(store.scalar("SELECT coalesce(max(version), 0) + 1 FROM model_versions"))


def record_model_version(store: StateStore, info: ModelInfo) -> ModelInfo:
    """Record a trained model; if ``info.active``, it becomes the only active version."""
    row = {
        "version": info.version,
        "path": info.path,
        "trained_at": encode_datetime(info.trained_at),
        "sample_count": info.sample_count,
        "query_count": info.query_count,
        "feature_schema_version": info.feature_schema_version,
        "metrics_json": None if info.metrics is None else info.metrics.model_dump_json(),
        "sha256": info.sha256,
        "active": encode_bool(info.active),
    }
    with store.transaction():
        if store.scalar("SELECT 1 FROM model_versions WHERE version = ?", [info.version]):
            raise InvalidInputError(f"model version {info.version} is already recorded")
        if info.active:
            store.execute("UPDATE model_versions SET active = 0 WHERE active = 1")
        store.insert_rows("model_versions", [row])
    return info


def activate_model_version(store: StateStore, version: int) -> ModelInfo:
    """Make ``version`` the active model (e.g. to roll back to an earlier one)."""
    with store.transaction():
        get_model_version(store, version)
        store.execute("UPDATE model_versions SET active = (version = ?)", [version])
    return get_model_version(store, version)


def deactivate_models(store: StateStore) -> None:
    """Leave no model active (the advisor falls back to the heuristic)."""
    with store.transaction():
        store.execute("UPDATE model_versions SET active = 0 WHERE active = 1")


@reads_row("model_versions")
def _model(row: dict[str, Any]) -> ModelInfo:
    from artenic_opt.schemas import ModelInfo, RankingMetrics  # loaded when a version is read

    metrics = row["metrics_json"]
    return ModelInfo(
        version=row["version"],
        path=row["path"],
        trained_at=decode_datetime(row["trained_at"]),
        sample_count=row["sample_count"],
        query_count=row["query_count"],
        feature_schema_version=row["feature_schema_version"],
        metrics=None if metrics is None else RankingMetrics.model_validate_json(metrics),
        sha256=row["sha256"],
        active=decode_bool(row["active"]),
    )


def get_model_version(store: StateStore, version: int) -> ModelInfo:
    row = store.query_one("SELECT * FROM model_versions WHERE version = ?", [version])
    if row is None:
        raise NotFoundError(f"model version {version} not found")
    return _model(row)


def active_model(store: StateStore) -> ModelInfo | None:
    row = store.query_one(
        "SELECT * FROM model_versions WHERE active = 1 ORDER BY version DESC LIMIT 1"
    )
    return None if row is None else _model(row)


def list_model_versions(store: StateStore) -> list[ModelInfo]:
    """Every recorded version, newest first."""
    return [
        _model(row) for row in store.query("SELECT * FROM model_versions ORDER BY version DESC")
    ]
