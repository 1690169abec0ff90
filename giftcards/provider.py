"""Gift cards as a payment provider ("giftcard"): reserve when the order is placed, capture when
it is paid, release when it is not, refund back onto the card. The Payment's data names the card.

Everything here is local (the ledger): nothing leaves the shop, so capture and
release may run under the payment's row lock, as payments.services calls them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from payments.providers import PaymentError, PaymentProvider, PaymentRequest, StartResult

from .ledger import GiftCardError
from .services import redemption

if TYPE_CHECKING:
    from payments.models import Payment


class GiftCardProvider(PaymentProvider):
    identifier = "giftcard"
    verbose_name = "Gift card"
    needs_redirect = False

    def start(self, payment: Payment, request: PaymentRequest) -> StartResult:
        try:
            entry = redemption.reserve(_card_id(payment), payment)
        except GiftCardError as exc:
            raise PaymentError(str(exc)) from None
        return StartResult(status="reserved", capture_reference=f"giftcard-{entry.card_id}")

    def capture(self, payment: Payment) -> str:
        try:
            return redemption.capture(payment)
        except GiftCardError as exc:
            raise PaymentError(str(exc)) from None

    def cancel(self, payment: Payment) -> None:
        redemption.release(payment)

    def refund(
        self, payment: Payment, amount_cents: int, idempotency_key: str, *, actor: str = "system"
    ) -> str:
        try:
            return redemption.refund(payment, amount_cents, idempotency_key, actor=actor)
        except GiftCardError as exc:
            raise PaymentError(str(exc)) from None


def _card_id(payment: Payment) -> int:
    card_id = (payment.data or {}).get("gift_card_id")
    if not isinstance(card_id, int):
        raise PaymentError("This payment names no gift card")
    return card_id
