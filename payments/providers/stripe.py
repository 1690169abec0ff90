"""Stripe Checkout (hosted page) as a payment provider."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy

from payments.providers.stripe_api import gateway

from .base import PaymentError, PaymentProvider, PaymentRequest, ProviderStatus, StartResult

if TYPE_CHECKING:
    from payments.models import Payment


# Stripe wants a Checkout Session to stay open at least this long after it is created.
STRIPE_MIN_OPEN = dt.timedelta(minutes=30)


def expiry_of(payment: Payment) -> int:
    """When the card page of this payment attempt closes: a fixed time after it was opened."""
    return int((payment.created_at + dt.timedelta(minutes=settings.CHECKOUT_SESSION_MINUTES)).timestamp())


class StripeCheckoutProvider(PaymentProvider):
    identifier = "stripe"
    verbose_name = gettext_lazy("Card (Stripe)")
    needs_redirect = True

    def start(self, payment: Payment, request: PaymentRequest) -> StartResult:
        if payment.data.get("off_session"):
            return self._charge_saved_card(payment, request)
        # One key per attempt: a retried request gets the same session back. Stripe replays a key
        # only for the same parameters, so they must not change between tries: the page closes a
        # fixed time after the payment was opened, not after this try (a try after a crash or a
        # timeout, with a later expiry, was refused for good and the order could never be paid).
        if request.expires_at is None:
            request = replace(request, expires_at=expiry_of(payment))
        session = gateway().create_checkout_session(
            request, idempotency_key=f"checkout-{request.order_number}-{payment.attempt}"
        )
        if session.amount_total is not None and session.amount_total != request.amount_cents:
            raise PaymentError("Stripe's total does not match the amount asked")
        return StartResult(status="created", external_reference=session.id, redirect_url=session.url or "")

    def _charge_saved_card(self, payment: Payment, request: PaymentRequest) -> StartResult:
        """A saved card charged with its owner away (one-tap top-up): captured at once, or
        CardDeclined. The key is this payment's own: a retry gets Stripe's first answer back."""
        intent = gateway().charge_off_session(
            customer=payment.data["provider_customer"],
            payment_method=payment.data["payment_method"],
            amount_cents=request.amount_cents,
            currency=request.currency,
            order_number=request.order_number,
            idempotency_key=f"offsession-{request.order_number}-{payment.attempt}",
        )
        return StartResult(status="captured", external_reference=intent, capture_reference=intent)

    def can_start(self, payment: Payment) -> bool:
        # Past this, a try would ask for a page closing sooner than Stripe allows.
        return dt.datetime.fromtimestamp(expiry_of(payment), dt.UTC) >= timezone.now() + STRIPE_MIN_OPEN

    def lookup(self, payment: Payment) -> ProviderStatus | None:
        if not payment.external_reference:
            return None
        if payment.data.get("off_session"):  # its reference is the PaymentIntent itself
            status, amount, currency = gateway().intent_status(payment.external_reference)
            return ProviderStatus(
                paid=status == "succeeded",
                # Never confirmed again by us: a charge that did not succeed is over.
                closed=status in ("canceled", "requires_payment_method", "requires_action"),
                amount_cents=amount,
                currency=currency,
                capture_reference=payment.external_reference,
            )
        session = gateway().retrieve_session(payment.external_reference)
        return ProviderStatus(
            paid=session.is_paid,
            closed=session.status == "expired",
            amount_cents=session.amount_total,
            currency=session.currency,
            capture_reference=session.payment_intent_id or "",
            reference_matches=session.client_reference_id in (None, payment.data.get("order_number")),
            payer_name=session.customer_name,
            payer_phone=session.customer_phone,
        )

    def cancel(self, payment: Payment) -> None:
        if payment.external_reference and not payment.data.get("off_session"):
            gateway().expire_session(payment.external_reference)

    def refund(
        self, payment: Payment, amount_cents: int, idempotency_key: str, *, actor: str = "system"
    ) -> str:
        if not payment.capture_reference:
            raise PaymentError("This card payment has no PaymentIntent to refund")
        return gateway().refund(payment.capture_reference, amount_cents, idempotency_key, payment.currency)
