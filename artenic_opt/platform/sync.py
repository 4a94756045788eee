# Over 600 lines: a sync pass per part (catalog, jobs, datasets, budgets), one report.
"""``sync``: copy the platform's catalog, jobs, datasets and budgets into the state store.

Contract: ``platform-api.md`` §9 (sync recipe). Decisions:

* **Parts** run in the order catalog, jobs, datasets, budgets (``only`` picks some). Each part is
  fetched completely before anything of it is written, then written in one transaction. A
  failure part-way therefore keeps the parts already written and stores nothing of the failed
  part: the state holds only complete records.
* **Idempotent**: the state repositories compare content and skip unchanged rows, so a second
  sync with nothing new on the server reports 0 changes and writes no data (only the run log and
  ``last_sync_at``). Catalog rows carry the fetch date as their price date, so the first sync of a
  new day refreshes those dates.
* **Catalog**: the aggregate endpoints silently drop a provider whose upstream fetch failed
  (§3.4), so platform rows are replaced only for the providers present in the answer; a provider
  that disappears keeps its previous rows and is named in a warning. Rows of ``catalog import``
  always win over platform rows (the state enforces that).
* **Jobs**: every page of the list, then one ``GET /training/{id}`` per ``running`` job, because
  only that call makes the gateway poll the provider (§4.3). A refresh that fails with an error
  status keeps the listed copy and warns; losing the connection fails the part.
* **Outcomes**: for every final job with no stored outcome yet, ``derive_outcome`` (§4.7) runs and
  ``on_outcome(outcome, job)`` is called after the jobs are written. The callback is the feedback
  path (it stores the outcome and its training sample); because the check is "no outcome stored
  for this job", a callback that failed is retried by the next sync and a stored one is never
  repeated. The recommendation link comes from the dispatch record in the state when there is
  one, else from the job's ``config``.
* **Datasets**: every page, then the file list of each dataset (stats are skipped: they are
  expensive on the server and the file list carries the same sizes and record counts, §9). A
  dataset deleted between the list and its files call is skipped with a warning; datasets that
  are gone from the platform (or vanished that way) are removed locally, with their files.
  Re-uploaded files repeat a path (§6.3 quirk): the newest row (highest id) wins.
* **Budgets**: all budgets (``enabled_only=false``), then spending once per distinct
  (scope, scope value) of the enabled ones (§7.2).
* **Errors**: if no part could be done because the platform is unreachable or refuses the key,
  ``PlatformUnreachableError`` / ``PlatformAuthError`` is raised (the CLI exits 3). After a refused
  key, or a connection failure confirmed by one quick ``/health/ready`` probe (the server is
  gone), the remaining parts are skipped instead of each waiting through its retries; a single
  path that times out or cuts its answer short fails only its own part. Otherwise a
  ``SyncReport`` with per-part counts and failures is returned (status ``ok``, ``partial`` or
  ``failed``). Every run is logged in ``sync_runs``; ``last_sync_at`` moves only when at least one
  part succeeded.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from artenic_opt.errors import (
    ArtenicOptError,
    InvalidInputError,
    PlatformAuthError,
    PlatformError,
    PlatformResponseError,
    PlatformUnreachableError,
)
from artenic_opt.platform.models import (
    Budget,
    BudgetSpending,
    DatasetFile,
    PlatformDataset,
    PlatformJob,
)
from artenic_opt.platform.translation import (
    DerivedOutcome,
    GpuLookup,
    catalog_rows_to_offerings,
    catalog_tier_to_storage_price,
    derive_outcome,
    offering_provider,
)
from artenic_opt.state import (
    budgets as state_budgets,
    catalog as state_catalog,
    datasets as state_datasets,
    meta as state_meta,
    outcomes as state_outcomes,
    platform_data as state_jobs,
    recommendations as state_recommendations,
    sync_runs as state_sync_runs,
)
from artenic_opt.state.platform_records import (
    BudgetRecord,
    BudgetSpendingRecord,
    DatasetFileRecord,
    DatasetOrigin,
    DatasetRecord,
    PlatformJob as StoredJob,
    SyncStatus,
)
from artenic_opt.state.records import OverlayOrigin
from artenic_opt.state.store import StateStore
from artenic_opt.types import JobStatus

if TYPE_CHECKING:
    from artenic_opt.platform.client import PlatformClient

PART_NAMES: tuple[str, ...] = ("catalog", "jobs", "datasets", "budgets")

#: Called with (part, message) as a sync makes progress; the CLI shows it on stderr.
ProgressCallback = Callable[[str, str], None]
#: Called once per final job that has no stored outcome yet (the feedback path).
OutcomeCallback = Callable[[DerivedOutcome, PlatformJob], None]


class PartReport(BaseModel):
    """What one part of a sync fetched and changed."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    part: str
    status: Literal["ok", "failed", "skipped"] = "ok"
    fetched: int = Field(default=0, ge=0)
    added: int = Field(default=0, ge=0)
    updated: int = Field(default=0, ge=0)
    unchanged: int = Field(default=0, ge=0)
    removed: int = Field(default=0, ge=0)
    related_written: int = Field(
        default=0, ge=0, description="Rows of dependent tables written: files, tiers, spending"
    )
    details: dict[str, int] = Field(default_factory=dict)
    warnings: list[str] = Field(default_factory=list)
    error: str | None = None

    @property
    def changes(self) -> int:
        return self.added + self.updated + self.removed + self.related_written


class SyncReport(BaseModel):
    """The result of one ``sync``: per-part counts, failures, and the overall status."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    url: str
    run_id: int
    status: SyncStatus
    started_at: datetime
    finished_at: datetime
    parts: dict[str, PartReport]
    failures: dict[str, str] = Field(default_factory=dict)
    outcomes_derived: int = Field(default=0, ge=0)
    outcomes_recorded: int = Field(default=0, ge=0)

    @property
    def changes(self) -> int:
        """Rows added, updated or removed over all parts (0 for a sync that changed nothing)."""
        return sum(part.changes for part in self.parts.values())


class _Context:
    def __init__(
        self,
        store: StateStore,
        client: PlatformClient,
        *,
        gpu_lookup: GpuLookup,
        now: datetime,
        on_progress: ProgressCallback | None,
        on_outcome: OutcomeCallback | None,
        currencies: Collection[str] | None = None,
    ) -> None:
        self.store = store
        self.currencies = None if currencies is None else frozenset(currencies)
        self.client = client
        self.gpu_lookup = gpu_lookup
        self.now = now
        self.on_progress = on_progress
        self.on_outcome = on_outcome
        self.outcomes_derived = 0
        self.outcomes_recorded = 0
        self.outcome_failures: list[str] = []

    def progress(self, part: str, message: str) -> None:
        if self.on_progress is not None:
            self.on_progress(part, message)


def sync(
    store: StateStore,
    client: PlatformClient,
    *,
    only: set[str] | None = None,
    catalog_lookup: GpuLookup,
    on_progress: ProgressCallback | None = None,
    on_outcome: OutcomeCallback | None = None,
    clock: Callable[[], datetime] | None = None,
    currencies: Collection[str] | None = None,
) -> SyncReport:
    """Pull platform data into ``store``; see the module docstring for the rules.

    ``catalog_lookup`` resolves a platform GPU label to our GPU spec (``make_gpu_lookup``).
    ``currencies`` (the codes the exchange-rate table knows): catalog rows priced in any other
    currency are left out with a warning, since one stored would make every ranking and cost
    comparison fail for want of a rate.
    Raises ``InvalidInputError`` for an unknown part name, and ``PlatformUnreachableError`` /
    ``PlatformAuthError`` when nothing could be synced for those reasons.
    """
    parts = _select_parts(only)
    now = (clock or (lambda: datetime.now(UTC)))()
    context = _Context(
        store,
        client,
        gpu_lookup=catalog_lookup,
        now=now,
        on_progress=on_progress,
        on_outcome=on_outcome,
        currencies=currencies,
    )
    run_id = state_sync_runs.start_sync_run(store, parts, started_at=now)
    reports: dict[str, PartReport] = {}
    failures: dict[str, str] = {}
    fatal: PlatformError | None = None
    try:
        context.progress("health", f"checking {client.url}")
        try:
            client.health_ready()
        except (PlatformUnreachableError, PlatformAuthError) as exc:
            fatal = exc
        except PlatformResponseError as exc:
            failures["health"] = str(exc)
            fatal = exc
        for part in parts:
            if fatal is not None:
                reports[part] = PartReport(
                    part=part, status="skipped", error=f"not attempted: {fatal}"
                )
                continue
            context.progress(part, "fetching")
            try:
                reports[part] = _PARTS[part](context)
            except PlatformError as exc:
                reports[part] = PartReport(part=part, status="failed", error=str(exc))
                failures[part] = str(exc)
                context.progress(part, f"failed: {exc}")
                # Stop when the key is refused, or when the platform is gone altogether (one
                # quick probe); a single path that times out or cuts its answer short does not
                # stop the other parts.
                if isinstance(exc, PlatformAuthError) or (
                    isinstance(exc, PlatformUnreachableError) and not client.ping()
                ):
                    fatal = exc
                continue
            done = reports[part]
            context.progress(
                part,
                f"{done.fetched} fetched, {done.added} added, {done.updated} updated, "
                f"{done.removed} removed",
            )
        if context.outcome_failures:
            failures["outcomes"] = "; ".join(context.outcome_failures)
    except BaseException as exc:
        # A state or programming error: log the run as failed, then let it propagate. If the
        # log cannot be written either (the state itself is broken), the original error matters
        # more than that one.
        with contextlib.suppress(Exception):
            state_sync_runs.finish_sync_run(
                store, run_id, status=SyncStatus.FAILED, error=str(exc) or type(exc).__name__
            )
        raise

    succeeded = [name for name, report in reports.items() if report.status == "ok"]
    if not succeeded:
        status = SyncStatus.FAILED
    elif failures:
        status = SyncStatus.PARTIAL
    else:
        status = SyncStatus.OK
    finished = datetime.now(UTC)
    report = SyncReport(
        url=client.url,
        run_id=run_id,
        status=status,
        started_at=now,
        finished_at=max(finished, now),
        parts=reports,
        failures=failures,
        outcomes_derived=context.outcomes_derived,
        outcomes_recorded=context.outcomes_recorded,
    )
    state_sync_runs.finish_sync_run(
        store,
        run_id,
        status=status,
        summary=report.model_dump(mode="json", include={"parts", "failures"}),
        error="; ".join(f"{k}: {v}" for k, v in failures.items()) or None,
        finished_at=report.finished_at,
    )
    if succeeded:
        state_meta.set_last_sync_at(store, now)
    if not succeeded and isinstance(fatal, PlatformUnreachableError | PlatformAuthError):
        raise fatal
    return report


def _select_parts(only: Iterable[str] | None) -> list[str]:
    if only is None:
        return list(PART_NAMES)
    wanted = {name.strip().casefold() for name in only}
    unknown = sorted(wanted - set(PART_NAMES))
    if unknown:
        raise InvalidInputError(
            f"only: unknown sync part {', '.join(unknown)}; choose from {', '.join(PART_NAMES)}"
        )
    if not wanted:
        raise InvalidInputError(f"only: name at least one of {', '.join(PART_NAMES)}")
    return [name for name in PART_NAMES if name in wanted]


def _split_counts(report: PartReport, before: set[Any], after: Iterable[Any], written: int) -> None:
    """Fill added/updated/unchanged/removed from the keys before and after, and rows written."""
    after_keys = set(after)
    report.added = len(after_keys - before)
    report.removed = len(before - after_keys)
    report.updated = max(0, written - report.added - report.removed)
    report.unchanged = max(0, len(after_keys) - report.added - report.updated)


# --------------------------------------------------------------------------------------------
# Catalog
# --------------------------------------------------------------------------------------------


def _sync_catalog(ctx: _Context) -> PartReport:
    flavors = ctx.client.catalog_compute()
    ctx.progress("catalog", f"{len(flavors)} compute rows; fetching storage tiers")
    tiers = ctx.client.catalog_storage()
    price_date = ctx.now.date()
    offerings, skipped = catalog_rows_to_offerings(flavors, ctx.gpu_lookup, price_date=price_date)
    prices = [
        price
        for price in (catalog_tier_to_storage_price(t, price_date=price_date) for t in tiers)
        if price is not None
    ]
    unpriced: set[str] = set()
    if ctx.currencies is not None:
        known = ctx.currencies
        unpriced = {o.currency for o in offerings} | {p.currency for p in prices}
        unpriced -= known
        skipped += sum(1 for o in offerings if o.currency not in known)
        offerings = [o for o in offerings if o.currency in known]
        prices = [p for p in prices if p.currency in known]
    compute_providers = {offering_provider(f.provider_id) for f in flavors}
    storage_providers = {offering_provider(t.provider_id) for t in tiers}

    report = PartReport(part="catalog", fetched=len(flavors))
    report.details["rows_skipped"] = skipped
    report.details["storage_tiers"] = len(prices)
    store = ctx.store
    with store.transaction():
        held = {
            item.offering.offering_id
            for item in state_catalog.list_offerings(store, origin=OverlayOrigin.IMPORT)
        }
        stored = state_catalog.list_offerings(store, origin=OverlayOrigin.PLATFORM)
        before = {
            o.offering.offering_id for o in stored if o.offering.provider in compute_providers
        }
        missing = sorted(
            {o.offering.provider for o in stored} - compute_providers, key=str.casefold
        )
        written = state_catalog.replace_offerings(
            store,
            offerings,
            origin=OverlayOrigin.PLATFORM,
            providers=compute_providers,
            fetched_at=ctx.now,
        )
        report.related_written = state_catalog.replace_storage_prices(
            store,
            prices,
            origin=OverlayOrigin.PLATFORM,
            providers=storage_providers,
            fetched_at=ctx.now,
        )
    kept = {o.offering_id for o in offerings if o.offering_id not in held}
    report.details["held_by_import"] = len({o.offering_id for o in offerings} & held)
    _split_counts(report, before, kept, written)
    if unpriced:
        codes = ", ".join(sorted(unpriced))
        report.warnings.append(
            f"rows priced in {codes} were left out: no exchange rate for {codes} (add it under "
            "[exchange_rates] in the optimizer config file)"
        )
    for provider in missing:
        report.warnings.append(
            f"provider {provider} is missing from the platform catalog (upstream failure?); "
            "its previously synced prices were kept"
        )
    return report


# --------------------------------------------------------------------------------------------
# Jobs and outcomes
# --------------------------------------------------------------------------------------------


def _stored_job(job: PlatformJob) -> StoredJob:
    return StoredJob(
        id=job.id,
        status=job.status,
        service=job.service,
        model=job.model,
        provider=job.provider,
        provider_job_id=job.provider_job_id,
        instance_type=job.instance_type,
        region=job.region,
        is_spot=job.is_spot,
        cost_estimate_eur=job.cost_estimate_eur,
        cost_actual_eur=job.cost_actual_eur,
        cost_per_hour_eur=job.cost_per_hour_eur,
        duration_seconds=job.duration_seconds,
        created_at=job.created_at,
        started_at=job.started_at,
        completed_at=job.completed_at,
        config=dict(job.config),
        metrics=None if job.metrics is None else dict(job.metrics),
        error=job.error,
    )


def _sync_jobs(ctx: _Context) -> PartReport:
    listed = ctx.client.list_jobs()
    report = PartReport(part="jobs", fetched=len(listed))
    running = [job for job in listed if job.status is JobStatus.RUNNING]
    if running:
        ctx.progress("jobs", f"{len(listed)} jobs; refreshing {len(running)} running")
    jobs: list[PlatformJob] = []
    refreshed = 0
    for job in listed:
        if job.status is JobStatus.RUNNING:
            try:
                job = ctx.client.get_job(job.id)
                refreshed += 1
            except PlatformResponseError as exc:
                report.warnings.append(f"job {job.id}: refresh failed, kept the listed copy: {exc}")
        jobs.append(job)
    report.details["refreshed"] = refreshed

    store = ctx.store
    with store.transaction():
        before = {job.id for job in jobs if state_jobs.get_platform_job(store, job.id) is not None}
        written = state_jobs.upsert_platform_jobs(
            store, (_stored_job(job) for job in jobs), synced_at=ctx.now
        )
    _split_counts(report, before, [job.id for job in jobs], written)
    report.removed = 0  # the platform never deletes jobs; absent from the list is not gone
    report.details["final"] = sum(1 for job in jobs if job.is_final)
    _record_outcomes(ctx, jobs, report)
    return report


def _record_outcomes(ctx: _Context, jobs: list[PlatformJob], report: PartReport) -> None:
    derived = 0
    recorded = 0
    for job in jobs:
        if not job.is_final or state_outcomes.outcome_for_job(ctx.store, job.id) is not None:
            continue
        outcome = derive_outcome(job)
        if outcome is None:
            continue
        outcome = _with_dispatch_link(ctx.store, outcome)
        derived += 1
        if ctx.on_outcome is None:
            continue
        try:
            ctx.on_outcome(outcome, job)
        except ArtenicOptError as exc:
            ctx.outcome_failures.append(f"job {job.id}: {exc}")
            continue
        recorded += 1
    report.details["outcomes_derived"] = derived
    report.details["outcomes_recorded"] = recorded
    ctx.outcomes_derived += derived
    ctx.outcomes_recorded += recorded


def _with_dispatch_link(store: StateStore, outcome: DerivedOutcome) -> DerivedOutcome:
    """Prefer the dispatch record in the state over the job's config for the link."""
    link = state_recommendations.find_recommendation_by_job(store, outcome.job_id)
    if link is None:
        return outcome
    return outcome.model_copy(
        update={
            "recommendation_id": link.recommendation_id,
            "query_id": link.query_id,
            "rank": link.rank,
        }
    )


# --------------------------------------------------------------------------------------------
# Datasets
# --------------------------------------------------------------------------------------------


def _dataset_record(dataset: PlatformDataset) -> DatasetRecord:
    return DatasetRecord(
        id=dataset.id,
        name=dataset.name or dataset.id,
        version=dataset.version,
        format=dataset.format or None,
        description=dataset.description,
        status=dataset.status or None,
        total_size_bytes=max(0, dataset.total_size_bytes),
        created_at=dataset.created_at,
        origin=DatasetOrigin.PLATFORM,
        metadata=dict(dataset.metadata),
    )


def _file_records(dataset_id: str, files: Iterable[DatasetFile]) -> list[DatasetFileRecord]:
    newest: dict[str, DatasetFile] = {}
    for file in files:
        current = newest.get(file.path)
        if current is None or file.id > current.id:
            newest[file.path] = file
    return [
        DatasetFileRecord(
            dataset_id=dataset_id,
            path=file.path,
            sha256=file.sha256 or None,
            size_bytes=max(0, file.size_bytes),
            num_records=file.num_records if file.num_records and file.num_records > 0 else None,
        )
        for file in sorted(newest.values(), key=lambda f: f.path)
    ]


def _sync_datasets(ctx: _Context) -> PartReport:
    listed = ctx.client.list_datasets()
    report = PartReport(part="datasets", fetched=len(listed))
    fetched: list[tuple[PlatformDataset, list[DatasetFileRecord]]] = []
    for index, dataset in enumerate(listed, start=1):
        ctx.progress("datasets", f"files of {dataset.id} ({index}/{len(listed)})")
        try:
            platform_files = ctx.client.dataset_files(dataset.id)
        except PlatformResponseError as exc:
            if exc.status_code != 404:
                raise
            report.warnings.append(f"dataset {dataset.id} disappeared during the sync; skipped")
            continue
        fetched.append((dataset, _file_records(dataset.id, platform_files)))

    store = ctx.store
    files_written = 0
    changed: set[str] = set()
    with store.transaction():
        stored = {
            d.id: d for d in state_datasets.list_datasets(store, origin=DatasetOrigin.PLATFORM)
        }
        for dataset, files in fetched:
            if state_datasets.upsert_dataset(store, _dataset_record(dataset), synced_at=ctx.now):
                changed.add(dataset.id)
            written = state_datasets.replace_dataset_files(store, dataset.id, files)
            if written:
                changed.add(dataset.id)
                files_written += written
        present = {dataset.id for dataset, _ in fetched}
        gone = [dataset_id for dataset_id in stored if dataset_id not in present]
        for dataset_id in gone:
            state_datasets.delete_dataset(store, dataset_id)
    report.details["files"] = sum(len(files) for _, files in fetched)
    report.related_written = files_written
    report.added = len(present - set(stored))
    report.updated = len(changed & set(stored))
    report.removed = len(gone)
    report.unchanged = len(present) - report.added - report.updated
    return report


# --------------------------------------------------------------------------------------------
# Budgets
# --------------------------------------------------------------------------------------------


def _budget_record(budget: Budget) -> BudgetRecord:
    return BudgetRecord(
        id=budget.id,
        scope=budget.scope,
        scope_value=budget.scope_value,
        period=budget.period,
        limit_eur=budget.limit_eur,
        alert_threshold_pct=budget.alert_threshold_pct,
        enabled=budget.enabled,
        created_at=budget.created_at,
    )


def _spending_record(spending: BudgetSpending, fetched_at: datetime) -> BudgetSpendingRecord:
    return BudgetSpendingRecord(
        scope=spending.scope,
        scope_value=spending.scope_value,
        period=spending.period,
        spent_eur=spending.spent_eur,
        limit_eur=spending.limit_eur,
        pct_used=spending.pct_used,
        alerts=tuple(alert.model_dump(mode="json") for alert in spending.alerts),
        fetched_at=fetched_at,
    )


def _sync_budgets(ctx: _Context) -> PartReport:
    budgets = ctx.client.list_budgets(enabled_only=False)
    scopes = sorted({(b.scope, b.scope_value) for b in budgets if b.enabled})
    spending: list[BudgetSpending] = []
    for scope, value in scopes:
        spending.extend(ctx.client.budget_spending(scope, value))
    report = PartReport(part="budgets", fetched=len(budgets))
    store = ctx.store
    with store.transaction():
        before = {b.id for b in state_budgets.list_budgets(store)}
        written = state_budgets.replace_budgets(
            store, (_budget_record(b) for b in budgets), synced_at=ctx.now
        )
        report.details["spending"] = len(spending)
        report.related_written = state_budgets.replace_budget_spending(
            store, (_spending_record(s, ctx.now) for s in spending)
        )
    _split_counts(report, before, [b.id for b in budgets], written)
    return report


_PARTS: Mapping[str, Callable[[_Context], PartReport]] = {
    "catalog": _sync_catalog,
    "jobs": _sync_jobs,
    "datasets": _sync_datasets,
    "budgets": _sync_budgets,
}
