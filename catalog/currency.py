"""The visitor's currency: which ones we offer, their rates, and local-looking prices.

Every retail price is set in the shop's base currency (settings.SHOP_CURRENCY, catalog/pricing.py).
Another currency's price is the base price converted at the latest rate from Roamify and then
rounded UP to an ending that looks local (x.99; whole hundreds ending in 80 for yen), never below
the package's cost plus the minimum margin converted at that rate and rounded up. A rate older than
EXCHANGE_RATE_MAX_AGE_SECONDS is not sold at: `current_rate` raises `RateUnavailable`, whose text
the customer can read.

The currency of a request is `request.currency`, set by `CurrencyMiddleware` (the `currency`
cookie when it names an offered currency, else a default from the page's language and the
Accept-Language region), and active for the request like translation's active language, so
`{{ cents|money }}` on catalog pages shows a base price converted.
"""

from __future__ import annotations

import contextvars
import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from typing import TYPE_CHECKING

from babel.core import get_global
from babel.numbers import get_territory_currencies
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext as _

from core.money import convert, minor_digits

from .cache import current_version
from .pricing import PricingRules, floor_price

if TYPE_CHECKING:
    from django.http import HttpRequest

    from .models import Package

COOKIE = "currency"
RATES_KEY = "fx:rates:v1"  # every rate in one cache entry: a page reads it without a query


@dataclass(frozen=True)
class Rate:
    currency: str
    per_base: Decimal  # units of `currency` per ONE unit of settings.SHOP_CURRENCY
    fetched_at: dt.datetime


class RateUnavailable(Exception):
    """No rate for the currency, or one too old to sell at. str() is for the customer."""

    def __init__(self, currency: str, message: str | None = None) -> None:
        self.currency = currency
        super().__init__(
            message
            or _(
                "Prices in %(currency)s are not available right now. "
                "Please choose another currency or try again in a few minutes."
            )
            % {"currency": currency}
        )


def base_currency() -> str:
    return settings.SHOP_CURRENCY.upper()


# -- stored rates ---------------------------------------------------------------------------


Stored = dict[str, tuple[Decimal, dt.datetime, bool]]
# The rates as this process last read them, with the catalog version they were read at. A refresh
# writes the rates before it bumps the version, so a page rendered at the new version never
# prices at rates read before it (and a page asks the cache once, not once per price).
_memo: tuple[int, Stored] | None = None


def _stored() -> Stored:
    """currency → (per_base, fetched_at, supported), from memory, the cache, else the table."""
    global _memo
    version = current_version()
    if _memo is not None and _memo[0] == version:
        return _memo[1]
    rates = cache.get(RATES_KEY)
    if rates is None:
        rates = store_in_cache()
    _memo = (version, rates)
    return rates


def forget_memo() -> None:
    global _memo
    _memo = None


def store_in_cache() -> Stored:
    from .models import ExchangeRate  # models import nothing from here; pages need no query

    # A rate is as old as the older of when we asked and the time upstream stamped it with.
    rates = {
        r.currency: (r.per_base, min(r.fetched_at, r.rate_at or r.fetched_at), r.supported)
        for r in ExchangeRate.objects.only("currency", "per_base", "fetched_at", "rate_at", "supported")
    }
    cache.set(RATES_KEY, rates, timeout=None)
    forget_memo()
    return rates


def current_rate(currency: str) -> Rate:
    """The rate to sell in `currency` at now. RateUnavailable when there is none or it is too old."""
    currency = currency.upper()
    if currency == base_currency():
        return Rate(currency, Decimal(1), timezone.now())
    found = _stored().get(currency)
    if found is None or not found[2]:
        raise RateUnavailable(currency)
    per_base, fetched_at, _supported = found
    if (timezone.now() - fetched_at).total_seconds() > settings.EXCHANGE_RATE_MAX_AGE_SECONDS:
        raise RateUnavailable(currency)
    return Rate(currency, per_base, fetched_at)


def offered_currencies() -> list[str]:
    """settings.SHOP_CURRENCIES that Roamify supports (the base currency always), in that order."""
    stored = _stored()
    base = base_currency()
    return [c for c in settings.SHOP_CURRENCIES if c == base or (c in stored and stored[c][2])]


# -- local prices ---------------------------------------------------------------------------

# (step, ending) in minor units: a price is rounded UP to the next amount that is `ending` past a
# multiple of `step`. A business rule, not locale data. Currencies not named get x.99 when they
# have a minor unit, whole hundreds when they have none.
ENDINGS: dict[str, tuple[int, int]] = {
    "USD": (100, 99),
    "EUR": (100, 99),
    "GBP": (100, 99),
    "AUD": (100, 99),
    "CAD": (100, 99),
    "JPY": (100, 80),  # ¥1,280, ¥980
}


def ending_rule(currency: str) -> tuple[int, int]:
    if currency in ENDINGS:
        return ENDINGS[currency]
    digits = minor_digits(currency)
    return (10**digits, 10**digits - 1) if digits else (100, 0)


def round_up_to_ending(amount: int, currency: str) -> int:
    """The smallest amount ≥ `amount` with the currency's local ending."""
    step, ending = ending_rule(currency)
    candidate = (amount // step) * step + ending
    return candidate if candidate >= amount else candidate + step


def local_price(base_cents: int, currency: str, rate: Rate | Decimal, floor_base_cents: int) -> int:
    """The base price in `currency`'s minor units, with a local ending, never below the floor.

    The floor (cost plus the minimum margin, in base cents) is converted rounding UP, and the
    ending only ever rounds up: so the price is never below cost plus margin at this rate.
    """
    currency, base = currency.upper(), base_currency()
    if currency == base:
        return base_cents  # the base price is the price: an override like $12.34 stays as set
    per_base = rate.per_base if isinstance(rate, Rate) else Decimal(rate)
    converted = convert(base_cents, per_base, base, currency)
    floor = convert(floor_base_cents, per_base, base, currency, rounding=ROUND_CEILING)
    return round_up_to_ending(max(converted, floor), currency)


def package_price(package: Package, currency: str) -> int:
    """The package's retail price in `currency`'s minor units (RateUnavailable without a fresh rate)."""
    currency = currency.upper()
    if currency == base_currency():
        return package.retail_cents
    floor = floor_price(package.wholesale_cents, PricingRules.from_settings())
    return local_price(package.retail_cents, currency, current_rate(currency), floor)


def base_price_in(base_cents: int | None, currency: str) -> int | None:
    """A base price that is not one package's (a destination's "from" price) in `currency`, with
    the local ending. RateUnavailable without a fresh rate."""
    currency = currency.upper()
    if base_cents is None or currency == base_currency():
        return base_cents
    rate = current_rate(currency)
    return round_up_to_ending(convert(base_cents, rate.per_base, base_currency(), currency), currency)


# -- the active currency --------------------------------------------------------------------

_active: contextvars.ContextVar[str | None] = contextvars.ContextVar("shop_currency", default=None)


def activate(currency: str) -> contextvars.Token:
    return _active.set(currency.upper())


def deactivate(token: contextvars.Token) -> None:
    _active.reset(token)


def get_active_currency() -> str:
    """The currency of the request being served; the base currency outside one."""
    return _active.get() or base_currency()


def display_currency() -> str:
    """The currency pages show prices in: the active one, or the base one while its rate is unusable."""
    currency = get_active_currency()
    try:
        current_rate(currency)
    except RateUnavailable:
        return base_currency()
    return currency


@contextmanager
def override(currency: str) -> Iterator[None]:
    token = activate(currency)
    try:
        yield
    finally:
        deactivate(token)


# -- the visitor's currency -----------------------------------------------------------------


def _likely_region(language: str) -> str | None:
    """The language's own region ("pt-br" → BR), else CLDR's likely one ("ja" → JP, "de" → DE)."""
    lang, _sep, region = language.replace("_", "-").partition("-")
    if region:
        return region.upper()
    likely = get_global("likely_subtags").get(lang.lower())
    return likely.split("_")[-1] if likely else None


def _accept_language_region(header: str, language: str) -> str | None:
    """The region of the visitor's most preferred Accept-Language entry in the page's language."""
    from django.utils.translation.trans_real import parse_accept_lang_header

    wanted = language.split("-")[0].lower()
    for tag, _q in parse_accept_lang_header(header.lower()):
        lang, _sep, region = tag.partition("-")
        if lang == wanted and len(region) == 2 and region.isalpha():
            return region.upper()
    return None


def region_currency(region: str) -> str | None:
    """The currency in use in a region today, from CLDR."""
    try:
        found = get_territory_currencies(region, start_date=timezone.now().date(), tender=True)
    except Exception:
        return None
    return found[0] if found else None


def _offered(currency: str) -> bool:
    # The base currency needs no look: most visitors' requests then read no rates at all.
    return currency == base_currency() or currency in offered_currencies()


def default_currency(language: str, accept_language: str = "") -> str:
    """The currency a visitor without a choice sees: the region they say in Accept-Language for the
    page's language (en-GB → GBP, es-MX → MXN), else the language's likely region (ja → JPY,
    de/fr/it/es → EUR, pt-br → BRL); the base currency when that one is not offered.
    """
    region = _accept_language_region(accept_language, language) or _likely_region(language)
    currency = region_currency(region) if region else None
    if currency in settings.SHOP_CURRENCIES and _offered(currency):
        return currency
    return base_currency()


def get_currency(request: HttpRequest) -> str:
    """The request's currency: its `currency` cookie if offered, else the default for its language."""
    from django.utils.translation import get_language_from_path

    chosen = (request.COOKIES.get(COOKIE) or "").upper()
    if chosen in settings.SHOP_CURRENCIES and _offered(chosen):
        return chosen
    language = get_language_from_path(request.path_info) or settings.LANGUAGE_CODE
    return default_currency(language, request.META.get("HTTP_ACCEPT_LANGUAGE", ""))
