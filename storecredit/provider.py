"""Store credit as a payment provider ("storecredit"): reserve when the order is placed, capture
when it is paid, release when it is not, refund back onto the credit account (never to a card).
The Payment's data names the account's user (`credit_user_id`).

Everything here is local (the ledger): nothing leaves the shop, so capture and release may run
under the payment's row lock, as payments.services calls them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from payments.providers import PaymentError, PaymentProvider, PaymentRequest, StartResult

from .ledger import CreditError
from .services import spending

if TYPE_CHECKING:
    from payments.models import Payment


class StoreCreditProvider(PaymentProvider):
    identifier = spending.PROVIDER
    verbose_name = "Store credit"
    needs_redirect = False

    def start(self, payment: Payment, request: PaymentRequest) -> StartResult:
        try:
            entry = spending.reserve(payment)
        except CreditError as exc:
            raise PaymentError(str(exc)) from None
        return StartResult(status="reserved", capture_reference=f"storecredit-{entry.account_id}")

    def capture(self, payment: Payment) -> str:
        try:
            return spending.capture(payment)
        except CreditError as exc:
            raise PaymentError(str(exc)) from None

    def cancel(self, payment: Payment) -> None:
        spending.release(payment)

    def refund(
        self, payment: Payment, amount_cents: int, idempotency_key: str, *, actor: str = "system"
    ) -> str:
        try:
            return spending.refund(payment, amount_cents, idempotency_key, actor=actor)
        except CreditError as exc:
            raise PaymentError(str(exc)) from None
