"""An order's state as every checkout service changes it: the row lock (`locked`), status moves
(`move`), the timeline (`log_event`), the states that can be refunded, and the error they raise."""

from __future__ import annotations

from collections.abc import Sequence

from core.queue import after_commit
from discounts import services as discounts

from ..events import OrderEventKind
from ..models import Order, OrderEvent, OrderStatus
from .referrals import record_paid

# States in which money was taken and may be given back.
REFUNDABLE = (OrderStatus.PAID, OrderStatus.REQUIRES_ACTION, OrderStatus.COMPLETED, OrderStatus.FULFILLING)


class CheckoutError(ValueError):
    """Bad checkout input or a refused action, with a message for the customer or staff."""


def new_event(
    order: Order,
    kind: OrderEventKind,
    message: str = "",
    *,
    actor: str = "system",
    from_status: str = "",
    to_status: str = "",
    **data,
) -> OrderEvent:
    """One entry of the order's timeline, not yet written; `kind` must be one of checkout's kinds."""
    return OrderEvent(
        order=order,
        kind=OrderEventKind(kind),  # an unknown kind raises ValueError rather than being stored
        message=message[:5000],
        actor=actor,
        from_status=from_status,
        to_status=to_status,
        data=data,
    )


def log_event(order: Order, kind: OrderEventKind, message: str = "", **fields) -> OrderEvent:
    """Write one entry of the order's timeline (`new_event`'s arguments)."""
    event = new_event(order, kind, message, **fields)
    event.save(force_insert=True)
    return event


def move(
    order: Order,
    to: str,
    message: str = "",
    *,
    actor: str = "system",
    after: Sequence[OrderEvent] = (),
    **data,
) -> None:
    """Change the status of a locked order and write the transition to its timeline, after the
    entries of `after` (from `new_event`): all in one INSERT.

    Every move to requires_action passes here, so this is where staff are told: the email is
    queued after commit and goes once per order (`notifications.send_staff_alert`)."""
    before = order.status
    order.status = to
    order.save()
    status = new_event(
        order, OrderEventKind.STATUS, message, actor=actor, from_status=before, to_status=to, **data
    )
    if after:
        OrderEvent.objects.bulk_create([*after, status])
    else:
        status.save(force_insert=True)  # for one row, less work than bulk_create
    if to == OrderStatus.REQUIRES_ACTION and before != to and order.staff_alerted_at is None:
        after_commit("checkout.send_staff_alert", order.pk)
    if order.discount_code_id and before != to:
        # The order's use of its code: given back when it is cancelled unpaid, counted once paid.
        if to == OrderStatus.CANCELLED and order.paid_at is None:
            discounts.release(order.pk)
        elif to in (OrderStatus.PAID, OrderStatus.FULFILLING) and order.paid_at is not None:
            discounts.count(order.pk)  # paid, or late money staff took: a no-op once counted
            record_paid(order)  # a friend's order through a referral code: recorded once


def locked(order_id: int) -> Order:
    return Order.objects.select_for_update().get(pk=order_id)
