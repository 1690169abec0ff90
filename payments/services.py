"""Domain actions of payments: open, start, capture, fail, refund; the Stripe webhook.

Each is one transaction. No provider call (Stripe) is made while a row lock
is held: calls happen first, and their results are recorded under the lock.
Money that moves is announced with `payments.signals` (payments never import
checkout).
"""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from core.queue import after_commit

from .amounts import prorate, scaled
from .models import Payment, PaymentRefund, StripeEvent
from .providers import PaymentError, PaymentRequest, get_provider
from .providers.stripe_api import CheckoutSession, stripe_amount
from .signals import payment_captured, payment_failed, payment_refunded

logger = logging.getLogger(__name__)


def open_payment(
    order, provider: str, amount_cents: int, currency: str, *, base_amount_cents: int | None = None, **data
) -> Payment:
    """A new Payment in `created`, not yet started at the provider.

    `base_amount_cents`: what it is worth in the shop's base currency at the order's rate (the caller
    knows the order); a payment in the base currency needs none."""
    get_provider(provider)  # unknown providers fail here, not later
    if amount_cents <= 0:
        raise PaymentError("A payment must be for a positive amount")
    attempt = Payment.objects.filter(order=order, provider=provider).count() + 1
    return Payment.objects.create(
        order=order,
        provider=provider,
        amount_cents=amount_cents,
        currency=currency,
        base_amount_cents=amount_cents if base_amount_cents is None else base_amount_cents,
        attempt=attempt,
        data={"order_number": order.number, **data},
    )


def start(payment: Payment, request: PaymentRequest) -> Payment:
    """Start the payment at its provider (outside any lock) and record the answer."""
    result = get_provider(payment.provider).start(payment, request)
    with transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        if locked.status != Payment.Status.CREATED:
            return locked  # someone else recorded it first
        locked.external_reference = result.external_reference
        locked.redirect_url = result.redirect_url
        locked.capture_reference = result.capture_reference
        if result.status == Payment.Status.RESERVED:
            locked.status = Payment.Status.RESERVED
        locked.save()
    if result.status == Payment.Status.CAPTURED:
        capture(locked.pk, capture_reference=result.capture_reference, source=payment.provider)
        locked.refresh_from_db()
    return locked


def capture(
    payment_id: int,
    *,
    amount_cents: int | None = None,
    currency: str | None = None,
    capture_reference: str = "",
    source: str = "",
    payer_name: str = "",
    payer_phone: str = "",
) -> bool:
    """Record money received, once. Returns False when it was already recorded.

    `payer_name`/`payer_phone`: what the buyer gave on the provider's page (kept in `data["payer"]`).
    Inside a caller's transaction (the Stripe webhook's), no savepoint: a failure here rolls the
    caller's transaction back whole, and no caller goes on after one.
    """
    with transaction.atomic(savepoint=False):
        payment = Payment.objects.select_for_update().get(pk=payment_id)
        if payment.status in Payment.CAPTURED_STATES:
            return False
        if payment.status == Payment.Status.RESERVED:
            capture_reference = get_provider(payment.provider).capture(payment) or capture_reference
        payment.status = Payment.Status.CAPTURED
        payment.captured_at = timezone.now()
        if amount_cents is not None and amount_cents != payment.amount_cents:
            # What was really paid; the order sees the difference and asks staff.
            payment.data = {**payment.data, "expected_cents": payment.amount_cents}
            payment.base_amount_cents = scaled(amount_cents, payment.amount_cents, payment.base_amount_cents)
            payment.amount_cents = amount_cents
        if currency:
            payment.currency = currency.upper()
        payment.capture_reference = capture_reference or payment.capture_reference
        if payer_name or payer_phone:
            payment.data = {**payment.data, "payer": {"name": payer_name, "phone": payer_phone}}
        payment.save()
        payment_captured.send(Payment, payment=payment, source=source)
        if payment.data.get("save_card_for"):  # asks Stripe which card paid: after commit, no lock
            after_commit("payments.remember_saved_card", payment.pk)
        if payment.provider == "stripe" and payment.capture_reference:  # the card's fingerprint, likewise
            after_commit("payments.remember_card_fingerprint", payment.pk)
    return True


def fail(payment_id: int, reason: str) -> bool:
    """A payment that can no longer pay (expired session, released reservation)."""
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment_id)
        if payment.status not in Payment.OPEN_STATES:
            return False
        was_reserved = payment.status == Payment.Status.RESERVED
        payment.status = Payment.Status.FAILED if not was_reserved else Payment.Status.CANCELLED
        payment.data = {**payment.data, "closed_reason": reason}
        payment.save()
        if was_reserved:
            get_provider(payment.provider).cancel(payment)  # local: releases a hold
        payment_failed.send(Payment, payment=payment, reason=reason)
    return True


def can_start(payment: Payment) -> bool:
    """An open payment not started yet (a crash or a timeout came first) may be started again."""
    return bool(payment.external_reference) or get_provider(payment.provider).can_start(payment)


def cancel_open(payment: Payment, reason: str) -> None:
    """Close a payment the customer will not use (a card session replaced, a hold released)."""
    if payment.status == Payment.Status.CREATED and get_provider(payment.provider).needs_redirect:
        try:
            get_provider(payment.provider).cancel(payment)
        except PaymentError:
            logger.warning("could not close %s at %s", payment.external_reference, payment.provider)
    fail(payment.pk, reason)


def sync_with_provider(payment: Payment, *, source: str) -> str:
    """Ask the provider how an open payment stands and record it: 'captured', 'failed' or 'open'."""
    status = get_provider(payment.provider).lookup(payment)
    if status is None or not status.reference_matches:
        return "open"
    if status.paid:
        capture(
            payment.pk,
            amount_cents=status.amount_cents,
            currency=status.currency,
            capture_reference=status.capture_reference,
            source=source,
            payer_name=status.payer_name,
            payer_phone=status.payer_phone,
        )
        return "captured"
    if status.closed:
        fail(payment.pk, f"Closed at the provider ({source})")
        return "failed"
    return "open"


def recheck_closed(payment: Payment, *, source: str) -> str:
    """A payment closed here (failed: its session expired, was replaced) that its provider may still
    have taken money on. 'captured': it did, and the money is recorded now (its order's receiver
    decides what follows); 'closed': the provider closed it for good, and it is not asked again;
    'open': still open there, so it is closed there now and asked again next time."""
    outcome = sync_with_provider(payment, source=source)
    if outcome == "failed":
        with transaction.atomic():
            closed = Payment.objects.select_for_update().get(pk=payment.pk)
            closed.data = {**closed.data, "closed_at_provider": True}
            closed.save(update_fields=["data", "updated_at"])
        return "closed"
    if outcome == "open":
        try:
            get_provider(payment.provider).cancel(payment)
        except PaymentError:
            logger.warning("could not close %s at %s", payment.external_reference, payment.provider)
    return outcome


def refund(payment_id: int, amount_cents: int, *, reason: str = "", actor: str = "system") -> int:
    """Send `amount_cents` back on one payment through its provider. Returns what was refunded.

    The idempotency key is derived from what was refunded before, so a retry
    after a crash (refunded at the provider, not recorded here) replays the
    same refund instead of making a second one.
    """
    payment = Payment.objects.get(pk=payment_id)
    amount = min(amount_cents, payment.refundable_cents)
    if amount <= 0:
        return 0
    key = f"refund-{payment.pk}-{payment.refunded_cents}-{amount}"
    at_provider_before = payment.refunded_cents - _our_refunds(payment)
    reference = get_provider(payment.provider).refund(payment, amount, key, actor=actor)
    try:
        with transaction.atomic():
            payment = Payment.objects.select_for_update().get(pk=payment_id)
            # The provider's webhook for this very refund may have come in while we waited for its
            # answer, and been counted by record_provider_refund as a refund made at the provider
            # (no PaymentRefund row of ours). That part is counted already: adding it again broke
            # the refunded <= amount constraint, lost this row, and a retry refunded twice.
            at_provider = payment.refunded_cents - _our_refunds(payment)
            counted_by_webhook = max(0, min(amount, at_provider - at_provider_before))
            # Its base amount: its slice of the payment's, on the running sum of what went back.
            position = payment.refunded_cents - counted_by_webhook
            PaymentRefund.objects.create(
                payment=payment,
                amount_cents=amount,
                base_amount_cents=prorate(position, amount, payment.amount_cents, payment.base_amount_cents),
                external_reference=reference,
                idempotency_key=key,
                reason=reason[:500],
                actor=actor,
            )
            if amount > counted_by_webhook:
                _add_refunded(payment, amount - counted_by_webhook)
                payment_refunded.send(
                    Payment,
                    payment=payment,
                    amount_cents=amount - counted_by_webhook,
                    actor=actor,
                    reason=reason,
                    reference=reference,
                )
    except IntegrityError:
        return 0  # a concurrent request recorded this same refund
    return amount


def _our_refunds(payment: Payment) -> int:
    """What the shop refunded through refund() (each has a row); the rest was refunded at the provider."""
    return PaymentRefund.objects.filter(payment=payment).aggregate(s=Sum("amount_cents"))["s"] or 0


def _add_refunded(payment: Payment, amount: int) -> None:
    payment.base_refunded_cents += prorate(
        payment.refunded_cents, amount, payment.amount_cents, payment.base_amount_cents
    )
    payment.refunded_cents += amount
    payment.status = (
        Payment.Status.REFUNDED
        if payment.refunded_cents >= payment.amount_cents
        else Payment.Status.PARTIALLY_REFUNDED
    )
    payment.save()


def record_provider_refund(
    provider: str, capture_reference: str, total_refunded_cents: int, currency: str | None = None
) -> str:
    """A refund made at the provider itself (Stripe's dashboard): keep our records in step.

    `currency`: the provider's, when it says; an amount in another currency than the payment's is
    not counted (it would be read in the wrong unit)."""
    with transaction.atomic():
        payment = (
            Payment.objects.select_for_update()
            .filter(provider=provider, capture_reference=capture_reference)
            .first()
        )
        if payment is None:
            return "ignored"
        if currency and currency.upper() != payment.currency:
            logger.error(
                "refund of %s in %s, not %s: not counted", capture_reference, currency, payment.currency
            )
            return "ignored"
        extra = min(total_refunded_cents, payment.amount_cents) - payment.refunded_cents
        if extra <= 0:
            return "noop"  # our own refund, already recorded
        _add_refunded(payment, extra)
        payment_refunded.send(
            Payment,
            payment=payment,
            amount_cents=extra,
            actor=provider,
            reason=f"Refunded in {provider}",
            reference="",
        )
    return "refunded"


# --- Stripe webhook -------------------------------------------------------------------------------


def handle_stripe_event(event: dict) -> str:
    """Handle one verified webhook event, once. Returns what was done (for logs and tests)."""
    obj = event["data"]["object"]
    with transaction.atomic():
        try:
            with transaction.atomic():
                StripeEvent.objects.create(
                    event_id=event["id"], type=event["type"][:100], reference=str(obj.get("id", ""))[:255]
                )
        except IntegrityError:
            return "duplicate"
        kind = event["type"]
        if kind in ("checkout.session.completed", "checkout.session.expired"):
            session = CheckoutSession.from_stripe(obj)
            payment = Payment.objects.filter(provider="stripe", external_reference=session.id).first()
            if payment is None:
                logger.error("Stripe event %s names unknown session %s", event["id"], session.id)
                return "unknown"
            if kind == "checkout.session.expired":
                return "failed" if fail(payment.pk, "Checkout session expired") else "noop"
            if not session.is_paid:
                return "noop"
            if session.amount_total is None:  # null only in setup mode: never a session of ours
                raise ValueError("amount_total is missing from a paid session")
            done = capture(
                payment.pk,
                amount_cents=session.amount_total,
                currency=session.currency,
                capture_reference=session.payment_intent_id or "",
                source="webhook",
                payer_name=session.customer_name,
                payer_phone=session.customer_phone,
            )
            return "captured" if done else "noop"
        if kind == "charge.refunded":
            intent = obj.get("payment_intent")
            intent = intent.get("id") if isinstance(intent, dict) else intent
            currency = obj.get("currency")
            refunded = stripe_amount(obj.get("amount_refunded"), "amount_refunded", currency or "USD")
            if refunded is None:  # a charge always carries it
                raise ValueError("amount_refunded is missing from a refunded charge")
            if not isinstance(intent, str):
                return "ignored"
            return record_provider_refund("stripe", intent, refunded, currency)
    return "ignored"
