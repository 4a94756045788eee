"""Catalog loading: column arrays, overlays, discounts, currency conversion."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pytest

from artenic_opt._internal.money import DEFAULT_RATES, ExchangeRates
from artenic_opt.catalog import Catalog, CatalogArrays, clear_cache, load_catalog
from artenic_opt.errors import CurrencyError, InvalidInputError
from artenic_opt.schemas import GpuSpec, Offering

STR_COLUMNS = ("provider", "region", "instance_type", "gpu_type", "currency")
FLOAT_COLUMNS = (
    "gpu_memory_gb",
    "vcpus",
    "memory_gb",
    "price_per_hour",
    "spot_price_per_hour",
    "gpu_bf16_tflops",
    "gpu_fp16_tflops",
    "gpu_fp32_tflops",
    "gpu_bandwidth_gbps",
    "gpu_fp8_tflops",
    "intra_node_gbps",
    "inter_node_gbps",
)


def make_offering(**overrides: object) -> Offering:
    values: dict[str, object] = {
        "provider": "OnPrem",
        "region": "lab-1",
        "instance_type": "dgx-a",
        "vcpus": 64,
        "memory_gb": 512.0,
        "gpu_type": "A100 80GB",
        "gpu_count": 8,
        "gpu_memory_gb": 80.0,
        "price_per_hour": 10.0,
        "spot_price_per_hour": None,
        "currency": "USD",
        "source": "test",
        "price_date": date(2026, 1, 1),
    }
    values.update(overrides)
    return Offering.model_validate(values)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def test_arrays_align_with_offerings(catalog: Catalog) -> None:
    arrays = catalog.arrays
    assert len(arrays) == len(catalog.offerings) == len(catalog)
    assert arrays.offerings == catalog.offerings
    specs = catalog.gpu_specs
    for i, o in enumerate(catalog.offerings):
        assert arrays.provider[i] == o.provider
        assert arrays.region[i] == o.region
        assert arrays.instance_type[i] == o.instance_type
        assert arrays.gpu_type[i] == (o.gpu_type or "")
        assert arrays.currency[i] == o.currency
        assert arrays.gpu_count[i] == o.gpu_count
        assert arrays.price_per_hour[i] == o.price_per_hour
        if o.spot_price_per_hour is None:
            assert math.isnan(arrays.spot_price_per_hour[i])
        else:
            assert arrays.spot_price_per_hour[i] == o.spot_price_per_hour
        if o.vcpus is None:
            assert math.isnan(arrays.vcpus[i])
        else:
            assert arrays.vcpus[i] == o.vcpus
        if o.gpu_count == 0:
            assert arrays.gpu_memory_gb[i] == 0.0
            assert math.isnan(arrays.gpu_bf16_tflops[i])
        else:
            assert arrays.gpu_memory_gb[i] == o.gpu_memory_gb
            spec = specs[o.gpu_type or ""]
            expected = math.nan if spec.bf16_tflops is None else spec.bf16_tflops
            assert arrays.gpu_bf16_tflops[i] == pytest.approx(expected, nan_ok=True)


def test_array_dtypes_and_read_only(catalog: Catalog) -> None:
    arrays = catalog.arrays
    for name in STR_COLUMNS:
        assert getattr(arrays, name).dtype.kind == "U", name
    for name in FLOAT_COLUMNS:
        assert getattr(arrays, name).dtype == np.float64, name
    assert arrays.gpu_count.dtype == np.int64
    with pytest.raises(ValueError):
        arrays.price_per_hour[0] = 0.0


def test_embedded_catalog_is_parsed_once(catalog: Catalog) -> None:
    assert load_catalog() is load_catalog()
    assert load_catalog(extra=(), discounts={"AWS": 0}) is load_catalog()


def test_clear_cache_reparses_to_an_equal_catalog() -> None:
    before = load_catalog()
    clear_cache()
    after = load_catalog()
    assert after is not before
    assert after.offerings == before.offerings


def test_providers_gpu_types_and_date_range(catalog: Catalog) -> None:
    assert "AWS" in catalog.providers and "OVHcloud" in catalog.providers
    assert list(catalog.providers) == sorted(catalog.providers, key=str.casefold)
    assert "MI300X" in catalog.gpu_types
    oldest, newest = catalog.price_date_range or (None, None)
    assert oldest == min(o.price_date for o in catalog.offerings)
    assert newest == max(o.price_date for o in catalog.offerings)


def test_take_by_mask_and_indices(catalog: Catalog) -> None:
    arrays = catalog.arrays
    mask = arrays.currency == "EUR"
    eur = arrays.take(mask)
    assert len(eur) == int(mask.sum()) > 0
    assert set(eur.currency) == {"EUR"}
    assert all(o.currency == "EUR" for o in eur.offerings)
    picked = arrays.take([3, 0])
    assert picked.offerings == (catalog.offerings[3], catalog.offerings[0])
    assert picked.price_per_hour.tolist() == [
        catalog.offerings[3].price_per_hour,
        catalog.offerings[0].price_per_hour,
    ]
    assert len(arrays.take(np.zeros(len(arrays), dtype=bool))) == 0
    with pytest.raises(ValueError, match="mask"):
        arrays.take([True, False])


def test_constructor_rejects_misaligned_columns(catalog: Catalog) -> None:
    arrays = catalog.arrays.take([0, 1])
    with pytest.raises(ValueError, match="entries for 1 offerings"):
        CatalogArrays.from_offerings([], {}).__class__(
            **{
                **{
                    name: getattr(arrays, name)
                    for name in STR_COLUMNS + FLOAT_COLUMNS + ("gpu_count",)
                },
                "offerings": arrays.offerings[:1],
            }
        )


def test_converted_to_one_currency(catalog: Catalog) -> None:
    arrays = catalog.arrays
    in_usd = arrays.converted("USD", DEFAULT_RATES)
    assert set(in_usd.currency) == {"USD"}
    for i, o in enumerate(catalog.offerings):
        factor = 1.0 if o.currency == "USD" else 1 / 0.92
        assert in_usd.price_per_hour[i] == pytest.approx(o.price_per_hour * factor)
        assert in_usd.offerings[i].price_per_hour == pytest.approx(in_usd.price_per_hour[i])
        assert in_usd.offerings[i].currency == "USD"
        if o.spot_price_per_hour is None:
            assert math.isnan(in_usd.spot_price_per_hour[i])
            assert in_usd.offerings[i].spot_price_per_hour is None
    # Nothing to convert: the same object comes back.
    usd_only = arrays.take(arrays.currency == "USD")
    assert usd_only.converted("usd", DEFAULT_RATES) is usd_only


def test_converted_without_rate_raises(catalog: Catalog) -> None:
    rates = ExchangeRates({"GBP": 0.79}, source="test")
    with pytest.raises(CurrencyError, match="EUR"):
        catalog.arrays.converted("GBP", rates)


def test_extra_overrides_and_adds() -> None:
    base = load_catalog()
    target = next(o for o in base.offerings if o.provider == "AWS")
    override = target.model_copy(
        update={"provider": "aws", "price_per_hour": 1.0, "source": "negotiated"}
    )
    added = make_offering()
    merged = load_catalog(extra=[override, added])
    assert len(merged) == len(base) + 1
    index = base.offerings.index(target)
    assert merged.offerings[index].price_per_hour == 1.0
    assert merged.offerings[index].source == "negotiated"
    assert merged.offerings[index].provider == "AWS"
    assert set(merged.providers) == {*base.providers, "OnPrem"}
    assert merged.offerings[-1] == added
    assert merged.arrays.price_per_hour[index] == 1.0
    assert merged.arrays.gpu_bf16_tflops[-1] == pytest.approx(312)
    # The embedded catalog itself is untouched.
    assert load_catalog().offerings[index] == target


def test_later_extra_row_wins_and_labels_are_normalised() -> None:
    first = make_offering(price_per_hour=5.0, gpu_type="a100-80gb")
    second = make_offering(price_per_hour=7.0, gpu_type="NVIDIA A100-SXM4-80GB")
    merged = load_catalog(extra=[first, second])
    rows = [o for o in merged.offerings if o.provider == "OnPrem"]
    assert len(rows) == 1
    assert rows[0].price_per_hour == 7.0
    assert rows[0].gpu_type == "A100 80GB"


def test_unknown_gpu_label_in_extra_is_kept_with_unknown_specs() -> None:
    odd = make_offering(gpu_type="Mystery 9000", gpu_memory_gb=None)
    merged = load_catalog(extra=[odd])
    assert merged.offerings[-1].gpu_type == "Mystery 9000"
    assert math.isnan(merged.arrays.gpu_memory_gb[-1])
    assert math.isnan(merged.arrays.gpu_fp16_tflops[-1])


def test_gpu_memory_falls_back_to_spec() -> None:
    row = make_offering(gpu_type="H200", gpu_memory_gb=None, gpu_count=1)
    arrays = CatalogArrays.from_offerings([row], load_catalog().gpu_specs)
    assert arrays.gpu_memory_gb[0] == 141


def test_discounts_apply_case_insensitively_to_list_prices() -> None:
    base = load_catalog()
    discounted = load_catalog(discounts={"aws": 10, "Lambda": 0})
    for before, after in zip(base.offerings, discounted.offerings, strict=True):
        if before.provider == "AWS":
            assert after.price_per_hour == pytest.approx(before.price_per_hour * 0.9)
            if before.spot_price_per_hour is not None:
                assert after.spot_price_per_hour == pytest.approx(before.spot_price_per_hour * 0.9)
            assert "10% provider discount" in after.source
        else:
            assert after == before
    aws = discounted.arrays.provider == "AWS"
    assert np.allclose(discounted.arrays.price_per_hour[aws], base.arrays.price_per_hour[aws] * 0.9)


def test_discounts_apply_after_overlay() -> None:
    discounted = load_catalog(extra=[make_offering(price_per_hour=20.0)], discounts={"onprem": 25})
    assert discounted.offerings[-1].price_per_hour == pytest.approx(15.0)


@pytest.mark.parametrize("bad", [-1, 100, 150, float("nan"), "ten"])
def test_bad_discount_is_rejected(bad: object) -> None:
    with pytest.raises(InvalidInputError, match=r"discounts\.AWS"):
        load_catalog(discounts={"AWS": bad})  # type: ignore[dict-item]


def test_from_offerings_with_empty_input() -> None:
    empty = CatalogArrays.from_offerings([], {})
    assert len(empty) == 0
    assert empty.converted("EUR", DEFAULT_RATES) is empty
    catalog = Catalog(offerings=(), arrays=empty, gpu_specs={}, storage_prices=())
    assert catalog.price_date_range is None
    assert catalog.providers == ()


def test_spec_model_roundtrip() -> None:
    spec = load_catalog().gpu_specs["MI300X"]
    assert isinstance(spec, GpuSpec)
    assert spec.vendor == "AMD"
    assert spec.memory_gb == 192


def test_node_network_rows_are_validated_and_matched() -> None:
    from artenic_opt.catalog.loader import network_for, parse_node_networks

    good = {
        "provider": "aws",
        "instance_prefix": "dgx-",
        "gpu_type": "A100 80GB",
        "intra_node_gbps": "300",
        "inter_node_gbps": "",
        "source": "s",
    }
    (network,) = parse_node_networks([(2, good)])
    assert network.inter_node_gbps is None and network.intra_node_link is None
    assert network_for(make_offering(provider="AWS", instance_type="dgx-a"), [network]) is network
    assert network_for(make_offering(provider="AWS", instance_type="p5"), [network]) is None
    for change, message in (
        ({"source": ""}, "source empty"),
        ({"intra_node_gbps": "fast"}, "not a number"),
        ({"inter_node_gbps": "-1"}, "must be positive"),
    ):
        with pytest.raises(InvalidInputError, match=message):
            parse_node_networks([(3, {**good, **change})])
    arrays = CatalogArrays.from_offerings(
        [make_offering(provider="AWS", instance_type="dgx-a")], {}, [network]
    )
    assert arrays.intra_node_gbps[0] == 300 and np.isnan(arrays.inter_node_gbps[0])
