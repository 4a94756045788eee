"""Cost use cases: build the spending history from the state and call the cost analyzer.

Every stored outcome becomes one ``SpendRecord``: linked outcomes take their machine and the
optimizer's estimates from the stored recommendation, unlinked ones (platform jobs that did not
come from a recommendation) the machine recorded with them.
"""

from __future__ import annotations

from collections.abc import Mapping

from artenic_opt._internal.money import ExchangeRates, normalize_currency
from artenic_opt.catalog import Catalog
from artenic_opt.cost_analyzer import CostAnalyzer
from artenic_opt.cost_analyzer.spend_records import spend_record_from_outcome
from artenic_opt.errors import InvalidInputError
from artenic_opt.schemas import SpendRecord, TrainingAdvice
from artenic_opt.state import get_recommendation, list_outcomes
from artenic_opt.state.store import StateStore


def _unconvertible(currency: str, rates: Mapping[str, float]) -> bool:
    try:
        return normalize_currency(currency) not in rates
    except InvalidInputError:
        return True


def make_analyzer(catalog: Catalog, display_currency: str, rates: ExchangeRates) -> CostAnalyzer:
    return CostAnalyzer(catalog, display_currency=display_currency, rates=rates)


#: Where a platform job ran when the platform did not say (its ``region`` or ``instance_type``
#: is null, as on CPU jobs of the mock provider): still money spent, filed under this label.
UNKNOWN_MACHINE = "unknown"


def load_history(store: StateStore, rates: Mapping[str, float] | None = None) -> list[SpendRecord]:
    """The spending history; with ``rates``, outcomes in a currency they cannot convert are left
    out (a state written before currencies were checked at record time may hold such a row, and
    one unconvertible amount must not break every cost analysis)."""
    advices: dict[str, TrainingAdvice] = {}
    history: list[SpendRecord] = []
    for stored in list_outcomes(store):
        outcome = stored.outcome
        if rates is not None and _unconvertible(outcome.currency, rates):
            continue
        advice = None
        if stored.linked:
            rec_id = outcome.recommendation_id
            if rec_id not in advices:
                advices[rec_id] = get_recommendation(store, rec_id)
            advice = advices[rec_id]
        history.append(
            spend_record_from_outcome(
                outcome,
                record_id=str(stored.id),
                advice=advice,
                provider=None if advice else (stored.provider or UNKNOWN_MACHINE),
                region=None if advice else (stored.region or UNKNOWN_MACHINE),
                instance_type=None if advice else (stored.instance_type or UNKNOWN_MACHINE),
                spot=None if advice else stored.spot,
            )
        )
    return history
