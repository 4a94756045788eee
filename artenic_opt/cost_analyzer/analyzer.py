"""``CostAnalyzer``: the one entry point behind ``cost compare | summary | savings | spot``.

It receives loaded data (a catalog, a history of ``SpendRecord``s) and returns pydantic models;
it never opens a file or a database. Every amount is in one display currency, converted with an
explicit rate table (``rates``; ``None`` means ``money.DEFAULT_RATES``, the platform's reference
rate, as everywhere else in the tool). The table's source travels into the reports, and a
currency the table does not know raises ``CurrencyError``: nothing is ever added unconverted.

Savings opportunities (``savings_opportunity``), each with an estimated monthly saving:

* **Recurring workloads** are workloads (query id, else name) with at least
  ``min_recurring_runs`` completed runs in the period. An item for one replaces the workload's
  most used setup, and saves on the runs made with that setup only: its monthly run rate is
  ``those runs x (30.44 days / period days)``, the period's average, so a workload that only
  started recently is under- rather than over-counted (runs already on another setup, perhaps
  the suggested one, would save nothing and are neither counted nor held by the item).
* **Switch provider / instance**: for a recurring workload whose profile is known, the cheapest
  feasible candidate of ``compare_providers`` with the same pricing as today (on-demand stays
  on-demand, so spot savings are counted only once, by the spot item). Its cost per run is the
  measured cost scaled by the ratio of the two estimates (``actual x estimate(new) /
  estimate(current)``), which cancels the estimator's bias for this workload; when the current
  setup is no longer in the catalog, the estimate is scaled by the median actual/predicted ratio
  of the workload's runs instead (or used as is without predictions). Another provider gives a
  ``provider_switch`` item, another region of the same provider a ``region`` item, the same
  region an ``instance`` item. Only machines of the workload's kind are considered: a workload
  that needs no GPU is never moved to a GPU machine, nor a GPU workload to a CPU one.
* **Right-size**: when the latest run used at most ``right_size_max_memory_use`` (default 50%)
  of its GPU memory, the cheapest feasible candidate of the same provider with less GPU memory
  per GPU or fewer GPUs in all, priced as above (``right_size``).
* **Follow the recommendation**: for a recurring workload without a stored profile, the mean
  predicted cost of the top recommendations of its runs against the mean actual cost, when the
  runs did not use the recommended candidate (``instance`` or ``provider_switch``).
* **Spot**: where the spot advisor recommends spot for a provider / region / instance type on
  which on-demand runs were made, the monthly on-demand spend there times the expected saving
  with retries (``spot``). Checkpointing and its interval come from the runs' workloads.

An item is kept only when it saves at least ``min_saving_share`` (default 5%) of the current cost
per run. Every item is typed: its current and suggested ``Setup`` (provider, region, instance,
nodes, capacity type) and the list of ``changes`` between them; the kind names the largest change,
compared case-insensitively (``aws`` and ``AWS`` are one provider). Items can describe the same
runs (switching provider and moving to spot are alternatives): a report holds **at most one item
per run**, the one with the largest monthly saving, and the total adds only those.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Final

import numpy as np

from artenic_opt._internal.arrays import IntArray
from artenic_opt._internal.money import DEFAULT_RATES, ExchangeRates
from artenic_opt.catalog import Catalog, CatalogArrays
from artenic_opt.cost_analyzer._common import (
    Converter,
    fmt_amount,
    fmt_pct,
    group_by,
    workload_label,
)
from artenic_opt.cost_analyzer.periods import LookbackWindow, now_utc, parse_period, select_window
from artenic_opt.cost_analyzer.provider_benchmark import (
    CandidateTable,
    benchmark_providers,
    build_candidate_table,
    provider_spot_discounts,
)
from artenic_opt.cost_analyzer.savings import (
    VERBS,
    action_kind,
    best_per_run,
    savings_against_recommendations,
)
from artenic_opt.cost_analyzer.spending import summarize_spending
from artenic_opt.cost_analyzer.spot_advisor import (
    DEFAULT_RESTART_OVERHEAD_HOURS,
    SpotScenario,
    advise_group,
    sort_advice,
)
from artenic_opt.errors import InfeasibleError, InvalidInputError
from artenic_opt.schemas import (
    CostReport,
    SavingsAction,
    SavingsReport,
    Setup,
    SpendingSummary,
    SpendRecord,
    SpotAdvice,
    SpotThresholds,
    WorkloadProfile,
)
from artenic_opt.types import JobStatus, Period

DAYS_PER_MONTH: Final = 365.2425 / 12.0


class CostAnalyzer:
    """Provider comparison, spending history, spot advice and savings, in one currency."""

    def __init__(
        self,
        catalog: Catalog | CatalogArrays,
        *,
        display_currency: str = "USD",
        rates: ExchangeRates | None = None,
        spot_thresholds: SpotThresholds | None = None,
        preemption_rates: Mapping[str, float] | None = None,
        restart_overhead_hours: float = DEFAULT_RESTART_OVERHEAD_HOURS,
        min_recurring_runs: int = 2,
        min_saving_share: float = 0.05,
        right_size_max_memory_use: float = 0.5,
    ) -> None:
        if min_recurring_runs < 1:
            raise InvalidInputError("min_recurring_runs: must be at least 1")
        if not 0 <= min_saving_share < 1:
            raise InvalidInputError("min_saving_share: must be from 0 to below 1")
        if not 0 < right_size_max_memory_use < 1:
            raise InvalidInputError("right_size_max_memory_use: must be between 0 and 1")
        if not restart_overhead_hours >= 0:
            raise InvalidInputError("restart_overhead_hours: must be 0 or more")
        self.arrays = catalog.arrays if isinstance(catalog, Catalog) else catalog
        self.rates = rates if rates is not None else DEFAULT_RATES
        self.converter = Converter(display_currency, self.rates)
        self.display_currency = self.converter.display_currency
        self.spot_thresholds = spot_thresholds or SpotThresholds()
        self.preemption_rates = dict(preemption_rates or {})
        self.restart_overhead_hours = restart_overhead_hours
        self.min_recurring_runs = min_recurring_runs
        self.min_saving_share = min_saving_share
        self.right_size_max_memory_use = right_size_max_memory_use
        self._tables: dict[WorkloadProfile, CandidateTable] = {}

    # ----------------------------------------------------------------------------------------
    # Provider comparison
    # ----------------------------------------------------------------------------------------

    def candidates(self, workload: WorkloadProfile) -> CandidateTable:
        """Estimated candidates of ``workload`` over the catalog (cached per workload)."""
        table = self._tables.get(workload)
        if table is None:
            table = build_candidate_table(
                workload,
                self.arrays,
                currency=self.display_currency,
                rates=self.rates,
                preemption_rates=self.preemption_rates,
            )
            self._tables[workload] = table
        return table

    def compare_providers(self, workload: WorkloadProfile) -> CostReport:
        """Providers side by side for ``workload`` (``InfeasibleError`` when nothing fits)."""
        table = self.candidates(workload)
        return benchmark_providers(
            workload,
            table,
            catalog_arrays=self.arrays,
            rates_source=self.converter.rates_source,
        )

    # ----------------------------------------------------------------------------------------
    # History
    # ----------------------------------------------------------------------------------------

    def spending_summary(
        self,
        history: Iterable[SpendRecord],
        period: str = "30d",
        by: str = "provider",
        *,
        bucket: Period | None = None,
        now: datetime | None = None,
    ) -> SpendingSummary:
        """Spend in the period by ``by``; an empty history gives an empty summary."""
        return summarize_spending(
            history,
            period=period,
            by=by,
            bucket=bucket,
            display_currency=self.display_currency,
            rates=self.rates,
            now=now,
        )

    def spot_advice(
        self,
        history: Iterable[SpendRecord],
        *,
        workload: WorkloadProfile | None = None,
        scenario: SpotScenario | None = None,
        thresholds: SpotThresholds | None = None,
        period: str | None = None,
        now: datetime | None = None,
    ) -> list[SpotAdvice]:
        """Spot advice per provider / region / instance type seen in ``history``.

        Only runs inside ``period`` (``None``: all of them) count. The job scenario is, in
        order: ``scenario``; else the checkpointing of ``workload``; else the checkpointing
        recorded with each group's runs (their workloads).
        """
        records = list(history)
        if period is not None:
            records, _, _ = select_window(records, parse_period(period), now_utc(now))
        by_id = {o.offering_id: o for o in self.arrays.offerings}
        discounts = provider_spot_discounts(self.arrays)
        used = thresholds or self.spot_thresholds
        groups = group_by(records, lambda r: (r.provider, r.region, r.instance_type))
        advice = [
            advise_group(
                key,
                members,
                scenario=scenario or self._scenario(members, workload),
                thresholds=used,
                converter=self.converter,
                preemption_rates=self.preemption_rates,
                offering=by_id.get("/".join(key)),
                provider_discounts=discounts,
            )
            for key, members in groups.items()
        ]
        return sort_advice(advice)

    def _scenario(
        self, records: Sequence[SpendRecord], workload: WorkloadProfile | None
    ) -> SpotScenario:
        profiles = (
            [workload]
            if workload is not None
            else [r.workload for r in records if r.workload is not None]
        )
        if not profiles:
            return SpotScenario(restart_overhead_hours=self.restart_overhead_hours)
        return SpotScenario(
            # One run without checkpoints is enough to make spot unsafe for the group.
            checkpointing=all(p.checkpointing for p in profiles),
            checkpoint_interval_hours=statistics.median(
                p.checkpoint_interval_hours for p in profiles
            ),
            restart_overhead_hours=self.restart_overhead_hours,
        )

    # ----------------------------------------------------------------------------------------
    # Savings
    # ----------------------------------------------------------------------------------------

    def savings_opportunity(
        self,
        history: Iterable[SpendRecord],
        period: str = "90d",
        *,
        now: datetime | None = None,
    ) -> SavingsReport:
        """What following the recommendations would have saved, and what to change now."""
        window = parse_period(period)
        records = list(history)
        report = savings_against_recommendations(
            records,
            period=window,
            display_currency=self.display_currency,
            rates=self.rates,
            now=now,
        )
        inside, _, _ = select_window(records, window, report.end)
        actions = self._actions(inside, window)
        total = sum(a.estimated_monthly_savings for a in actions if a.counted_in_total)
        message = report.message
        if actions and report.records_compared == 0:
            message = None
        return report.model_copy(
            update={
                "actions": tuple(actions),
                "estimated_monthly_savings": total,
                "empty": report.empty and not actions,
                "message": message,
            }
        )

    def _actions(
        self, records: Sequence[SpendRecord], window: LookbackWindow
    ) -> list[SavingsAction]:
        month_factor = DAYS_PER_MONTH / window.approx_days
        completed = [r for r in records if r.status is JobStatus.COMPLETED]
        actions: list[SavingsAction] = []
        by_workload = group_by(
            [r for r in completed if r.workload_key is not None], lambda r: r.workload_key
        )
        for key in sorted(by_workload, key=str):
            runs = by_workload[key]
            if len(runs) < self.min_recurring_runs:
                continue
            actions.extend(self._workload_actions(runs, month_factor))
        actions.extend(self._spot_actions(records, month_factor))
        return best_per_run(actions)

    def _cost(self, record: SpendRecord) -> float:
        return self.converter.to_display(record.cost, record.currency, what=_what(record))

    def _workload_actions(
        self, runs: Sequence[SpendRecord], month_factor: float
    ) -> list[SavingsAction]:
        latest = max(runs, key=lambda r: (r.timestamp, r.record_id))
        label = workload_label(latest)
        current_candidate = Counter(r.candidate_id for r in runs).most_common(1)[0][0]
        current_runs = [r for r in runs if r.candidate_id == current_candidate]
        # Price what the workload does today: its most used setup, at its measured cost. An item
        # replaces that setup, so it saves on the runs made with it only: runs already on another
        # setup (perhaps the suggested one) would save nothing, or pay more.
        cost_per_run = statistics.fmean(self._cost(r) for r in current_runs)
        runs_per_month = len(current_runs) * month_factor
        ids = tuple(r.record_id for r in current_runs)
        profile = next(
            (
                r.workload
                for r in sorted(runs, key=lambda r: r.timestamp, reverse=True)
                if r.workload is not None
            ),
            None,
        )
        if profile is None:
            action = self._follow_recommendation(
                runs, label, current_candidate, cost_per_run, runs_per_month, ids
            )
            return [action] if action is not None else []

        try:
            table = self.candidates(profile)
        except InfeasibleError:
            return []
        usable = table.usable()
        if usable.size == 0:
            return []
        # Never mix workload kinds: a job that needs no GPU is moved to machines without one
        # (no GPU pod for a CPU LightGBM job), a GPU job to machines with GPUs.
        same_kind = usable[(table.gpu_count[usable] > 0) == profile.gpu_required]
        same_pricing = same_kind[table.spot[same_kind] == current_runs[0].spot]
        found: list[SavingsAction] = []
        current_est = self._estimate_of(table, current_candidate)
        calibration = self._calibration(runs)

        def priced(row: int) -> float:
            estimate = float(table.estimated_cost[row])
            if current_est is not None and current_est > 0:
                return cost_per_run * estimate / current_est
            return estimate * calibration

        if same_pricing.size:
            best = int(same_pricing[np.argmin(table.estimated_cost[same_pricing])])
            suggestion = table.candidate_id(best)
            if suggestion != current_candidate:
                action = self._make_action(
                    label=label,
                    current=current_candidate,
                    suggested=suggestion,
                    cost_per_run=cost_per_run,
                    new_cost_per_run=priced(best),
                    runs_per_month=runs_per_month,
                    ids=ids,
                    basis="estimated with the cost model, scaled to this workload's measured cost"
                    if current_est
                    else "estimated with the cost model",
                )
                if action is not None:
                    found.append(action)

        right = self._right_size(latest, table, same_pricing)
        if right is not None:
            action = self._make_action(
                right_size=True,
                label=label,
                current=current_candidate,
                suggested=table.candidate_id(right),
                cost_per_run=cost_per_run,
                new_cost_per_run=priced(right),
                runs_per_month=runs_per_month,
                ids=ids,
                basis=(
                    f"the last run used {fmt_pct(self._memory_use(latest) or 0.0)} of its GPU "
                    "memory"
                ),
            )
            if action is not None:
                # The cheapest machine may also be the smaller one: one item, with the reason.
                found = [a for a in found if a.suggested != action.suggested]
                found.append(action)
        return found

    @staticmethod
    def _memory_use(record: SpendRecord) -> float | None:
        if record.memory_needed_gb is None or record.memory_available_gb is None:
            return None
        return record.memory_needed_gb / record.memory_available_gb

    def _right_size(self, latest: SpendRecord, table: CandidateTable, rows: IntArray) -> int | None:
        use = self._memory_use(latest)
        if use is None or use > self.right_size_max_memory_use or not rows.size:
            return None
        per_gpu = table.gpu_memory_gb[rows]
        total_gpus = table.gpu_count[rows] * table.nodes[rows]
        current_gpus = latest.gpu_count * latest.nodes
        smaller = (per_gpu < (latest.memory_available_gb or 0.0)) | (total_gpus < current_gpus)
        same_provider = np.char.lower(table.provider[rows]) == latest.provider.lower()
        pool = rows[smaller & same_provider & (table.gpu_count[rows] > 0)]
        if not pool.size:
            return None
        return int(pool[np.argmin(table.estimated_cost[pool])])

    def _estimate_of(self, table: CandidateTable, candidate_id: str) -> float | None:
        for row in table.usable().tolist():
            if table.candidate_id(row) == candidate_id:
                return float(table.estimated_cost[row])
        return None

    def _calibration(self, runs: Sequence[SpendRecord]) -> float:
        ratios = []
        for record in runs:
            if record.predicted_cost is None or record.predicted_cost <= 0:
                continue
            predicted = self.converter.to_display(
                record.predicted_cost, record.price_currency, what=_what(record)
            )
            ratios.append(self._cost(record) / predicted)
        return statistics.median(ratios) if ratios else 1.0

    def _follow_recommendation(
        self,
        runs: Sequence[SpendRecord],
        label: str | None,
        current: str,
        cost_per_run: float,
        runs_per_month: float,
        ids: tuple[str, ...],
    ) -> SavingsAction | None:
        advised = [
            r
            for r in runs
            if r.recommended_cost is not None
            and r.recommended_candidate is not None
            and r.recommended_candidate != r.candidate_id
        ]
        if not advised:
            return None
        suggestion = Counter(str(r.recommended_candidate) for r in advised).most_common(1)[0][0]
        recommended = statistics.fmean(
            self.converter.to_display(r.recommended_cost or 0.0, r.price_currency, what=_what(r))
            for r in advised
            if r.recommended_candidate == suggestion
        )
        return self._make_action(
            label=label,
            current=current,
            suggested=suggestion,
            cost_per_run=cost_per_run,
            new_cost_per_run=recommended,
            runs_per_month=runs_per_month,
            ids=ids,
            basis="the optimizer's top recommendation, which these runs did not follow",
        )

    def _make_action(
        self,
        *,
        label: str | None,
        current: str,
        suggested: str,
        cost_per_run: float,
        new_cost_per_run: float,
        runs_per_month: float,
        ids: tuple[str, ...],
        basis: str,
        right_size: bool = False,
    ) -> SavingsAction | None:
        saving = cost_per_run - new_cost_per_run
        if cost_per_run <= 0 or saving < self.min_saving_share * cost_per_run or saving <= 0:
            return None
        current_setup = Setup.from_candidate_id(current)
        suggested_setup = Setup.from_candidate_id(suggested)
        changes = current_setup.changes_to(suggested_setup)
        if not changes:
            return None
        kind = action_kind(changes, right_size=right_size)
        monthly = saving * runs_per_month
        currency = self.display_currency
        name = f" for {label}" if label else ""
        return SavingsAction(
            kind=kind,
            current_setup=current_setup,
            suggested_setup=suggested_setup,
            changes=changes,
            workload=label,
            title=f"{VERBS[kind]}{name}: {suggested} instead of {current}",
            detail=(
                f"{fmt_amount(new_cost_per_run, currency)} per run instead of "
                f"{fmt_amount(cost_per_run, currency)} ({fmt_pct(saving / cost_per_run)} less), "
                f"{runs_per_month:.1f} runs a month; {basis}"
            ),
            current=current,
            suggested=suggested,
            runs_per_month=runs_per_month,
            current_cost_per_run=cost_per_run,
            suggested_cost_per_run=max(new_cost_per_run, 0.0),
            estimated_monthly_savings=monthly,
            currency=currency,
            evidence_runs=len(ids),
            record_ids=ids,
        )

    def _spot_actions(
        self, records: Sequence[SpendRecord], month_factor: float
    ) -> list[SavingsAction]:
        on_demand = [r for r in records if not r.spot]
        if not on_demand:
            return []
        targets = {(r.provider, r.region, r.instance_type) for r in on_demand}
        advice = self.spot_advice(
            [r for r in records if (r.provider, r.region, r.instance_type) in targets]
        )
        actions: list[SavingsAction] = []
        currency = self.display_currency
        for item in advice:
            pct = item.expected_savings_pct
            if not item.recommend_spot or pct is None or pct <= 0:
                continue
            runs = [
                r
                for r in on_demand
                if (r.provider, r.region, r.instance_type)
                == (item.provider, item.region, item.instance_type)
            ]
            spend = sum(self._cost(r) for r in runs)
            cost_per_run = spend / len(runs)
            if cost_per_run <= 0:
                continue
            runs_per_month = len(runs) * month_factor
            monthly = spend * month_factor * pct
            where = f"{item.provider}/{item.region}/{item.instance_type}"
            nodes = Counter(r.nodes for r in runs).most_common(1)[0][0]
            current_setup = Setup(
                provider=item.provider,
                region=item.region,
                instance_type=item.instance_type,
                nodes=nodes,
                spot=False,
            )
            actions.append(
                SavingsAction(
                    kind="spot",
                    current_setup=current_setup,
                    suggested_setup=current_setup.model_copy(update={"spot": True}),
                    changes=("capacity",),
                    workload=None,
                    title=f"Use spot on {where}",
                    detail=(
                        f"expected {fmt_pct(pct)} cheaper with preemption retries "
                        f"({fmt_pct(item.preemption_rate)} of runs preempted, "
                        f"{item.basis}); {fmt_amount(spend * month_factor, currency)} of "
                        "on-demand spend a month"
                    ),
                    current=f"{where} on-demand",
                    suggested=f"{where} spot",
                    runs_per_month=runs_per_month,
                    current_cost_per_run=cost_per_run,
                    suggested_cost_per_run=cost_per_run * (1.0 - pct),
                    estimated_monthly_savings=monthly,
                    currency=currency,
                    evidence_runs=len(runs),
                    record_ids=tuple(r.record_id for r in runs),
                )
            )
        return actions


def _what(record: SpendRecord) -> str:
    return f"record {record.record_id}"


__all__ = ["CostAnalyzer"]
