"""Checkout's vocabulary for what happens to an order: the kinds of its timeline entries
(`OrderEvent.kind`, written by `services.order_state.log_event`) and the names of what staff do to
orders and customers in the audit log (`core.audit.record`).

The values are the strings the timeline and the audit log have always stored, so old rows read
the same. `AuditEntry.action` stays free text (every app writes its own names there); checkout's
come from `AuditAction` below.
"""

from __future__ import annotations

from django.db import models


class OrderEventKind(models.TextChoices):
    # The order
    PLACED = "placed", "Order placed"
    STATUS = "status", "Status changed"
    # Money in and out
    PAYMENT_STARTED = "payment_started", "Card payment page opened"
    PAYMENT = "payment", "Payment received"
    DUPLICATE_PAYMENT = "duplicate_payment", "Paid twice"
    REFUND_REQUESTED = "refund_requested", "Refund requested"
    REFUND = "refund", "Refund made"
    REFUND_FAILED = "refund_failed", "Automatic refund failed"
    # Fulfilment
    UPSTREAM_ORDER = "upstream_order", "Ordered from Roamify"
    ESIMS_DELIVERED = "esims_delivered", "eSIMs delivered"
    FULFILMENT_RETRY = "fulfilment_retry", "Attempt failed, to be retried"
    RETRY = "retry", "Retry asked by staff"
    # Emails and notes
    EMAIL = "email", "Email sent"
    EMAIL_REFUND = "email_refund", "Refund email sent"
    STAFF_ALERT = "staff_alert", "Staff alerted"
    NOTE = "note", "Staff note"
    # The eSIMs' cost claimed back from Roamify after a refund
    UPSTREAM_REFUND = "upstream_refund", "Cost claim filed"
    UPSTREAM_REFUND_FAILED = "upstream_refund_failed", "Cost claim not filed"
    UPSTREAM_REFUND_SKIPPED = "upstream_refund_skipped", "Installed eSIM: cost not claimed"
    UPSTREAM_REFUND_PENDING = "upstream_refund_pending", "Cost claim waiting for Roamify"
    UPSTREAM_REFUND_PROCESSING = "upstream_refund_processing", "Cost claim processed by Roamify"
    UPSTREAM_REFUND_REFUNDED = "upstream_refund_refunded", "Cost refunded by Roamify"
    UPSTREAM_REFUND_REJECTED = "upstream_refund_rejected", "Cost claim rejected"
    UPSTREAM_REFUND_CANCELLED = "upstream_refund_cancelled", "Cost claim cancelled"

    @classmethod
    def upstream_refund_became(cls, status: str) -> OrderEventKind:
        """The kind for a cost claim that Roamify moved to `status` (an `UpstreamRefund.Status`)."""
        return cls(f"upstream_refund_{status}")


class AuditAction(models.TextChoices):
    """What staff did to an order or a customer, as the audit log names it."""

    ORDER_RETRY = "order.retry", "Retried fulfilment"
    ORDER_RESEND_ESIM_EMAIL = "order.resend_esim_email", "Resent the eSIM email"
    ORDER_REFUND = "order.refund", "Refunded"
    ORDER_NOTE = "order.note", "Added a note to the timeline"
    CUSTOMER_NOTE = "customer.note", "Changed the customer's note"
