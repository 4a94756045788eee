"""The storage optimizer: one dataset (or many) in, priced ``StorageAdvice`` out.

``StorageOptimizer.analyze`` chains the usage analyzer, the format advisor and the tiering
engine, then prices the result with the provider's ``StoragePrice`` rows. The CLI and the TUI
call it with loaded data (datasets, events, prices) and render the ``StorageAdvice`` it returns;
``model_dump(mode="json")`` of it is the ``--json`` output.

Decisions and assumptions (each is also listed in ``StorageAdvice.assumptions``):

* The platform reports no storage tier (platform-api.md §6.1): a dataset without ``tier`` is
  taken to sit in the provider's hot tier, and the advice says it assumed so. A local dataset is
  priced as if it were held in that hot tier (what keeping it as it is would cost there).
* Money is in the currency of the provider's storage rows. A conversion compute price given in
  another currency is refused (``CurrencyError``), never silently mixed.
* One-time costs: converting reads the converted bytes once (retrieval fee of the current tier)
  and runs on assumed compute (``ConversionAssumptions``: 50 MB/s at 0.10 an hour by default);
  moving to a hotter tier retrieves everything once; replacing objects younger than the current
  tier's minimum storage days pays the rest of that minimum (age from ``created_at``; unknown age
  counts as old enough). Transition request fees are not modelled.
* Savings per month = cost now - cost after; payback = one-time cost / savings, None when
  nothing is saved. Amounts are rounded to 6 decimals.
* The sample reader is ``local_scan.read_head``; pass ``sample_reader=None`` to never touch the
  disk (every ratio is then estimated).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from artenic_opt.errors import CurrencyError
from artenic_opt.schemas import (
    BYTES_PER_GB,
    BYTES_PER_MB,
    DAYS_PER_MONTH,
    AccessEvent,
    AccessEvidence,
    AdviceEvidence,
    ConversionAssumptions,
    DatasetInfo,
    DatasetOrigin,
    FigureEvidence,
    FormatThresholds,
    StorageAdvice,
    StoragePrice,
    TierPolicy,
)
from artenic_opt.storage_optimizer.format_advisor import SampleReader, advise_format
from artenic_opt.storage_optimizer.local_scan import read_head
from artenic_opt.storage_optimizer.tiering_engine import (
    classify_tier,
    coldness,
    decide_tier,
    provider_tier_prices,
)
from artenic_opt.storage_optimizer.usage_analyzer import analyze_usage, effective_files
from artenic_opt.types import RecommendationType, StorageTier

_SECONDS_PER_DAY = 86_400.0


def _money(value: float) -> float:
    return round(value, 6)


class StorageOptimizer:
    """Storage advice for datasets, priced with one provider's storage tiers."""

    def __init__(
        self,
        storage_prices: Iterable[StoragePrice],
        *,
        provider: str,
        thresholds: FormatThresholds | None = None,
        tier_policy: TierPolicy | None = None,
        conversion: ConversionAssumptions | None = None,
        region: str | None = None,
        now: datetime | None = None,
        sample_reader: SampleReader | None = read_head,
    ) -> None:
        self.prices = provider_tier_prices(storage_prices, provider, region)
        first_row = next(iter(self.prices.values()))[0]
        self.provider = first_row.provider
        self.currency = first_row.currency
        self.thresholds = thresholds or FormatThresholds()
        self.tier_policy = tier_policy or TierPolicy()
        self.conversion = conversion or ConversionAssumptions()
        if self.conversion.currency not in (None, self.currency):
            raise CurrencyError(
                f"conversion.currency: the compute price is in {self.conversion.currency} but "
                f"{self.provider} storage is priced in {self.currency}; give it in {self.currency}"
            )
        moment = now or datetime.now(UTC)
        self.now = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
        self.sample_reader = sample_reader

    def _assumptions(self, dataset: DatasetInfo) -> tuple[str, ...]:
        conversion = self.conversion
        notes = [
            f"prices: {self.provider} storage rows in {self.currency}, per GiB-month; each tier "
            "at its cheapest row for this access",
            "each read or download retrieves the whole dataset; each write rewrites it",
            f"a month is {DAYS_PER_MONTH:g} days; access window {self.tier_policy.window_days} "
            "days",
            f"conversion compute: {conversion.throughput_mb_per_s:g} MB/s at "
            f"{conversion.price_per_hour:g} {self.currency}/hour",
        ]
        if dataset.tier is None and dataset.origin is DatasetOrigin.LOCAL:
            notes.insert(0, f"local data is priced as if held in {self.provider}'s hot tier")
        elif dataset.tier is None:
            notes.insert(0, "current tier assumed hot: the platform reports no storage tier")
        return tuple(notes)

    def analyze(
        self,
        dataset: DatasetInfo,
        events: Iterable[AccessEvent] = (),
        versions: Iterable[DatasetInfo] = (),
    ) -> StorageAdvice:
        """Advice for one dataset; ``versions`` are its other versions (same name), for growth."""
        usage = analyze_usage(
            dataset, events, versions=versions, policy=self.tier_policy, now=self.now
        )
        files, _ = effective_files(dataset)
        fmt = advise_format(files, self.thresholds, sample_reader=self.sample_reader)
        pattern = usage.access
        classification = classify_tier(pattern, self.tier_policy)
        current_tier = dataset.tier or StorageTier.HOT
        assumed = dataset.tier is None
        decision = decide_tier(
            self.prices,
            classification,
            current_tier=current_tier,
            current_tier_assumed=assumed,
            size_now_bytes=usage.total_size_bytes,
            size_after_bytes=fmt.size_after_bytes,
            reads_per_month=pattern.reads_per_month,
            writes_per_month=pattern.writes_per_month,
        )
        current, after = decision.current, decision.recommended
        moved = decision.recommended_tier is not current_tier
        converting = fmt.convert_bytes > 0

        conversion_cost = (
            fmt.convert_bytes
            / (self.conversion.throughput_mb_per_s * BYTES_PER_MB)
            / 3600.0
            * self.conversion.price_per_hour
        )
        retrieved_bytes = 0
        if moved and coldness(decision.recommended_tier) < coldness(current_tier):
            retrieved_bytes = usage.total_size_bytes
        elif converting:
            retrieved_bytes = fmt.convert_bytes
        retrieval_once = retrieved_bytes / BYTES_PER_GB * current.retrieval_per_gb
        replaced_bytes = usage.total_size_bytes if moved else fmt.convert_bytes
        early_once = self._early_deletion_once(
            dataset, current.min_storage_days, replaced_bytes, current.price_per_gb_month
        )
        one_time = conversion_cost + retrieval_once + early_once
        savings = current.total_per_month - after.total_per_month
        payback = one_time / savings if savings > 0 else None

        actions: list[RecommendationType] = []
        reasons: list[str] = []
        for group in fmt.groups:
            if group.action == "convert":
                reasons.append(f"{group.format.value} -> parquet: {group.reason}")
        if converting:
            actions.append(RecommendationType.STORAGE_FORMAT)
        if moved:
            actions.append(RecommendationType.STORAGE_TIER)
        reasons.extend(decision.reasons)
        if not actions:
            reasons.append("no change advised")

        warnings = [*usage.warnings, *fmt.warnings]
        if pattern.evidence is AccessEvidence.WEAK:
            warnings.append(
                "access evidence is weak (file times): atime may be off (noatime) or coarse "
                "(relatime); import an access log for a firmer tier"
            )
        elif pattern.evidence is AccessEvidence.NONE:
            warnings.append(
                "no access events: the tier is left as it is (storage import-access FILE adds them)"
            )
        if fmt.evidence is FigureEvidence.ESTIMATED:
            warnings.append("compression figures are estimated, not measured")

        return StorageAdvice(
            dataset_id=dataset.id,
            dataset_name=dataset.name,
            version=dataset.version,
            origin=dataset.origin,
            provider=self.provider,
            currency=self.currency,
            size_bytes=usage.total_size_bytes,
            size_after_bytes=fmt.size_after_bytes,
            current_format=fmt.current_format,
            recommended_format=fmt.recommended_format,
            current_tier=current_tier,
            recommended_tier=decision.recommended_tier,
            access_tier=decision.access_tier,
            monthly_cost_now=_money(current.total_per_month),
            monthly_cost_after=_money(after.total_per_month),
            monthly_savings=_money(savings),
            retrieval_cost_per_month=_money(after.retrieval_per_month),
            one_time_conversion_cost=_money(conversion_cost),
            one_time_retrieval_cost=_money(retrieval_once),
            one_time_early_deletion_cost=_money(early_once),
            one_time_cost=_money(one_time),
            payback_months=None if payback is None else round(payback, 6),
            actions=tuple(actions),
            evidence=AdviceEvidence(
                format_figures=fmt.evidence,
                access=pattern.evidence,
                weak_access_evidence=pattern.evidence is AccessEvidence.WEAK,
                tier_assumed=assumed,
            ),
            usage=usage,
            format_advice=fmt,
            tier_decision=decision,
            assumptions=self._assumptions(dataset),
            reasons=tuple(reasons),
            warnings=tuple(warnings),
            analyzed_at=self.now,
        )

    def _early_deletion_once(
        self,
        dataset: DatasetInfo,
        min_storage_days: int,
        replaced_bytes: int,
        price_per_gb_month: float,
    ) -> float:
        if min_storage_days <= 0 or replaced_bytes <= 0 or dataset.created_at is None:
            return 0.0
        age_days = (self.now - dataset.created_at).total_seconds() / _SECONDS_PER_DAY
        unpaid_days = max(0.0, min_storage_days - max(0.0, age_days))
        return unpaid_days / DAYS_PER_MONTH * replaced_bytes / BYTES_PER_GB * price_per_gb_month

    def analyze_all(
        self, datasets: Sequence[DatasetInfo], events: Iterable[AccessEvent] = ()
    ) -> list[StorageAdvice]:
        """Advice for every dataset, largest monthly savings first (ties by dataset id).

        Events are matched to datasets by id; datasets sharing a name are each other's versions.
        """
        by_dataset: defaultdict[str, list[AccessEvent]] = defaultdict(list)
        for event in events:
            by_dataset[event.dataset_id].append(event)
        by_name: defaultdict[str, list[DatasetInfo]] = defaultdict(list)
        for dataset in datasets:
            by_name[dataset.name].append(dataset)
        advice = [
            self.analyze(dataset, by_dataset.get(dataset.id, ()), by_name[dataset.name])
            for dataset in datasets
        ]
        return sorted(advice, key=lambda item: (-item.monthly_savings, item.dataset_id))


__all__ = ["StorageOptimizer"]
