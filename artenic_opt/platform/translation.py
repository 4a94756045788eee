"""The pure mapping from platform records (``models``) to the optimizer's own shapes.

Decisions:

* ``catalog_row_to_offering`` turns one ``CatalogComputeFlavor`` into an ``Offering`` (§3.4): rows
  without a positive price are skipped; ``spot_price_per_hour`` is ``None`` (the catalog never
  carries spot prices); the GPU type is resolved through a caller-supplied lookup (our GPU spec
  table), which also gives ``gpu_memory_gb``; a GPU row whose type the lookup does not know is
  skipped, because the estimator cannot size a workload on an unknown accelerator. The AWS quirk
  (``gpu_count`` always 1) is corrected only for instance types whose GPU count AWS documents, and
  the GCP quirk (count read from the vCPU suffix) only for the documented a2/a3/g2 shapes.
  Azure's crude GPU mapping is left alone: nothing in the row says what is right.
* Provider ids become the provider names the embedded catalog uses (``aws`` -> ``AWS``,
  ``ovh`` -> ``OVHcloud``, ``vastai`` -> ``Vast.ai``...), so that a synced row can replace the
  embedded row of the same provider, region and instance type; ``source`` keeps the platform id
  (``platform:<provider_id>``).
* Empty regions get a provider default where the contract says where the prices come from
  (Scaleway ``fr-par-1``, GCP ``us``, AWS ``EU (Ireland)`` = ``eu-west-1``), else ``global``.
* ``catalog_tier_to_storage_price`` maps a storage tier onto our ``StoragePrice``; the access
  tier is read from the tier name (Standard -> hot; Nearline, Cool, Infrequent Access -> warm;
  Coldline, Cold, Glacier, Archive -> cold), as the embedded storage table files them.
* ``derive_outcome`` builds ground truth from a final job as contract §4.7 prescribes, and reads
  back the recommendation link that dispatch put into the job's ``config``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from artenic_opt.platform.gpu_counts import corrected_gpu_count
from artenic_opt.platform.models import CatalogComputeFlavor, CatalogStorageTier, PlatformJob
from artenic_opt.schemas import GpuSpec, JobOutcome, Offering, StoragePrice
from artenic_opt.types import JobStatus, OutcomeSource

#: Keys that dispatch writes into a job's ``config`` so that sync can link the outcome back.
CONFIG_RECOMMENDATION_ID = "artenic_opt_recommendation_id"
CONFIG_QUERY_ID = "artenic_opt_query_id"
CONFIG_RANK = "artenic_opt_rank"

#: Order in which the platform's own outcome writer looks for a primary metric (§4.7).
PRIMARY_METRIC_KEYS: tuple[str, ...] = ("accuracy", "f1", "loss", "rmse", "mae")
_HIGHER_IS_BETTER = frozenset({"accuracy", "f1"})

#: Region given to catalog rows whose provider does not say where the price applies.
UNSPECIFIED_REGION = "global"

#: Resolves a platform GPU label (``"A100"``, ``"RTX 4090"``) to our spec, or ``None``.
GpuLookup = Callable[[str], GpuSpec | None]

# --------------------------------------------------------------------------------------------
# Outcomes derived from jobs (§4.7)
# --------------------------------------------------------------------------------------------


class DerivedOutcome(BaseModel):
    """What a final platform job tells about the offering it ran on.

    ``recommendation_id``/``query_id``/``rank`` are present only when the job was dispatched by
    artenic-opt (they come from the job's ``config``). ``hours_source`` says where ``hours`` came
    from: ``duration_seconds``, ``timestamps`` (completed_at - started_at) or ``unknown`` (0.0,
    as the platform's own outcome writer does).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    job_id: str
    status: JobStatus
    success: bool
    hours: float = Field(ge=0)
    hours_source: str
    cost_eur: float | None = Field(default=None, ge=0)
    currency: str = "EUR"
    predicted_cost_eur: float | None = None
    primary_metric_name: str | None = None
    primary_metric_value: float | None = None
    metric_higher_is_better: bool = True
    provider: str
    instance_type: str | None = None
    region: str | None = None
    is_spot: bool = False
    recommendation_id: str | None = None
    query_id: str | None = None
    rank: int | None = Field(default=None, ge=1)
    completed_at: datetime | None = None

    @property
    def is_linked(self) -> bool:
        """Whether this outcome can be attached to a recommendation of ours."""
        return self.recommendation_id is not None and self.rank is not None

    def to_job_outcome(self) -> JobOutcome | None:
        """The ``JobOutcome`` the feedback path records, or ``None`` when not linked.

        An unknown actual cost reads as 0.0, as in the platform's own outcome writer (§5.1). The
        platform reports one metric value (after training), not a before/after pair, so the
        metric fields of ``JobOutcome`` stay empty.
        """
        if self.recommendation_id is None or self.rank is None:
            return None
        return JobOutcome(
            recommendation_id=self.recommendation_id,
            rank=self.rank,
            status=self.status,
            hours=self.hours,
            cost=self.cost_eur if self.cost_eur is not None else 0.0,
            currency=self.currency,
            source=OutcomeSource.PLATFORM,
            job_id=self.job_id,
            metric_higher_is_better=self.metric_higher_is_better,
            recorded_at=self.completed_at or datetime.now(UTC),
        )


def dispatch_config(
    recommendation_id: str,
    query_id: str,
    rank: int,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``config`` to send at dispatch so that ``derive_outcome`` can link the job back."""
    config: dict[str, Any] = dict(extra or {})
    config[CONFIG_RECOMMENDATION_ID] = recommendation_id
    config[CONFIG_QUERY_ID] = query_id
    config[CONFIG_RANK] = rank
    return config


def _config_text(config: Mapping[str, Any], key: str) -> str | None:
    value = config.get(key)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _config_rank(config: Mapping[str, Any]) -> int | None:
    value = config.get(CONFIG_RANK)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 1 else None
    if isinstance(value, float) and value.is_integer() and value >= 1:
        return int(value)
    if isinstance(value, str) and value.strip().isdigit() and int(value) >= 1:
        return int(value)
    return None


def _finite_number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def primary_metric(metrics: Mapping[str, Any] | None) -> tuple[str, float] | None:
    """The first numeric metric among ``accuracy, f1, loss, rmse, mae`` (§4.7)."""
    if not metrics:
        return None
    for key in PRIMARY_METRIC_KEYS:
        value = _finite_number(metrics.get(key))
        if value is not None:
            return key, value
    return None


#: Job statuses that say something about the offering. ``cancelled`` is a user decision, not an
#: outcome of the run, so it yields no outcome.
_OUTCOME_STATUSES = frozenset({JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.PREEMPTED})


def derive_outcome(job: PlatformJob) -> DerivedOutcome | None:
    """Ground truth from a final job (§4.7), or ``None`` while it runs or when it was cancelled."""
    if job.status not in _OUTCOME_STATUSES:
        return None
    hours_source = "unknown"
    hours = 0.0
    duration = _finite_number(job.duration_seconds)
    if duration is not None and duration >= 0:
        hours, hours_source = duration / 3600.0, "duration_seconds"
    elif job.started_at is not None and job.completed_at is not None:
        elapsed = (job.completed_at - job.started_at).total_seconds()
        if elapsed >= 0:
            hours, hours_source = elapsed / 3600.0, "timestamps"
    cost = _finite_number(job.cost_actual_eur)
    if cost is not None and cost < 0:
        cost = None
    metric = primary_metric(job.metrics)
    config = job.config
    return DerivedOutcome(
        job_id=job.id,
        status=job.status,
        success=job.status is JobStatus.COMPLETED,
        hours=hours,
        hours_source=hours_source,
        cost_eur=cost,
        predicted_cost_eur=_finite_number(job.cost_estimate_eur),
        primary_metric_name=metric[0] if metric else None,
        primary_metric_value=metric[1] if metric else None,
        metric_higher_is_better=metric is None or metric[0] in _HIGHER_IS_BETTER,
        provider=job.provider,
        instance_type=job.instance_type,
        region=job.region,
        is_spot=job.is_spot,
        recommendation_id=_config_text(config, CONFIG_RECOMMENDATION_ID),
        query_id=_config_text(config, CONFIG_QUERY_ID),
        rank=_config_rank(config),
        completed_at=job.completed_at,
    )


# --------------------------------------------------------------------------------------------
# Catalog rows -> offerings (§3.4)
# --------------------------------------------------------------------------------------------

#: Platform hub provider id -> provider name used by the embedded catalog.
PROVIDER_NAMES: dict[str, str] = {
    "aws": "AWS",
    "gcp": "GCP",
    "azure": "Azure",
    "ovh": "OVHcloud",
    "scaleway": "Scaleway",
    "vastai": "Vast.ai",
    "infomaniak": "Infomaniak",
}

_DEFAULT_REGIONS = {"scaleway": "fr-par-1", "gcp": "us"}
_REGION_LABELS = {("aws", "EU (Ireland)"): "eu-west-1"}


def make_gpu_lookup(
    normalize: Callable[[str], str | None], specs: Mapping[str, GpuSpec]
) -> GpuLookup:
    """A ``GpuLookup`` from a label normaliser (``catalog.normalize_gpu_type_or_none``) and the
    GPU spec table (``Catalog.gpu_specs``)."""

    def lookup(label: str) -> GpuSpec | None:
        canonical = normalize(label)
        return None if canonical is None else specs.get(canonical)

    return lookup


def offering_provider(provider_id: str) -> str:
    """The provider name an offering made from this platform provider id is filed under."""
    provider_id = provider_id.strip()
    return PROVIDER_NAMES.get(provider_id.casefold(), provider_id)


def offering_region(flavor: CatalogComputeFlavor) -> str:
    """The region an offering made from this row is filed under."""
    region = flavor.region.strip()
    provider_id = flavor.provider_id.strip().casefold()
    if region:
        return _REGION_LABELS.get((provider_id, region), region)
    return _DEFAULT_REGIONS.get(provider_id, UNSPECIFIED_REGION)


def catalog_row_to_offering(
    flavor: CatalogComputeFlavor,
    gpu_lookup: GpuLookup,
    *,
    price_date: date | None = None,
) -> Offering | None:
    """Map one catalog row to an ``Offering``; ``None`` when the row cannot be used.

    Skipped: no positive finite price, an unusable currency, or a GPU row (``gpu_count > 0`` or a
    ``gpu`` category) whose GPU type ``gpu_lookup`` cannot resolve. ``price_date`` is the fetch
    date (the catalog carries none); it defaults to today in UTC.
    """
    price = _finite_number(flavor.price_per_hour)
    if price is None or price <= 0:
        return None
    currency = flavor.currency.strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        return None
    label = (flavor.gpu_type or "").strip()
    gpu_count = corrected_gpu_count(flavor)
    gpu_type: str | None = None
    gpu_memory_gb: float | None = None
    if label or gpu_count > 0:
        spec = gpu_lookup(label) if label else None
        if spec is None:
            return None
        gpu_type, gpu_memory_gb = spec.gpu_type, spec.memory_gb
        # A labelled GPU row with a zero count still has at least one accelerator.
        gpu_count = max(gpu_count, 1)
    try:
        return Offering(
            provider=offering_provider(flavor.provider_id),
            region=offering_region(flavor),
            instance_type=flavor.name.strip(),
            vcpus=flavor.vcpus if flavor.vcpus > 0 else None,
            memory_gb=flavor.memory_gb if flavor.memory_gb > 0 else None,
            gpu_type=gpu_type,
            gpu_count=gpu_count,
            gpu_memory_gb=gpu_memory_gb,
            price_per_hour=price,
            spot_price_per_hour=None,
            currency=currency,
            source=f"platform:{flavor.provider_id.strip()}",
            price_date=price_date or datetime.now(UTC).date(),
        )
    except ValidationError:
        # Out-of-range values (a 0-length name, 2000 GPUs): the row is unusable, not fatal.
        return None


def catalog_rows_to_offerings(
    flavors: Iterable[CatalogComputeFlavor],
    gpu_lookup: GpuLookup,
    *,
    price_date: date | None = None,
) -> tuple[list[Offering], int]:
    """Map and de-duplicate catalog rows; returns the offerings and the number of rows skipped.

    The key is (provider, region, instance type), i.e. the contract's (provider_id, name,
    region) after region normalisation. Duplicates (Vast.ai marketplace offers, OVH) keep the
    cheapest row. Output order is the first appearance of each key.
    """
    chosen: dict[str, Offering] = {}
    skipped = 0
    for flavor in flavors:
        offering = catalog_row_to_offering(flavor, gpu_lookup, price_date=price_date)
        if offering is None:
            skipped += 1
            continue
        key = offering.offering_id
        current = chosen.get(key)
        if current is None or offering.price_per_hour < current.price_per_hour:
            chosen[key] = offering
    return list(chosen.values()), skipped


# --------------------------------------------------------------------------------------------
# Storage tiers -> storage prices (§3.4)
# --------------------------------------------------------------------------------------------

_COLD_WORDS = re.compile(r"archive|glacier|cold")
_WARM_WORDS = re.compile(r"nearline|infrequent|\bia\b|cool|warm")


def storage_access_tier(name: str) -> str:
    """``hot``, ``warm`` or ``cold`` from a storage tier's name."""
    text = name.casefold().replace("-", " ")
    if _COLD_WORDS.search(text):
        return "cold"
    if _WARM_WORDS.search(text):
        return "warm"
    return "hot"


def catalog_tier_to_storage_price(
    tier: CatalogStorageTier, *, price_date: date | None = None
) -> StoragePrice | None:
    """Map one storage catalog row to a ``StoragePrice``; ``None`` without a usable price.

    The platform knows no retrieval fees or minimum storage durations, so those stay 0.
    """
    price = _finite_number(tier.price_per_gb_month)
    if price is None or price <= 0:
        return None
    currency = tier.currency.strip().upper()
    name = tier.name.strip()
    if not name or not re.fullmatch(r"[A-Z]{3}", currency):
        return None
    try:
        return StoragePrice(
            provider=offering_provider(tier.provider_id),
            tier_name=name,
            tier=storage_access_tier(name),
            price_per_gb_month=price,
            currency=currency,
            region=tier.region.strip(),
            source=f"platform:{tier.provider_id.strip()}",
            price_date=price_date or datetime.now(UTC).date(),
        )
    except ValidationError:
        # Out-of-range values (1e308 per GB-month, a 500-character name): unusable, not fatal.
        return None
