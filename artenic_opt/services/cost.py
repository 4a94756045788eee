"""Cost use cases: build the spending history from the state and call the cost analyzer.

Every stored outcome becomes one ``SpendRecord``: linked outcomes take their machine and the
optimizer's estimates from the stored recommendation, unlinked ones (platform jobs that did not
come from a recommendation) the machine recorded with them.

Decisions:

* The platform may leave a job's region or instance type empty (platform-api.md: both are
  nullable), and ``sync`` then stores an unlinked outcome with an empty one. Such a job still cost
  money: its region is read as ``UNSPECIFIED_REGION`` (``"global"``, what the catalog translation
  files a row without a region under) and its instance type as ``"not stated"``, so it is counted
  and grouped instead of failing every cost command.
"""

from __future__ import annotations

from collections.abc import Mapping

from artenic_opt._internal.money import ExchangeRates, normalize_currency
from artenic_opt.catalog import Catalog
from artenic_opt.cost_analyzer import CostAnalyzer
from artenic_opt.cost_analyzer.spend_records import spend_record_from_outcome
from artenic_opt.errors import InvalidInputError
from artenic_opt.platform.translation import UNSPECIFIED_REGION
from artenic_opt.schemas import SpendRecord, TrainingAdvice
from artenic_opt.state import get_recommendation, list_outcomes
from artenic_opt.state.store import StateStore

#: The instance type of a stored platform job that did not say which machine it ran on.
UNSTATED_INSTANCE = "not stated"
#: The provider of a stored platform job whose provider field was empty.
UNSTATED_PROVIDER = "not stated"


def _unconvertible(currency: str, rates: Mapping[str, float]) -> bool:
    try:
        return normalize_currency(currency) not in rates
    except InvalidInputError:
        return True


def make_analyzer(catalog: Catalog, display_currency: str, rates: ExchangeRates) -> CostAnalyzer:
    return CostAnalyzer(catalog, display_currency=display_currency, rates=rates)


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
                provider=None if advice else (stored.provider or UNSTATED_PROVIDER),
                region=None if advice else (stored.region or UNSPECIFIED_REGION),
                instance_type=None if advice else (stored.instance_type or UNSTATED_INSTANCE),
                spot=None if advice else stored.spot,
            )
        )
    return history
