"""What ``status`` reports (importable from ``artenic_opt.schemas``; loaded on first use)."""

from datetime import date, datetime

from pydantic import Field

from artenic_opt.schemas import CurrencyCode, _Frozen
from artenic_opt.schemas.feedback import ModelInfo
from artenic_opt.types import OptimizerMode


class OptimizerStatus(_Frozen):
    """What ``status`` reports: where state lives, what is in it, and what the advisor will do."""

    version: str
    state_path: str
    schema_version: int
    mode: OptimizerMode
    effective_mode: OptimizerMode
    display_currency: CurrencyCode
    catalog_offerings: int
    catalog_providers: int
    catalog_gpu_types: int
    catalog_price_date_oldest: date | None
    catalog_price_date_newest: date | None
    recommendations: int = 0
    outcomes: int = 0
    training_samples: int = 0
    model: ModelInfo | None = None
    platform_url: str
    platform_configured: bool
    platform_reachable: bool | None = None
    last_sync_at: datetime | None = None
    data_age_hours: float | None = Field(default=None, description="Hours since the last sync")
    platform_jobs: int = 0
    datasets: int = 0
    budgets: int = 0
    warnings: tuple[str, ...] = ()
    # --- serve (issue 15): a retrain holds the state's retrain lock (any process) ---
    retrain_running: bool = False
