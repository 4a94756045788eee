"""Tiering: classification boundaries and hand-computed tier costs and decisions."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given, strategies as st
from pydantic import ValidationError

from artenic_opt.errors import CurrencyError, InvalidInputError, NotFoundError
from artenic_opt.schemas import (
    BYTES_PER_GB,
    AccessEvidence,
    AccessPattern,
    StoragePrice,
    TierClassification,
    TierPolicy,
)
from artenic_opt.storage_optimizer.tiering_engine import (
    classify_tier,
    coldness,
    decide_tier,
    early_deletion_per_month,
    format_money,
    price_tier,
    provider_tier_prices,
)
from artenic_opt.types import StorageTier

NOW = datetime(2026, 6, 1, tzinfo=UTC)
HOT, WARM, COLD = StorageTier.HOT, StorageTier.WARM, StorageTier.COLD
GB100 = 100 * BYTES_PER_GB


def _pattern(days: float | None, reads_per_month: float = 0.0) -> AccessPattern:
    return AccessPattern(
        evidence=AccessEvidence.NONE if days is None else AccessEvidence.STRONG,
        window_days=180,
        window_start=NOW,
        window_end=NOW,
        effective_window_days=180,
        reads_in_window=0,
        writes_in_window=0,
        reads_per_month=reads_per_month,
        writes_per_month=0,
        days_since_last_access=days,
        events_used=0,
    )


def _price(
    tier: str,
    price: float,
    *,
    retrieval: float = 0.0,
    min_days: int = 0,
    name: str | None = None,
    provider: str = "acme",
    currency: str = "USD",
    region: str = "eu",
) -> StoragePrice:
    return StoragePrice(
        provider=provider,
        tier_name=name or tier.title(),
        tier=tier,
        price_per_gb_month=price,
        retrieval_per_gb=retrieval,
        min_storage_days=min_days,
        currency=currency,
        region=region,
        source="test",
        price_date=date(2026, 1, 1),
    )


PRICES = [
    _price("hot", 0.023, name="Standard"),
    _price("warm", 0.0125, retrieval=0.01, min_days=30, name="Infrequent"),
    _price("cold", 0.004, retrieval=0.03, min_days=90, name="Glacier IR"),
    _price("archive", 0.00099, retrieval=0.02, min_days=180, name="Deep Archive"),
]


@pytest.mark.parametrize(
    ("days", "rate", "tier"),
    [
        (7.0, 0.0, HOT),  # exactly 7 days: still hot
        (7.0001, 0.0, WARM),  # just past 7 days, within 30
        (20.0, 4.0, WARM),  # exactly 4 reads a month is not "more than 4"
        (20.0, 4.0001, HOT),
        (200.0, 4.5, HOT),  # frequent reads make it hot however long since the last one
        (30.0, 0.0, WARM),  # exactly 30 days
        (60.0, 1.0, WARM),  # exactly once a month is warm
        (120.0, 1.0, WARM),  # 90+ days but once a month: not cold
        (60.0, 0.9999, WARM),  # the 30-90 day gap under once a month: warm (documented)
        (89.999, 0.0, WARM),
        (90.0, 0.0, COLD),  # exactly 90 days, under once a month
        (90.0, 0.9999, COLD),
        (400.0, 0.0, COLD),
    ],
)
def test_tier_boundaries(days: float, rate: float, tier: StorageTier) -> None:
    assert classify_tier(_pattern(days, rate)).tier is tier


def test_classification_says_which_rule_decided() -> None:
    assert classify_tier(_pattern(3)).rule == "hot: last access 3.0 days ago (within 7 days)"
    assert classify_tier(_pattern(50, 5)).rule == "hot: 5.00 reads a month (more than 4)"
    assert classify_tier(_pattern(50, 2)).rule == "warm: 2.00 reads a month (between 1 and 4)"
    assert "too recent for cold" in classify_tier(_pattern(50)).rule
    none = classify_tier(_pattern(None))
    assert none.tier is None
    assert "no access event" in none.rule


def test_custom_policy() -> None:
    policy = TierPolicy(hot_days=1, warm_days=10, cold_days=20, window_days=60)
    assert classify_tier(_pattern(15), policy).tier is WARM
    assert classify_tier(_pattern(20), policy).tier is COLD
    with pytest.raises(ValidationError, match="increasing order"):
        TierPolicy(hot_days=40)
    with pytest.raises(ValidationError, match="warm_reads_per_month"):
        TierPolicy(warm_reads_per_month=5)
    with pytest.raises(ValidationError, match="min_window_days"):
        TierPolicy(window_days=10)


@given(
    days=st.floats(min_value=0, max_value=1000),
    more_days=st.floats(min_value=0, max_value=1000),
    rate=st.floats(min_value=0, max_value=50),
    more_rate=st.floats(min_value=0, max_value=50),
)
def test_classification_is_monotonic(
    days: float, more_days: float, rate: float, more_rate: float
) -> None:
    # Older last access or fewer reads never yields a hotter tier.
    base = classify_tier(_pattern(days, rate + more_rate)).tier
    colder_candidate = classify_tier(_pattern(days + more_days, rate)).tier
    assert base is not None and colder_candidate is not None
    assert coldness(colder_candidate) >= coldness(base)


def test_price_tier_known_answer() -> None:
    # 100 GiB in the cold tier, 0.5 reads and 2 rewrites a month:
    # storage 100 * 0.004 = 0.4; retrieval 0.5 * 100 * 0.03 = 1.5;
    # early deletion: objects live 15 days of a 90-day minimum -> 2 * (75 / 30) * 100 * 0.004 = 2.0
    cost = price_tier(PRICES[2], COLD, size_bytes=GB100, reads_per_month=0.5, writes_per_month=2)
    assert cost.storage_per_month == pytest.approx(0.4)
    assert cost.retrieval_per_month == pytest.approx(1.5)
    assert cost.early_deletion_per_month == pytest.approx(2.0)
    assert cost.total_per_month == pytest.approx(3.9)
    assert (cost.tier_name, cost.currency, cost.min_storage_days) == ("Glacier IR", "USD", 90)


@given(
    size=st.floats(min_value=0, max_value=1e6),
    price=st.floats(min_value=0.0001, max_value=1),
    min_days=st.integers(min_value=0, max_value=400),
    writes=st.floats(min_value=0, max_value=100),
)
def test_early_deletion_bounds(size: float, price: float, min_days: int, writes: float) -> None:
    charge = early_deletion_per_month(size, price, min_days, writes)
    assert charge >= 0
    # Never more than paying the full minimum for every rewrite.
    assert charge <= writes * min_days / 30 * size * price * (1 + 1e-9) + 1e-9
    if writes == 0 or 30 / max(writes, 1e-12) >= min_days:
        assert charge == 0


def test_provider_prices_selection_and_errors() -> None:
    by_tier = provider_tier_prices(PRICES, "ACME")
    assert list(by_tier) == [HOT, WARM, COLD]  # archive rows are ignored
    with pytest.raises(NotFoundError, match="no storage prices for 'other' \\(known: acme\\)"):
        provider_tier_prices(PRICES, "other")
    with pytest.raises(NotFoundError, match="in 'us'"):
        provider_tier_prices(PRICES, "acme", region="us")
    assert provider_tier_prices(PRICES, "acme", region="EU") == by_tier
    mixed = [*PRICES, _price("hot", 0.02, currency="EUR", name="Euro")]
    with pytest.raises(CurrencyError, match="mix EUR and USD"):
        provider_tier_prices(mixed, "acme")
    with pytest.raises(NotFoundError, match="no hot, warm or cold"):
        provider_tier_prices([PRICES[3]], "acme")


def _decide(
    access: StorageTier | None,
    *,
    current: StorageTier = HOT,
    reads: float = 0.0,
    writes: float = 0.0,
    prices: list[StoragePrice] = PRICES,
    size_after: int = GB100,
) -> tuple[StorageTier, float, float, tuple[str, ...]]:
    decision = decide_tier(
        provider_tier_prices(prices, "acme"),
        TierClassification(tier=access, rule="test rule"),
        current_tier=current,
        current_tier_assumed=False,
        size_now_bytes=GB100,
        size_after_bytes=size_after,
        reads_per_month=reads,
        writes_per_month=writes,
    )
    return (
        decision.recommended_tier,
        decision.current.total_per_month,
        decision.recommended.total_per_month,
        decision.reasons,
    )


def test_cold_data_moves_to_cold() -> None:
    tier, now, after, reasons = _decide(COLD)
    assert tier is COLD
    assert (now, after) == pytest.approx((2.3, 0.4))
    assert reasons[0] == "test rule"
    assert "moving to cold (Glacier IR) saves 1.90 USD a month" in reasons[1]


def test_retrieval_makes_an_intermediate_tier_cheaper() -> None:
    # 0.5 reads a month: cold 0.4 + 1.5 = 1.9; warm 1.25 + 0.5 = 1.75; hot 2.3 -> warm.
    tier, _, after, _ = _decide(COLD, reads=0.5)
    assert tier is WARM
    assert after == pytest.approx(1.75)


def test_move_refused_when_retrieval_eats_the_saving() -> None:
    prices = [PRICES[0], _price("warm", 0.0125, retrieval=0.02, min_days=30), PRICES[2]]
    # 0.9 reads: warm 1.25 + 1.8 = 3.05, cold 0.4 + 2.7 = 3.1, hot 2.3 -> stay hot.
    tier, now, after, reasons = _decide(COLD, reads=0.9, prices=prices)
    assert tier is HOT
    assert (now, after) == pytest.approx((2.3, 2.3))
    assert "stays hot: cold would cost 3.10 USD a month with retrieval (2.70)" in reasons[1]


def test_early_deletion_can_refuse_a_move() -> None:
    # Rewritten 4 times a month: cold pays 4 * (90 - 7.5) / 30 * 100 * 0.004 = 4.4 on top.
    tier, _, _, reasons = _decide(COLD, writes=4)
    assert tier is HOT
    assert "early deletion (4.40), against 2.30 staying" in reasons[1]


def test_equal_cost_prefers_the_hotter_tier() -> None:
    prices = [_price("hot", 0.01), _price("cold", 0.01)]
    assert _decide(COLD, prices=prices)[0] is HOT


def test_no_evidence_stays_and_hotter_access_moves_up() -> None:
    tier, _, _, reasons = _decide(None, current=COLD)
    assert tier is COLD and reasons[-1] == "stays cold: no access evidence"
    # Data in cold read 3 times a month: hot (2.3) beats cold (0.4 + 9.0); moving up is advised.
    tier, now, after, reasons = _decide(HOT, current=COLD, reads=3)
    assert tier is HOT
    assert (now, after) == pytest.approx((9.4, 2.3))
    assert "the access pattern needs hot" in reasons[-1]
    # Same tier: nothing to do.
    assert _decide(WARM, current=WARM)[0] is WARM


def test_missing_tier_prices() -> None:
    only_hot_and_warm = PRICES[:2]
    tier, _, _, reasons = _decide(COLD, prices=only_hot_and_warm)
    assert tier is WARM
    assert "the provider has no cold tier price" in reasons
    # Cold called for but not sold, and warm dearer than hot: stays, saying why.
    tier, _, _, reasons = _decide(COLD, prices=[PRICES[0], _price("warm", 0.03)])
    assert tier is HOT
    assert reasons[1:] == ("the provider has no cold tier price",)
    tier, _, _, reasons = _decide(HOT, current=WARM, prices=PRICES[1:3])
    assert tier is WARM and "no hot tier price; stays" in reasons[-1]
    with pytest.raises(InvalidInputError, match="no hot storage price"):
        _decide(COLD, prices=PRICES[1:3])


def test_cheapest_row_of_a_tier_is_used() -> None:
    prices = [
        *PRICES,
        _price("warm", 0.01, retrieval=0.05, name="One Zone"),
    ]
    # No reads: One Zone (1.0) beats Infrequent (1.25); with 1 read a month Infrequent wins.
    decision = decide_tier(
        provider_tier_prices(prices, "acme"),
        TierClassification(tier=WARM, rule="r"),
        current_tier=HOT,
        current_tier_assumed=True,
        size_now_bytes=GB100,
        size_after_bytes=GB100,
        reads_per_month=0,
        writes_per_month=0,
    )
    assert decision.recommended.tier_name == "One Zone"
    assert decision.current_tier_assumed
    assert [option.tier for option in decision.options] == [HOT, WARM, COLD]
    assert _decide(WARM, reads=1, prices=prices)[2] == pytest.approx(1.25 + 1.0)


@pytest.mark.parametrize(
    ("value", "text"),
    [(0, "0.00"), (1.9, "1.90"), (1234.5, "1,234.50"), (0.01, "0.01"), (0.000209, "0.00021")],
)
def test_format_money(value: float, text: str) -> None:
    assert format_money(value) == text
