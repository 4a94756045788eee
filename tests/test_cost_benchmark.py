"""Provider benchmark on hand-made candidate tables: availability, coverage, regions, frontier."""

from __future__ import annotations

import numpy as np
import pytest

from artenic_opt.catalog import CatalogArrays
from artenic_opt.cost_analyzer.provider_benchmark import (
    CandidateTable,
    benchmark_providers,
    gpu_availability,
    provider_spot_discounts,
)
from artenic_opt.errors import InfeasibleError, InvalidInputError
from artenic_opt.schemas import WorkloadProfile
from tests.factories import make_offering

OFFERINGS = (
    make_offering(
        "P1",
        "r1",
        "h100x8",
        gpu_type="H100 SXM",
        gpu_count=8,
        gpu_memory_gb=80,
        price_per_hour=10.0,
        spot_price_per_hour=4.0,
    ),
    make_offering(
        "P1", "r1", "a10x1", gpu_type="A10", gpu_count=1, gpu_memory_gb=24, price_per_hour=1.0
    ),
    make_offering(
        "P1", "r2", "a10x1", gpu_type="A10", gpu_count=1, gpu_memory_gb=24, price_per_hour=1.2
    ),
    make_offering("P2", "r1", "cpu", vcpus=8, memory_gb=32, price_per_hour=0.5),
)
ARRAYS = CatalogArrays.from_offerings(OFFERINGS, {})
WORKLOAD = WorkloadProfile(name="w", model_params_m=100, dataset_size_gb=1)


def table(
    rows: list[tuple[int, int, bool, bool, float, float]], currency: str = "USD"
) -> CandidateTable:
    """rows: (offering index, nodes, spot, feasible, hours, cost); price = cost / hours."""
    idx, nodes, spot, feasible, hours, cost = (list(col) for col in zip(*rows, strict=True))
    hours_arr = np.array(hours, dtype=np.float64)
    cost_arr = np.array(cost, dtype=np.float64)
    return CandidateTable.from_rows(
        OFFERINGS,
        offering_index=idx,
        nodes=nodes,
        spot=spot,
        feasible=feasible,
        price_per_hour=cost_arr / hours_arr,
        estimated_hours=hours_arr,
        estimated_cost=cost_arr,
        currency=currency,
    )


def test_gpu_availability_known_answer() -> None:
    # Catalog GPU types: H100 SXM and A10 (2).
    # P1/r1: breadth 2/2, scale 8/8, spot 1 of 2 -> 0.5 + 0.3 + 0.2 x 0.5 = 0.9.
    # P1/r2: breadth 1/2, scale 1/8, spot 0 -> 0.25 + 0.0375 = 0.2875.
    # P2/r1: CPU only -> 0.
    found = {(a.provider, a.region): a for a in gpu_availability(ARRAYS)}
    assert found["P1", "r1"].score == pytest.approx(0.9)
    assert found["P1", "r1"].gpu_types == ("A10", "H100 SXM")
    assert found["P1", "r1"].gpu_configs == ("1x A10", "8x H100 SXM")
    assert found["P1", "r1"].spot_share == pytest.approx(0.5)
    assert found["P1", "r2"].score == pytest.approx(0.2875)
    assert found["P2", "r1"].score == 0
    assert found["P2", "r1"].gpu_types == ()
    ordered = [(a.provider, a.region) for a in gpu_availability(ARRAYS)]
    assert ordered == [("P1", "r1"), ("P1", "r2"), ("P2", "r1")]
    only_p2 = gpu_availability(ARRAYS, allowed_providers=("p2",))
    assert [(a.provider, a.region) for a in only_p2] == [("P2", "r1")]


def test_provider_spot_discounts() -> None:
    assert provider_spot_discounts(ARRAYS) == {"P1": pytest.approx(0.6)}


def test_benchmark_report() -> None:
    t = table(
        [
            (0, 1, False, True, 2.0, 20.0),  # P1/r1 H100 on-demand: fast, expensive
            (0, 1, True, True, 2.2, 9.0),  # P1/r1 H100 spot
            (1, 1, False, True, 10.0, 10.0),  # P1/r1 A10: dominated by the H100 spot
            (2, 1, False, True, 10.0, 12.0),  # P1/r2 A10
            (3, 1, False, False, 100.0, 50.0),  # P2 CPU: infeasible
            (1, 2, False, True, 20.0, 5.0),  # P1/r1 A10 on 2 nodes: slow and cheap
        ]
    )
    report = benchmark_providers(WORKLOAD, t, catalog_arrays=ARRAYS, rates_source="test rates")
    assert report.candidates_considered == 6
    assert report.candidates_feasible == 5
    assert report.query_id == WORKLOAD.query_id
    assert report.rates_source == "test rates"
    # Best per region, cheapest first.
    assert [(r.provider, r.region, r.candidate_id) for r in report.regions] == [
        ("P1", "r1", "P1/r1/a10x1#2#on_demand"),
        ("P1", "r2", "P1/r2/a10x1#1#on_demand"),
    ]
    assert report.regions[0].feasible_candidates == 4
    assert report.regions[0].gpu_availability_score == pytest.approx(0.9)
    # Frontier: (5, 20), (9, 2.2), (20, 2.0). Normalised: cost 0, 4/15, 1; time 1, 0.2/18, 0.
    assert [p.candidate_id for p in report.frontier] == [
        "P1/r1/a10x1#2#on_demand",
        "P1/r1/h100x8#1#spot",
        "P1/r1/h100x8#1#on_demand",
    ]
    assert report.cheapest.candidate_id == "P1/r1/a10x1#2#on_demand"
    assert report.fastest.candidate_id == "P1/r1/h100x8#1#on_demand"
    assert report.balanced.candidate_id == "P1/r1/h100x8#1#spot"
    assert report.balanced.price_per_hour == pytest.approx(9.0 / 2.2)
    assert sum(p.cheapest for p in report.frontier) == 1
    # Coverage: P1 feasible in both regions, P2 in none.
    p1, p2 = report.providers
    assert (p1.provider, p1.coverage, p1.best_estimated_cost) == ("P1", 1.0, 5.0)
    assert (p2.provider, p2.coverage, p2.best_estimated_cost) == ("P2", 0.0, None)
    assert p1.availability_score == pytest.approx(0.9)
    payload = report.model_dump(mode="json")
    assert payload["balanced"]["spot"] is True


def test_benchmark_infeasible_and_filters() -> None:
    t = table([(3, 1, False, False, 1.0, 1.0)])
    with pytest.raises(InfeasibleError, match="no offering"):
        benchmark_providers(WORKLOAD, t, catalog_arrays=ARRAYS)
    reasoned = CandidateTable(**{**t.__dict__, "infeasible_reason": "needs 80 GB per GPU"})
    with pytest.raises(InfeasibleError, match="needs 80 GB"):
        benchmark_providers(WORKLOAD, reasoned, catalog_arrays=ARRAYS)
    # NaN estimates are never usable.
    nan = table([(1, 1, False, True, float("nan"), 1.0), (2, 1, False, True, 1.0, 3.0)])
    report = benchmark_providers(WORKLOAD, nan, catalog_arrays=ARRAYS)
    assert report.candidates_feasible == 1
    # allowed_providers restricts coverage and availability.
    limited = WORKLOAD.model_copy(update={"allowed_providers": ("P1",)})
    report = benchmark_providers(limited, nan, catalog_arrays=ARRAYS)
    assert [c.provider for c in report.providers] == ["P1"]
    assert {a.provider for a in report.availability} == {"P1"}


def test_candidate_table_validation() -> None:
    good = table([(0, 1, False, True, 1.0, 1.0)])
    with pytest.raises(InvalidInputError, match=r"candidates\.nodes"):
        CandidateTable(**{**good.__dict__, "nodes": np.array([1, 2], dtype=np.int64)})
    with pytest.raises(InvalidInputError, match="offering_index"):
        CandidateTable(**{**good.__dict__, "offering_index": np.array([9], dtype=np.int64)})
    with pytest.raises(InvalidInputError, match="offering_index"):
        CandidateTable.from_rows(
            OFFERINGS,
            offering_index=[7],
            nodes=[1],
            spot=[False],
            feasible=[True],
            price_per_hour=[1.0],
            estimated_hours=[1.0],
            estimated_cost=[1.0],
            currency="USD",
        )
    assert good.gpu_memory_gb.tolist() == [80.0]
    assert good.provider.tolist() == ["P1"]
    empty = CandidateTable.from_rows(
        (),
        offering_index=[],
        nodes=[],
        spot=[],
        feasible=[],
        price_per_hour=[],
        estimated_hours=[],
        estimated_cost=[],
        currency="USD",
    )
    assert len(empty) == 0


def test_ties_are_deterministic() -> None:
    # Two identical cheapest candidates in different regions: catalog order decides.
    t = table([(2, 1, False, True, 1.0, 1.0), (1, 1, False, True, 1.0, 1.0)])
    report = benchmark_providers(WORKLOAD, t, catalog_arrays=ARRAYS)
    assert [p.candidate_id for p in report.frontier] == [
        "P1/r1/a10x1#1#on_demand",
        "P1/r2/a10x1#1#on_demand",
    ]
    assert report.cheapest.candidate_id == "P1/r1/a10x1#1#on_demand"
    assert report.balanced.candidate_id == "P1/r1/a10x1#1#on_demand"
