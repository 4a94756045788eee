"""The embedded catalog data: every row valid, sourced, dated, and the required coverage present."""

from __future__ import annotations

import csv
import math
import re
from collections import defaultdict
from datetime import date
from importlib import resources

import numpy as np
import pytest

from artenic_opt.catalog import CANONICAL_GPU_TYPES, load_catalog, normalize_gpu_type
from artenic_opt.schemas import Offering
from artenic_opt.types import StorageTier

REQUIRED_FAMILIES: dict[str, tuple[str, ...]] = {
    "H200": ("H200",),
    "H100": ("H100 SXM", "H100 PCIe", "H100 NVL"),
    "A100 80GB": ("A100 80GB",),
    "A100 40GB": ("A100 40GB",),
    "L40S": ("L40S",),
    "L4": ("L4",),
    "A10G or A10": ("A10G", "A10"),
    "T4": ("T4",),
    "V100": ("V100 16GB", "V100 32GB"),
    "RTX 4090": ("RTX 4090",),
    "RTX A6000": ("RTX A6000",),
    "MI300X": ("MI300X",),
}


def _data_rows(name: str) -> list[dict[str, str]]:
    text = resources.files("artenic_opt.catalog").joinpath("data").joinpath(name).read_text()
    return list(csv.DictReader(text.splitlines()))


@pytest.fixture(scope="module")
def offerings() -> tuple[Offering, ...]:
    return load_catalog().offerings


def test_size_and_provider_count(offerings: tuple[Offering, ...]) -> None:
    assert len(offerings) >= 150
    assert len({o.provider for o in offerings}) >= 6


def test_every_row_has_positive_prices_source_and_past_date(
    offerings: tuple[Offering, ...],
) -> None:
    today = date.today()
    for o in offerings:
        assert o.price_per_hour > 0, o.offering_id
        assert o.spot_price_per_hour is None or o.spot_price_per_hour > 0, o.offering_id
        assert o.source.strip(), o.offering_id
        assert o.price_date <= today, o.offering_id
        assert o.price_date >= date(2023, 1, 1), o.offering_id


def test_spot_is_cheaper_than_on_demand(offerings: tuple[Offering, ...]) -> None:
    for o in offerings:
        if o.spot_price_per_hour is not None:
            assert o.spot_price_per_hour < o.price_per_hour, o.offering_id


def test_gpu_types_are_canonical_and_have_specs(offerings: tuple[Offering, ...]) -> None:
    specs = load_catalog().gpu_specs
    for o in offerings:
        if o.gpu_count == 0:
            assert o.gpu_type is None, o.offering_id
            continue
        assert o.gpu_type in CANONICAL_GPU_TYPES, o.offering_id
        assert normalize_gpu_type(o.gpu_type) == o.gpu_type
        assert o.gpu_type in specs, o.gpu_type
        assert o.gpu_memory_gb is not None and o.gpu_memory_gb > 0, o.offering_id


def test_spec_table_is_exactly_the_canonical_names() -> None:
    specs = load_catalog().gpu_specs
    assert set(specs) == set(CANONICAL_GPU_TYPES)
    for name, spec in specs.items():
        assert spec.gpu_type == name
        assert spec.memory_gb > 0
        assert spec.source.strip()
        for value in (spec.bf16_tflops, spec.fp16_tflops, spec.fp32_tflops):
            assert value is None or value > 0


def test_missing_spec_figures_say_why() -> None:
    rows = {row["gpu_type"]: row for row in _data_rows("gpu_specs.csv")}
    for name, row in rows.items():
        missing = [k for k in ("bf16_tflops", "fp16_tflops", "fp32_tflops") if not row[k]]
        if missing:
            assert re.search(r"not found|not in|no BF16|not copied|not looked up", row["source"]), (
                name
            )


def test_tensor_figures_found_by_search_are_recorded() -> None:
    specs = load_catalog().gpu_specs
    assert specs["RTX 4090"].bf16_tflops == pytest.approx(165.2)
    assert "karpathy/llm.c" in specs["RTX 4090"].source
    assert specs["RTX A6000"].bf16_tflops == pytest.approx(154.85)
    assert specs["H100 NVL"].bf16_tflops == pytest.approx(835)


def test_currency_is_consistent_per_provider(offerings: tuple[Offering, ...]) -> None:
    currencies: dict[str, set[str]] = defaultdict(set)
    for o in offerings:
        currencies[o.provider].add(o.currency)
    assert all(len(codes) == 1 for codes in currencies.values()), currencies
    assert currencies["OVHcloud"] == {"EUR"}
    assert currencies["AWS"] == {"USD"}


def test_offering_keys_are_unique(offerings: tuple[Offering, ...]) -> None:
    keys = [(o.provider, o.region, o.instance_type) for o in offerings]
    assert len(keys) == len(set(keys))


@pytest.mark.parametrize("family", sorted(REQUIRED_FAMILIES))
def test_required_gpu_family_has_an_offering(family: str, offerings: tuple[Offering, ...]) -> None:
    types = REQUIRED_FAMILIES[family]
    assert any(o.gpu_type in types for o in offerings), family


def test_cpu_only_instances_present(offerings: tuple[Offering, ...]) -> None:
    cpu = [o for o in offerings if o.gpu_count == 0]
    assert len(cpu) >= 10
    assert len({o.provider for o in cpu}) >= 4


def test_gcp_accelerator_only_rows_left_out(offerings: tuple[Offering, ...]) -> None:
    assert not any(o.instance_type.startswith("gpu-only") for o in offerings)


def test_undated_rows_keep_that_fact_in_the_source(offerings: tuple[Offering, ...]) -> None:
    rows = _data_rows("offerings.csv")
    undated = [row for row in rows if "undated" in row["price_date_note"]]
    assert undated
    by_key = {(o.provider, o.region, o.instance_type): o for o in offerings}
    for row in undated:
        offering = by_key[(row["provider"], row["region"], row["instance_type"])]
        assert "undated" in offering.source
        assert offering.price_date.isoformat() == row["price_date"]


def test_mi300x_row_cites_a_dated_source(offerings: tuple[Offering, ...]) -> None:
    (row,) = [o for o in offerings if o.gpu_type == "MI300X"]
    assert row.price_date == date(2026, 10, 8)
    assert "huggingface.co/datasets/tokenwatt/gpu-cloud-prices" in row.source
    assert row.gpu_memory_gb == 192


def test_storage_table() -> None:
    storage = load_catalog().storage_prices
    providers = {s.provider for s in storage}
    assert {"AWS", "GCP", "Azure", "OVHcloud"} <= providers
    tiers = {t.value for t in StorageTier}
    for price in storage:
        assert price.tier in tiers, price.tier_name
        assert price.price_per_gb_month > 0
        assert price.retrieval_per_gb >= 0
        assert price.price_date <= date.today()
        if not price.retrieval_fee_known:
            assert price.retrieval_per_gb == 0
            assert "not in a citable source" in price.source
    for provider in providers:
        own = [s for s in storage if s.provider == provider]
        assert len({s.currency for s in own}) == 1
        hot = min((s.price_per_gb_month for s in own if s.tier == "hot"), default=math.inf)
        cold = min(s.price_per_gb_month for s in own if s.tier == "cold")
        assert cold < hot
    archive = [s for s in storage if "Archive" in s.tier_name]
    assert archive and all(s.tier == "cold" for s in archive)


# --- archdata (issue 12/13): every catalog GPU ranks; fp8 and interconnect figures ------------

# GPU types with an offering but no citable throughput figure (the row says why): none left.
KNOWN_THROUGHPUT_GAPS: set[str] = set()


def test_every_catalog_gpu_has_a_throughput_figure(offerings: tuple[Offering, ...]) -> None:
    specs = load_catalog().gpu_specs
    in_catalog = {o.gpu_type for o in offerings if o.gpu_type}
    for name in sorted(in_catalog - KNOWN_THROUGHPUT_GAPS):
        spec = specs[name]
        figures = (spec.bf16_tflops, spec.fp16_tflops, spec.fp32_tflops)
        assert any(f is not None for f in figures), name
        assert spec.memory_bandwidth_gbps is not None or name in {"H100 NVL", "A10G"}, name
    for name in KNOWN_THROUGHPUT_GAPS:
        assert name in in_catalog, f"{name} left the catalog: drop it from the gap list"
        assert re.search(r"not in a citable source|not copied", specs[name].source), name


def test_fp8_only_where_the_gpu_has_it() -> None:
    specs = load_catalog().gpu_specs
    with_fp8 = {name for name, spec in specs.items() if spec.fp8_tflops is not None}
    assert {"H100 SXM", "H100 PCIe", "H200", "B200", "B300", "MI300X", "L40S", "L4"} <= with_fp8
    assert not with_fp8 & {"A100 40GB", "A100 80GB", "V100 16GB", "V100 32GB", "T4", "A10"}
    for name in with_fp8:
        spec = specs[name]
        assert spec.bf16_tflops is not None and spec.fp8_tflops == pytest.approx(
            2 * spec.bf16_tflops, rel=0.02
        ), name
        assert "fp8" in spec.source.lower(), name


def test_intra_node_links_are_sourced_and_ordered() -> None:
    specs = load_catalog().gpu_specs
    for name, spec in specs.items():
        if spec.intra_node_gbps is not None:
            assert spec.intra_node_link, name
            assert "intra-node" in spec.source or "network/README.md" in spec.source, name
    assert specs["B200"].intra_node_gbps > specs["H100 SXM"].intra_node_gbps
    assert specs["H100 SXM"].intra_node_gbps > specs["H100 PCIe"].intra_node_gbps
    # Form factor decides: the merged A100/V100 rows leave it to the offering family.
    assert specs["A100 80GB"].intra_node_gbps is None


def test_family_networks_match_offerings_and_fill_the_arrays(
    offerings: tuple[Offering, ...],
) -> None:
    from artenic_opt.catalog import load_node_networks

    catalog = load_catalog()
    arrays = catalog.arrays
    networks = load_node_networks()
    for network in networks:
        assert network.source.strip()
        assert any(
            o.provider == network.provider
            and o.gpu_type == network.gpu_type
            and o.instance_type.startswith(network.instance_prefix)
            for o in offerings
        ), network
    by_name = {o.instance_type: i for i, o in enumerate(catalog.offerings)}
    p5 = by_name["p5.48xlarge"]
    assert arrays.intra_node_gbps[p5] == 450 and arrays.inter_node_gbps[p5] == 400
    assert arrays.inter_node_gbps[by_name["p6-b300.48xlarge"]] == 800
    assert arrays.intra_node_gbps[by_name["p4d.24xlarge"]] == 300
    assert arrays.intra_node_gbps[by_name["g5.48xlarge"]] == 31
    assert arrays.gpu_fp8_tflops[p5] == 1979
    single = next(i for i, o in enumerate(catalog.offerings) if o.gpu_count == 1)
    assert np.isnan(arrays.intra_node_gbps[single])
    assert np.isnan(arrays.inter_node_gbps[by_name["g5.48xlarge"]])
