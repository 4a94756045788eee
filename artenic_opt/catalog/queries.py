"""Listing helpers behind ``catalog list`` and ``catalog gpus``.

Decisions:

* Filters work on the catalog's numpy columns (one boolean mask), then the kept offerings are
  sorted by on-demand price, ties broken by provider, region and instance type.
* Prices in different currencies are ordered by their value in USD through an explicit rate
  table (``rates``, the platform reference rate by default). A row whose currency has no rate is
  never compared with a converted one: such rows sort after all convertible rows, by their own
  price. Returned offerings and summary rows keep their own currency; nothing is converted.
* ``min_gpu_memory_gb`` is per GPU (the number a model shard has to fit in). ``gpu="cpu"``
  (or ``"none"``) selects CPU-only offerings.
* ``gpu_price_summary`` groups by (GPU type, GPU count, provider, currency) so a group never
  mixes currencies; it reports the cheapest on-demand row of each group and, separately, the
  cheapest spot price. CPU-only offerings are not part of it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field

from artenic_opt._internal.money import DEFAULT_RATES, PIVOT_CURRENCY, ExchangeRates
from artenic_opt.catalog.gpu_names import gpu_types_matching
from artenic_opt.catalog.loader import Catalog, CatalogArrays
from artenic_opt.errors import CurrencyError, InvalidInputError
from artenic_opt.schemas import Offering

_CPU_WORDS = frozenset({"cpu", "none"})


class GpuPriceRow(BaseModel):
    """Cheapest prices of one GPU type and count at one provider (one line of ``catalog gpus``)."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    gpu_type: str
    gpu_count: int = Field(ge=1)
    provider: str
    gpu_memory_gb: float = Field(ge=0, description="Per GPU; 0.0 when unknown")
    on_demand_per_gpu_hour: float
    on_demand_per_hour: float = Field(description="Whole instance, same row as the GPU-hour price")
    spot_per_gpu_hour: float | None = None
    spot_per_hour: float | None = None
    instance_type: str = Field(description="Instance with the cheapest on-demand price")
    region: str
    spot_instance_type: str | None = None
    spot_region: str | None = None
    currency: str
    offerings: int = Field(ge=1, description="Offerings in this group")


def _usd_sort_prices(
    prices: NDArray[np.float64], currencies: NDArray[np.str_], rates: ExchangeRates
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Prices in USD for ordering, and 0/1 flags putting rows without a rate last."""
    converted = prices.astype(np.float64, copy=True)
    unconvertible = np.zeros(prices.shape, dtype=np.int64)
    for code in np.unique(currencies):
        rows = currencies == code
        try:
            converted[rows] = prices[rows] * rates.factor(str(code), PIVOT_CURRENCY)
        except CurrencyError:
            unconvertible[rows] = 1
    return converted, unconvertible


def _ordered(arrays: CatalogArrays, rows: NDArray[np.int64], rates: ExchangeRates) -> list[int]:
    if rows.size == 0:
        return []
    price, last = _usd_sort_prices(arrays.price_per_hour[rows], arrays.currency[rows], rates)
    keys = (
        arrays.instance_type[rows],
        arrays.region[rows],
        np.char.lower(arrays.provider[rows]),
        price,
        last,
    )
    order = np.lexsort(keys)
    return [int(i) for i in rows[order]]


def _equal_casefold(column: NDArray[np.str_], value: str) -> NDArray[np.bool_]:
    result: NDArray[np.bool_] = np.char.lower(column) == value.strip().lower()
    return result


def _gpu_mask(arrays: CatalogArrays, gpu: str) -> NDArray[np.bool_]:
    if gpu.strip().lower() in _CPU_WORDS:
        cpu: NDArray[np.bool_] = arrays.gpu_count == 0
        return cpu
    same: NDArray[np.bool_] = np.isin(arrays.gpu_type, gpu_types_matching(gpu))
    return same


def filter_offerings(
    catalog: Catalog,
    *,
    gpu: str | None = None,
    provider: str | None = None,
    region: str | None = None,
    min_gpu_memory_gb: float | None = None,
    spot_only: bool = False,
    rates: ExchangeRates = DEFAULT_RATES,
) -> list[Offering]:
    """Offerings matching every given filter, cheapest on-demand price first.

    ``gpu`` is any label ``normalize_gpu_type`` accepts (a family name such as ``"A100"``
    matches all its variants, see ``gpu_types_matching``), or ``"cpu"`` for CPU-only rows;
    ``provider`` and ``region`` match case-insensitively; ``min_gpu_memory_gb`` is per GPU.
    """
    arrays = catalog.arrays
    mask = np.ones(len(arrays), dtype=np.bool_)
    if gpu is not None:
        mask &= _gpu_mask(arrays, gpu)
    if provider is not None:
        mask &= _equal_casefold(arrays.provider, provider)
    if region is not None:
        mask &= _equal_casefold(arrays.region, region)
    if min_gpu_memory_gb is not None:
        if not math.isfinite(min_gpu_memory_gb) or min_gpu_memory_gb < 0:
            raise InvalidInputError(
                f"min_gpu_memory_gb: must be a number of GB of at least 0, not {min_gpu_memory_gb}"
            )
        # NaN (unknown memory) compares False, so rows of unknown size are left out.
        mask &= (arrays.gpu_count > 0) & (arrays.gpu_memory_gb >= min_gpu_memory_gb)
    if spot_only:
        mask &= ~np.isnan(arrays.spot_price_per_hour)
    order = _ordered(arrays, np.flatnonzero(mask), rates)
    return [arrays.offerings[i] for i in order]


def _summary_row(arrays: CatalogArrays, members: Sequence[int]) -> GpuPriceRow:
    # Members are already in price order, so the first one is the cheapest on demand.
    best = members[0]
    count = int(arrays.gpu_count[best])
    spot_rows = [i for i in members if not math.isnan(arrays.spot_price_per_hour[i])]
    spot_best = min(spot_rows, key=lambda i: float(arrays.spot_price_per_hour[i]), default=None)
    memory = float(arrays.gpu_memory_gb[best])
    return GpuPriceRow(
        gpu_type=str(arrays.gpu_type[best]),
        gpu_count=count,
        provider=str(arrays.provider[best]),
        gpu_memory_gb=0.0 if math.isnan(memory) else memory,
        on_demand_per_gpu_hour=float(arrays.price_per_hour[best]) / count,
        on_demand_per_hour=float(arrays.price_per_hour[best]),
        spot_per_gpu_hour=(
            None if spot_best is None else float(arrays.spot_price_per_hour[spot_best]) / count
        ),
        spot_per_hour=None if spot_best is None else float(arrays.spot_price_per_hour[spot_best]),
        instance_type=str(arrays.instance_type[best]),
        region=str(arrays.region[best]),
        spot_instance_type=None if spot_best is None else str(arrays.instance_type[spot_best]),
        spot_region=None if spot_best is None else str(arrays.region[spot_best]),
        currency=str(arrays.currency[best]),
        offerings=len(members),
    )


def gpu_price_summary(
    catalog: Catalog,
    *,
    gpu: str | None = None,
    provider: str | None = None,
    rates: ExchangeRates = DEFAULT_RATES,
) -> list[GpuPriceRow]:
    """Per GPU type, GPU count and provider: the cheapest on-demand and spot prices.

    Sorted by GPU type, then GPU count, then on-demand price per GPU-hour (in USD through
    ``rates`` for ordering only; rows keep their own currency).
    """
    arrays = catalog.arrays
    mask = arrays.gpu_count > 0
    if gpu is not None:
        mask &= _gpu_mask(arrays, gpu)
    if provider is not None:
        mask &= _equal_casefold(arrays.provider, provider)
    groups: dict[tuple[str, int, str, str], list[int]] = {}
    for i in _ordered(arrays, np.flatnonzero(mask), rates):
        key = (
            str(arrays.gpu_type[i]),
            int(arrays.gpu_count[i]),
            str(arrays.provider[i]).casefold(),
            str(arrays.currency[i]),
        )
        groups.setdefault(key, []).append(i)
    rows = [_summary_row(arrays, members) for members in groups.values()]
    if not rows:
        return []
    per_gpu = np.array([r.on_demand_per_gpu_hour for r in rows])
    currencies = np.array([r.currency for r in rows], dtype=np.str_)
    usd, last = _usd_sort_prices(per_gpu, currencies, rates)
    order = sorted(
        range(len(rows)),
        key=lambda k: (
            rows[k].gpu_type,
            rows[k].gpu_count,
            int(last[k]),
            float(usd[k]),
            rows[k].provider.casefold(),
        ),
    )
    return [rows[k] for k in order]
