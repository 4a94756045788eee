"""The price catalog: embedded list prices, GPU specs and storage prices, plus user overlays.

``load_catalog()`` returns a ``Catalog`` whose offerings are also available as numpy columns
(``Catalog.arrays``) for vectorised ranking. See ``loader`` for the data and overlay rules,
``gpu_names`` for GPU label normalisation, ``queries`` for the listing helpers behind
``catalog list`` / ``catalog gpus``, and ``importer`` for ``catalog import`` files.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from artenic_opt._internal.lazy import lazy_attribute, lazy_dir
from artenic_opt.catalog.gpu_names import (
    CANONICAL_GPU_TYPES,
    GPU_FAMILIES,
    gpu_types_matching,
    normalize_gpu_type,
    normalize_gpu_type_or_none,
)
from artenic_opt.catalog.loader import (
    Catalog,
    CatalogArrays,
    NodeNetwork,
    clear_cache,
    load_catalog,
    load_node_networks,
)

if TYPE_CHECKING:
    from artenic_opt.catalog.importer import parse_offerings_file
    from artenic_opt.catalog.queries import GpuPriceRow, filter_offerings, gpu_price_summary

__all__ = [
    "CANONICAL_GPU_TYPES",
    "GPU_FAMILIES",
    "Catalog",
    "CatalogArrays",
    "GpuPriceRow",
    "NodeNetwork",
    "clear_cache",
    "filter_offerings",
    "gpu_price_summary",
    "gpu_types_matching",
    "load_catalog",
    "load_node_networks",
    "normalize_gpu_type",
    "normalize_gpu_type_or_none",
    "parse_offerings_file",
]


#: Names loaded when first asked for: ``catalog import`` files are read by one command, and the
#: listing helpers (with their ``GpuPriceRow`` model) serve ``catalog list``/``gpus`` only.
_LAZY: dict[str, str] = {
    "parse_offerings_file": "importer",
    "GpuPriceRow": "queries",
    "filter_offerings": "queries",
    "gpu_price_summary": "queries",
}


def __getattr__(name: str) -> Any:
    return lazy_attribute(__name__, _LAZY, globals(), name)


def __dir__() -> list[str]:
    return lazy_dir(_LAZY, globals())
