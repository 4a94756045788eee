"""The price catalog: embedded list prices, GPU specs and storage prices, plus user overlays.

``load_catalog()`` returns a ``Catalog`` whose offerings are also available as numpy columns
(``Catalog.arrays``) for vectorised ranking. See ``loader`` for the data and overlay rules,
``gpu_names`` for GPU label normalisation, ``queries`` for the listing helpers behind
``catalog list`` / ``catalog gpus``, and ``importer`` for ``catalog import`` files.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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
from artenic_opt.catalog.queries import GpuPriceRow, filter_offerings, gpu_price_summary

if TYPE_CHECKING:
    from artenic_opt.catalog.importer import parse_offerings_file

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


def __getattr__(name: str) -> Any:
    # ``catalog import`` files are read by one command: the reader loads when it is asked for.
    if name == "parse_offerings_file":
        from artenic_opt.catalog.importer import parse_offerings_file

        return parse_offerings_file
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
