"""Refunds: split across the payments that paid for the order, newest first, each through its provider.

The order lock is held only to check and plan; the providers are called
after it is released, and record what they did under their own locks (the
receivers in `payment.py` write the timeline and close the order).
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from core.money import format_money
from core.queue import after_commit
from giftcards.models import Status as GiftCardStatus
from payments import services as payments

from ..events import OrderEventKind
from ..models import LineKind, OrderStatus
from .order_state import REFUNDABLE, CheckoutError, locked, log_event, move


def refund_order(
    order_id: int,
    amount_cents: int | None = None,
    *,
    actor: str = "system",
    reason: str = "",
    notify: bool = True,
) -> int:
    """Refund the order (all that is left, or `amount_cents`). Returns the cents refunded.

    `notify`: email the customer the refund notice (a partial refund too); staff may choose not to.
    """
    with transaction.atomic():
        order = locked(order_id)
        if order.status == OrderStatus.REFUNDED:
            return 0
        if order.status not in REFUNDABLE:
            raise CheckoutError(f"An order that is {order.get_status_display().lower()} can't be refunded.")
        if (
            order.status == OrderStatus.FULFILLING
            and order.fulfilment_lease_until
            and order.fulfilment_lease_until > timezone.now()
        ):
            raise CheckoutError("The eSIM is being ordered right now; try again in a few minutes.")
        cards = [getattr(line, "gift_card", None) for line in order.lines.filter(kind=LineKind.GIFTCARD)]
        live_cards = [
            c.last_characters or str(c.pk)
            for c in cards
            if c is not None and c.status != GiftCardStatus.REVOKED
        ]
        if live_cards:
            # Refunding the card's price while the card can still be spent would pay twice.
            raise CheckoutError(
                f"This order bought gift card …{', …'.join(live_cards)}: revoke it first "
                "(its unused balance goes back to the buyer), then refund the rest."
            )
        captured = list(order.payments.captured().order_by("-created_at", "-id"))
        left = sum(p.refundable_cents for p in captured)
        if left == 0:  # nothing left to give back (a free order, or refunded at the provider)
            move(order, OrderStatus.REFUNDED, reason or "Closed with nothing left to refund", actor=actor)
            return 0
        wanted = left if amount_cents is None else amount_cents
        if wanted <= 0 or wanted > left:
            raise CheckoutError(
                f"Choose an amount between {format_money(1, order.currency)} and what is left to refund "
                f"({format_money(left, order.currency)})."
            )
        plan, rest = [], wanted
        for payment in captured:
            share = min(rest, payment.refundable_cents)
            if share > 0:
                plan.append((payment.pk, share))
                rest -= share
        log_event(
            order,
            OrderEventKind.REFUND_REQUESTED,
            f"Refund of {format_money(wanted, order.currency)} requested" + (f": {reason}" if reason else ""),
            actor=actor,
            plan=plan,
            notify=notify,
        )
    refunded = 0
    for payment_id, share in plan:
        refunded += payments.refund(payment_id, share, reason=reason or "Refunded", actor=actor)
    if notify and refunded:
        after_commit("checkout.send_refund_notice", order_id)  # a full refund queues it too: it goes once
    return refunded
