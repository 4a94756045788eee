"""Test data factories shared by the test modules: one place for the fields every ``Offering``
needs, so a schema change is made once. Callers pass what their test is about."""

from __future__ import annotations

from datetime import date
from typing import Any

from artenic_opt.schemas import Offering

#: The price date of every test offering (any fixed date: the tests never age prices).
TEST_PRICE_DATE = date(2026, 1, 1)


def make_offering(
    provider: str = "P1", region: str = "r1", instance_type: str = "i1", **fields: Any
) -> Offering:
    """A valid offering: 1.0 an hour, source ``test``, ``TEST_PRICE_DATE``; ``fields`` on top."""
    values: dict[str, Any] = {
        "provider": provider,
        "region": region,
        "instance_type": instance_type,
        "price_per_hour": 1.0,
        "source": "test",
        "price_date": TEST_PRICE_DATE,
    }
    values.update(fields)
    return Offering.model_validate(values)
