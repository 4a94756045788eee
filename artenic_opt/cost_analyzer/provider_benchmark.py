"""Providers side by side for one workload: best offering per region, coverage, GPU availability,
and the cost / time Pareto frontier with the cheapest, fastest and balanced picks.

Decisions:

* The benchmark works on a ``CandidateTable``: one row per candidate (an offering, a node count,
  spot or on-demand) with its feasibility, price per hour of all nodes, estimated hours and
  whole-job cost, all in the display currency. ``build_candidate_table`` builds it with the
  training advisor's candidate expansion, estimators and hard filters, so ``cost compare`` and
  ``recommend`` agree on what is feasible, what it costs and, when nothing fits, why.
* *Best per region*: the feasible candidate with the lowest estimated cost; ties go to the
  shorter time, then catalog order, then fewer nodes, then on-demand before spot.
* *GPU availability score* of a provider in a region, in 0..1, from the whole catalog (not the
  workload)::

      score = 0.5 x breadth + 0.3 x scale + 0.2 x spot_share
      breadth    = GPU types offered there / GPU types in the whole catalog
      scale      = min(largest GPU count in one instance / 8, 1)   (8 GPUs: one HGX node)
      spot_share = GPU offerings there with a spot price / GPU offerings there

  Breadth weighs most because the choice of GPU type is what a workload needs first; scale says
  whether big multi-GPU jobs fit on one machine; spot share is the least important, a bonus.
  A region with no GPU offering scores 0.
* *Coverage* of a provider: its regions in the catalog and the share of them where the workload
  has at least one feasible candidate. Providers outside the workload's ``allowed_providers`` are
  left out of coverage and availability, as the workload said it will not use them.
* The frontier, its picks and their tie-breaks are those of ``pareto.pick_frontier``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from artenic_opt._internal.arrays import BoolArray, FloatArray, IntArray, StrArray
from artenic_opt._internal.money import ExchangeRates
from artenic_opt.catalog import CatalogArrays
from artenic_opt.cost_analyzer.pareto import pick_frontier
from artenic_opt.errors import InfeasibleError, InvalidInputError
from artenic_opt.estimate.candidates import build_candidates
from artenic_opt.estimate.pipeline import filter_estimated
from artenic_opt.schemas import (
    CostReport,
    FrontierPoint,
    GpuAvailability,
    Offering,
    ProviderCoverage,
    RegionBenchmark,
    WorkloadProfile,
)

AVAILABILITY_WEIGHTS = {"breadth": 0.5, "scale": 0.3, "spot_share": 0.2}
#: GPUs in one instance that count as full scale (an HGX board: 8 GPUs).
FULL_SCALE_GPUS = 8


@dataclass(frozen=True, eq=False)
class CandidateTable:
    """Estimated candidates of one workload, one entry per candidate, display currency.

    ``offering_index`` points into ``offerings``; ``price_per_hour`` is for all nodes;
    ``provider``, ``gpu_count`` (per node) and ``gpu_memory_gb`` (per GPU) repeat the offering's
    figures per candidate for vectorised selection. ``infeasible_reason`` names the binding
    constraint when no candidate is feasible.
    """

    offerings: tuple[Offering, ...]
    offering_index: IntArray
    nodes: IntArray
    spot: BoolArray
    feasible: BoolArray
    price_per_hour: FloatArray
    estimated_hours: FloatArray
    estimated_cost: FloatArray
    provider: StrArray
    gpu_count: IntArray
    gpu_memory_gb: FloatArray
    currency: str
    infeasible_reason: str | None = None

    def __post_init__(self) -> None:
        size = self.offering_index.shape[0]
        for name in (
            "nodes",
            "spot",
            "feasible",
            "price_per_hour",
            "estimated_hours",
            "estimated_cost",
            "provider",
            "gpu_count",
            "gpu_memory_gb",
        ):
            column = getattr(self, name)
            if column.shape != (size,):
                raise InvalidInputError(
                    f"candidates.{name}: {column.shape[0]} entries for {size} candidates"
                )
        if size and (
            int(self.offering_index.min()) < 0
            or int(self.offering_index.max()) >= len(self.offerings)
        ):
            raise InvalidInputError("candidates.offering_index: points outside the offerings")

    @classmethod
    def from_rows(
        cls,
        offerings: Sequence[Offering],
        *,
        offering_index: npt.ArrayLike,
        nodes: npt.ArrayLike,
        spot: npt.ArrayLike,
        feasible: npt.ArrayLike,
        price_per_hour: npt.ArrayLike,
        estimated_hours: npt.ArrayLike,
        estimated_cost: npt.ArrayLike,
        currency: str,
        infeasible_reason: str | None = None,
    ) -> CandidateTable:
        """A table whose per-candidate offering columns are read from ``offerings``."""
        rows = tuple(offerings)
        index = np.asarray(offering_index, dtype=np.int64).reshape(-1)
        if index.size and (int(index.min()) < 0 or int(index.max()) >= len(rows)):
            raise InvalidInputError("candidates.offering_index: points outside the offerings")
        provider = np.array([o.provider for o in rows], dtype=np.str_)
        gpus = np.array([o.gpu_count for o in rows], dtype=np.int64)
        memory = np.array([o.gpu_memory_gb or 0.0 for o in rows], dtype=np.float64)
        return cls(
            offerings=rows,
            offering_index=index,
            nodes=np.asarray(nodes, dtype=np.int64).reshape(-1),
            spot=np.asarray(spot, dtype=np.bool_).reshape(-1),
            feasible=np.asarray(feasible, dtype=np.bool_).reshape(-1),
            price_per_hour=np.asarray(price_per_hour, dtype=np.float64).reshape(-1),
            estimated_hours=np.asarray(estimated_hours, dtype=np.float64).reshape(-1),
            estimated_cost=np.asarray(estimated_cost, dtype=np.float64).reshape(-1),
            provider=provider[index] if rows else np.zeros(0, dtype=np.str_),
            gpu_count=gpus[index] if rows else np.zeros(0, dtype=np.int64),
            gpu_memory_gb=memory[index] if rows else np.zeros(0, dtype=np.float64),
            currency=currency,
            infeasible_reason=infeasible_reason,
        )

    def __len__(self) -> int:
        return int(self.offering_index.shape[0])

    def offering(self, row: int) -> Offering:
        return self.offerings[int(self.offering_index[row])]

    def candidate_id(self, row: int) -> str:
        kind = "spot" if bool(self.spot[row]) else "on_demand"
        return f"{self.offering(row).offering_id}#{int(self.nodes[row])}#{kind}"

    def usable(self) -> IntArray:
        """Rows that are feasible and have finite, non-negative estimates."""
        ok = (
            self.feasible
            & np.isfinite(self.estimated_cost)
            & np.isfinite(self.estimated_hours)
            & np.isfinite(self.price_per_hour)
            & (self.estimated_cost >= 0)
            & (self.estimated_hours >= 0)
        )
        return np.flatnonzero(ok).astype(np.int64)


def build_candidate_table(
    workload: WorkloadProfile,
    arrays: CatalogArrays,
    *,
    currency: str = "USD",
    rates: ExchangeRates | None = None,
    preemption_rates: Mapping[str, float] | None = None,
    reliability: Mapping[str, float] | None = None,
) -> CandidateTable:
    """Every candidate of ``workload`` on ``arrays``, estimated and filtered like ``recommend``.

    Uses the training advisor's candidate expansion, estimators and hard filters; prices are
    converted to ``currency`` with ``rates`` (``None``: the platform reference table). Raises
    ``InfeasibleError`` naming the binding constraint when no candidate survives the filters.
    Spot candidates carry their expected hours and cost with preemption retries.
    """
    candidates = build_candidates(
        workload,
        arrays,
        currency=currency,
        rates=rates,
        reliability=reliability,
        preemption_rates=preemption_rates,
    )
    front = filter_estimated(workload, candidates)
    estimates, feasible = front.estimates, front.feasible
    return CandidateTable(
        offerings=candidates.offerings,
        offering_index=candidates.offering_index,
        nodes=candidates.nodes,
        spot=candidates.spot,
        feasible=feasible,
        price_per_hour=candidates.price_per_hour * candidates.nodes,
        estimated_hours=estimates.hours,
        estimated_cost=estimates.total_cost,
        provider=candidates.provider,
        gpu_count=candidates.gpu_count,
        gpu_memory_gb=candidates.gpu_memory_gb,
        currency=candidates.currency,
    )


# --------------------------------------------------------------------------------------------
# GPU availability and coverage (catalog only)
# --------------------------------------------------------------------------------------------


def _allowed(provider: str, allowed: Sequence[str]) -> bool:
    return not allowed or provider.casefold() in {p.casefold() for p in allowed}


def gpu_availability(
    arrays: CatalogArrays, *, allowed_providers: Sequence[str] = ()
) -> list[GpuAvailability]:
    """Availability of every (provider, region) of the catalog, best score first."""
    gpu_rows = arrays.gpu_count > 0
    catalog_types = {str(t) for t in arrays.gpu_type[gpu_rows]}
    total_types = max(len(catalog_types), 1)
    keys = sorted(
        {(str(p), str(r)) for p, r in zip(arrays.provider, arrays.region, strict=True)},
        key=lambda k: (k[0].casefold(), k[1]),
    )
    result: list[GpuAvailability] = []
    for provider, region in keys:
        if not _allowed(provider, allowed_providers):
            continue
        here = (arrays.provider == provider) & (arrays.region == region) & gpu_rows
        count = int(np.count_nonzero(here))
        if count == 0:
            result.append(
                GpuAvailability(
                    provider=provider,
                    region=region,
                    gpu_types=(),
                    gpu_configs=(),
                    max_gpus_per_instance=0,
                    gpu_offerings=0,
                    spot_offerings=0,
                    breadth=0.0,
                    scale=0.0,
                    spot_share=0.0,
                    score=0.0,
                )
            )
            continue
        types = sorted({str(t) for t in arrays.gpu_type[here]})
        counts = arrays.gpu_count[here]
        configs = sorted(
            {(str(t), int(n)) for t, n in zip(arrays.gpu_type[here], counts, strict=True)}
        )
        spot = int(np.count_nonzero(~np.isnan(arrays.spot_price_per_hour[here])))
        max_gpus = int(counts.max())
        breadth = len(types) / total_types
        scale = min(max_gpus / FULL_SCALE_GPUS, 1.0)
        spot_share = spot / count
        score = (
            AVAILABILITY_WEIGHTS["breadth"] * breadth
            + AVAILABILITY_WEIGHTS["scale"] * scale
            + AVAILABILITY_WEIGHTS["spot_share"] * spot_share
        )
        result.append(
            GpuAvailability(
                provider=provider,
                region=region,
                gpu_types=tuple(types),
                gpu_configs=tuple(f"{n}x {t}" for t, n in configs),
                max_gpus_per_instance=max_gpus,
                gpu_offerings=count,
                spot_offerings=spot,
                breadth=breadth,
                scale=scale,
                spot_share=spot_share,
                score=min(score, 1.0),
            )
        )
    result.sort(key=lambda a: (-a.score, a.provider.casefold(), a.region))
    return result


def provider_spot_discounts(arrays: CatalogArrays) -> dict[str, float]:
    """Median list discount of spot against on-demand per provider (providers selling spot)."""
    has_spot = ~np.isnan(arrays.spot_price_per_hour) & (arrays.price_per_hour > 0)
    discounts: dict[str, float] = {}
    for provider in sorted({str(p) for p in arrays.provider[has_spot]}):
        rows = has_spot & (arrays.provider == provider)
        ratio = arrays.spot_price_per_hour[rows] / arrays.price_per_hour[rows]
        discounts[provider] = float(np.clip(1.0 - np.median(ratio), 0.0, 0.999))
    return discounts


# --------------------------------------------------------------------------------------------
# The benchmark
# --------------------------------------------------------------------------------------------


def _order(table: CandidateTable, rows: IntArray) -> IntArray:
    """``rows`` sorted by cost, hours, catalog order, nodes, on-demand first."""
    order = np.lexsort(
        (
            table.spot[rows].astype(np.int64),
            table.nodes[rows],
            table.offering_index[rows],
            table.estimated_hours[rows],
            table.estimated_cost[rows],
        )
    )
    result: IntArray = rows[order]
    return result


def _frontier_point(
    table: CandidateTable, row: int, *, cheapest: bool, fastest: bool, balanced: bool
) -> FrontierPoint:
    return FrontierPoint(
        **_candidate_fields(table, row),
        cheapest=cheapest,
        fastest=fastest,
        balanced=balanced,
    )


def _candidate_fields(table: CandidateTable, row: int) -> dict[str, Any]:
    """The fields a frontier point and a region benchmark share, for one candidate row."""
    offering = table.offering(row)
    return {
        "candidate_id": table.candidate_id(row),
        "provider": offering.provider,
        "region": offering.region,
        "instance_type": offering.instance_type,
        "gpu_type": offering.gpu_type,
        "gpu_count": offering.gpu_count,
        "nodes": int(table.nodes[row]),
        "spot": bool(table.spot[row]),
        "price_per_hour": float(table.price_per_hour[row]),
        "estimated_hours": float(table.estimated_hours[row]),
        "estimated_cost": float(table.estimated_cost[row]),
        "currency": table.currency,
    }


def region_benchmarks(
    table: CandidateTable, availability: Sequence[GpuAvailability]
) -> list[RegionBenchmark]:
    """The best feasible candidate per (provider, region), cheapest first."""
    rows = _order(table, table.usable())
    scores = {(a.provider, a.region): a.score for a in availability}
    seen: dict[tuple[str, str], int] = {}
    counts: dict[tuple[str, str], int] = {}
    for row in rows.tolist():
        offering = table.offering(row)
        key = (offering.provider, offering.region)
        counts[key] = counts.get(key, 0) + 1
        seen.setdefault(key, row)
    result: list[RegionBenchmark] = []
    for key, row in seen.items():
        result.append(
            RegionBenchmark(
                **_candidate_fields(table, row),
                feasible_candidates=counts[key],
                gpu_availability_score=scores.get(key, 0.0),
            )
        )
    # Dict order follows the sorted rows, so the list is already cheapest first.
    return result


def provider_coverage(
    arrays: CatalogArrays,
    regions: Sequence[RegionBenchmark],
    availability: Sequence[GpuAvailability],
    *,
    allowed_providers: Sequence[str] = (),
) -> list[ProviderCoverage]:
    """Regions and feasible regions per provider; providers with the best cost first."""
    result: list[ProviderCoverage] = []
    for provider in sorted({str(p) for p in arrays.provider}, key=str.casefold):
        if not _allowed(provider, allowed_providers):
            continue
        mine = arrays.provider == provider
        all_regions = sorted({str(r) for r in arrays.region[mine]})
        feasible = [r for r in regions if r.provider == provider]
        feasible_regions = sorted({r.region for r in feasible})
        types = sorted({str(t) for t in arrays.gpu_type[mine & (arrays.gpu_count > 0)]})
        scores = [a.score for a in availability if a.provider == provider]
        result.append(
            ProviderCoverage(
                provider=provider,
                regions=tuple(all_regions),
                feasible_regions=tuple(feasible_regions),
                coverage=len(feasible_regions) / len(all_regions),
                gpu_types=tuple(types),
                availability_score=max(scores, default=0.0),
                best_estimated_cost=min((r.estimated_cost for r in feasible), default=None),
            )
        )
    result.sort(
        key=lambda c: (
            c.best_estimated_cost is None,
            c.best_estimated_cost if c.best_estimated_cost is not None else 0.0,
            c.provider.casefold(),
        )
    )
    return result


def benchmark_providers(
    workload: WorkloadProfile,
    table: CandidateTable,
    *,
    catalog_arrays: CatalogArrays,
    rates_source: str | None = None,
    warnings: Sequence[str] = (),
) -> CostReport:
    """The ``CostReport`` of ``workload`` from its estimated candidates.

    ``catalog_arrays`` (the whole catalog) is what coverage and availability describe.
    Raises ``InfeasibleError`` naming the binding constraint when no candidate is feasible.
    """
    usable = table.usable()
    if usable.size == 0:
        raise InfeasibleError(
            table.infeasible_reason
            or f"no offering in the catalog can run workload {workload.name!r}"
        )
    arrays = catalog_arrays
    allowed = workload.allowed_providers
    availability = gpu_availability(arrays, allowed_providers=allowed)
    regions = region_benchmarks(table, availability)
    coverage = provider_coverage(arrays, regions, availability, allowed_providers=allowed)

    # The frontier is computed on the ordered rows, so duplicates keep a deterministic order.
    ordered = _order(table, usable)
    picks = pick_frontier(table.estimated_cost[ordered], table.estimated_hours[ordered])
    points = [
        _frontier_point(
            table,
            int(ordered[position]),
            cheapest=int(position) == picks.cheapest,
            fastest=int(position) == picks.fastest,
            balanced=int(position) == picks.balanced,
        )
        for position in picks.frontier.tolist()
    ]
    by_flag = {
        "cheapest": next(p for p in points if p.cheapest),
        "fastest": next(p for p in points if p.fastest),
        "balanced": next(p for p in points if p.balanced),
    }
    return CostReport(
        workload=workload,
        query_id=workload.query_id,
        display_currency=table.currency,
        rates_source=rates_source,
        candidates_considered=len(table),
        candidates_feasible=int(usable.size),
        regions=tuple(regions),
        providers=tuple(coverage),
        availability=tuple(availability),
        frontier=tuple(points),
        cheapest=by_flag["cheapest"],
        fastest=by_flag["fastest"],
        balanced=by_flag["balanced"],
        warnings=tuple(warnings),
    )
