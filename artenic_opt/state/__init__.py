"""The SQLite state store (DESIGN §3): open it with ``open_state``, read and write it through the
typed repository functions re-exported here. Nothing else in artenic-opt touches the file.

The history records and the platform mirror's functions and records (jobs, datasets, budgets,
sync runs) load on first access to one of their names, like the storage and cost models of
``artenic_opt.schemas``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from artenic_opt._internal.lazy import lazy_attribute, lazy_dir
from artenic_opt.state.catalog import (
    count_offerings,
    delete_offerings,
    delete_storage_prices,
    list_offerings,
    list_overlay_offerings,
    list_overlay_storage_prices,
    list_storage_prices,
    replace_offerings,
    replace_storage_prices,
    upsert_offerings,
    upsert_storage_prices,
)
from artenic_opt.state.meta import (
    all_meta,
    delete_meta,
    get_meta,
    last_sync_at,
    set_last_sync_at,
    set_meta,
)
from artenic_opt.state.migrations import LATEST_VERSION
from artenic_opt.state.model_versions import (
    activate_model_version,
    active_model,
    deactivate_models,
    get_model_version,
    list_model_versions,
    next_model_version,
    record_model_version,
)
from artenic_opt.state.outcomes import (
    UNLINKED,
    add_training_sample,
    add_training_samples,
    count_outcomes,
    count_training_queries,
    count_training_samples,
    delete_outcome,
    get_outcome,
    has_import_key,
    insert_outcome,
    list_outcomes,
    list_training_samples,
    outcome_counts_by_provider,
    outcome_entries,
    outcome_for_job,
)
from artenic_opt.state.recommendations import (
    MIN_PREFIX_LENGTH,
    candidate_features,
    count_recommendations,
    find_recommendation_by_job,
    get_recommendation,
    list_candidates,
    list_recommendations,
    query_is_known,
    resolve_recommendation_id,
    save_recommendation,
    set_dispatch,
)
from artenic_opt.state.records import (
    OverlayOffering,
    OverlayOrigin,
    OverlayStoragePrice,
    ProviderOutcomeCounts,
)
from artenic_opt.state.store import APPLICATION_ID, StateStore, open_state

if TYPE_CHECKING:
    from artenic_opt.state.budgets import (
        list_budget_spending,
        list_budgets,
        replace_budget_spending,
        replace_budgets,
        upsert_budget,
        upsert_budget_spending,
    )
    from artenic_opt.state.datasets import (
        add_access_events,
        count_access_events,
        delete_dataset,
        find_dataset,
        get_dataset,
        list_access_events,
        list_dataset_files,
        list_datasets,
        replace_dataset_files,
        upsert_dataset,
        upsert_datasets,
    )
    from artenic_opt.state.history_records import (
        DispatchLink,
        RecommendationSummary,
        StoredCandidate,
        StoredOutcome,
    )
    from artenic_opt.state.platform_data import (
        count_platform_jobs,
        get_platform_job,
        list_platform_jobs,
        upsert_platform_job,
        upsert_platform_jobs,
    )
    from artenic_opt.state.platform_records import (
        AccessEvent,
        BudgetRecord,
        BudgetSpendingRecord,
        DatasetFileRecord,
        DatasetOrigin,
        DatasetRecord,
        PlatformJob,
        SyncRun,
        SyncStatus,
    )
    from artenic_opt.state.sync_runs import (
        finish_sync_run,
        get_sync_run,
        last_sync_run,
        list_sync_runs,
        start_sync_run,
    )

#: Names of the recommendation history and of the platform mirror (jobs, datasets, budgets, sync
#: runs), by defining module: loaded on first use (PEP 562), so that ``recommend`` builds neither
#: these records nor the mirror's queries.
_LAZY: dict[str, str] = {
    "DispatchLink": "history_records",
    "RecommendationSummary": "history_records",
    "StoredCandidate": "history_records",
    "StoredOutcome": "history_records",
    "list_budget_spending": "budgets",
    "list_budgets": "budgets",
    "replace_budget_spending": "budgets",
    "replace_budgets": "budgets",
    "upsert_budget": "budgets",
    "upsert_budget_spending": "budgets",
    "add_access_events": "datasets",
    "count_access_events": "datasets",
    "delete_dataset": "datasets",
    "find_dataset": "datasets",
    "get_dataset": "datasets",
    "list_access_events": "datasets",
    "list_dataset_files": "datasets",
    "list_datasets": "datasets",
    "replace_dataset_files": "datasets",
    "upsert_dataset": "datasets",
    "upsert_datasets": "datasets",
    "count_platform_jobs": "platform_data",
    "get_platform_job": "platform_data",
    "list_platform_jobs": "platform_data",
    "upsert_platform_job": "platform_data",
    "upsert_platform_jobs": "platform_data",
    "AccessEvent": "platform_records",
    "BudgetRecord": "platform_records",
    "BudgetSpendingRecord": "platform_records",
    "DatasetFileRecord": "platform_records",
    "DatasetOrigin": "platform_records",
    "DatasetRecord": "platform_records",
    "PlatformJob": "platform_records",
    "SyncRun": "platform_records",
    "SyncStatus": "platform_records",
    "finish_sync_run": "sync_runs",
    "get_sync_run": "sync_runs",
    "last_sync_run": "sync_runs",
    "list_sync_runs": "sync_runs",
    "start_sync_run": "sync_runs",
}


def __getattr__(name: str) -> Any:
    return lazy_attribute(__name__, _LAZY, globals(), name)


def __dir__() -> list[str]:
    return lazy_dir(_LAZY, globals())


__all__ = [
    "APPLICATION_ID",
    "LATEST_VERSION",
    "MIN_PREFIX_LENGTH",
    "UNLINKED",
    "AccessEvent",
    "BudgetRecord",
    "BudgetSpendingRecord",
    "DatasetFileRecord",
    "DatasetOrigin",
    "DatasetRecord",
    "DispatchLink",
    "OverlayOffering",
    "OverlayOrigin",
    "OverlayStoragePrice",
    "PlatformJob",
    "ProviderOutcomeCounts",
    "RecommendationSummary",
    "StateStore",
    "StoredCandidate",
    "StoredOutcome",
    "SyncRun",
    "SyncStatus",
    "activate_model_version",
    "active_model",
    "add_access_events",
    "add_training_sample",
    "add_training_samples",
    "all_meta",
    "candidate_features",
    "count_access_events",
    "count_offerings",
    "count_outcomes",
    "count_platform_jobs",
    "count_recommendations",
    "count_training_queries",
    "count_training_samples",
    "deactivate_models",
    "delete_dataset",
    "delete_meta",
    "delete_offerings",
    "delete_outcome",
    "delete_storage_prices",
    "find_dataset",
    "find_recommendation_by_job",
    "finish_sync_run",
    "get_dataset",
    "get_meta",
    "get_model_version",
    "get_outcome",
    "get_platform_job",
    "get_recommendation",
    "get_sync_run",
    "has_import_key",
    "insert_outcome",
    "last_sync_at",
    "last_sync_run",
    "list_access_events",
    "list_budget_spending",
    "list_budgets",
    "list_candidates",
    "list_dataset_files",
    "list_datasets",
    "list_model_versions",
    "list_offerings",
    "list_outcomes",
    "list_overlay_offerings",
    "list_overlay_storage_prices",
    "list_platform_jobs",
    "list_recommendations",
    "list_storage_prices",
    "list_sync_runs",
    "list_training_samples",
    "next_model_version",
    "open_state",
    "outcome_counts_by_provider",
    "outcome_entries",
    "outcome_for_job",
    "query_is_known",
    "record_model_version",
    "replace_budget_spending",
    "replace_budgets",
    "replace_dataset_files",
    "replace_offerings",
    "replace_storage_prices",
    "resolve_recommendation_id",
    "save_recommendation",
    "set_dispatch",
    "set_last_sync_at",
    "set_meta",
    "start_sync_run",
    "upsert_budget",
    "upsert_budget_spending",
    "upsert_dataset",
    "upsert_datasets",
    "upsert_offerings",
    "upsert_platform_job",
    "upsert_platform_jobs",
    "upsert_storage_prices",
]
