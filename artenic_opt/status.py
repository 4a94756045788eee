"""Builds ``OptimizerStatus``: the facts ``status`` and the dashboard's overview card show."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from artenic_opt._version import __version__
from artenic_opt.schemas import OptimizerStatus
from artenic_opt.types import OptimizerMode

if TYPE_CHECKING:
    from artenic_opt.workspace import Workspace


def build_status(workspace: Workspace, *, probe_platform: bool = True) -> OptimizerStatus:
    settings = workspace.settings
    catalog = workspace.catalog()
    warnings: list[str] = []
    date_range = catalog.price_date_range
    oldest, newest = date_range if date_range else (None, None)
    if oldest is not None:
        age_days = (datetime.now(UTC).date() - oldest).days
        if age_days > settings.optimizer.max_price_age_days:
            warnings.append(
                f"some catalog prices are {age_days} days old (limit "
                f"{settings.optimizer.max_price_age_days}); run `sync` or `catalog import`"
            )

    schema_version = 0
    recommendations = outcomes = samples = 0
    model = None
    last_sync: datetime | None = None
    jobs = datasets = budgets = 0
    if workspace.has_state():
        from artenic_opt import state

        store = workspace.store()
        schema_version = store.schema_version
        recommendations = state.count_recommendations(store)
        outcomes = state.count_outcomes(store)
        samples = state.count_training_samples(store)
        model = state.active_model(store)
        last_sync = state.last_sync_at(store)
        jobs = state.count_platform_jobs(store)
        datasets = len(state.list_datasets(store))
        budgets = len(state.list_budgets(store))
    else:
        from artenic_opt.state.migrations import LATEST_VERSION

        schema_version = LATEST_VERSION

    mode = settings.optimizer.mode
    effective = mode
    if mode is OptimizerMode.AUTO:
        effective = OptimizerMode.HYBRID if model is not None else OptimizerMode.HEURISTIC
    elif mode in (OptimizerMode.LTR, OptimizerMode.HYBRID) and model is None:
        effective = OptimizerMode.HEURISTIC
        warnings.append(f"mode {mode.value} needs a trained model; ranking falls back to heuristic")

    reachable: bool | None = None
    platform = settings.platform
    if platform.configured and probe_platform:
        reachable = _probe(workspace)
        if not reachable:
            warnings.append(f"platform {platform.url} did not answer; working offline")

    return OptimizerStatus(
        version=__version__,
        state_path=str(workspace.state_path),
        schema_version=schema_version,
        mode=mode,
        effective_mode=effective,
        display_currency=settings.optimizer.display_currency,
        catalog_offerings=len(catalog.offerings),
        catalog_providers=len(catalog.providers),
        catalog_gpu_types=len({o.gpu_type for o in catalog.offerings if o.gpu_type}),
        catalog_price_date_oldest=oldest,
        catalog_price_date_newest=newest,
        recommendations=recommendations,
        outcomes=outcomes,
        training_samples=samples,
        model=model,
        platform_url=platform.url,
        platform_configured=platform.configured,
        platform_reachable=reachable,
        last_sync_at=last_sync,
        data_age_hours=(
            round((datetime.now(UTC) - last_sync).total_seconds() / 3600, 2) if last_sync else None
        ),
        platform_jobs=jobs,
        datasets=datasets,
        budgets=budgets,
        warnings=tuple(warnings),
    )


def _probe(workspace: Workspace) -> bool:
    from artenic_opt.errors import PlatformError
    from artenic_opt.platform.client import PlatformClient

    platform = workspace.settings.platform
    client = PlatformClient(
        platform.url,
        api_key=platform.api_key.get_secret_value() if platform.api_key else None,
        timeout=min(platform.timeout_s, 5.0),
        max_retries=0,
    )
    try:
        client.health_ready()
    except PlatformError:
        return False
    finally:
        client.close()
    return True
