"""Spot or on-demand, per provider / region / instance type, from the job history.

Definitions (all amounts in the display currency, prices for all nodes of a run):

* **Preemption rate**: the share of spot runs that were preempted at least once (a run counts
  as preempted when it reports ``preemptions > 0`` or ended with status ``preempted``). This is
  the quantity the providers publish themselves: AWS's Spot Instance Advisor gives the share of
  capacity reclaimed over the trailing month, Google's capacity-history API defines
  ``preemption_rate`` as preempted Spot VMs over Spot VMs that stopped. The threshold
  (default: below 20%) applies to it.
* **Preemptions per preempted run**: the mean number of preemptions among preempted runs
  (at least 1) in history; with priors, the Poisson figure below.
* **Spot savings**: ``1 - sum(spot cost) / sum(on-demand price x nodes x hours)`` over spot runs,
  i.e. the hours-weighted average discount actually paid against the on-demand list price. When
  the records carry no list price, the on-demand price paid by the group's own on-demand runs is
  used instead. The threshold (default: above 30%) applies to it.
* **Expected cost with retries**, for a job of ``H`` hours on ``n`` nodes, checkpointing every
  ``C`` hours and ``R`` hours to restart after a preemption::

      lost_hours     = C / 2 with checkpointing (a preemption lands uniformly in an interval),
                       H / 2 without (on average half the job is lost)
      spot_price     = on_demand_price x (1 - spot_savings)
      spot_cost      = spot_price x n x H
      retry_overhead = preemptions_per_preempted_run x spot_price x n x (lost_hours + R)
      expected_spot  = spot_cost + preemption_rate x retry_overhead
      on_demand_cost = on_demand_price x n x H

  ``expected_spot`` is the issue's ROI formula ``spot_cost + preemption_rate x retry_overhead``:
  the retry overhead is paid by the preempted share of runs only. Unless the caller's
  ``SpotScenario`` says otherwise, ``H`` is the mean hours of the group's completed runs and
  ``n`` its median node count.

Spot is recommended when every condition holds: savings above ``min_savings``, preemption rate
below ``max_preemption_rate``, the checkpointing rule (when ``require_checkpointing``), and, as a
last guard, the expected cost with retries below the on-demand cost.

The checkpointing rule: with checkpoints, a preemption loses at most one interval, so nothing
more is asked. Without them a preempted run restarts from zero, so spot must keep its margin even
then: a run preempted the group's usual number of times (``preemptions_per_preempted_run``), each
time losing everything done so far (worst case: the whole job) plus the restart,
``spot_price x n x (H + preemptions_per_preempted_run x (H + R))``, must still cost at most
``(1 - min_savings)`` of on-demand. Before, checkpointing off vetoed spot outright, which advised
on-demand for an 89% discount at a 0-5% preemption rate, where even a run that restarts from zero
costs about a quarter of on-demand.

Each advice carries ``verdict_reason``: the one line that decided it (the first condition that
failed, or the expected saving when spot is advised), which ``cost spot`` shows in its table.

With fewer than ``min_runs`` spot runs the advice says so and falls back to priors. The
preemption prior is the per-instance-hour rate the estimator uses for spot costs
(``estimate.assumptions.PREEMPTION_RATE_PRIORS_PER_HOUR``: AWS 0.01/h, GCP and Azure 0.02/h,
any other provider 0.03/h; that module explains them from AWS's Spot Instance Advisor bands and
GCP's preemptible-VM rules), so ``recommend`` and ``cost spot`` never disagree on the prior.
For a job of ``H`` hours on ``n`` nodes it expects ``m = rate x n x H`` preemptions (any node's
preemption stops the job); with preemptions as a Poisson process the share of runs preempted is
``1 - exp(-m)`` and a preempted run sees ``m / (1 - exp(-m))`` of them, so
``preemption_rate x retry_overhead`` is exactly ``m`` times the cost of one preemption. Measured
per-hour rates given by the caller (``preemption_rates``, as for the estimator) replace the
priors. The prior spot discount comes from the list prices (the record's, else the catalog
offering's), else from the provider's median catalog discount passed in by the caller; without
any of them spot is not recommended for lack of a price.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from artenic_opt.cost_analyzer._common import (
    Converter,
    fmt_amount,
    fmt_pct,
    group_by,
    hourly_rate,
)
from artenic_opt.errors import InvalidInputError
from artenic_opt.estimate import preemption_rate_for, validate_preemption_rates
from artenic_opt.estimate.assumptions import RESTART_OVERHEAD_HOURS
from artenic_opt.schemas import Offering, SpendRecord, SpotAdvice, SpotThresholds
from artenic_opt.types import JobStatus

if TYPE_CHECKING:
    from artenic_opt._internal.money import ExchangeRates

#: Restart after a preemption (re-provision, pull the image, reload the last checkpoint): the
#: estimator's figure, so both sides of the tool price a preemption alike.
DEFAULT_RESTART_OVERHEAD_HOURS = RESTART_OVERHEAD_HOURS


def prior_rate_per_hour(provider: str, preemption_rates: Mapping[str, float] | None) -> float:
    """Preemptions per instance-hour: a measured override, else the estimator's prior."""
    return preemption_rate_for(provider, validate_preemption_rates(preemption_rates))


def prior_share(rate_per_hour: float, nodes: int, job_hours: float) -> tuple[float, float]:
    """Share of runs preempted and preemptions per preempted run, for a Poisson rate."""
    expected = rate_per_hour * nodes * job_hours
    if expected <= 0:
        return 0.0, 1.0
    share = -math.expm1(-expected)
    return share, expected / share


def is_preempted(record: SpendRecord) -> bool:
    return record.preemptions > 0 or record.status is JobStatus.PREEMPTED


@dataclass(frozen=True, slots=True)
class SpotScenario:
    """The job the ROI is computed for; ``None`` fields default from the group's history."""

    checkpointing: bool = True
    checkpoint_interval_hours: float = 1.0
    restart_overhead_hours: float = DEFAULT_RESTART_OVERHEAD_HOURS
    job_hours: float | None = None
    nodes: int | None = None

    def __post_init__(self) -> None:
        if not self.checkpoint_interval_hours > 0:
            raise InvalidInputError("checkpoint_interval_hours: must be greater than 0")
        if not self.restart_overhead_hours >= 0:
            raise InvalidInputError("restart_overhead_hours: must be 0 or more")
        if self.job_hours is not None and not self.job_hours > 0:
            raise InvalidInputError("job_hours: must be greater than 0")
        if self.nodes is not None and self.nodes < 1:
            raise InvalidInputError("nodes: must be at least 1")


@dataclass(frozen=True, slots=True)
class SpotEconomics:
    """The ROI arithmetic of the module docstring, for one job."""

    on_demand_cost: float
    spot_cost: float
    lost_hours_per_preemption: float
    retry_overhead: float
    expected_spot_cost: float
    expected_savings: float
    expected_savings_pct: float | None


def lost_hours(*, checkpointing: bool, checkpoint_interval_hours: float, job_hours: float) -> float:
    """Work lost by one preemption, on average: half an interval, or half the job."""
    return checkpoint_interval_hours / 2.0 if checkpointing else job_hours / 2.0


def spot_economics(
    *,
    on_demand_price_per_hour: float,
    spot_savings: float,
    preemption_rate: float,
    preemptions_per_preempted_run: float,
    job_hours: float,
    nodes: int,
    checkpointing: bool,
    checkpoint_interval_hours: float,
    restart_overhead_hours: float,
) -> SpotEconomics:
    """Expected spot cost with retries against on-demand, per the module docstring."""
    spot_price = on_demand_price_per_hour * (1.0 - spot_savings)
    lost = lost_hours(
        checkpointing=checkpointing,
        checkpoint_interval_hours=checkpoint_interval_hours,
        job_hours=job_hours,
    )
    on_demand_cost = on_demand_price_per_hour * nodes * job_hours
    spot_cost = spot_price * nodes * job_hours
    retry_overhead = (
        preemptions_per_preempted_run * spot_price * nodes * (lost + restart_overhead_hours)
    )
    expected = spot_cost + preemption_rate * retry_overhead
    saved = on_demand_cost - expected
    pct = saved / on_demand_cost if on_demand_cost > 0 else None
    return SpotEconomics(
        on_demand_cost=on_demand_cost,
        spot_cost=spot_cost,
        lost_hours_per_preemption=lost,
        retry_overhead=retry_overhead,
        expected_spot_cost=expected,
        expected_savings=saved,
        expected_savings_pct=pct,
    )


GroupKey = tuple[str, str, str]


def _latest(records: Sequence[SpendRecord]) -> list[SpendRecord]:
    return sorted(records, key=lambda r: (r.timestamp, r.record_id), reverse=True)


class _GroupPrices:
    """On-demand price per node-hour and listed spot discount of one group (display currency)."""

    def __init__(
        self,
        records: Sequence[SpendRecord],
        offering: Offering | None,
        converter: Converter,
    ) -> None:
        self.on_demand: float | None = None
        self.listed_discount: float | None = None
        for record in _latest(records):
            if record.on_demand_price_per_hour is None:
                continue
            what = f"record {record.record_id}"
            self.on_demand = converter.to_display(
                record.on_demand_price_per_hour, record.price_currency, what=what
            )
            if record.spot_price_per_hour is not None:
                self.listed_discount = 1.0 - (
                    record.spot_price_per_hour / record.on_demand_price_per_hour
                )
            break
        if self.on_demand is None and offering is not None:
            self.on_demand = converter.to_display(
                offering.price_per_hour, offering.currency, what=f"offering {offering.offering_id}"
            )
        if (
            self.listed_discount is None
            and offering is not None
            and offering.spot_price_per_hour is not None
        ):
            self.listed_discount = 1.0 - offering.spot_price_per_hour / offering.price_per_hour
        if self.on_demand is None:
            # No list price anywhere: what the group's own on-demand runs paid per node-hour.
            paid = 0.0
            node_hours = 0.0
            for record in records:
                if record.spot or record.hours <= 0:
                    continue
                paid += converter.to_display(
                    record.cost, record.currency, what=f"record {record.record_id}"
                )
                node_hours += record.hours * record.nodes
            self.on_demand = hourly_rate(paid, node_hours)
        if self.listed_discount is not None:
            # A "spot" price above on-demand is a catalog defect, not a negative discount.
            self.listed_discount = max(0.0, min(self.listed_discount, 0.999))


def _observed_savings(
    spot_runs: Sequence[SpendRecord], on_demand_price: float | None, converter: Converter
) -> float | None:
    """Hours-weighted discount paid by spot runs against on-demand, or None."""
    paid = 0.0
    reference = 0.0
    for record in spot_runs:
        if record.hours <= 0:
            continue
        what = f"record {record.record_id}"
        if record.on_demand_price_per_hour is not None:
            price = converter.to_display(
                record.on_demand_price_per_hour, record.price_currency, what=what
            )
        elif on_demand_price is not None:
            price = on_demand_price
        else:
            continue
        paid += converter.to_display(record.cost, record.currency, what=what)
        reference += price * record.nodes * record.hours
    if reference <= 0:
        return None
    return max(0.0, min(1.0 - paid / reference, 0.999))


def _default_job_hours(records: Sequence[SpendRecord]) -> float:
    completed = [r.hours for r in records if r.status is JobStatus.COMPLETED and r.hours > 0]
    pool = completed or [r.hours for r in records if r.hours > 0]
    return statistics.fmean(pool) if pool else 1.0


def advise_group(
    key: GroupKey,
    records: Sequence[SpendRecord],
    *,
    scenario: SpotScenario,
    thresholds: SpotThresholds,
    converter: Converter,
    preemption_rates: Mapping[str, float] | None = None,
    offering: Offering | None = None,
    provider_discounts: Mapping[str, float] | None = None,
) -> SpotAdvice:
    """Spot advice for one (provider, region, instance type) group of records."""
    provider, region, instance_type = key
    currency = converter.display_currency
    spot_runs = [r for r in records if r.spot]
    preempted = [r for r in spot_runs if is_preempted(r)]
    sufficient = len(spot_runs) >= thresholds.min_runs
    prices = _GroupPrices(records, offering, converter)
    warnings: list[str] = []

    nodes = scenario.nodes or statistics.median_low([r.nodes for r in records] or [1])
    job_hours = scenario.job_hours or _default_job_hours(records)
    prior_rate: float | None = None
    if sufficient:
        basis = "history"
        rate = len(preempted) / len(spot_runs)
        per_preempted = (
            statistics.fmean(max(r.preemptions, 1) for r in preempted) if preempted else 1.0
        )
        savings = _observed_savings(spot_runs, prices.on_demand, converter)
        if savings is None:
            savings = prices.listed_discount
    else:
        basis = "prior"
        prior_rate = prior_rate_per_hour(provider, preemption_rates)
        rate, per_preempted = prior_share(prior_rate, nodes, job_hours)
        savings = prices.listed_discount
        measured = _lookup(provider, preemption_rates) is not None
        origin = "the measured rate given" if measured else "the estimator's prior"
        warnings.append(
            f"only {len(spot_runs)} spot run{'s' if len(spot_runs) != 1 else ''} of "
            f"{provider}/{region}/{instance_type} recorded (need {thresholds.min_runs}): "
            f"assuming {prior_rate:g} preemptions per instance-hour ({origin}), "
            f"{fmt_pct(rate)} of {job_hours:.3g}-hour runs on {nodes} node"
            f"{'s' if nodes != 1 else ''} preempted"
        )
    if savings is None:
        savings = _lookup(provider, provider_discounts)

    gpu_type = next((r.gpu_type for r in _latest(records) if r.gpu_type), None)

    reasons: list[str] = []
    blocking: list[str] = []

    def blocked(reason: str) -> None:
        reasons.append(reason)
        blocking.append(reason)

    economics: SpotEconomics | None = None
    if prices.on_demand is None or savings is None:
        blocked("no spot price is known for this instance, so spot cannot be assessed")
    else:
        economics = spot_economics(
            on_demand_price_per_hour=prices.on_demand,
            spot_savings=savings,
            preemption_rate=rate,
            preemptions_per_preempted_run=per_preempted,
            job_hours=job_hours,
            nodes=nodes,
            checkpointing=scenario.checkpointing,
            checkpoint_interval_hours=scenario.checkpoint_interval_hours,
            restart_overhead_hours=scenario.restart_overhead_hours,
        )
        if savings > thresholds.min_savings:
            reasons.append(
                f"spot saves {fmt_pct(savings)} against on-demand "
                f"(needs more than {fmt_pct(thresholds.min_savings)})"
            )
        else:
            blocked(
                f"spot saves only {fmt_pct(savings)} against on-demand "
                f"(needs more than {fmt_pct(thresholds.min_savings)})"
            )
    if rate < thresholds.max_preemption_rate:
        reasons.append(
            f"{fmt_pct(rate)} of spot runs preempted "
            f"(must stay below {fmt_pct(thresholds.max_preemption_rate)})"
        )
    else:
        blocked(
            f"{fmt_pct(rate)} of spot runs preempted, not below "
            f"{fmt_pct(thresholds.max_preemption_rate)}"
        )
    if thresholds.require_checkpointing:
        if scenario.checkpointing:
            reasons.append("checkpointing is on, so a preemption loses at most one interval")
        elif economics is None:
            blocked("checkpointing is off: a preemption would restart the job from zero")
        else:
            spot_price = economics.spot_cost / (nodes * job_hours)
            worst = (
                spot_price
                * nodes
                * (job_hours + per_preempted * (job_hours + scenario.restart_overhead_hours))
            )
            ceiling = (1.0 - thresholds.min_savings) * economics.on_demand_cost
            times = f"{per_preempted:.3g} time{'s' if per_preempted != 1 else ''}"
            if worst <= ceiling:
                reasons.append(
                    f"checkpointing is off, but a run preempted {times} and restarted from "
                    f"zero would still cost {fmt_amount(worst, currency)}, at least "
                    f"{fmt_pct(thresholds.min_savings)} below "
                    f"{fmt_amount(economics.on_demand_cost, currency)} on demand"
                )
            else:
                blocked(
                    f"checkpointing is off: a run preempted {times} and restarted from zero "
                    f"would cost {fmt_amount(worst, currency)}, not "
                    f"{fmt_pct(thresholds.min_savings)} below "
                    f"{fmt_amount(economics.on_demand_cost, currency)} on demand"
                )
    if economics is not None:
        if economics.expected_spot_cost < economics.on_demand_cost:
            reasons.append(
                f"expected cost with retries {fmt_amount(economics.expected_spot_cost, currency)}"
                f" against {fmt_amount(economics.on_demand_cost, currency)} on demand"
            )
        else:
            blocked(
                f"expected cost with retries {fmt_amount(economics.expected_spot_cost, currency)}"
                f" is not below {fmt_amount(economics.on_demand_cost, currency)} on demand"
            )
    if blocking:
        verdict = blocking[0]
    else:
        assert economics is not None  # every path without a price is blocked above
        verdict = (
            f"{fmt_pct(round(economics.expected_savings_pct or 0.0, 3))} cheaper with retries "
            f"({fmt_amount(economics.expected_spot_cost, currency)} against "
            f"{fmt_amount(economics.on_demand_cost, currency)}); "
            f"{fmt_pct(round(rate, 3))} of spot runs preempted"
        )

    return SpotAdvice(
        provider=provider,
        region=region,
        instance_type=instance_type,
        gpu_type=gpu_type,
        runs=len(records),
        spot_runs=len(spot_runs),
        preempted_runs=len(preempted),
        history_sufficient=sufficient,
        basis=basis,
        prior_preemptions_per_hour=prior_rate,
        preemption_rate=rate,
        preemptions_per_preempted_run=per_preempted,
        spot_savings=savings,
        on_demand_price_per_hour=None if prices.on_demand is None else prices.on_demand * nodes,
        spot_price_per_hour=(
            None
            if prices.on_demand is None or savings is None
            else prices.on_demand * (1.0 - savings) * nodes
        ),
        job_hours=job_hours,
        nodes=nodes,
        checkpointing=scenario.checkpointing,
        checkpoint_interval_hours=scenario.checkpoint_interval_hours,
        restart_overhead_hours=scenario.restart_overhead_hours,
        lost_hours_per_preemption=lost_hours(
            checkpointing=scenario.checkpointing,
            checkpoint_interval_hours=scenario.checkpoint_interval_hours,
            job_hours=job_hours,
        ),
        on_demand_cost=None if economics is None else economics.on_demand_cost,
        spot_cost=None if economics is None else economics.spot_cost,
        retry_overhead=None if economics is None else economics.retry_overhead,
        expected_spot_cost=None if economics is None else economics.expected_spot_cost,
        expected_savings=None if economics is None else economics.expected_savings,
        expected_savings_pct=None if economics is None else economics.expected_savings_pct,
        currency=currency,
        recommend_spot=not blocking,
        verdict_reason=verdict,
        reasons=tuple(reasons),
        warnings=tuple(warnings),
    )


def _lookup(provider: str, table: Mapping[str, float] | None) -> float | None:
    """``table[provider]`` with provider names compared case-insensitively."""
    key = provider.strip().casefold()
    for name, value in (table or {}).items():
        if name.strip().casefold() == key:
            return value
    return None


def advise_spot(
    records: Iterable[SpendRecord],
    *,
    display_currency: str = "USD",
    rates: ExchangeRates | None = None,
    thresholds: SpotThresholds | None = None,
    scenario: SpotScenario | None = None,
    preemption_rates: Mapping[str, float] | None = None,
    offerings: Iterable[Offering] = (),
    provider_discounts: Mapping[str, float] | None = None,
) -> list[SpotAdvice]:
    """Spot advice for every (provider, region, instance type) seen in ``records``.

    Ordered: recommended first, then by expected savings (largest first), then by name.
    ``offerings`` supply list prices for groups whose records carry none; ``provider_discounts``
    (provider -> typical spot discount, e.g. the catalog median) back them;
    ``preemption_rates`` (provider -> measured preemptions per instance-hour) replace the
    estimator's priors.
    """
    converter = Converter(display_currency, rates)
    used_thresholds = thresholds or SpotThresholds()
    used_scenario = scenario or SpotScenario()
    by_id = {o.offering_id: o for o in offerings}
    groups = group_by(records, lambda r: (r.provider, r.region, r.instance_type))
    advice = [
        advise_group(
            key,
            group,
            scenario=used_scenario,
            thresholds=used_thresholds,
            converter=converter,
            preemption_rates=preemption_rates,
            offering=by_id.get("/".join(key)),
            provider_discounts=provider_discounts,
        )
        for key, group in groups.items()
    ]
    return sort_advice(advice)


def sort_advice(advice: Iterable[SpotAdvice]) -> list[SpotAdvice]:
    """Recommended first, then the largest expected saving, then by name."""
    return sorted(
        advice,
        key=lambda a: (
            not a.recommend_spot,
            -(a.expected_savings if a.expected_savings is not None else float("-inf")),
            a.provider,
            a.region,
            a.instance_type,
        ),
    )
