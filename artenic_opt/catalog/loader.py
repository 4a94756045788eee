"""The embedded price catalog: parsed once, overlaid with user rows, exposed as numpy columns.

Data (``catalog/data/``, shipped inside the package; provenance in ``data/README.md``):

* ``offerings.csv``: one row per purchasable machine shape at one provider and region, with its
  list prices, currency, source and ISO ``price_date``; ``price_date_note`` keeps the original
  date wording (for example that a SkyPilot snapshot is undated and the date is when it was
  read), and is folded into ``Offering.source`` so the fact travels with the row.
* ``gpu_specs.csv``: datasheet figures per canonical GPU type (dense TFLOPS, memory, bandwidth);
  empty cells are figures no citable source gave, and the ``source`` column says why.
* ``storage_prices.csv``: object-storage tiers per provider (GB-month, retrieval, minimum days).
* ``node_networks.csv``: per offering family (provider + instance-name prefix) the in-node GPU
  link and the inter-node network, where the provider or a cited table publishes them. In-node
  bandwidth is GB/s per GPU in one direction; inter-node is GB/s per machine in one direction.

Decisions:

* Parsing and validating the embedded files happens once per process (``functools.cache``); the
  result is immutable, so every caller shares it. ``load_catalog()`` without overlays returns the
  same ``Catalog`` object every time.
* Overlays (``extra``: imported or platform-synced offerings) replace embedded rows with the same
  (provider, region, instance type), provider compared case-insensitively, or are appended; a
  later overlay row wins over an earlier one. An overlay's provider takes the spelling already
  in the catalog (``aws`` becomes ``AWS``), so one provider never shows up twice. GPU labels
  in overlays are normalised when they can be; a label the table does not know is kept as
  given, with unknown (NaN) spec columns.
* Discounts are percent off the list on-demand and spot prices of every row of that provider
  (matched case-insensitively), applied after the overlay, and recorded in the row's source.
  A discount must be at least 0 and below 100.
* ``CatalogArrays`` holds the columns the ranking code vectorises over: strings as numpy unicode
  arrays, counts as int64, everything else float64 with NaN meaning "unknown" (or, for spot,
  "not sold"). ``gpu_memory_gb`` is 0.0 for CPU-only rows; for GPU rows without a stated memory
  it falls back to the spec table. The arrays are read-only.
* Imports stay light (numpy, csv and the standard library): this module is loaded by the CLI's
  catalog commands, whose start-up time matters.
* Interconnect columns: an offering's in-node bandwidth comes from its family row in
  ``node_networks.csv`` when one matches, else from its GPU type's spec row (set only where the
  type fixes the link, e.g. H100 SXM is always NVLink 4); single-GPU machines get NaN (no link
  is used). Inter-node bandwidth comes only from family rows; NaN means "not published".
"""

from __future__ import annotations

import csv
import functools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import date
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from artenic_opt._internal.arrays import FloatArray, IntArray, StrArray
from artenic_opt._internal.files import read_package_data
from artenic_opt.catalog.gpu_names import normalize_gpu_type_or_none
from artenic_opt.errors import InvalidInputError
from artenic_opt.schemas import GpuSpec, Offering, StoragePrice, parse_model

if TYPE_CHECKING:
    from artenic_opt._internal.money import ExchangeRates

_DATA_PACKAGE = "artenic_opt.catalog"
OFFERINGS_FILE = "offerings.csv"
GPU_SPECS_FILE = "gpu_specs.csv"
NETWORKS_FILE = "node_networks.csv"
STORAGE_FILE = "storage_prices.csv"


def _readonly(array: NDArray[Any]) -> NDArray[Any]:
    array.flags.writeable = False
    return array


def _opt_float(value: float | None) -> float:
    return math.nan if value is None else float(value)


@dataclass(frozen=True, eq=False)
class CatalogArrays:
    """Column arrays of a list of offerings, one entry per offering, in the same order."""

    provider: StrArray
    region: StrArray
    instance_type: StrArray
    gpu_type: StrArray
    currency: StrArray
    gpu_count: IntArray
    gpu_memory_gb: FloatArray
    vcpus: FloatArray
    memory_gb: FloatArray
    price_per_hour: FloatArray
    spot_price_per_hour: FloatArray
    gpu_bf16_tflops: FloatArray
    gpu_fp16_tflops: FloatArray
    gpu_fp32_tflops: FloatArray
    gpu_bandwidth_gbps: FloatArray
    gpu_fp8_tflops: FloatArray
    intra_node_gbps: FloatArray
    inter_node_gbps: FloatArray
    offerings: tuple[Offering, ...] = field(default=())

    def __post_init__(self) -> None:
        size = len(self.offerings)
        for column in fields(self):
            if column.name == "offerings":
                continue
            array = getattr(self, column.name)
            if array.shape != (size,):
                raise ValueError(
                    f"CatalogArrays.{column.name}: {array.shape[0]} entries for {size} offerings"
                )
            _readonly(array)

    def __len__(self) -> int:
        return len(self.offerings)

    @classmethod
    def from_offerings(
        cls,
        offerings: Iterable[Offering],
        gpu_specs: Mapping[str, GpuSpec],
        networks: Sequence[NodeNetwork] | None = None,
    ) -> CatalogArrays:
        """Build the columns; spec columns come from ``gpu_specs`` by the offering's GPU type.

        ``networks`` (default: the embedded ``node_networks.csv``) gives the interconnect of
        offering families; see the module docstring for the precedence.
        """
        rows = tuple(offerings)
        families = load_node_networks() if networks is None else tuple(networks)
        size = len(rows)
        nan = math.nan
        bf16 = np.full(size, nan)
        fp16 = np.full(size, nan)
        fp32 = np.full(size, nan)
        fp8 = np.full(size, nan)
        bandwidth = np.full(size, nan)
        intra = np.full(size, nan)
        inter = np.full(size, nan)
        gpu_memory = np.zeros(size)
        for i, offering in enumerate(rows):
            if offering.gpu_count == 0:
                continue
            spec = gpu_specs.get(offering.gpu_type or "")
            if offering.gpu_memory_gb is not None:
                gpu_memory[i] = offering.gpu_memory_gb
            else:
                gpu_memory[i] = spec.memory_gb if spec is not None else nan
            if spec is not None:
                bf16[i] = _opt_float(spec.bf16_tflops)
                fp16[i] = _opt_float(spec.fp16_tflops)
                fp32[i] = _opt_float(spec.fp32_tflops)
                fp8[i] = _opt_float(spec.fp8_tflops)
                bandwidth[i] = _opt_float(spec.memory_bandwidth_gbps)
            family = network_for(offering, families)
            if family is not None:
                inter[i] = _opt_float(family.inter_node_gbps)
            if offering.gpu_count > 1:
                if family is not None and family.intra_node_gbps is not None:
                    intra[i] = family.intra_node_gbps
                elif spec is not None:
                    intra[i] = _opt_float(spec.intra_node_gbps)
        return cls(
            provider=np.array([o.provider for o in rows], dtype=np.str_),
            region=np.array([o.region for o in rows], dtype=np.str_),
            instance_type=np.array([o.instance_type for o in rows], dtype=np.str_),
            gpu_type=np.array([o.gpu_type or "" for o in rows], dtype=np.str_),
            currency=np.array([o.currency for o in rows], dtype=np.str_),
            gpu_count=np.array([o.gpu_count for o in rows], dtype=np.int64),
            gpu_memory_gb=gpu_memory,
            vcpus=np.array([_opt_float(o.vcpus) for o in rows], dtype=np.float64),
            memory_gb=np.array([_opt_float(o.memory_gb) for o in rows], dtype=np.float64),
            price_per_hour=np.array([o.price_per_hour for o in rows], dtype=np.float64),
            spot_price_per_hour=np.array(
                [_opt_float(o.spot_price_per_hour) for o in rows], dtype=np.float64
            ),
            gpu_bf16_tflops=bf16,
            gpu_fp16_tflops=fp16,
            gpu_fp32_tflops=fp32,
            gpu_bandwidth_gbps=bandwidth,
            gpu_fp8_tflops=fp8,
            intra_node_gbps=intra,
            inter_node_gbps=inter,
            offerings=rows,
        )

    def take(self, indices_or_mask: Sequence[int] | Sequence[bool] | NDArray[Any]) -> CatalogArrays:
        """The rows selected by integer positions or by a boolean mask, in that order."""
        selector = np.asarray(indices_or_mask)
        if selector.dtype == np.bool_:
            if selector.shape != (len(self),):
                raise ValueError(
                    f"take: mask of {selector.shape[0] if selector.ndim else 1} entries "
                    f"for {len(self)} rows"
                )
            positions = np.flatnonzero(selector)
        else:
            positions = selector.astype(np.int64, copy=False).reshape(-1)
        values: dict[str, Any] = {
            column.name: getattr(self, column.name)[positions]
            for column in fields(self)
            if column.name != "offerings"
        }
        values["offerings"] = tuple(self.offerings[int(i)] for i in positions)
        return CatalogArrays(**values)

    def converted(self, to_currency: str, rates: ExchangeRates) -> CatalogArrays:
        """The same rows with prices in ``to_currency``; ``CurrencyError`` if a rate is missing.

        The aligned ``offerings`` are converted too, so a row and its offering never disagree.
        """
        from artenic_opt._internal.money import normalize_currency

        target = normalize_currency(to_currency)
        if len(self) == 0 or bool(np.all(self.currency == target)):
            return self
        price = rates.convert_array(self.price_per_hour, self.currency, target)
        spot = rates.convert_array(self.spot_price_per_hour, self.currency, target)
        offerings = tuple(
            offering
            if offering.currency == target
            else offering.model_copy(
                update={
                    "price_per_hour": float(price[i]),
                    "spot_price_per_hour": (None if math.isnan(spot[i]) else float(spot[i])),
                    "currency": target,
                }
            )
            for i, offering in enumerate(self.offerings)
        )
        values: dict[str, Any] = {
            column.name: getattr(self, column.name)
            for column in fields(self)
            if column.name != "offerings"
        }
        values.update(
            price_per_hour=price,
            spot_price_per_hour=spot,
            # A bare np.str_ dtype would be one character wide and cut the code to "U".
            currency=np.full(len(self), target, dtype=f"<U{len(target)}"),
            offerings=offerings,
        )
        return CatalogArrays(**values)


@dataclass(frozen=True, eq=False)
class Catalog:
    """Offerings with their column arrays, the GPU spec table and the storage price table."""

    offerings: tuple[Offering, ...]
    arrays: CatalogArrays
    gpu_specs: Mapping[str, GpuSpec]
    storage_prices: tuple[StoragePrice, ...]

    def __len__(self) -> int:
        return len(self.offerings)

    @functools.cached_property
    def providers(self) -> tuple[str, ...]:
        """Provider names, sorted case-insensitively."""
        return tuple(sorted({o.provider for o in self.offerings}, key=str.casefold))

    @functools.cached_property
    def gpu_types(self) -> tuple[str, ...]:
        """GPU types that have at least one offering, sorted."""
        return tuple(sorted({o.gpu_type for o in self.offerings if o.gpu_type}))

    @functools.cached_property
    def price_date_range(self) -> tuple[date, date] | None:
        """Oldest and newest price date, or ``None`` for an empty catalog."""
        if not self.offerings:
            return None
        dates = [o.price_date for o in self.offerings]
        return min(dates), max(dates)


# --------------------------------------------------------------------------------------------
# Offering-family networks
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NodeNetwork:
    """The published interconnect of one offering family (``None``: not published)."""

    provider: str
    instance_prefix: str
    gpu_type: str
    intra_node_gbps: float | None
    intra_node_link: str | None
    inter_node_gbps: float | None
    inter_node_fabric: str | None
    source: str


def network_for(offering: Offering, networks: Sequence[NodeNetwork]) -> NodeNetwork | None:
    """The family row of ``offering``: same provider (any case), GPU type and name prefix."""
    provider = offering.provider.casefold()
    for network in networks:
        if (
            network.provider.casefold() == provider
            and offering.gpu_type == network.gpu_type
            and offering.instance_type.startswith(network.instance_prefix)
        ):
            return network
    return None


def _positive_or_none(row: Mapping[str, str], column: str, line: int) -> float | None:
    text = (row.get(column) or "").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise InvalidInputError(f"{NETWORKS_FILE}:{line}: {column} is not a number") from None
    if not (value > 0 and math.isfinite(value)):
        raise InvalidInputError(f"{NETWORKS_FILE}:{line}: {column} must be positive")
    return value


def parse_node_networks(rows: Iterable[tuple[int, Mapping[str, str]]]) -> tuple[NodeNetwork, ...]:
    """Validate ``node_networks.csv`` rows (line number, row)."""
    parsed: list[NodeNetwork] = []
    for line, row in rows:
        required = {k: (row.get(k) or "").strip() for k in ("provider", "instance_prefix")}
        for key in ("gpu_type", "source"):
            required[key] = (row.get(key) or "").strip()
        missing = [k for k, v in required.items() if not v]
        if missing:
            raise InvalidInputError(f"{NETWORKS_FILE}:{line}: {', '.join(missing)} empty")
        parsed.append(
            NodeNetwork(
                provider=required["provider"],
                instance_prefix=required["instance_prefix"],
                gpu_type=required["gpu_type"],
                intra_node_gbps=_positive_or_none(row, "intra_node_gbps", line),
                intra_node_link=(row.get("intra_node_link") or "").strip() or None,
                inter_node_gbps=_positive_or_none(row, "inter_node_gbps", line),
                inter_node_fabric=(row.get("inter_node_fabric") or "").strip() or None,
                source=required["source"],
            )
        )
    return tuple(parsed)


@functools.cache
def load_node_networks() -> tuple[NodeNetwork, ...]:
    """The embedded offering-family interconnect table (parsed once per process)."""
    return parse_node_networks(_read_rows(NETWORKS_FILE))


# --------------------------------------------------------------------------------------------
# Embedded data
# --------------------------------------------------------------------------------------------


def _read_rows(name: str) -> list[tuple[int, dict[str, str]]]:
    text = read_package_data(_DATA_PACKAGE, name)
    reader = csv.DictReader(text.splitlines())
    # Line numbers count the header as line 1; the embedded files have one record per line.
    return [(index + 2, row) for index, row in enumerate(reader)]


def _present(row: Mapping[str, str | None]) -> dict[str, str]:
    return {key: value for key, value in row.items() if key and value not in (None, "")}


def _offering_from_embedded(row: dict[str, str]) -> dict[str, str]:
    values = _present(row)
    note = values.pop("price_date_note", "")
    if note:
        values["source"] = f"{values.get('source', '')} [price date: {note}]"
    return values


@functools.cache
def _embedded() -> tuple[tuple[Offering, ...], Mapping[str, GpuSpec], tuple[StoragePrice, ...]]:
    specs: dict[str, GpuSpec] = {}
    for line, row in _read_rows(GPU_SPECS_FILE):
        spec = parse_model(GpuSpec, _present(row), context=f"{GPU_SPECS_FILE}:{line}")
        specs[spec.gpu_type] = spec
    offerings = tuple(
        parse_model(Offering, _offering_from_embedded(row), context=f"{OFFERINGS_FILE}:{line}")
        for line, row in _read_rows(OFFERINGS_FILE)
    )
    storage = tuple(
        parse_model(StoragePrice, _offering_from_embedded(row), context=f"{STORAGE_FILE}:{line}")
        for line, row in _read_rows(STORAGE_FILE)
    )
    return offerings, MappingProxyType(specs), storage


@functools.cache
def _embedded_catalog() -> Catalog:
    offerings, specs, storage = _embedded()
    return Catalog(
        offerings=offerings,
        arrays=CatalogArrays.from_offerings(offerings, specs),
        gpu_specs=specs,
        storage_prices=storage,
    )


def clear_cache() -> None:
    """Forget the parsed embedded data (for benchmarks and tests; the files never change)."""
    _embedded_catalog.cache_clear()
    _embedded.cache_clear()
    load_node_networks.cache_clear()


# --------------------------------------------------------------------------------------------
# Overlays and discounts
# --------------------------------------------------------------------------------------------


def _overlay_key(offering: Offering) -> tuple[str, str, str]:
    return offering.provider.casefold(), offering.region, offering.instance_type


def _normalised_overlay(offering: Offering) -> Offering:
    if not offering.gpu_type:
        return offering
    canonical = normalize_gpu_type_or_none(offering.gpu_type)
    if canonical is None or canonical == offering.gpu_type:
        return offering
    return offering.model_copy(update={"gpu_type": canonical})


def _merge(base: Sequence[Offering], extra: Sequence[Offering]) -> list[Offering]:
    merged = list(base)
    position = {_overlay_key(o): i for i, o in enumerate(merged)}
    # One spelling per provider (the embedded one, else the first seen), so that "aws" rows
    # group, filter and discount together with "AWS" rows.
    spelling = {o.provider.casefold(): o.provider for o in merged}
    for raw in extra:
        offering = _normalised_overlay(raw)
        name = spelling.setdefault(offering.provider.casefold(), offering.provider)
        if name != offering.provider:
            offering = offering.model_copy(update={"provider": name})
        key = _overlay_key(offering)
        index = position.get(key)
        if index is None:
            position[key] = len(merged)
            merged.append(offering)
        else:
            merged[index] = offering
    return merged


def _check_discounts(discounts: Mapping[str, float]) -> dict[str, float]:
    checked: dict[str, float] = {}
    for provider, raw in discounts.items():
        try:
            percent = float(raw)
        except (TypeError, ValueError):
            raise InvalidInputError(f"discounts.{provider}: {raw!r} is not a number") from None
        if not (math.isfinite(percent) and 0.0 <= percent < 100.0):
            raise InvalidInputError(
                f"discounts.{provider}: must be a percentage from 0 to below 100, not {raw!r}"
            )
        checked[provider.casefold()] = percent
    return checked


def _discounted(offering: Offering, percent: float) -> Offering:
    factor = 1.0 - percent / 100.0
    spot = offering.spot_price_per_hour
    return offering.model_copy(
        update={
            "price_per_hour": offering.price_per_hour * factor,
            "spot_price_per_hour": None if spot is None else spot * factor,
            "source": f"{offering.source}; list price less {percent:g}% provider discount",
        }
    )


def load_catalog(
    *, extra: Sequence[Offering] = (), discounts: Mapping[str, float] | None = None
) -> Catalog:
    """The embedded catalog, with ``extra`` offerings merged in and provider ``discounts`` applied.

    ``extra`` rows replace embedded rows with the same (provider, region, instance type) or are
    added; ``discounts`` maps a provider name (any case) to a percentage off its list prices.
    """
    base = _embedded_catalog()
    checked = _check_discounts(discounts or {})
    active = {name: pct for name, pct in checked.items() if pct > 0}
    if not extra and not active:
        return base
    offerings = _merge(base.offerings, extra)
    if active:
        offerings = [
            _discounted(o, active[o.provider.casefold()]) if o.provider.casefold() in active else o
            for o in offerings
        ]
    rows = tuple(offerings)
    return Catalog(
        offerings=rows,
        arrays=CatalogArrays.from_offerings(rows, base.gpu_specs),
        gpu_specs=base.gpu_specs,
        storage_prices=base.storage_prices,
    )
