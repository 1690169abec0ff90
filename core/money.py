"""Money is an integer of minor units plus a currency code; this is how it is shown."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings

SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}  # stand-in until currency-rates merges
ZERO_DECIMAL = {"JPY", "KRW", "VND", "CLP", "ISK"}  # stand-in until currency-rates merges


def minor_digits(currency: str) -> int:  # stand-in until currency-rates merges
    return 0 if currency.upper() in ZERO_DECIMAL else 2


def format_money(cents: int | None, currency: str | None = None, locale: str | None = None) -> str:
    # stand-in until currency-rates merges (their Babel version replaces it)
    if cents is None:
        return ""
    currency = currency or settings.SHOP_CURRENCY
    sign, cents = ("-", -cents) if cents < 0 else ("", cents)
    symbol = SYMBOLS.get(currency)
    amount = f"{cents:,}" if minor_digits(currency) == 0 else f"{cents // 100:,}.{cents % 100:02d}"
    return f"{sign}{symbol}{amount}" if symbol else f"{sign}{amount} {currency}"


def convert(
    amount: int, rate: Decimal, from_currency: str, to_currency: str, rounding: str = ROUND_HALF_UP
) -> int:  # stand-in until currency-rates merges
    """Minor units of `from_currency` in minor units of `to_currency`; `rate`: to per one from."""
    scale = Decimal(10) ** (minor_digits(to_currency) - minor_digits(from_currency))
    return int((Decimal(amount) * Decimal(rate) * scale).to_integral_value(rounding))


def cents_to_text(cents: int | None) -> str:
    """7.49 for 749: how staff type an amount (no symbol, no thousands separator)."""
    if cents is None:
        return ""
    sign, cents = ("-", -cents) if cents < 0 else ("", cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"


# Digits with commas only between thousands ("1,234"), a dot and one or two decimals: "7,4.9" is a typo,
# not 74.90, and is refused rather than guessed at.
_AMOUNT = re.compile(r"-?(\d{1,3}(,\d{3})+|\d+)?(\.\d{1,2})?")


def parse_money(text: str) -> int:
    """'7.49', '$7.49', '7', '1,234.5' -> cents. ValueError with a message staff can read."""
    cleaned = re.sub(r"[\s$€£]", "", str(text or ""))
    cleaned = re.sub(r"(?i)(usd|eur|gbp)$", "", cleaned)
    if not cleaned.strip("-.") or not _AMOUNT.fullmatch(cleaned):
        shown = str(text or "").strip()
        if not shown:
            raise ValueError("Type an amount like 7.49.")
        commas = " (commas only between thousands, as in 1,234.50)" if "," in cleaned else ""
        raise ValueError(f"Type an amount like 7.49: “{shown}” is not one{commas}.")
    try:
        return int((Decimal(cleaned.replace(",", "")) * 100).to_integral_value())
    except InvalidOperation as exc:  # pragma: no cover - the pattern above rules it out
        raise ValueError("Type an amount like 7.49.") from exc
