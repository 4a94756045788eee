"""Package attributes loaded on first use (PEP 562), for the packages whose rarely used names
would otherwise cost every command their import.

A package keeps a table ``name -> submodule`` and defines the two module hooks as one-liners
over ``lazy_attribute`` and ``lazy_dir``; the value found is stored in the package's namespace,
so the submodule is imported once.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any


def lazy_attribute(
    package: str, table: Mapping[str, str], namespace: dict[str, Any], name: str
) -> Any:
    """The package attribute ``name`` from its submodule in ``table``; AttributeError otherwise."""
    module = table.get(name)
    if module is None:
        raise AttributeError(f"module {package!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{package}.{module}"), name)
    namespace[name] = value
    return value


def lazy_dir(table: Mapping[str, str], namespace: Mapping[str, Any]) -> list[str]:
    """The package's names, loaded or not."""
    return sorted({*namespace, *table})
