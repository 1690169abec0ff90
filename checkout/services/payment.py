"""Paying for an order: which payments it needs, and what checkout does when money moves.

Payments announce money with signals (payments never import checkout); the
receivers here run inside the payment's transaction and lock the order.
An order is paid when its captured payments add up to its total.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext

from core.money import format_money
from core.queue import after_commit
from payments import services as payments
from payments.models import Payment
from payments.providers import PaymentError, PaymentRequest

from ..events import OrderEventKind
from ..models import Order, OrderStatus
from .customers import record_payer, stripe_customer_for
from .deliverable import Undeliverable, check_order
from .order_state import REFUNDABLE, CheckoutError, locked, log_event, move

logger = logging.getLogger(__name__)

CARD_PROVIDER = "stripe"


def payment_request(
    order: Order, amount_cents: int, *, provider_customer: str = "", save_card: bool = False
) -> PaymentRequest:
    site, url = settings.SITE_URL, order.access_url()
    lines = list(order.lines.all())
    itemised = amount_cents == order.total_cents
    return PaymentRequest(
        order_number=order.number,
        email=order.email,
        amount_cents=amount_cents,
        currency=order.currency,
        success_url=f"{site}{url}&session_id={{CHECKOUT_SESSION_ID}}",
        cancel_url=f"{site}{url}&cancelled=1",
        # With part paid another way, the card pays one line: the rest.
        lines=[_card_page_line(ln) for ln in lines] if itemised else [],
        provider_customer=provider_customer,
        save_card=save_card,
    )


def _card_page_line(line) -> tuple[str, int, int]:
    """(name, quantity, unit amount) as the card page lists a line: after its discount, which may not
    split into whole cents per unit; then the line is one item of its whole total."""
    if line.total_cents == line.unit_price_cents * line.quantity:
        return line.description, line.quantity, line.unit_price_cents
    if line.total_cents % line.quantity == 0:
        return line.description, line.quantity, line.total_cents // line.quantity
    return f"{line.quantity} × {line.description}", 1, line.total_cents


def start_payment(order: Order, *, lines_checked: bool = False, save_card: bool = False) -> str | None:
    """Where the customer goes to pay the rest: a card payment page's URL.

    None when nothing is left to pay by card (gift cards cover it): the order
    is then paid at once. An open card page is reused, never doubled. An order
    one of whose lines can no longer be delivered is not paid: it is cancelled
    (`_cancel_undeliverable`) and Undeliverable says which line and why.
    `lines_checked`: `place_order` has just made the same check (upstream asked a
    moment ago, in the same request), so it is not asked twice. `save_card`: the signed-in buyer
    asked to keep the card for next time (Stripe Checkout as their Stripe Customer, the card saved
    once paid: `payments.cards`); a guest's order saves none.
    """
    if not lines_checked:
        try:
            check_order(order)  # right before any money is taken: upstream is asked about top-ups
        except Undeliverable as exc:
            _cancel_undeliverable(order.pk, str(exc))
            raise
    save_card = save_card and order.customer_id is not None
    provider_customer = stripe_customer_for(order) if save_card else ""  # Stripe, before any lock
    saving = {"save_card_for": order.customer_id, "provider_customer": provider_customer} if save_card else {}
    for _ in range(3):  # an open session found closed is replaced, once or twice
        with transaction.atomic():
            order = locked(order.pk)
            if order.status != OrderStatus.PENDING_PAYMENT:
                raise CheckoutError(gettext("This order is already paid or closed."))
            held = order.payments.filter(
                status__in=[*Payment.CAPTURED_STATES, Payment.Status.RESERVED]
            ).aggregate(s=Sum("amount_cents"), base=Sum("base_amount_cents"))
            remaining = order.total_cents - (held["s"] or 0)
            # The card pays the rest of the base total too: the order's payments add up to it exactly.
            base_remaining = order.base_total_cents - (held["base"] or 0)
            if remaining <= 0:
                _settle(order, source="no card payment needed")
                return None
            # (A saved card's charge in flight is no page to send anyone to.)
            card = (
                order.payments.filter(provider=CARD_PROVIDER, status=Payment.Status.CREATED)
                .exclude(data__has_key="off_session")
                .first()
            )
            stale, why = None, ""
            if card is not None and card.amount_cents != remaining:
                stale, why = card, "Replaced: the amount left to pay changed"
            elif card is not None and not payments.can_start(card):
                stale, why = card, "Replaced: never opened, and too old to open now"
            if card is None or stale is not None:
                card = payments.open_payment(
                    order,
                    CARD_PROVIDER,
                    remaining,
                    order.currency,
                    base_amount_cents=base_remaining,
                    **saving,
                )
        if stale is not None:
            payments.cancel_open(stale, why)
        if not card.external_reference:
            wants = card.data.get("save_card_for") is not None
            request = payment_request(
                order,
                remaining,
                provider_customer=card.data.get("provider_customer", "") if wants else "",
                save_card=wants,
            )
            card = payments.start(card, request)
            log_event(
                order, OrderEventKind.PAYMENT_STARTED, f"Card payment page opened ({card.external_reference})"
            )
            return card.redirect_url
        outcome = payments.sync_with_provider(card, source="pay again")
        if outcome == "open":
            return card.redirect_url
        if outcome == "captured":
            raise CheckoutError(gettext("This order is already paid."))
    raise PaymentError("Could not open a payment page")


def _cancel_undeliverable(order_id: int, reason: str) -> None:
    """An order that can't be delivered is not paid: cancelled, its gift card holds released and
    its card page closed at Stripe, so nothing can be charged. (Money already captured, which only
    a payment of another kind can have taken, makes it need action instead: staff refund it.)"""
    with transaction.atomic():
        order = locked(order_id)
        if order.status != OrderStatus.PENDING_PAYMENT:
            return
        if order.payments.captured().exists():
            order.action_reason = f"{reason} Part of it was paid: refund it."
            move(order, OrderStatus.REQUIRES_ACTION, order.action_reason)
        else:
            move(order, OrderStatus.CANCELLED, reason)
        still_open = list(order.payments.filter(status__in=Payment.OPEN_STATES))
    _close(still_open, "Order cancelled: a line can no longer be delivered")


def _close(still_open: list[Payment], reason: str) -> None:
    for payment in still_open:  # outside the lock: closing a card page calls Stripe
        payments.cancel_open(payment, reason)


def reopen_for_cart(order_id: int) -> bool:
    """Back from the card page: the order the customer left unpaid is cancelled, its card page
    closed and its gift card holds released, so that its lines go back to the cart to be changed and
    paid as a new order (checkout.cart.restore). False when it can't be: paid, part paid, or no
    longer waiting for payment (then the customer is shown the order as it is)."""
    with transaction.atomic():
        order = locked(order_id)
        if order.status != OrderStatus.PENDING_PAYMENT or order.payments.captured().exists():
            return False
        move(order, OrderStatus.CANCELLED, "Back from the payment page: its lines went back to the cart")
        still_open = list(order.payments.filter(status__in=Payment.OPEN_STATES))
    _close(still_open, "Order cancelled: back to the cart")
    return True


def confirm_return(order: Order, session_id: str) -> None:
    """The customer came back from the card page: look the payment up once, then trust the webhook."""
    if order.status != OrderStatus.PENDING_PAYMENT or not session_id:
        return
    payment = order.payments.filter(
        provider=CARD_PROVIDER, external_reference=session_id, status=Payment.Status.CREATED
    ).first()
    if payment is None or payment.data.get("return_checked"):
        return
    Payment.objects.filter(pk=payment.pk).update(data={**payment.data, "return_checked": True})
    try:
        payments.sync_with_provider(payment, source="success page")
    except PaymentError:
        logger.warning("could not look up %s on return", session_id, exc_info=True)


def _settle(order: Order, *, source: str) -> None:
    """The locked order's payments cover its total: it is paid, and the holds are taken."""
    order.paid_at = timezone.now()
    providers = sorted(
        set(
            order.payments.exclude(status=Payment.Status.FAILED)
            .exclude(status=Payment.Status.CANCELLED)
            .values_list("provider", flat=True)
        )
    )
    move(order, OrderStatus.PAID, f"Paid ({', '.join(providers) or 'nothing to pay'}; {source})")
    after_commit("checkout.fulfil_order", order.pk)  # which sends the receipt too
    for reserved in order.payments.filter(status=Payment.Status.RESERVED):
        payments.capture(reserved.pk, source="order paid")


# --- Receivers of payments' signals -----------------------------------------------------------------


def on_payment_captured(sender, payment: Payment, source: str = "", **kwargs) -> None:
    order = locked(payment.order_id)
    payer = payment.data.get("payer") or {}
    record_payer(order, payer.get("name") or "", payer.get("phone") or "")
    if order.status == OrderStatus.CANCELLED:
        _flag_money_on_cancelled(order, payment_id=payment.pk)
        return
    captured = order.payments.captured_cents()
    expected = payment.data.get("expected_cents")
    if order.status != OrderStatus.PENDING_PAYMENT:
        if captured > order.total_cents:
            # A second successful payment for an order already paid: staff must refund it.
            log_event(
                order,
                OrderEventKind.DUPLICATE_PAYMENT,
                f"{payment.provider} payment {payment.pk} paid an order already paid",
                payment_id=payment.pk,
            )
        return
    if payment.currency != order.currency or expected is not None or captured > order.total_cents:
        order.action_reason = (
            f"Paid {format_money(payment.amount_cents, payment.currency)} by {payment.provider}, "
            f"expected {format_money(expected or order.total_cents, order.currency)}"
        )
        move(order, OrderStatus.REQUIRES_ACTION, order.action_reason, payment_id=payment.pk)
        return
    reserved = (
        order.payments.filter(status=Payment.Status.RESERVED).aggregate(s=Sum("amount_cents"))["s"] or 0
    )
    if captured + reserved < order.total_cents:
        log_event(
            order,
            OrderEventKind.PAYMENT,
            f"{format_money(payment.amount_cents, payment.currency)} paid by {payment.provider}; "
            f"{format_money(order.total_cents - captured - reserved, order.currency)} left to pay",
            payment_id=payment.pk,
        )
        return
    _settle(order, source=source or payment.provider)


def flag_money_on_cancelled(order_id: int) -> bool:
    """The reconciler's half: a cancelled order that holds captured money needs action (orders left
    so before the receiver above moved them, or by a receiver that failed)."""
    with transaction.atomic():
        order = locked(order_id)
        return order.status == OrderStatus.CANCELLED and _flag_money_on_cancelled(order)


def _flag_money_on_cancelled(order: Order, **data) -> bool:
    """Money captured on a (locked) cancelled order is never left there unseen: the order needs action.
    It is not delivered by itself (it was cancelled, its gift card holds released): staff refund it,
    or, when it is paid in full, may retry it (`retry_fulfilment`)."""
    held = [p for p in order.payments.captured() if p.refundable_cents > 0]
    if not held:
        return False
    money = sum(p.refundable_cents for p in held)
    captured = order.payments.captured_cents()
    by = ", ".join(f"{p.provider} payment {p.pk}" for p in held)
    cur = order.currency
    order.action_reason = f"{format_money(money, cur)} captured after the order was cancelled ({by}): " + (
        "paid in full, so it may be retried to deliver it, or refunded"
        if captured >= order.total_cents
        else f"not paid in full ({format_money(captured, cur)} of {format_money(order.total_cents, cur)}): "
        "refund it"
    )
    move(order, OrderStatus.REQUIRES_ACTION, order.action_reason, **data)
    return True


def on_payment_failed(sender, payment: Payment, reason: str = "", **kwargs) -> None:
    """A payment can no longer pay: the order is cancelled if nothing else can pay it."""
    order = locked(payment.order_id)
    if order.status != OrderStatus.PENDING_PAYMENT:
        return
    if order.payments.filter(status=Payment.Status.CREATED).exists() or order.payments.captured().exists():
        return
    move(order, OrderStatus.CANCELLED, reason, payment_id=payment.pk)
    for reserved in order.payments.filter(status=Payment.Status.RESERVED):
        payments.fail(reserved.pk, "Order cancelled")  # releases the hold


def on_payment_refunded(
    sender,
    payment: Payment,
    amount_cents: int,
    actor: str = "system",
    reason: str = "",
    reference: str = "",
    **kwargs,
) -> None:
    order = locked(payment.order_id)
    log_event(
        order,
        OrderEventKind.REFUND,
        f"Refunded {format_money(amount_cents, payment.currency)} on the "
        f"{payment.provider} payment" + (f" ({reference})" if reference else ""),
        actor=actor,
        payment_id=payment.pk,
        refund_reference=reference,
    )
    still_held = sum(p.refundable_cents for p in order.payments.captured())
    if still_held == 0 and order.status in REFUNDABLE:
        move(order, OrderStatus.REFUNDED, reason or "Refunded", actor=actor)
        after_commit("checkout.send_refund_notice", order.pk)
