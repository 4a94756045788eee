"""Platform use cases: ``sync`` into the state and ``dispatch`` of a recommended offering.

* The client uses the shared connection settings. ``sync`` and ``dispatch`` talk to the platform
  even when none is configured explicitly (the default URL, as the platform CLI does); a platform
  that does not answer is exit 3.
* Outcomes that ``sync`` derives from finished jobs go through ``services.training.
  record_outcome`` when the job came from one of our recommendations (so the LTR model learns
  from platform jobs); other jobs' outcomes are stored unlinked, for spending history.
* Dispatch sends the offering's instance type, region and spot flag, a ``max_runtime_hours`` of
  the estimate plus ``RUNTIME_MARGIN`` (at least ``MIN_RUNTIME_HOURS``), the workload spec, and a
  ``config`` carrying the recommendation id, query id and rank; the job id is stored with the
  recommendation so that the outcome links back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from pydantic import ValidationError

from artenic_opt.catalog import normalize_gpu_type_or_none
from artenic_opt.errors import InvalidInputError, PlatformNotConfiguredError
from artenic_opt.platform.models import PlatformJob
from artenic_opt.platform.sync import SyncReport, sync
from artenic_opt.platform.translation import DerivedOutcome, dispatch_config, make_gpu_lookup
from artenic_opt.schemas import DispatchResult, JobOutcome, format_validation_error
from artenic_opt.services.training import maybe_retrain, record_outcome, stored_advice
from artenic_opt.state import UNLINKED, insert_outcome, set_dispatch
from artenic_opt.types import OutcomeSource

if TYPE_CHECKING:
    from artenic_opt._internal.money import ExchangeRates
    from artenic_opt.catalog import Catalog
    from artenic_opt.config import Settings
    from artenic_opt.platform.client import PlatformClient
    from artenic_opt.state.store import StateStore

RUNTIME_MARGIN = 1.5
MIN_RUNTIME_HOURS = 1.0
SYNC_PARTS = ("catalog", "jobs", "datasets", "budgets")


def require_platform(settings: Settings) -> None:
    """Refuse at once, before any work, when no platform URL was configured.

    The README promises that no command touches the network unless a platform is configured;
    the built-in default URL (``http://localhost:9000``) is a default, not a configuration.
    """
    if settings.platform.url_source == "default":
        raise PlatformNotConfiguredError(
            "no platform configured: set ARTENIC_URL, give --url, or add a url to a profile "
            f"of {settings.platform_config_path}"
        )


def make_client(settings: Settings) -> PlatformClient:
    from artenic_opt.platform.client import PlatformClient

    platform = settings.platform
    require_platform(settings)
    return PlatformClient(
        platform.url,
        api_key=platform.api_key.get_secret_value() if platform.api_key else None,
        timeout=platform.timeout_s,
    )


def run_sync(
    store: StateStore,
    catalog: Catalog,
    settings: Settings,
    rates: ExchangeRates,
    *,
    only: set[str] | None = None,
    on_progress: Callable[[str, str], None] | None = None,
) -> SyncReport:
    unknown = sorted((only or set()) - set(SYNC_PARTS))
    if unknown:
        raise InvalidInputError(
            f"--only: unknown part {', '.join(unknown)}; choose from {', '.join(SYNC_PARTS)}"
        )

    def on_outcome(derived: DerivedOutcome, _job: PlatformJob) -> None:
        try:
            record(derived)
        except ValidationError as exc:
            # Numbers no run can have (a cost of 1e308 EUR, a duration of 1e300 s): the job is
            # left out with a warning, and the sync goes on (``sync`` names the job).
            raise InvalidInputError(f"not recorded: {format_validation_error(exc)}") from None

    def record(derived: DerivedOutcome) -> None:
        linked = derived.to_job_outcome()
        if linked is not None:
            record_outcome(store, settings, linked, rates=rates, auto_retrain=False)
            return
        unlinked = JobOutcome(
            recommendation_id=UNLINKED,
            rank=1,
            status=derived.status,
            hours=derived.hours,
            cost=derived.cost_eur or 0.0,
            currency=derived.currency,
            source=OutcomeSource.PLATFORM,
            job_id=derived.job_id,
            metric_higher_is_better=derived.metric_higher_is_better,
            **({"recorded_at": derived.completed_at} if derived.completed_at else {}),
        )
        with store.transaction():
            insert_outcome(
                store,
                unlinked,
                provider=derived.provider,
                region=derived.region or "",
                instance_type=derived.instance_type or "",
                spot=derived.is_spot,
                label=None,
            )

    with make_client(settings) as client:
        report = sync(
            store,
            client,
            only=only,
            catalog_lookup=make_gpu_lookup(normalize_gpu_type_or_none, catalog.gpu_specs),
            on_progress=on_progress,
            on_outcome=on_outcome,
            currencies=set(rates),
        )
    if report.outcomes_recorded:
        maybe_retrain(store, settings)
    return report


def dispatch_recommendation(
    store: StateStore,
    settings: Settings,
    recommendation_id: str,
    rank: int,
    *,
    service: str,
    model: str,
    provider: str | None = None,
) -> DispatchResult:
    require_platform(settings)
    advice = stored_advice(store, recommendation_id)
    if not 1 <= rank <= len(advice.recommendations):
        raise InvalidInputError(
            f"--rank: recommendation {advice.recommendation_id[:12]} has ranks 1 to "
            f"{len(advice.recommendations)}"
        )
    rec = advice.recommendations[rank - 1]
    max_hours = max(MIN_RUNTIME_HOURS, rec.estimated_hours * RUNTIME_MARGIN)
    config = dispatch_config(advice.recommendation_id, advice.query_id, rank)
    config.update({"nodes": rec.nodes, "provider_offering": rec.offering.provider})
    with make_client(settings) as client:
        job_id = client.dispatch(
            service=service,
            model=model,
            provider=provider or rec.offering.provider.lower(),
            config=config,
            instance_type=rec.offering.instance_type,
            region=rec.offering.region,
            is_spot=rec.spot,
            max_runtime_hours=round(max_hours, 3),
            workload_spec=advice.workload.model_dump(mode="json"),
        )
    with store.transaction():
        set_dispatch(store, advice.recommendation_id, rank, job_id)
    return DispatchResult(
        recommendation_id=advice.recommendation_id,
        rank=rank,
        job_id=job_id,
        instance_type=rec.offering.instance_type,
        region=rec.offering.region,
        spot=rec.spot,
        max_runtime_hours=round(max_hours, 3),
    )
