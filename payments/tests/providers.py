"""Providers for tests: real implementations of the interface, with no outside service."""

from __future__ import annotations

import uuid

from payments.providers import PaymentProvider, PaymentRequest, StartResult


class InstantProvider(PaymentProvider):
    """Captures at once when started, refunds at once (like a voucher paid in the shop)."""

    identifier = "test-instant"
    verbose_name = "Test (instant)"

    def __init__(self) -> None:
        self.refunds: list[tuple[int, int, str]] = []  # (payment id, amount, idempotency key)

    def start(self, payment, request: PaymentRequest) -> StartResult:
        return StartResult(status="captured", capture_reference=f"instant-{payment.pk}")

    def refund(self, payment, amount_cents: int, idempotency_key: str, *, actor: str = "system") -> str:
        self.refunds.append((payment.pk, amount_cents, idempotency_key))
        return f"instant-refund-{uuid.uuid4().hex[:8]}"


class HoldProvider(InstantProvider):
    """Reserves when started and is captured when the order is paid (as a gift card will be)."""

    identifier = "test-hold"
    verbose_name = "Test (hold)"

    def __init__(self) -> None:
        super().__init__()
        self.captured: list[int] = []
        self.released: list[int] = []

    def start(self, payment, request: PaymentRequest) -> StartResult:
        return StartResult(status="reserved")

    def capture(self, payment) -> str:
        self.captured.append(payment.pk)
        return f"hold-{payment.pk}"

    def cancel(self, payment) -> None:
        self.released.append(payment.pk)
