"""The partner balance (§2.5): purchases check and debit it, the control API sets it, and the
`partner` webhooks (low_balance, insufficient_balance, top_up) tell the shop."""

from __future__ import annotations

from typing import Any

from .catalog import money, to_cents
from .config import Config
from .errors import failed
from .webhook_events import WebhookEvents


class Balance(WebhookEvents):
    def __init__(self, config: Config) -> None:
        super().__init__(config)
        self.balance_cents = to_cents(config.balance)

    def _check_funds(self, cents: int) -> None:
        if cents > self.balance_cents:
            self._emit("partner", "insufficient_balance", self._partner_data())
            raise failed(409, "Insufficient partner balance, please recharge it first before placing order")

    def _debit(self, cents: int) -> None:
        before = self.balance_cents
        self.balance_cents -= cents
        threshold = to_cents(self.knobs.low_balance_threshold)
        if before >= threshold > self.balance_cents:
            self._emit("partner", "low_balance", self._partner_data())

    def set_balance(self, amount: float) -> None:
        cents = to_cents(amount)
        raised = cents > self.balance_cents
        self.balance_cents = cents
        if raised:
            self._emit("partner", "top_up", self._partner_data())

    def _partner_data(self) -> dict[str, Any]:
        threshold = to_cents(self.knobs.low_balance_threshold)
        start = max(to_cents(self.config.balance), 1)
        return {
            "timestamp": self.now(),
            "balance": money(self.balance_cents),
            "threshold": money(threshold),
            "threshold_percentage": round(threshold * 100 / start, 2),
            "currency": "USD",
        }
