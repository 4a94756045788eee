"""Where the dashboard's data comes from: the ``DashboardData`` protocol and its state provider.

Decisions:

* **One method per view**, each returning the view models of ``tui.view_models``; the Textual
  code calls these from worker threads and never touches the libraries itself.
* **Same calls as the CLI.** ``StateDashboardData`` calls the functions the CLI commands call
  (``build_status``, the state repositories, the cost analyzer and the storage optimizer), so
  the dashboard, the terminal tables and the JSON output show the same numbers.
* **Read-only.** The state is opened through a read-only ``Workspace``; a missing state is
  shown as empty views, never created. ``--demo`` builds a throwaway state in a temporary
  directory that is deleted when the dashboard closes (``tui.demo_setup``).
* **Mapping apart.** Turning library results into view models is ``tui.mappers`` (pure
  functions); this module only loads and calls.
* **A fixed clock** (``now``) can be given so that windows such as "the last 30 days" are
  reproducible in tests and in demo mode (whose history ends when it was simulated).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from artenic_opt.errors import InfeasibleError, NotFoundError
from artenic_opt.schemas import (
    SpendRecord,
    StorageAdvice,
    WorkloadProfile,
)
from artenic_opt.services.cost import load_history, make_analyzer
from artenic_opt.services.storage import storage_recommendations

# Everything the provider calls is imported here, on the thread that imports this module: the
# views' workers call the provider from several threads at once, and first imports racing in
# threads through the state package's circular imports can meet half-initialised modules.
from artenic_opt.services.workload_reader import build_workload, read_workload_file
from artenic_opt.state.outcomes import list_outcomes
from artenic_opt.state.recommendations import get_recommendation, list_recommendations
from artenic_opt.state.store import StateStore
from artenic_opt.status import build_status
from artenic_opt.tui.mappers import (
    cost_trend_data,
    providers_data,
    recommendation_detail,
    recommendation_row,
    savings_card,
    status_card,
    storage_row,
    trend_period,
)
from artenic_opt.tui.view_models import (
    CostTrendData,
    DashboardSnapshot,
    OverviewData,
    ProvidersData,
    RecommendationDetail,
    RecommendationRow,
    StorageRow,
    WorkloadChoice,
)
from artenic_opt.types import Period
from artenic_opt.workspace import Workspace

if TYPE_CHECKING:
    from artenic_opt.cost_analyzer.analyzer import CostAnalyzer


class DashboardData(Protocol):
    """What the dashboard asks for; every method may raise ``ArtenicOptError``."""

    @property
    def source(self) -> str:
        """Where the data comes from, for the title bar (a state path, or the demo)."""
        ...

    def overview(self) -> OverviewData: ...

    def recommendations(self) -> list[RecommendationRow]: ...

    def recommendation_detail(self, recommendation_id: str) -> RecommendationDetail: ...

    def workloads(self) -> list[WorkloadChoice]: ...

    def providers(self, workload_key: str) -> ProvidersData: ...

    def storage(self) -> list[StorageRow]: ...

    def cost_trends(self) -> CostTrendData: ...

    def refresh(self) -> None:
        """Let the next loads read the data as it is now (``r``), not as it was first opened."""
        ...

    def close(self) -> None: ...


# --------------------------------------------------------------------------------------------
# The state provider
# --------------------------------------------------------------------------------------------

#: How far back the savings report and the cost trends look, as ``cost savings`` does by default.
SAVINGS_PERIOD = "90d"
#: How many stored recommendations the history view loads (newest first).
HISTORY_LIMIT = 1000
#: How many distinct workloads from the history the providers view offers besides the examples.
HISTORY_WORKLOADS = 8


def examples_dir() -> Path | None:
    """The ``examples/`` folder of a source checkout, when there is one."""
    candidate = Path(__file__).resolve().parents[2] / "examples"
    return candidate if candidate.is_dir() else None


class StateDashboardData:
    """``DashboardData`` read from a state database (read-only) and the catalog.

    Thread-safe: the views call it from several worker threads at once. The store serialises
    its own queries; the lazily built workspace pieces (settings, catalog, analyzer) are built
    under one lock.
    """

    def __init__(
        self,
        workspace: Workspace,
        *,
        source: str | None = None,
        now: datetime | None = None,
        examples: Path | None = None,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        self._workspace = workspace
        self._source = source or str(workspace.state_path)
        self._now = now
        self._examples = examples if examples is not None else examples_dir()
        self._on_close = on_close
        self._lock = threading.RLock()
        self._analyzer: CostAnalyzer | None = None

    # -- plumbing -----------------------------------------------------------------------------

    @property
    def source(self) -> str:
        return self._source

    @property
    def now(self) -> datetime:
        return self._now or datetime.now(UTC)

    def _store(self) -> StateStore | None:
        """The state, or None when there is no state file yet (the workspace is read-only, so
        looking never migrates, creates or locks the user's state)."""
        return self._workspace.existing_store()

    def _cost_analyzer(self) -> CostAnalyzer:
        with self._lock:
            if self._analyzer is None:
                self._store()
                self._analyzer = make_analyzer(
                    self._workspace.catalog(),
                    self._workspace.settings.optimizer.display_currency,
                    self._workspace.rates(),
                )
            return self._analyzer

    def refresh(self) -> None:
        """Read the state afresh from now on: a new read-only workspace over the same options.

        An open SQLite connection keeps reading the file it opened, even once that file is
        deleted or replaced, so reusing it showed a deleted history (next to a status card that
        looks at the path and said "0 samples") or hid that the file is no longer a state. A new
        workspace also sees catalog imports and settings changed since the dashboard opened.
        """
        with self._lock:
            previous = self._workspace
            self._workspace = Workspace(
                previous.options, read_only=previous.read_only, reader=previous.reader
            )
            self._analyzer = None
        previous.close()

    def close(self) -> None:
        with self._lock:
            self._workspace.close()
            if self._on_close is not None:
                self._on_close()
                self._on_close = None

    # -- views --------------------------------------------------------------------------------

    def overview(self) -> OverviewData:

        with self._lock:
            self._store()
            self._workspace.catalog()
        status = build_status(self._workspace, probe_platform=True)
        report = self._cost_analyzer().savings_opportunity(
            self._spend_records(), SAVINGS_PERIOD, now=self.now
        )
        return OverviewData(status=status_card(status, self.source), savings=savings_card(report))

    def recommendations(self) -> list[RecommendationRow]:

        store = self._store()
        if store is None:
            return []
        return [recommendation_row(s) for s in list_recommendations(store, limit=HISTORY_LIMIT)]

    def recommendation_detail(self, recommendation_id: str) -> RecommendationDetail:

        store = self._store()
        if store is None:
            raise NotFoundError(f"recommendation {recommendation_id}: there is no state yet")
        advice = get_recommendation(store, recommendation_id)
        outcomes = list_outcomes(store, recommendation_id=advice.recommendation_id)
        return recommendation_detail(advice, outcomes)

    def workloads(self) -> list[WorkloadChoice]:
        choices = [
            WorkloadChoice(key=f"example:{path.name}", label=f"{name} (example)")
            for path, name in self._example_files()
        ]
        store = self._store()
        if store is not None:
            seen: set[str] = set()
            for summary in list_recommendations(store, limit=200):
                if summary.query_id in seen or len(seen) >= HISTORY_WORKLOADS:
                    continue
                seen.add(summary.query_id)
                choices.append(
                    WorkloadChoice(
                        key=f"history:{summary.recommendation_id}",
                        label=f"{summary.workload_name} (history)",
                    )
                )
        return choices

    def providers(self, workload_key: str) -> ProvidersData:
        workload = self._workload(workload_key)
        return providers_data(self._cost_analyzer().compare_providers(workload))

    def storage(self) -> list[StorageRow]:
        advice = self._storage_advice()
        return [storage_row(a) for a in advice]

    def cost_trends(self) -> CostTrendData:
        analyzer = self._cost_analyzer()
        records = self._spend_records()
        now = self.now
        period = trend_period(records, now)
        summary = analyzer.spending_summary(records, period, "provider", now=now)
        bucket = Period(summary.bucket)
        per_provider = {
            group.key: analyzer.spending_summary(
                [r for r in records if r.provider == group.key],
                period,
                "provider",
                bucket=bucket,
                now=now,
            )
            for group in summary.groups
        }
        return cost_trend_data(summary, per_provider)

    # -- inputs -------------------------------------------------------------------------------

    def _example_files(self) -> list[tuple[Path, str]]:
        if self._examples is None:
            return []

        found: list[tuple[Path, str]] = []
        for path in sorted(self._examples.iterdir()):
            if path.suffix.lower() not in (".toml", ".json"):
                continue
            name = str(read_workload_file(str(path)).get("name") or path.stem)
            found.append((path, name))
        return found

    def _workload(self, key: str) -> WorkloadProfile:
        kind, _, ref = key.partition(":")
        if kind == "example" and self._examples is not None:
            return build_workload(str(self._examples / ref), {})
        if kind == "history":
            store = self._store()
            if store is not None:
                return get_recommendation(store, ref).workload
        raise NotFoundError(f"workload {key!r} is neither an example nor in the history")

    def _spend_records(self) -> list[SpendRecord]:

        store = self._store()
        if store is None:
            return []
        return load_history(store, self._workspace.rates())

    def _storage_advice(self) -> list[StorageAdvice]:
        store = self._store()
        if store is None:
            return []
        return storage_advice(store, self._workspace, now=self.now)


# --------------------------------------------------------------------------------------------
# Loading library inputs from the state
# --------------------------------------------------------------------------------------------


def storage_advice(
    store: StateStore, workspace: Workspace, *, now: datetime
) -> list[StorageAdvice]:
    """What ``storage recommendations`` shows, computed read-only at the dashboard's clock (no
    re-scan of local folders, no file reads), so that a fixed ``now`` gives reproducible tiers."""
    return storage_recommendations(
        store,
        workspace.catalog(),
        provider=workspace.settings.optimizer.storage_provider,
        now=now,
        read_only=True,
    )


def dashboard_snapshot(data: DashboardData) -> DashboardSnapshot:
    """Every view's data in one object; the providers view uses the first workload offered.

    A workload that nothing can run (``InfeasibleError``) is reported in ``providers_error``
    rather than failing the whole snapshot, as the providers view shows it in place.
    """
    workloads = data.workloads()
    providers: ProvidersData | None = None
    providers_error: str | None = None
    if workloads:
        try:
            providers = data.providers(workloads[0].key)
        except InfeasibleError as exc:
            providers_error = str(exc)
    return DashboardSnapshot(
        source=data.source,
        overview=data.overview(),
        recommendations=tuple(data.recommendations()),
        workloads=tuple(workloads),
        providers=providers,
        providers_error=providers_error,
        storage=tuple(data.storage()),
        cost_trends=data.cost_trends(),
    )
