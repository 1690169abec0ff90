"""Domain actions of checkout, split by concern; each function is one transaction.

Order states (design.md): pending_payment → paid → fulfilling → completed;
paid/fulfilling → requires_action → fulfilling | refunded;
pending_payment → cancelled. Every transition writes an OrderEvent.
Work after commit is queued through `core.queue`, never by importing tasks.
"""

from .common import CheckoutError, log_event, move
from .fulfilment import LineRefused, Outcome, fulfil_order, register_line_fulfiller, retry_fulfilment
from .notifications import send_esim_email, send_receipt, send_refund_notice
from .ordering import place_order, topup_offers
from .payment import confirm_return, start_payment
from .reconciliation import reconcile_orders
from .refunds import refund_order
from .upstream_refunds import record_upstream_refund_event, sync_upstream_refunds

__all__ = [
    "CheckoutError",
    "LineRefused",
    "Outcome",
    "confirm_return",
    "fulfil_order",
    "log_event",
    "move",
    "place_order",
    "reconcile_orders",
    "record_upstream_refund_event",
    "refund_order",
    "register_line_fulfiller",
    "retry_fulfilment",
    "send_esim_email",
    "send_receipt",
    "send_refund_notice",
    "start_payment",
    "sync_upstream_refunds",
    "topup_offers",
]
