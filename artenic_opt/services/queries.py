"""Read-only documents that several front ends serve: catalog listings and GPU prices.

``catalog list`` / ``catalog gpus`` and the ``serve`` routes ``/catalog`` and ``/catalog/gpus``
call these, so the CLI's ``--json`` and the HTTP response are the same document.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from artenic_opt.errors import InfeasibleError

if TYPE_CHECKING:
    from artenic_opt._internal.money import ExchangeRates
    from artenic_opt.catalog import Catalog, GpuPriceRow
    from artenic_opt.schemas import Offering


def catalog_offerings(
    catalog: Catalog,
    rates: ExchangeRates,
    *,
    gpu: str | None = None,
    provider: str | None = None,
    region: str | None = None,
    min_gpu_memory_gb: float | None = None,
    spot_only: bool = False,
    limit: int | None = None,
) -> list[Offering]:
    """Offerings matching every filter, cheapest first; ``InfeasibleError`` names the filters
    when nothing matches."""
    from artenic_opt.catalog import filter_offerings

    gpu_type = gpu or None
    rows = filter_offerings(
        catalog,
        gpu=gpu_type,
        provider=provider,
        region=region,
        min_gpu_memory_gb=min_gpu_memory_gb,
        spot_only=spot_only,
        rates=rates,
    )
    if not rows:
        filters = {
            "--gpu": gpu_type,
            "--provider": provider,
            "--region": region,
            "--min-gpu-memory": min_gpu_memory_gb,
            "--spot": True if spot_only else None,
        }
        given = ", ".join(f"{k} {v}" for k, v in filters.items() if v is not None)
        raise InfeasibleError(f"no offering matches {given}")
    return rows if limit is None else rows[:limit]


def gpu_prices(
    catalog: Catalog, rates: ExchangeRates, *, gpu: str | None = None, provider: str | None = None
) -> list[GpuPriceRow]:
    """Cheapest price per GPU-hour by GPU type, count and provider; ``InfeasibleError`` names the
    filters when nothing matches (as ``catalog_offerings`` does)."""
    from artenic_opt.catalog import gpu_price_summary

    rows = gpu_price_summary(
        catalog,
        gpu=gpu or None,
        provider=provider,
        rates=rates,
    )
    if not rows:
        filters = {"--gpu": gpu or None, "--provider": provider}
        given = ", ".join(f"{k} {v}" for k, v in filters.items() if v is not None)
        raise InfeasibleError(f"no GPU offering matches {given}" if given else "no GPU offering")
    return rows
