"""``filter_offerings`` and ``gpu_price_summary``: filters, ordering, grouping."""

from __future__ import annotations

import itertools
import math

import pytest

from artenic_opt._internal.money import DEFAULT_RATES, ExchangeRates
from artenic_opt.catalog import (
    GPU_FAMILIES,
    Catalog,
    GpuPriceRow,
    filter_offerings,
    gpu_price_summary,
    gpu_types_matching,
    load_catalog,
)
from artenic_opt.errors import InvalidInputError
from artenic_opt.schemas import Offering
from tests.factories import make_offering


def usd(o: Offering) -> float:
    return DEFAULT_RATES.convert(o.price_per_hour, o.currency, "USD")


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def offering(provider: str, price: float, currency: str = "USD", **extra: object) -> Offering:
    values: dict[str, object] = {
        "region": "r1",
        "instance_type": f"box-{price}",
        "gpu_type": "L4",
        "gpu_count": 1,
        "gpu_memory_gb": 24.0,
        "price_per_hour": price,
        "currency": currency,
    }
    values.update(extra)
    return make_offering(provider, **values)


def test_no_filter_lists_everything_sorted_by_price(catalog: Catalog) -> None:
    rows = filter_offerings(catalog)
    assert len(rows) == len(catalog)
    prices = [usd(o) for o in rows]
    assert prices == sorted(prices)


def test_gpu_filter_accepts_free_text(catalog: Catalog) -> None:
    rows = filter_offerings(catalog, gpu="a100-80gb")
    assert rows and {o.gpu_type for o in rows} == {"A100 80GB"}
    assert len(rows) == sum(o.gpu_type == "A100 80GB" for o in catalog.offerings)


@pytest.mark.parametrize(
    ("label", "variants"),
    [
        ("A100", {"A100 40GB", "A100 80GB"}),
        ("nvidia a100", {"A100 40GB", "A100 80GB"}),
        ("H100", {"H100 SXM", "H100 PCIe", "H100 NVL"}),
        ("V100", {"V100 16GB", "V100 32GB"}),
        ("A100-80GB", {"A100 80GB"}),
        ("A100 40GB", {"A100 40GB"}),
        ("H100 PCIe", {"H100 PCIe"}),
        ("h100-nvl", {"H100 NVL"}),
        ("A10", {"A10"}),
    ],
)
def test_gpu_family_matches_every_variant_and_a_variant_narrows(
    catalog: Catalog, label: str, variants: set[str]
) -> None:
    assert set(gpu_types_matching(label)) == variants
    rows = filter_offerings(catalog, gpu=label)
    assert {o.gpu_type for o in rows} == variants & set(catalog.gpu_types)
    assert len(rows) == sum(o.gpu_type in variants for o in catalog.offerings)
    summary = gpu_price_summary(catalog, gpu=label)
    assert {r.gpu_type for r in summary} == variants & set(catalog.gpu_types)


def test_every_family_is_a_prefix_of_its_variants() -> None:
    assert set(GPU_FAMILIES) == {"A100", "H100", "V100"}
    for family, names in GPU_FAMILIES.items():
        assert all(name.split()[0] == family for name in names)
    with pytest.raises(InvalidInputError, match="unknown GPU type"):
        gpu_types_matching("A1000")


def test_gpu_filter_cpu_only(catalog: Catalog) -> None:
    rows = filter_offerings(catalog, gpu="CPU")
    assert rows and all(o.gpu_count == 0 for o in rows)


def test_unknown_gpu_is_an_input_error(catalog: Catalog) -> None:
    with pytest.raises(InvalidInputError, match="known types"):
        filter_offerings(catalog, gpu="Voodoo 5")


def test_provider_and_region_are_case_insensitive(catalog: Catalog) -> None:
    rows = filter_offerings(catalog, provider="aws", region="US-EAST-1")
    assert rows and all(o.provider == "AWS" and o.region == "us-east-1" for o in rows)


def test_min_gpu_memory_is_per_gpu(catalog: Catalog) -> None:
    rows = filter_offerings(catalog, min_gpu_memory_gb=141)
    assert rows
    assert all(o.gpu_memory_gb is not None and o.gpu_memory_gb >= 141 for o in rows)
    assert {"H200", "MI300X", "B200"} <= {o.gpu_type for o in rows}
    assert not any(o.gpu_count == 0 for o in rows)


def test_bad_min_gpu_memory(catalog: Catalog) -> None:
    with pytest.raises(InvalidInputError, match="min_gpu_memory_gb"):
        filter_offerings(catalog, min_gpu_memory_gb=-1)


def test_spot_only(catalog: Catalog) -> None:
    rows = filter_offerings(catalog, spot_only=True)
    assert rows and all(o.spot_price_per_hour is not None for o in rows)
    assert len(rows) < len(catalog)


def test_filters_combine(catalog: Catalog) -> None:
    rows = filter_offerings(catalog, gpu="t4", provider="azure", spot_only=True)
    assert rows
    assert all(o.gpu_type == "T4" and o.provider == "Azure" for o in rows)


def test_ties_break_by_provider_region_instance() -> None:
    base = load_catalog(
        extra=[
            offering("Zeta", 1.0, instance_type="b"),
            offering("alpha", 1.0, instance_type="z"),
            offering("Alpha", 1.0, region="r0", instance_type="y"),
            offering("alpha", 1.0, instance_type="a"),
        ]
    )
    rows = [o for o in filter_offerings(base, gpu="L4") if o.price_per_hour == 1.0]
    assert [(o.provider, o.region, o.instance_type) for o in rows] == [
        # "Alpha" took the spelling first seen for that provider; "alpha" sorts before "Zeta".
        ("alpha", "r0", "y"),
        ("alpha", "r1", "a"),
        ("alpha", "r1", "z"),
        ("Zeta", "r1", "b"),
    ]


def test_currencies_compared_through_rates() -> None:
    # 1.0 EUR is 1.087 USD at the reference rate: more than 1.05 USD.
    cat = load_catalog(extra=[offering("EuroCo", 1.0, "EUR"), offering("DollarCo", 1.05)])
    rows = [o for o in filter_offerings(cat, gpu="l4") if o.provider in ("EuroCo", "DollarCo")]
    assert [o.provider for o in rows] == ["DollarCo", "EuroCo"]
    cheap_eur = ExchangeRates({"EUR": 2.0}, source="test")
    rows = [
        o
        for o in filter_offerings(cat, gpu="l4", rates=cheap_eur)
        if o.provider in ("EuroCo", "DollarCo")
    ]
    assert [o.provider for o in rows] == ["EuroCo", "DollarCo"]


def test_rows_without_a_rate_sort_last_but_are_kept() -> None:
    cat = load_catalog(extra=[offering("PoundCo", 0.01, "GBP")])
    rows = filter_offerings(cat, gpu="L4")
    assert rows[-1].provider == "PoundCo"
    single = [r for r in gpu_price_summary(cat, gpu="L4") if r.gpu_count == 1]
    assert single[-1].provider == "PoundCo"
    assert single[-1].currency == "GBP"


def test_summary_rows_match_the_cheapest_offering(catalog: Catalog) -> None:
    rows = gpu_price_summary(catalog)
    assert rows and all(isinstance(r, GpuPriceRow) for r in rows)
    for row in rows:
        group = [
            o
            for o in catalog.offerings
            if o.gpu_type == row.gpu_type
            and o.gpu_count == row.gpu_count
            and o.provider == row.provider
        ]
        cheapest = min(group, key=lambda o: o.price_per_hour)
        assert row.on_demand_per_hour == pytest.approx(cheapest.price_per_hour)
        assert row.on_demand_per_gpu_hour == pytest.approx(cheapest.price_per_hour / row.gpu_count)
        assert row.offerings == len(group)
        assert row.currency == cheapest.currency
        chosen = next(
            o for o in group if (o.instance_type, o.region) == (row.instance_type, row.region)
        )
        assert chosen.price_per_hour == pytest.approx(row.on_demand_per_hour)
        spots = [o.spot_price_per_hour for o in group if o.spot_price_per_hour is not None]
        if spots:
            assert row.spot_per_hour == pytest.approx(min(spots))
            assert row.spot_per_gpu_hour == pytest.approx(min(spots) / row.gpu_count)
            assert row.spot_instance_type is not None
        else:
            assert row.spot_per_gpu_hour is None and row.spot_instance_type is None
        assert row.gpu_memory_gb > 0


def test_summary_order_and_coverage(catalog: Catalog) -> None:
    rows = gpu_price_summary(catalog)
    keys = [(r.gpu_type, r.gpu_count) for r in rows]
    assert keys == sorted(keys)
    for a, b in itertools.pairwise(rows):
        if (a.gpu_type, a.gpu_count) == (b.gpu_type, b.gpu_count):
            pa = DEFAULT_RATES.convert(a.on_demand_per_gpu_hour, a.currency, "USD")
            pb = DEFAULT_RATES.convert(b.on_demand_per_gpu_hour, b.currency, "USD")
            assert pa <= pb
    assert set(catalog.gpu_types) == {r.gpu_type for r in rows}


def test_summary_filters(catalog: Catalog) -> None:
    rows = gpu_price_summary(catalog, gpu="H100 SXM", provider="lambda")
    assert rows and all(r.gpu_type == "H100 SXM" and r.provider == "Lambda" for r in rows)
    assert [r.gpu_count for r in rows] == [1, 2, 4, 8]
    assert gpu_price_summary(catalog, gpu="cpu") == []


def test_summary_json_roundtrip(catalog: Catalog) -> None:
    row = gpu_price_summary(catalog, gpu="mi300x")[0]
    dumped = row.model_dump(mode="json")
    assert dumped["gpu_type"] == "MI300X"
    assert dumped["spot_per_gpu_hour"] is None
    assert GpuPriceRow.model_validate(dumped) == row
    assert not math.isnan(row.on_demand_per_gpu_hour)
