"""The reconciler: orders stuck in paid or fulfilling, and unpaid orders whose webhook never came."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from core.queue import send
from payments import services as payments
from payments.models import Payment
from payments.providers import PaymentError

from ..events import OrderEventKind
from ..models import LineKind, Order, OrderStatus
from .payment import CARD_PROVIDER, flag_money_on_cancelled

# How long after it opens Stripe may still take money on a Checkout Session (24 h), with a margin.
CARD_SESSION_LIFETIME = dt.timedelta(hours=48)


def reconcile_orders() -> dict[str, int]:
    now = timezone.now()
    stale = now - dt.timedelta(seconds=settings.RECONCILE_AFTER_SECONDS)
    lease_free = Q(fulfilment_lease_until__isnull=True) | Q(fulfilment_lease_until__lt=now)
    stuck = list(
        Order.objects.filter(
            lease_free, status__in=[OrderStatus.PAID, OrderStatus.FULFILLING], updated_at__lt=stale
        ).values_list("id", flat=True)
    )
    for order_id in stuck:
        send("checkout.fulfil_order", order_id)
    # Emails a worker killed after its order's payment, completion or failure left unsent.
    unsent = [
        (
            "checkout.send_staff_alert",
            Order.objects.filter(
                status=OrderStatus.REQUIRES_ACTION, updated_at__lt=stale, staff_alerted_at__isnull=True
            ),
        ),
        ("checkout.send_receipt", Order.objects.filter(paid_at__lt=stale, receipt_sent_at__isnull=True)),
        (
            "checkout.send_esim_email",
            Order.objects.filter(
                status=OrderStatus.COMPLETED,
                completed_at__lt=stale,
                esim_email_sent_at__isnull=True,
                lines__kind=LineKind.ESIM,
            ).distinct(),
        ),
        (
            # Checked again by the task (`notifications.topup_applied_due`): only those still owed.
            "checkout.send_topup_applied",
            Order.objects.filter(
                status=OrderStatus.COMPLETED,
                completed_at__lt=stale,
                completed_at__gt=now - dt.timedelta(days=1),
                receipt_sent_at__isnull=False,
                lines__kind=LineKind.TOPUP,
            )
            .exclude(events__kind=OrderEventKind.EMAIL, events__data__email="topup-applied")
            .exclude(events__kind=OrderEventKind.EMAIL, events__data__topup_applied=True)
            .distinct(),
        ),
    ]
    emails = 0
    for task, orders in unsent:
        for order_id in orders.values_list("id", flat=True)[:200]:
            send(task, order_id)
            emails += 1
    checked = 0
    open_payments = (
        Payment.objects.filter(
            status=Payment.Status.CREATED, order__status=OrderStatus.PENDING_PAYMENT, updated_at__lt=stale
        )
        .exclude(external_reference="")
        .order_by("updated_at")[:200]
    )
    for payment in open_payments:
        try:
            payments.sync_with_provider(payment, source="reconciler")
        except PaymentError:
            continue
        checked += 1
    return {
        "requeued": len(stuck),
        "off_session_confirming": _confirm_unanswered(now),
        "emails_requeued": emails,
        "sessions_checked": checked,
        "holds_released": _release_abandoned(now),
        "cancelled_payments_checked": _check_closed_payments_of_cancelled(now, stale),
        "money_on_cancelled": _flag_cancelled_holding_money(),
    }


# An off-session charge unanswered for this long lost its task (or its worker): queued again.
OFF_SESSION_IN_FLIGHT = dt.timedelta(minutes=5)


def _confirm_unanswered(now) -> int:
    """Off-session charges sent to Stripe whose answer was never recorded (its confirming task
    lost, or the worker killed mid-call): the task asks Stripe again with the same key."""
    unanswered = (
        Payment.objects.filter(
            provider=CARD_PROVIDER,
            status=Payment.Status.CREATED,
            external_reference="",
            data__has_key="off_session",
            order__status=OrderStatus.PENDING_PAYMENT,
            created_at__lt=now - OFF_SESSION_IN_FLIGHT,
            updated_at__lt=now - OFF_SESSION_IN_FLIGHT,
        )
        .order_by("updated_at")
        .values_list("id", flat=True)
    )
    ids = list(unanswered[:200])
    for payment_id in ids:
        send("checkout.confirm_off_session_charge", payment_id)
    return len(ids)


def _check_closed_payments_of_cancelled(now, stale) -> int:
    """Card payments of cancelled orders, closed here, are asked about once: money taken on one
    (its completed webhook lost, or come after the expiry) is recorded, and the order flagged by the
    payment receiver. Stripe closes a Checkout Session at most 24 hours after it opened, so older
    ones can have taken nothing since."""
    closed = (
        Payment.objects.filter(
            provider=CARD_PROVIDER,
            status=Payment.Status.FAILED,
            order__status=OrderStatus.CANCELLED,
            created_at__gte=now - CARD_SESSION_LIFETIME,
            updated_at__lt=stale,
        )
        .exclude(external_reference="")
        .exclude(data__has_key="closed_at_provider")
        .order_by("updated_at")
    )
    checked = 0
    for payment in list(closed[:200]):
        try:
            payments.recheck_closed(payment, source="reconciler")
        except PaymentError:
            continue
        checked += 1
    return checked


def _flag_cancelled_holding_money() -> int:
    """Cancelled orders holding captured money (left so by older code, or a receiver that failed)."""
    held = (
        Order.objects.filter(
            status=OrderStatus.CANCELLED,
            payments__status__in=[Payment.Status.CAPTURED, Payment.Status.PARTIALLY_REFUNDED],
        )
        .values_list("id", flat=True)
        .distinct()
    )
    return sum(flag_money_on_cancelled(order_id) for order_id in list(held[:200]))


def _release_abandoned(now) -> int:
    """Unpaid orders holding gift card money with no card payment page open: released after the
    time a payment page would have stayed open (the order is then cancelled)."""
    before = now - dt.timedelta(minutes=settings.CHECKOUT_SESSION_MINUTES)
    held = (
        Payment.objects.filter(
            status=Payment.Status.RESERVED, order__status=OrderStatus.PENDING_PAYMENT, created_at__lt=before
        )
        .exclude(order__payments__status=Payment.Status.CREATED)
        .values_list("id", flat=True)
    )
    released = 0
    for payment_id in list(held[:200]):
        released += payments.fail(payment_id, "Order not paid in time")
    return released
