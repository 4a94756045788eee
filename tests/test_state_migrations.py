"""Schema migrations: numbered, recorded in the file, applied once, creating every table."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
import sqlite_utils

from artenic_opt.state import LATEST_VERSION, migrations as m, open_state

DESIGN_TABLES = {
    "meta",
    "offerings",
    "storage_prices",
    "recommendations",
    "recommendation_candidates",
    "outcomes",
    "training_samples",
    "model_versions",
    "platform_jobs",
    "datasets",
    "dataset_files",
    "access_events",
    "budgets",
    "budget_spending",
    "sync_runs",
}


def test_migrations_are_numbered_from_one_without_gaps() -> None:
    versions = [step.version for step in m.all_migrations()]
    assert versions == list(range(1, len(versions) + 1))
    assert m.LATEST_VERSION == versions[-1] == LATEST_VERSION
    assert all(step.name for step in m.all_migrations())


def test_a_misnumbered_migration_is_rejected() -> None:
    before = m.all_migrations()
    with pytest.raises(ValueError, match="numbered 99, expected"):
        m.migration(99, "out of order")(lambda db: None)
    assert m.all_migrations() == before


def test_migrations_are_recorded_in_the_file(tmp_path: Path) -> None:
    with open_state(tmp_path / "state.db") as store:
        rows = store.query("SELECT version, name, applied_at FROM _migrations ORDER BY version")
    assert [row["version"] for row in rows] == list(range(1, LATEST_VERSION + 1))
    assert rows[0]["name"] == "initial schema"
    applied = datetime.fromisoformat(rows[0]["applied_at"])
    assert applied.utcoffset() is not None and applied.utcoffset().total_seconds() == 0  # type: ignore[union-attr]


def test_initial_schema_has_every_design_table(tmp_path: Path) -> None:
    with open_state(tmp_path / "state.db") as store:
        tables = {
            row["name"]
            for row in store.query("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
    assert tables >= DESIGN_TABLES
    assert m.MARKER_TABLE in tables


@pytest.mark.parametrize(
    ("table", "columns"),
    [
        ("recommendations", ["job_id"]),
        ("outcomes", ["job_id"]),
        ("access_events", ["dataset_id", "timestamp", "operation", "source"]),
    ],
)
def test_unique_indexes(tmp_path: Path, table: str, columns: list[str]) -> None:
    with open_state(tmp_path / "state.db") as store:
        indexes = store.db.table(table).indexes
    assert any(index.unique and index.columns == columns for index in indexes)


def test_query_paths_use_indexes(tmp_path: Path) -> None:
    with open_state(tmp_path / "state.db") as store:

        def plan(sql: str) -> str:
            return " ".join(row["detail"] for row in store.query(f"EXPLAIN QUERY PLAN {sql}"))

        assert "USING INDEX" in plan("SELECT * FROM outcomes WHERE recorded_at >= '2026'")
        assert "USING INDEX" in plan("SELECT * FROM outcomes WHERE recommendation_id = 'x'")
        assert "USING INDEX" in plan("SELECT * FROM recommendations ORDER BY created_at DESC")
        assert "USING INDEX" in plan("SELECT * FROM recommendations WHERE job_id = 'j'")
        assert "USING INDEX" in plan(
            "SELECT * FROM training_samples WHERE feature_schema_version = 1"
        )
        assert "USING INDEX" in plan("SELECT * FROM access_events WHERE dataset_id = 'd'")


def test_apply_pending_is_idempotent(tmp_path: Path) -> None:
    with open_state(tmp_path / "state.db") as store, store.transaction():
        assert m.apply_pending(store.db) == []
        assert m.current_version(store.db.conn) == LATEST_VERSION


def test_apply_pending_on_a_blank_database_applies_everything() -> None:
    db = sqlite_utils.Database(memory=True, execute_plugins=False)
    try:
        assert m.apply_pending(db) == list(range(1, LATEST_VERSION + 1))
        assert m.current_version(db.conn) == LATEST_VERSION
        assert set(db.table_names()) >= DESIGN_TABLES
    finally:
        db.close()
