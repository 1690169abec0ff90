"""stand-in until currency-rates merges: the names checkout uses, with the smallest behaviour that
lets its tests run. Helper "currency-rates" builds the real module (rates from Roamify, stored with
the time they were fetched, Babel formats, local price endings); at merge theirs replaces this file.
"""

# stand-in until currency-rates merges

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from django.conf import settings
from django.utils import timezone

from core.money import convert, minor_digits

from .pricing import PricingRules, floor_price

OFFERED = ["USD", "EUR", "GBP", "AUD", "CAD", "JPY"]  # stand-in until currency-rates merges
MAX_AGE = dt.timedelta(hours=6)  # stand-in until currency-rates merges
# Rates the stand-in knows: tests fill it (checkout/tests/helpers.rates). stand-in until currency-rates merges
_RATES: dict[str, tuple[Decimal, dt.datetime]] = {}


@dataclass(frozen=True)
class Rate:  # stand-in until currency-rates merges
    currency: str
    per_base: Decimal  # units of `currency` per one unit of settings.SHOP_CURRENCY
    fetched_at: dt.datetime


class RateUnavailable(Exception):  # stand-in until currency-rates merges
    """No rate for the currency, or only a stale one: its message is for the customer."""


def current_rate(currency: str) -> Rate:  # stand-in until currency-rates merges
    currency = currency.upper()
    if currency == settings.SHOP_CURRENCY:
        return Rate(currency, Decimal(1), timezone.now())
    found = _RATES.get(currency)
    if found is None or found[1] < timezone.now() - MAX_AGE:
        raise RateUnavailable(
            f"Prices in {currency} are not available just now. Please choose another currency to go on."
        )
    return Rate(currency, found[0], found[1])


def offered_currencies() -> list[str]:  # stand-in until currency-rates merges
    return list(OFFERED)


def local_price(
    base_cents: int, currency: str, rate: Rate, floor_base_cents: int
) -> int:  # stand-in until currency-rates merges
    """The base price converted, rounded up to x.99 (whole hundreds ending in 80 for JPY), never below
    the floor converted (rounded up)."""
    if currency == settings.SHOP_CURRENCY:
        return max(base_cents, floor_base_cents)
    converted = convert(base_cents, rate.per_base, settings.SHOP_CURRENCY, currency)
    floor = convert(floor_base_cents, rate.per_base, settings.SHOP_CURRENCY, currency, ROUND_CEILING)
    price = max(converted, floor)
    if minor_digits(currency) == 0:
        hundreds = price // 100
        candidate = hundreds * 100 + 80
        return candidate if candidate >= price else candidate + 100
    units, _ = divmod(price, 100)
    candidate = units * 100 + 99
    return candidate if candidate >= price else candidate + 100


def package_price(package, currency: str) -> int:  # stand-in until currency-rates merges
    if currency == settings.SHOP_CURRENCY:
        return package.retail_cents
    floor = floor_price(package.wholesale_cents, PricingRules.from_settings())
    return local_price(package.retail_cents, currency, current_rate(currency), floor)


def get_currency(request) -> str:  # stand-in until currency-rates merges
    """The visitor's currency: what the middleware set, else the `currency` cookie, else the base."""
    chosen = getattr(request, "currency", None) or request.COOKIES.get("currency", "")
    chosen = str(chosen).upper()
    return chosen if chosen in OFFERED else settings.SHOP_CURRENCY
