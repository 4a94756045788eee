"""Messages the dashboard's workers post when data arrives (or fails to).

Workers run in threads and hand their results to the UI only through these messages, so every
widget update happens on the event loop. Names are events: what happened, not what to do.
"""

from __future__ import annotations

from textual.message import Message

from artenic_opt.tui.data import DashboardData
from artenic_opt.tui.view_models import (
    CostTrendData,
    OverviewData,
    ProvidersData,
    RecommendationDetail,
    RecommendationRow,
    StorageRow,
    WorkloadChoice,
)


class DataSourceReady(Message):
    """The data source is open (for ``--demo``: the simulated state has been built)."""

    def __init__(self, data: DashboardData) -> None:
        super().__init__()
        self.data = data


class DataSourceFailed(Message):
    """The data source could not be opened; ``message`` says why, in one line."""

    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message


class ViewLoadFailed(Message):
    """Loading one view's data failed with a library error (shown in place of the view)."""

    def __init__(self, view: str, message: str) -> None:
        super().__init__()
        self.view = view
        self.message = message


class OverviewLoaded(Message):
    def __init__(self, overview: OverviewData) -> None:
        super().__init__()
        self.overview = overview


class RecommendationsLoaded(Message):
    def __init__(self, rows: list[RecommendationRow]) -> None:
        super().__init__()
        self.rows = rows


class RecommendationDetailLoaded(Message):
    def __init__(self, detail: RecommendationDetail) -> None:
        super().__init__()
        self.detail = detail


class WorkloadsLoaded(Message):
    def __init__(self, workloads: list[WorkloadChoice]) -> None:
        super().__init__()
        self.workloads = workloads


class ProvidersLoaded(Message):
    def __init__(self, providers: ProvidersData) -> None:
        super().__init__()
        self.providers = providers


class StorageLoaded(Message):
    def __init__(self, rows: list[StorageRow]) -> None:
        super().__init__()
        self.rows = rows


class CostTrendsLoaded(Message):
    def __init__(self, trends: CostTrendData) -> None:
        super().__init__()
        self.trends = trends
