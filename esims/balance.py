"""When the Roamify partner balance is low, by one rule for the banner on every admin page, the
dashboard and the staff email: below `ROAMIFY_LOW_BALANCE_CENTS`, or paying for fewer than
`ROAMIFY_LOW_BALANCE_DAYS` days of wholesale cost at the last 7 days' pace. The second part warns
while orders still succeed, before the balance is too small for the next one.

What a day of sales costs is checkout's to know, and esims may not import checkout: checkout hands
its measure over with `register_daily_cost` when it loads. Without one the pace is 0 and only the
threshold counts.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings

from core.money import format_money

_daily_cost: Callable[[], int] | None = None


def register_daily_cost(source: Callable[[], int]) -> None:
    """Set how the wholesale cost of a day of sales is measured (cents a day, at the recent pace)."""
    global _daily_cost
    _daily_cost = source


def daily_cost_cents() -> int:
    return max(0, int(_daily_cost())) if _daily_cost is not None else 0


def days_covered(balance_cents: int | None, daily_cost_cents: int) -> float | None:
    """How many days of sales the balance pays for at that pace (None without a balance or sales)."""
    if balance_cents is None or daily_cost_cents <= 0:
        return None
    return round(balance_cents / daily_cost_cents, 1)


def low_reasons(balance_cents: int | None, daily_cost_cents: int, currency: str = "USD") -> list[str]:
    """Why the balance is low, in words staff read; empty while it is comfortable."""
    if balance_cents is None:
        return []
    reasons = []
    threshold, fewest_days = settings.ROAMIFY_LOW_BALANCE_CENTS, settings.ROAMIFY_LOW_BALANCE_DAYS
    if balance_cents < threshold:
        reasons.append(f"below the alert threshold of {format_money(threshold, currency)}")
    days = days_covered(balance_cents, daily_cost_cents)
    if days is not None and days < fewest_days:
        reasons.append(
            f"about {days:g} days of sales at the last 7 days' pace "
            f"({format_money(daily_cost_cents, currency)} a day; alert under {fewest_days})"
        )
    return reasons


def is_low(balance_cents: int | None, daily_cost_cents: int) -> bool:
    return bool(low_reasons(balance_cents, daily_cost_cents))
