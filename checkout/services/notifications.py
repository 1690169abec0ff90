"""The order's emails: the eSIM install details, the receipt, the refund notice, and the alert to
staff (`ALERT_EMAILS`) when it needs action.

Each goes once. The mail server is never called while the order is locked:
a short claim in the cache keeps two workers from sending the same email,
and the order records it as sent after the send succeeded.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import prefetch_related_objects
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from esims.emails import install_email

from ..events import OrderEventKind
from ..models import LineKind, Order, OrderStatus
from .order_state import CheckoutError, log_event

logger = logging.getLogger(__name__)


class EmailInProgress(OSError):
    """Another worker is sending this email now; the task retries later (as for a mail server down)."""


def _absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def _context(order: Order) -> dict:
    return {
        "order": order,
        "order_url": _absolute(order.access_url()),
        "SHOP_NAME": settings.SHOP_NAME,
        "SUPPORT_EMAIL": settings.SUPPORT_EMAIL,
        "help_url": _absolute(reverse("catalog:how_it_works")),
    }


def _order_email(order: Order, subject: str, template: str, context: dict) -> EmailMultiAlternatives:
    context = {**_context(order), **context}
    message = EmailMultiAlternatives(
        subject,
        render_to_string(f"emails/{template}.txt", context),
        settings.DEFAULT_FROM_EMAIL,
        [order.email],
    )
    message.attach_alternative(render_to_string(f"emails/{template}.html", context), "text/html")
    return message


def _send_once(
    order_id: int,
    what: str,
    due: Callable[[Order], bool],
    build: Callable[[Order], EmailMultiAlternatives | None],
    record: Callable[[Order], str | tuple[str, dict]],
    actor: str = "system",
) -> bool:
    """`build` may find nothing to send after all (None). `record` saves only the fields it sets
    (an UPDATE, which takes the order's row lock itself), so the order is not locked and read again
    to record the email."""
    claim = f"order-email:{what}:{order_id}"
    if not cache.add(claim, 1, settings.EMAIL_CLAIM_SECONDS):
        raise EmailInProgress(f"{what} email of order {order_id} is being sent")
    try:
        order = Order.objects.get(pk=order_id)
        if not due(order):
            return False
        # The customer's emails in the order's language (its links too: reverse() gives /es/…);
        # staff alerts in the shop's.
        language = settings.LANGUAGE_CODE if what == "staff-alert" else order.language
        with translation.override(language):
            message = build(order)
        if message is None:
            return False
        message.send()  # raises OSError when the mail server is down: the task retries
        with transaction.atomic():
            kind = (
                OrderEventKind.EMAIL_REFUND
                if what == "refund"
                else OrderEventKind.STAFF_ALERT
                if what == "staff-alert"
                else OrderEventKind.EMAIL
            )
            recorded = record(order)  # a message, or a message and what the timeline keeps with it
            message_text, data = recorded if isinstance(recorded, tuple) else (recorded, {})
            log_event(order, kind, message_text, actor=actor, **data)
        return True
    finally:
        cache.delete(claim)


def send_esim_email(order_id: int, *, resend: bool = False, actor: str = "system") -> bool:
    """Email the eSIMs of a completed order: once, unless staff ask to resend."""
    if resend:  # staff are told why not before anything is claimed
        order = Order.objects.get(pk=order_id)
        if order.status != OrderStatus.COMPLETED or not order.esims.exists():
            raise CheckoutError("Only a completed order has an eSIM to send.")

    def due(order: Order) -> bool:
        return order.status == OrderStatus.COMPLETED and (resend or not order.esim_email_sent_at)

    def build(order: Order) -> EmailMultiAlternatives | None:
        esims = list(order.esims)
        if not esims:  # an order of top-ups or gift cards only
            return None
        subject = _("Your eSIM is ready: order %(number)s") % {"number": order.number}
        return install_email(esims, order.email, subject, _context(order))

    def record(order: Order) -> str:
        order.esim_email_sent_at = timezone.now()
        order.save(update_fields=["esim_email_sent_at", "updated_at"])
        return ("Resent" if resend else "Sent") + f" the eSIM email to {order.email}"

    return _send_once(order_id, "esim", due, build, record, actor)


def _has_topups(order: Order) -> bool:
    return any(line.kind == LineKind.TOPUP for line in order.lines.all())


def send_receipt(order_id: int) -> bool:
    said_applied = False

    def build(order: Order) -> EmailMultiAlternatives:
        nonlocal said_applied
        paid = list(order.payments.captured())
        # Read once: the receipt lists the lines, and its two templates ask order.esims_expected.
        prefetch_related_objects([order], "lines")
        topups = _has_topups(order)
        # A top-up done by now is said to be applied here; one still on its way gets its own
        # "applied" email when it is (`send_topup_applied`).
        said_applied = topups and order.status == OrderStatus.COMPLETED
        return _order_email(
            order,
            _("Receipt for order %(number)s") % {"number": order.number},
            "receipt",
            {
                "lines": list(order.lines.all()),
                "payments": paid,
                "payment": paid[0] if paid else None,
                "topups_applied": said_applied,
                "topups_pending": topups and not said_applied,
            },
        )

    def record(order: Order) -> tuple[str, dict]:
        order.receipt_sent_at = timezone.now()
        order.save(update_fields=["receipt_sent_at", "updated_at"])
        return f"Sent the receipt to {order.email}", {"topup_applied": said_applied}

    return _send_once(order_id, "receipt", lambda o: bool(o.paid_at) and not o.receipt_sent_at, build, record)


TOPUP_APPLIED = "topup-applied"


def topup_applied_due(order: Order) -> bool:
    """A completed order with top-ups whose receipt went before they were applied (a delay, a
    retry, staff) and whose "applied" email has not gone: the customer was told to wait for it."""
    if order.status != OrderStatus.COMPLETED or not order.receipt_sent_at or not _has_topups(order):
        return False
    said = order.events.filter(kind=OrderEventKind.EMAIL)
    return not (
        said.filter(data__topup_applied=True).exists() or said.filter(data__email=TOPUP_APPLIED).exists()
    )


def send_topup_applied(order_id: int) -> bool:
    """Tell the customer their top-up is applied, when it was applied after the receipt: once."""

    def build(order: Order) -> EmailMultiAlternatives:
        lines = [line for line in order.lines.select_related("esim") if line.kind == LineKind.TOPUP]
        subject = ngettext(
            "Your top-up is applied: order %(number)s",
            "Your top-ups are applied: order %(number)s",
            len(lines),
        ) % {"number": order.number}
        account = _absolute(reverse("accounts:esim_list"))
        return _order_email(order, subject, "topup_applied", {"topups": lines, "account_url": account})

    def record(order: Order) -> tuple[str, dict]:
        return f"Sent the top-up applied email to {order.email}", {"email": TOPUP_APPLIED}

    return _send_once(order_id, TOPUP_APPLIED, topup_applied_due, build, record)


def send_refund_notice(order_id: int) -> bool:
    """Tell the customer about a refund: once per refund staff asked to notify, and once when the
    order closes as refunded (unless staff chose not to tell them)."""

    def due(order: Order) -> bool:
        asked = (
            order.events.filter(kind=OrderEventKind.REFUND_REQUESTED).order_by("-created_at", "-id").first()
        )
        sent = order.events.filter(kind=OrderEventKind.EMAIL_REFUND).order_by("-created_at", "-id").first()
        if asked is not None and asked.data.get("notify") is False:
            return False
        unsent_request = asked is not None and (
            sent is None or (asked.created_at, asked.pk) > (sent.created_at, sent.pk)
        )
        if order.status == OrderStatus.REFUNDED:
            return sent is None or unsent_request
        return unsent_request and bool(order.payments.filter(refunded_cents__gt=0).exists())

    def build(order: Order) -> EmailMultiAlternatives:
        refunded = sum(p.refunded_cents for p in order.payments.all())
        subject = _("Refund for order %(number)s") % {"number": order.number}
        return _order_email(order, subject, "refund", {"refunded_cents": refunded})

    return _send_once(order_id, "refund", due, build, lambda o: f"Sent the refund notice to {o.email}")


def send_staff_alert(order_id: int) -> bool:
    """Tell staff that an order needs action, with the reason and a link to it in admin: once per
    order, however often it moves to requires_action (queued by `order_state.move`)."""
    to = list(settings.ALERT_EMAILS)
    if not to:
        logger.warning("order %s needs action but ALERT_EMAILS is empty", order_id)
        return False

    def due(order: Order) -> bool:
        return order.status == OrderStatus.REQUIRES_ACTION and order.staff_alerted_at is None

    def build(order: Order) -> EmailMultiAlternatives:
        reason = order.action_reason or _("no reason recorded")
        context = {
            "order": order,
            "reason": reason,
            "SHOP_NAME": settings.SHOP_NAME,
            "admin_url": _absolute(reverse("admin:checkout_order_change", args=[order.pk])),
        }
        return EmailMultiAlternatives(
            _("[%(shop)s] Order %(number)s needs action: %(reason)s")
            % {"shop": settings.SHOP_NAME, "number": order.number, "reason": Truncator(reason).chars(80)},
            render_to_string("emails/staff_order_alert.txt", context),
            settings.DEFAULT_FROM_EMAIL,
            to,
        )

    def record(order: Order) -> str:
        order.staff_alerted_at = timezone.now()
        order.save(update_fields=["staff_alerted_at", "updated_at"])
        return f"Emailed staff ({', '.join(to)}) that the order needs action"

    return _send_once(order_id, "staff-alert", due, build, record)
