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


def cents_to_text(cents: int | None) -> str:
    """7.49 for 749: how staff type an amount (no symbol, no thousands separator)."""
    if cents is None:
        return ""
    sign, cents = ("-", -cents) if cents < 0 else ("", cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"


def parse_money(text: str) -> int:
    """'7.49', '$7.49', '7', '1,234.5' -> cents. ValueError with a message staff can read."""
    import re
    from decimal import Decimal, InvalidOperation

    text = re.sub(r"[\s$€£]", "", str(text or ""))
    # A comma only between thousands ("1,234.50"): "7,4.9" is a typo, not 74.90.
    if "," in text and not re.fullmatch(r"(?i)-?\d{1,3}(,\d{3})+(\.\d*)?(usd|eur|gbp)?", text):
        raise ValueError("Type an amount like 7.49")
    cleaned = text.replace(",", "")
    cleaned = re.sub(r"(?i)(usd|eur|gbp)$", "", cleaned)
    if not re.fullmatch(r"-?\d+(\.\d{1,2})?|-?\.\d{1,2}", cleaned):
        raise ValueError("Type an amount like 7.49")
    try:
        return int((Decimal(cleaned) * 100).to_integral_value())
    except InvalidOperation as exc:  # pragma: no cover - the pattern above rules it out
        raise ValueError("Type an amount like 7.49") from exc
