"""Tiering: which tier an access pattern calls for, and what each tier would cost.

Classification (``TierPolicy`` defaults; days since the last read, download or write, and reads
plus downloads per 30-day month), checked in this order:

1. hot: last access at most 7 days ago, or MORE than 4 reads a month;
2. warm: last access at most 30 days ago, or at least 1 read a month (so exactly 4 is warm);
3. cold: 90 days or more since the last access (the rate is then under 1 a month);
4. the gap, 30 to 90 days with under 1 read a month: warm. Data read in the last quarter is
   likely to be read again soon, and a cold tier's minimum duration would be paid for nothing.

Without any access event there is no classification (``tier`` None): the dataset stays where it
is, because an absent log is not evidence of absent reads.

Pricing one tier for a dataset of ``G`` GiB (providers bill binary gigabytes) with ``r`` reads and
``w`` writes a month, from a ``StoragePrice`` row:

* storage = G x price_per_gb_month;
* retrieval = r x G x retrieval_per_gb (each read is assumed to fetch the whole dataset: the
  conservative reading, since events are per dataset, not per byte);
* early deletion = w x max(0, D - 30 / w) / 30 x G x price_per_gb_month, where D is the
  minimum storage days: each rewrite (assumed whole) deletes objects that lived 30 / w days and
  is billed for the rest of D.

A tier is priced at its cheapest row for the provider (and region, when given) for that access;
rows of other tiers (``archive``) are ignored: hours-long restores do not fit training data.

Decision: the access tier bounds how cold the data may go. Among the current tier and the tiers
between it and the access tier, the cheapest total wins, and a move down is recommended only
when it is strictly cheaper than staying, net of retrieval and early-deletion costs. When the
access pattern calls for a hotter tier than the current one, that tier is recommended even if
it costs more: the pattern needs it.
"""

from __future__ import annotations

from collections.abc import Iterable

from artenic_opt.errors import CurrencyError, InvalidInputError, NotFoundError
from artenic_opt.schemas import (
    BYTES_PER_GB,
    DAYS_PER_MONTH,
    AccessPattern,
    StoragePrice,
    TierClassification,
    TierCost,
    TierDecision,
    TierPolicy,
)
from artenic_opt.types import StorageTier

#: Hot to cold; index = how cold.
TIER_ORDER: tuple[StorageTier, ...] = (StorageTier.HOT, StorageTier.WARM, StorageTier.COLD)


def coldness(tier: StorageTier) -> int:
    return TIER_ORDER.index(tier)


def format_money(value: float) -> str:
    """Two decimals, or two significant digits for amounts under a cent (small datasets)."""
    if value == 0 or abs(value) >= 0.01:
        return f"{value:,.2f}"
    return f"{value:.2g}"


def classify_tier(pattern: AccessPattern, policy: TierPolicy | None = None) -> TierClassification:
    """The tier an access pattern calls for, with the rule that decided it."""
    policy = policy or TierPolicy()
    days = pattern.days_since_last_access
    rate = pattern.reads_per_month
    if days is None:
        return TierClassification(
            tier=None,
            rule="no access event: no tier can be inferred (import an access log)",
        )
    since = f"last access {days:.1f} days ago"
    per_month = f"{rate:.2f} reads a month"
    if days <= policy.hot_days:
        return TierClassification(
            tier=StorageTier.HOT, rule=f"hot: {since} (within {policy.hot_days:g} days)"
        )
    if rate > policy.hot_reads_per_month:
        return TierClassification(
            tier=StorageTier.HOT,
            rule=f"hot: {per_month} (more than {policy.hot_reads_per_month:g})",
        )
    if days <= policy.warm_days:
        return TierClassification(
            tier=StorageTier.WARM, rule=f"warm: {since} (within {policy.warm_days:g} days)"
        )
    if rate >= policy.warm_reads_per_month:
        return TierClassification(
            tier=StorageTier.WARM,
            rule=f"warm: {per_month} (between {policy.warm_reads_per_month:g} and "
            f"{policy.hot_reads_per_month:g})",
        )
    if days >= policy.cold_days:
        return TierClassification(
            tier=StorageTier.COLD,
            rule=f"cold: {since} (at least {policy.cold_days:g}) and {per_month} "
            f"(under {policy.warm_reads_per_month:g})",
        )
    return TierClassification(
        tier=StorageTier.WARM,
        rule=f"warm: {since}, between {policy.warm_days:g} and {policy.cold_days:g} days, with "
        f"{per_month}: too recent for cold",
    )


def provider_tier_prices(
    storage_prices: Iterable[StoragePrice], provider: str, region: str | None = None
) -> dict[StorageTier, tuple[StoragePrice, ...]]:
    """The provider's price rows per tier. All rows must share one currency.

    Raises ``NotFoundError`` when the provider (or region) has no row and ``CurrencyError`` when
    its rows mix currencies.
    """
    rows = list(storage_prices)
    wanted = provider.strip().lower()
    mine = [row for row in rows if row.provider.strip().lower() == wanted]
    if not mine:
        known = sorted({row.provider for row in rows})
        raise NotFoundError(
            f"provider: no storage prices for {provider!r} (known: {', '.join(known) or 'none'})"
        )
    if region is not None:
        mine = [row for row in mine if row.region.strip().lower() == region.strip().lower()]
        if not mine:
            raise NotFoundError(f"region: no storage prices for {provider!r} in {region!r}")
    currencies = sorted({row.currency for row in mine})
    if len(currencies) > 1:
        raise CurrencyError(
            f"storage prices of {provider!r} mix {' and '.join(currencies)}; pick one region "
            "or currency"
        )
    by_tier: dict[StorageTier, list[StoragePrice]] = {}
    for row in mine:
        try:
            tier = StorageTier(row.tier.strip().lower())
        except ValueError:
            continue  # archive-class rows: restores take hours, not a home for training data
        by_tier.setdefault(tier, []).append(row)
    if not by_tier:
        raise NotFoundError(f"provider: {provider!r} has no hot, warm or cold storage price")
    return {tier: tuple(by_tier[tier]) for tier in TIER_ORDER if tier in by_tier}


def early_deletion_per_month(
    size_gb: float, price_per_gb_month: float, min_storage_days: int, writes_per_month: float
) -> float:
    """Expected monthly minimum-duration charge when the data is rewritten ``w`` times a month."""
    if writes_per_month <= 0 or min_storage_days <= 0:
        return 0.0
    lifetime_days = DAYS_PER_MONTH / writes_per_month
    unpaid_days = max(0.0, min_storage_days - lifetime_days)
    return writes_per_month * unpaid_days / DAYS_PER_MONTH * size_gb * price_per_gb_month


def price_tier(
    row: StoragePrice,
    tier: StorageTier,
    *,
    size_bytes: int,
    reads_per_month: float,
    writes_per_month: float,
) -> TierCost:
    """Monthly cost of holding ``size_bytes`` in ``row``'s tier with the given access."""
    size_gb = size_bytes / BYTES_PER_GB
    storage = size_gb * row.price_per_gb_month
    retrieval = reads_per_month * size_gb * row.retrieval_per_gb
    early = early_deletion_per_month(
        size_gb, row.price_per_gb_month, row.min_storage_days, writes_per_month
    )
    return TierCost(
        tier=tier,
        tier_name=row.tier_name,
        currency=row.currency,
        size_bytes=size_bytes,
        price_per_gb_month=row.price_per_gb_month,
        retrieval_per_gb=row.retrieval_per_gb,
        min_storage_days=row.min_storage_days,
        storage_per_month=storage,
        retrieval_per_month=retrieval,
        early_deletion_per_month=early,
        total_per_month=storage + retrieval + early,
    )


def cheapest_in_tier(
    rows: Iterable[StoragePrice],
    tier: StorageTier,
    *,
    size_bytes: int,
    reads_per_month: float,
    writes_per_month: float,
) -> TierCost:
    costs = [
        price_tier(
            row,
            tier,
            size_bytes=size_bytes,
            reads_per_month=reads_per_month,
            writes_per_month=writes_per_month,
        )
        for row in rows
    ]
    return min(costs, key=lambda cost: (cost.total_per_month, cost.tier_name))


def decide_tier(
    prices: dict[StorageTier, tuple[StoragePrice, ...]],
    classification: TierClassification,
    *,
    current_tier: StorageTier,
    current_tier_assumed: bool,
    size_now_bytes: int,
    size_after_bytes: int,
    reads_per_month: float,
    writes_per_month: float,
) -> TierDecision:
    """Compare staying with the tiers the access pattern allows; see the module docstring.

    ``size_after_bytes`` is the size once any advised format conversion is done; the current
    cost is priced at ``size_now_bytes``.
    """
    if current_tier not in prices:
        raise InvalidInputError(
            f"tier: no {current_tier.value} storage price for this provider, so the current cost "
            "cannot be priced"
        )

    def cost(tier: StorageTier, size: int) -> TierCost:
        return cheapest_in_tier(
            prices[tier],
            tier,
            size_bytes=size,
            reads_per_month=reads_per_month,
            writes_per_month=writes_per_month,
        )

    current = cost(current_tier, size_now_bytes)
    options = tuple(cost(tier, size_after_bytes) for tier in TIER_ORDER if tier in prices)
    by_tier = {option.tier: option for option in options}
    stay = by_tier[current_tier]
    access = classification.tier
    reasons: list[str] = [classification.rule]
    recommended = stay
    if access is None:
        reasons.append(f"stays {current_tier.value}: no access evidence")
    elif coldness(access) > coldness(current_tier):
        allowed = [
            option
            for option in options
            if coldness(current_tier) <= coldness(option.tier) <= coldness(access)
        ]
        # Ties go to the hotter tier: same money, faster reads, no minimum duration risk.
        best = min(allowed, key=lambda option: (option.total_per_month, coldness(option.tier)))
        if access not in by_tier:
            reasons.append(f"the provider has no {access.value} tier price")
        if best.tier is not current_tier and best.total_per_month < stay.total_per_month:
            recommended = best
            reasons.append(
                f"moving to {best.tier.value} ({best.tier_name}) saves "
                f"{format_money(stay.total_per_month - best.total_per_month)} {best.currency} a "
                "month net of retrieval and early-deletion costs"
            )
        else:
            colder = by_tier.get(access)
            if colder is not None:
                reasons.append(
                    f"stays {current_tier.value}: {access.value} would cost "
                    f"{format_money(colder.total_per_month)} {colder.currency} a month with "
                    f"retrieval ({format_money(colder.retrieval_per_month)}) and early deletion "
                    f"({format_money(colder.early_deletion_per_month)}), against "
                    f"{format_money(stay.total_per_month)} staying"
                )
    elif coldness(access) < coldness(current_tier):
        if access in by_tier:
            recommended = by_tier[access]
            reasons.append(
                f"the access pattern needs {access.value}: reads from {current_tier.value} are "
                "slow and pay retrieval fees"
            )
        else:
            reasons.append(f"the provider has no {access.value} tier price; stays")
    return TierDecision(
        current_tier=current_tier,
        current_tier_assumed=current_tier_assumed,
        access_tier=access,
        rule=classification.rule,
        recommended_tier=recommended.tier,
        current=current,
        recommended=recommended,
        options=options,
        reasons=tuple(reasons),
    )


__all__ = [
    "TIER_ORDER",
    "cheapest_in_tier",
    "classify_tier",
    "coldness",
    "decide_tier",
    "early_deletion_per_month",
    "format_money",
    "price_tier",
    "provider_tier_prices",
]
