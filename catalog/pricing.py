"""Retail pricing: markup on wholesale cost, rounded up to a price ending.

All amounts are integer cents. A price never falls below cost plus the
minimum margin, whatever markup or override an admin sets. A rise of more than
PRICE_RISE_REVIEW_PERCENT waits for staff (`needs_review`); meanwhile the old
price is kept, and a package whose kept price is below the floor is not sold.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from django.conf import settings


@dataclass(frozen=True)
class PricingRules:
    markup_percent: Decimal
    min_margin_cents: int
    ending_cents: int  # 99 makes 6.42 → 6.99; 0 rounds up to whole units
    review_rise_percent: Decimal = Decimal(20)  # a bigger rise waits for staff

    @classmethod
    def from_settings(cls) -> PricingRules:
        return cls(
            markup_percent=Decimal(str(settings.PRICING_MARKUP_PERCENT)),
            min_margin_cents=int(settings.PRICING_MIN_MARGIN_CENTS),
            ending_cents=int(settings.PRICING_ENDING_CENTS),
            review_rise_percent=Decimal(str(settings.PRICE_RISE_REVIEW_PERCENT)),
        )


def round_to_ending(cents: int, ending: int) -> int:
    """The smallest price ≥ cents whose cents part is `ending` (e.g. x.99)."""
    units, _rest = divmod(cents, 100)
    candidate = units * 100 + ending
    return candidate if candidate >= cents else candidate + 100


def floor_price(wholesale_cents: int, rules: PricingRules) -> int:
    return wholesale_cents + rules.min_margin_cents


def retail_price(
    wholesale_cents: int,
    rules: PricingRules,
    markup_percent: Decimal | None = None,
    override_cents: int | None = None,
) -> int:
    floor = floor_price(wholesale_cents, rules)
    if override_cents is not None:
        return max(override_cents, floor)
    markup = rules.markup_percent if markup_percent is None else markup_percent
    marked_up = (Decimal(wholesale_cents) * (1 + markup / 100)).to_integral_value(ROUND_CEILING)
    return round_to_ending(max(int(marked_up), floor), rules.ending_cents)


def needs_review(old_cents: int, new_cents: int, rules: PricingRules) -> bool:
    """A rise from the current price of more than the review percentage: staff approve it first."""
    return new_cents > old_cents and (new_cents - old_cents) * 100 > old_cents * rules.review_rise_percent


def below_floor(price_cents: int, wholesale_cents: int, rules: PricingRules) -> bool:
    """A price the shop must not sell at: under cost plus the minimum margin."""
    return price_cents < floor_price(wholesale_cents, rules)


def price_per_gb(retail_cents: int, data_mb: int | None) -> int | None:
    if not data_mb:
        return None
    return int((Decimal(retail_cents) * 1024 / data_mb).to_integral_value(ROUND_CEILING))
