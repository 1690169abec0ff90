"""Exchange rates (Roamify's "Exchange Rates" module): the supported currencies and their rates.

Rates are kept against USD, like Roamify's balance; a pair of two other currencies is crossed
through it. Each rate has the time it is valid for: the control API can change a rate, make it
old (stale) or remove a currency (unavailable). The sandbox has no history: a `datetime` in the
past gets today's rate, stamped with the time asked for.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from .base import WorldBase
from .config import Config
from .errors import ControlError, failed

# Mid-market rates per 1 USD, rounded as a rates feed prints them (mid-2020s levels).
RATES_PER_USD: dict[str, tuple[str, str]] = {
    "USD": ("1", "US Dollar"),
    "EUR": ("0.9215", "Euro"),
    "GBP": ("0.7862", "British Pound"),
    "AUD": ("1.5274", "Australian Dollar"),
    "CAD": ("1.3641", "Canadian Dollar"),
    "JPY": ("151.37", "Japanese Yen"),
    "CHF": ("0.8812", "Swiss Franc"),
    "BRL": ("5.0712", "Brazilian Real"),
    "MXN": ("17.046", "Mexican Peso"),
    "SGD": ("1.3478", "Singapore Dollar"),
    "KRW": ("1352.6", "South Korean Won"),
    "AED": ("3.6725", "UAE Dirham"),
}


class Rates(WorldBase):
    def __init__(self, config: Config) -> None:
        super().__init__(config)
        self.rates = {code: Decimal(rate) for code, (rate, _name) in RATES_PER_USD.items()}
        self.rate_names = {code: name for code, (_rate, name) in RATES_PER_USD.items()}
        self.rate_age: dict[str, float] = {}  # seconds before now that a rate is stamped with

    def currencies_json(self) -> list[dict[str, str]]:
        return [{"code": code, "name": self.rate_names.get(code, code)} for code in sorted(self.rates)]

    def _per_usd(self, code: str) -> Decimal:
        rate = self.rates.get(code.upper())
        if rate is None:
            raise failed(400, f"Unsupported currency: {code}")
        return rate

    def _stamp(self, *codes: str, at: str | None = None) -> str:
        if at:
            return at
        age = max((self.rate_age.get(c.upper(), 0.0) for c in codes), default=0.0)
        return datetime.fromtimestamp(self.now_f() - age, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def rate_json(self, source: str, target: str | None, query: dict[str, str]) -> dict[str, Any]:
        at, start, end, interval = (query.get(k) for k in ("datetime", "from", "to", "interval"))
        if at and (start or end or interval):
            raise failed(400, "datetime cannot be combined with from, to or interval")
        if (start or end) and not interval:
            raise failed(400, "from and to need an interval")
        per_source = self._per_usd(source)
        if target:
            rate = self._per_usd(target) / per_source
            return {
                "source": source.upper(),
                "target": target.upper(),
                "rate": float(round(rate, 8)),
                "datetime": self._stamp(source, target, at=at),
            }
        rates = {code: float(round(r / per_source, 8)) for code, r in sorted(self.rates.items())}
        return {"source": source.upper(), "rates": rates, "datetime": self._stamp(*self.rates, at=at)}

    # -- control ---------------------------------------------------------------------------

    def set_rate(self, body: dict[str, Any]) -> dict[str, Any]:
        code = str(body.get("currency") or "").upper()
        if len(code) != 3 or not code.isalpha() or code == "USD":
            raise ControlError(400, "currency must be a 3-letter code other than USD")
        if body.get("remove"):
            self.rates.pop(code, None)
            self.rate_age.pop(code, None)
            return self.rates_state()
        rate = body.get("rate")
        if rate is not None:
            if not isinstance(rate, int | float | str) or isinstance(rate, bool) or Decimal(str(rate)) <= 0:
                raise ControlError(400, "rate must be a positive number")
        elif code not in self.rates:
            raise ControlError(400, "a new currency needs a rate")
        age = body.get("age_seconds", 0)
        if not isinstance(age, int | float) or isinstance(age, bool) or age < 0:
            raise ControlError(400, "age_seconds must be a number >= 0")
        if rate is not None:
            self.rates[code] = Decimal(str(rate))
        self.rate_age[code] = float(age)
        return self.rates_state()

    def rates_state(self) -> dict[str, Any]:
        return {
            "base": "USD",
            "rates": {code: str(rate) for code, rate in sorted(self.rates.items())},
            "age_seconds": dict(sorted(self.rate_age.items())),
        }
