"""Package attributes loaded on first use (artenic_opt._internal.lazy) in the packages that use
them: a lazy name resolves once, unknown names raise, and dir() lists both kinds."""

from __future__ import annotations

import importlib
from typing import Any

import pytest

from artenic_opt._internal.lazy import lazy_attribute, lazy_dir


def test_a_lazy_name_is_loaded_once_and_kept() -> None:
    namespace: dict[str, Any] = {"eager": 1}
    table = {"JSONDecoder": "decoder"}
    value = lazy_attribute("json", table, namespace, "JSONDecoder")
    assert value is importlib.import_module("json.decoder").JSONDecoder
    assert namespace["JSONDecoder"] is value
    assert lazy_dir(table, namespace) == ["JSONDecoder", "eager"]


def test_an_unknown_name_raises_attribute_error() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        lazy_attribute("json", {}, {}, "nope")


@pytest.mark.parametrize(
    ("package", "name"),
    [
        ("artenic_opt.state", "PlatformJob"),
        ("artenic_opt.catalog", "GpuPriceRow"),
        ("artenic_opt.schemas", "JobOutcome"),
    ],
)
def test_the_packages_resolve_their_lazy_names(package: str, name: str) -> None:
    module = importlib.import_module(package)
    assert getattr(module, name).__name__ == name
    assert name in dir(module)
    with pytest.raises(AttributeError):
        module.__getattr__("no_such_name")
