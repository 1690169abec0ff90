"""Money is an integer of minor units plus a currency code; this is how it is shown and converted.

Pure: no database. Formats and minor units come from Babel (CLDR), a kept library's locale data,
never a table typed here. Symbols follow CLDR for the page's locale, which already writes a code
or a prefix where a bare symbol would be ambiguous in that locale: English shows the shop's
base currency as "$7.49" but Australian and Canadian dollars as "A$" and "CA$"; Spanish shows
"US$"; French "$US". We keep CLDR's choice rather than overriding it per currency, so every
language reads the way its speakers expect.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.numbers import format_currency, get_currency_precision
from django.conf import settings
from django.utils import translation

# Kept for the money input box in forms (core/forms.py): the symbol typed next to an amount.
SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}


@lru_cache(maxsize=64)
def minor_digits(currency: str) -> int:
    """How many digits the currency's minor unit has (CLDR): 2 for USD, 0 for JPY."""
    return get_currency_precision(currency.upper())


@lru_cache(maxsize=32)
def _babel_locale(language: str) -> Locale:
    try:
        return Locale.parse(translation.to_locale(language))
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en")


def babel_locale(language: str | None = None) -> Locale:
    """The Babel locale of a Django language code ("pt-br" → pt_BR), the active one by default."""
    return _babel_locale(language or translation.get_language() or settings.LANGUAGE_CODE)


def base_currency() -> str:
    # getattr: settings.py itself parses an amount (ROAMIFY_LOW_BALANCE_USD) before naming the currency.
    return getattr(settings, "SHOP_CURRENCY", "USD").upper()


def to_major(amount: int, currency: str) -> Decimal:
    """749 USD → Decimal("7.49"); 1280 JPY → Decimal("1280")."""
    return Decimal(amount).scaleb(-minor_digits(currency))


def format_money(amount: int | None, currency: str | None = None, locale: str | None = None) -> str:
    """An amount of minor units in the currency's own format for the locale (the active language's).

    `locale` is a Django language code ("de", "pt-br") or a Babel one ("de_DE").
    """
    if amount is None:
        return ""
    currency = (currency or base_currency()).upper()
    text = format_currency(to_major(amount, currency), currency, locale=babel_locale(locale))
    return _CURRENCY_SPACING.sub("\u00a0", text)


# CLDR's currencySpacing, which Babel does not apply: a symbol that is letters ("CHF", "USD")
# next to a digit gets a no-break space, "CHF 1.00" not "CHF1.00"; "$7.49" and "A$5" stay as they are.
_CURRENCY_SPACING = re.compile(r"(?<=[^\W\d_])(?=\d)|(?<=\d)(?=[^\W\d_])")


def convert(
    amount: int,
    rate: Decimal,
    from_currency: str,
    to_currency: str,
    rounding: str = ROUND_HALF_UP,
) -> int:
    """Minor units of from_currency → minor units of to_currency.

    `rate` is units of to_currency per ONE unit of from_currency (major units), so the minor digits
    of each side are accounted for here: 1000 USD cents at 150 → 1500 yen.
    """
    major = to_major(amount, from_currency) * Decimal(rate)
    return int(major.scaleb(minor_digits(to_currency)).to_integral_value(rounding))


def cents_to_text(cents: int | None, currency: str | None = None) -> str:
    """7.49 for 749: how staff type an amount (no symbol, no thousands separator); 1280 for ¥1,280."""
    if cents is None:
        return ""
    digits = minor_digits(currency or base_currency())
    sign, cents = ("-", -cents) if cents < 0 else ("", cents)
    if digits == 0:
        return f"{sign}{cents}"
    units, minor = divmod(cents, 10**digits)
    return f"{sign}{units}.{minor:0{digits}d}"


# Digits with commas only between thousands ("1,234"), a dot and one or two decimals: "7,4.9" is a typo,
# not 74.90, and is refused rather than guessed at.
_AMOUNT = re.compile(r"-?(\d{1,3}(,\d{3})+|\d+)?(\.\d{1,2})?")
_WHOLE = re.compile(r"-?(\d{1,3}(,\d{3})+|\d+)")


def parse_money(text: str, currency: str | None = None) -> int:
    """'7.49', '$7.49', '7', '1,234.5' -> cents; '1,280' -> 1280 yen. ValueError staff can read."""
    currency = (currency or base_currency()).upper()
    digits = minor_digits(currency)
    cleaned = re.sub(r"[\s$€£¥￥]", "", str(text or ""))
    cleaned = re.sub(r"(?i)(usd|eur|gbp|aud|cad|jpy|a|ca|us|jp)$", "", cleaned)
    cleaned = re.sub(r"(?i)^(usd|eur|gbp|aud|cad|jpy|a|ca|us|jp)", "", cleaned)
    example = "1280" if digits == 0 else "7.49"
    pattern = _WHOLE if digits == 0 else _AMOUNT
    if not cleaned.strip("-.") or not pattern.fullmatch(cleaned):
        shown = str(text or "").strip()
        if not shown:
            raise ValueError(f"Type an amount like {example}.")
        commas = " (commas only between thousands, as in 1,234.50)" if "," in cleaned and digits else ""
        raise ValueError(f"Type an amount like {example}: “{shown}” is not one{commas}.")
    try:
        return int(Decimal(cleaned.replace(",", "")).scaleb(digits).to_integral_value())
    except InvalidOperation as exc:  # pragma: no cover - the pattern above rules it out
        raise ValueError(f"Type an amount like {example}.") from exc
