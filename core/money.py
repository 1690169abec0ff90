"""Money is an integer of minor units plus a currency code; this is how it is shown."""

from __future__ import annotations

from django.conf import settings

SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£"}


def format_money(cents: int | None, currency: str | None = None) -> str:
    if cents is None:
        return ""
    currency = currency or settings.SHOP_CURRENCY
    sign, cents = ("-", -cents) if cents < 0 else ("", cents)
    symbol = SYMBOLS.get(currency)
    amount = f"{cents // 100:,}.{cents % 100:02d}"
    return f"{sign}{symbol}{amount}" if symbol else f"{sign}{amount} {currency}"
