"""Domain actions of checkout, split by concern.

Order states: pending_payment → paid → fulfilling → completed;
paid/fulfilling → requires_action → fulfilling | refunded;
pending_payment → cancelled; pending_payment → requires_action (money that does not fit);
cancelled → requires_action (money captured after the order was cancelled: staff refund it, or
retry it when it pays the whole order). Every transition writes an OrderEvent (`order_state.move`).
Work after commit is queued through `core.queue`, never by importing tasks.

Most actions are one transaction under the order's row lock. Those that wait on Stripe,
Roamify or a mail server are not: no lock is held across a network call, so each does its
deciding in one short transaction and records each result in another, and is safe to run again.
- `place_order`: the order in one transaction, then each gift card reserved as its own payment.
- `start_payment`: decides under the order's lock, opens the card payment at the provider after.
- `fulfil_order`: takes a lease on the order, orders upstream outside any transaction, then
  records each delivery, and the completion, in a transaction of its own.
- `refund_order`: checks, plans (lines, goodwill, the split rule) and marks the lines under the
  lock, then refunds payment by payment through the
  providers (the receivers in `payment.py` write the timeline and close the order).
- the emails (`notifications.py`) are sent first and written to the timeline after (staff are
  emailed from `order_state.move`, the one place an order moves to requires_action), and the
  staff actions (`staff.py`) call the above and write the audit log once they return.
"""

from . import auto_topup, marketing, one_tap, referrals
from .deliverable import Undeliverable
from .fulfilment import LineRefused, Outcome, fulfil_order, register_line_fulfiller, retry_fulfilment
from .notifications import (
    send_esim_email,
    send_receipt,
    send_refund_notice,
    send_staff_alert,
    send_topup_applied,
)
from .order_state import CheckoutError, log_event, move
from .ordering import DiscountNoLongerApplies, place_order, topup_offers
from .payment import confirm_return, reopen_for_cart, start_payment
from .reconciliation import reconcile_orders
from .refunds import refund_order
from .upstream_refunds import record_upstream_refund_event, sync_upstream_refunds

__all__ = [
    "CheckoutError",
    "DiscountNoLongerApplies",
    "LineRefused",
    "Outcome",
    "Undeliverable",
    "auto_topup",
    "confirm_return",
    "fulfil_order",
    "log_event",
    "marketing",
    "move",
    "one_tap",
    "place_order",
    "reconcile_orders",
    "record_upstream_refund_event",
    "referrals",
    "refund_order",
    "register_line_fulfiller",
    "reopen_for_cart",
    "retry_fulfilment",
    "send_esim_email",
    "send_receipt",
    "send_refund_notice",
    "send_staff_alert",
    "send_topup_applied",
    "start_payment",
    "sync_upstream_refunds",
    "topup_offers",
]
