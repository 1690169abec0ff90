"""Domain actions of checkout: place, pay, fulfil, refund. Each is one transaction.

Order states (design.md): pending_payment → paid → fulfilling → completed;
paid/fulfilling → requires_action → fulfilling | refunded;
pending_payment → cancelled. Every transition writes an OrderEvent.
Side effects (tasks, emails) are queued with transaction.on_commit.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

import roamify
from catalog.models import Package
from storefront.upstream import roamify_client

from . import cart as cart_module
from .models import Esim, Order, OrderEvent, OrderLine, OrderStatus, Payment, StripeEvent
from .payments import CheckoutSession, PaymentError, gateway

logger = logging.getLogger(__name__)

S = OrderStatus


class CheckoutError(ValueError):
    """Bad checkout input, with a message for the customer."""


def log_event(order: Order, kind: str, message: str = "", *, actor: str = "system",
              from_status: str = "", to_status: str = "", **data) -> OrderEvent:
    return OrderEvent.objects.create(order=order, kind=kind, message=message[:5000], actor=actor,
                                     from_status=from_status, to_status=to_status, data=data)


def _move(order: Order, to: str, message: str = "", *, actor: str = "system", **data) -> None:
    """Change the status of a locked order and write the transition to its timeline."""
    before = order.status
    order.status = to
    order.save()
    log_event(order, "status", message, actor=actor, from_status=before, to_status=to, **data)


def _locked(order_id: int) -> Order:
    return Order.objects.select_for_update().get(pk=order_id)


# --- Placing an order -------------------------------------------------------------------------

def place_order(priced: cart_module.PricedCart, email: str, user=None,
                travel_date: dt.date | None = None) -> Order:
    """An order in pending_payment, its lines priced from the catalog at this moment."""
    if not priced.lines:
        raise CheckoutError("Your cart is empty.")
    needs_date = any(line.package.travel_date_required for line in priced.lines)
    if needs_date and travel_date is None:
        raise CheckoutError("Please choose the date your trip starts: one of your plans needs it.")
    if travel_date and travel_date < timezone.localdate():
        raise CheckoutError("Your trip start date can't be in the past.")
    with transaction.atomic():
        # Prices are read again here, never taken from what the browser had.
        packages = {p.id: p for p in Package.objects.active().select_related("destination")
                    .filter(id__in=[line.package.id for line in priced.lines])}
        if len(packages) != len(priced.lines):
            raise CheckoutError("A plan in your cart is no longer sold. Please review your cart.")
        order = Order.objects.create(
            email=email, customer=user if user and user.is_authenticated else None,
            currency=settings.SHOP_CURRENCY, total_cents=0,
            travel_date=travel_date if needs_date else None,
        )
        total = 0
        for line in priced.lines:
            package = packages[line.package.id]
            line_total = package.retail_cents * line.quantity
            total += line_total
            OrderLine.objects.create(
                order=order, package=package, package_id_upstream=package.package_id,
                description=f"{package.destination.name} eSIM, {package.data_label}, "
                            f"{package.days} day{'s' if package.days != 1 else ''}",
                quantity=line.quantity, unit_price_cents=package.retail_cents,
                total_cents=line_total, wholesale_cents=package.wholesale_cents,
            )
        order.total_cents = total
        order.save(update_fields=["total_cents"])
        log_event(order, "placed", f"Order placed by {email} for {total} {order.currency} minor units",
                  to_status=order.status)
    return order


def start_payment(order: Order) -> str:
    """The URL of a Stripe Checkout page for this order (an open one is reused)."""
    if order.status != S.PENDING_PAYMENT:
        raise CheckoutError("This order can't be paid any more.")
    open_payment = order.payments.filter(status=Payment.Status.CREATED).first()
    if open_payment:
        session = gateway().retrieve_session(open_payment.session_id)
        if session.status == "open" and session.url:
            return session.url
        if session.is_paid:
            mark_paid(order.number, session)
            raise CheckoutError("This order is already paid.")
    attempt = order.payments.count() + 1
    session = gateway().create_checkout_session(order, attempt)
    if session.amount_total is not None and session.amount_total != order.total_cents:
        raise PaymentError("Stripe's total does not match the order")
    with transaction.atomic():
        Payment.objects.get_or_create(session_id=session.id, defaults={
            "order": order, "amount_cents": order.total_cents, "currency": order.currency,
            "checkout_url": session.url or "",
        })
        log_event(order, "payment_started", f"Stripe Checkout session {session.id} (attempt {attempt})")
    return session.url or ""


# --- Payment ------------------------------------------------------------------------------------

def mark_paid(order_number: str, session: CheckoutSession, *, source: str = "webhook") -> bool:
    """Record a paid Checkout Session. Exactly once per order, whoever calls first."""
    if not session.is_paid:
        return False
    with transaction.atomic():
        try:
            order = Order.objects.select_for_update().get(number=order_number)
        except Order.DoesNotExist:
            logger.error("paid session %s names unknown order %s", session.id, order_number)
            return False
        payment, _ = Payment.objects.select_for_update().get_or_create(
            session_id=session.id,
            defaults={"order": order, "amount_cents": session.amount_total or 0,
                      "currency": (session.currency or order.currency).upper()},
        )
        if payment.status == Payment.Status.SUCCEEDED:
            return False  # already recorded
        payment.status = Payment.Status.SUCCEEDED
        payment.payment_intent_id = session.payment_intent_id or ""
        payment.amount_cents = session.amount_total or payment.amount_cents
        payment.save()
        if order.status not in (S.PENDING_PAYMENT, S.CANCELLED):
            # A second successful payment for an order already paid: staff must refund it.
            log_event(order, "duplicate_payment", f"Session {session.id} paid an order already paid",
                      session_id=session.id)
            return False
        if session.amount_total != order.total_cents or (session.currency or "") != order.currency:
            order.action_reason = (f"Paid {session.amount_total} {session.currency}, expected "
                                   f"{order.total_cents} {order.currency}")
            _move(order, S.REQUIRES_ACTION, order.action_reason, session_id=session.id)
            return True
        order.paid_at = timezone.now()
        _move(order, S.PAID, f"Paid by card through Stripe ({source})", session_id=session.id,
              payment_intent=session.payment_intent_id)
        order_id = order.id
        transaction.on_commit(lambda: _queue_after_payment(order_id))
    return True


def _queue_after_payment(order_id: int) -> None:
    from . import tasks

    tasks.fulfil_order.delay(order_id)
    tasks.send_receipt.delay(order_id)


def confirm_from_success_page(order: Order, session_id: str | None) -> None:
    """The success page looks the session up itself, in case the webhook is late."""
    if order.status != S.PENDING_PAYMENT:
        return
    payment = order.payments.filter(session_id=session_id).first() if session_id else None
    payment = payment or order.payments.filter(status=Payment.Status.CREATED).first()
    if payment is None:
        return
    try:
        session = gateway().retrieve_session(payment.session_id)
    except PaymentError:
        logger.warning("could not look up session %s", payment.session_id, exc_info=True)
        return
    if session.client_reference_id == order.number:
        mark_paid(order.number, session, source="success page")


def cancel_unpaid(order_number: str, session_id: str, reason: str) -> bool:
    """An expired Checkout Session: the order is cancelled if nothing else can pay it."""
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(number=order_number).first()
        if order is None:
            return False
        Payment.objects.filter(session_id=session_id, status=Payment.Status.CREATED).update(
            status=Payment.Status.EXPIRED)
        if order.status != S.PENDING_PAYMENT or order.payments.filter(
                status__in=[Payment.Status.CREATED, Payment.Status.SUCCEEDED]).exists():
            return False
        _move(order, S.CANCELLED, reason, session_id=session_id)
    return True


def handle_stripe_event(event: dict) -> str:
    """Handle one verified webhook event, once. Returns what was done (for logs and tests)."""
    obj = (event.get("data") or {}).get("object") or {}
    with transaction.atomic():
        try:
            with transaction.atomic():
                StripeEvent.objects.create(event_id=event["id"], type=event.get("type", ""))
        except IntegrityError:
            return "duplicate"
        kind = event.get("type")
        if kind == "checkout.session.completed":
            session = CheckoutSession.from_stripe(obj)
            if session.order_number:
                return "paid" if mark_paid(session.order_number, session) else "noop"
        elif kind == "checkout.session.expired":
            session = CheckoutSession.from_stripe(obj)
            if session.order_number:
                done = cancel_unpaid(session.order_number, session.id, "Checkout session expired")
                return "cancelled" if done else "noop"
        elif kind == "charge.refunded":
            return record_refund_from_stripe(obj)
    return "ignored"


# --- Refunds --------------------------------------------------------------------------------------

REFUNDABLE = (S.PAID, S.REQUIRES_ACTION, S.COMPLETED, S.FULFILLING)


def refund_order(order_id: int, *, actor: str = "system", reason: str = "") -> int:
    """Refund what is left of the order's card payment and close the order. Returns cents refunded."""
    with transaction.atomic():
        order = _locked(order_id)
        if order.status == S.REFUNDED:
            return 0
        if order.status not in REFUNDABLE:
            raise CheckoutError(f"An order that is {order.get_status_display().lower()} can't be refunded.")
        if order.status == S.FULFILLING and order.fulfilment_lease_until and \
                order.fulfilment_lease_until > timezone.now():
            raise CheckoutError("The eSIM is being ordered right now; try again in a few minutes.")
        refunded = 0
        for payment in order.payments.select_for_update().filter(
                status__in=[Payment.Status.SUCCEEDED, Payment.Status.PARTIALLY_REFUNDED]):
            remaining = payment.amount_cents - payment.refunded_cents
            if remaining <= 0 or not payment.payment_intent_id:
                continue
            refund_id = gateway().refund(payment.payment_intent_id, remaining,
                                         idempotency_key=f"refund-{order.number}-{payment.id}")
            payment.refunded_cents += remaining
            payment.status = Payment.Status.REFUNDED
            payment.save()
            refunded += remaining
            log_event(order, "refund", f"Refunded {remaining} {payment.currency} minor units "
                      f"({refund_id})", actor=actor, refund_id=refund_id)
        _move(order, S.REFUNDED, reason or "Refunded", actor=actor)
        order_id_ = order.id
        transaction.on_commit(lambda: _queue_refund_email(order_id_))
    return refunded


def _queue_refund_email(order_id: int) -> None:
    from . import tasks

    tasks.send_refund_notice.delay(order_id)


def record_refund_from_stripe(charge: dict) -> str:
    """charge.refunded: keep our records in step with refunds made in Stripe itself."""
    intent = charge.get("payment_intent")
    if isinstance(intent, dict):
        intent = intent.get("id")
    if not intent:
        return "ignored"
    with transaction.atomic():
        payment = Payment.objects.select_for_update().filter(payment_intent_id=intent).first()
        if payment is None:
            return "ignored"
        amount_refunded = int(charge.get("amount_refunded") or 0)
        if amount_refunded <= payment.refunded_cents:
            return "noop"  # our own refund, already recorded
        payment.refunded_cents = amount_refunded
        full = amount_refunded >= payment.amount_cents
        payment.status = Payment.Status.REFUNDED if full else Payment.Status.PARTIALLY_REFUNDED
        payment.save()
        order = _locked(payment.order_id)
        log_event(order, "refund", f"Stripe reports {amount_refunded} refunded", actor="stripe")
        if full and order.status in REFUNDABLE:
            _move(order, S.REFUNDED, "Refunded in Stripe", actor="stripe")
    return "refunded"


# --- Fulfilment -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Outcome:
    done: bool
    retry: bool = False
    message: str = ""
    completed: bool = False  # this run delivered the eSIMs


def fulfil_order(order_id: int, *, final_attempt: bool = False) -> Outcome:
    """Get the order's eSIMs from upstream. Safe to run twice, or in two workers at once.

    Never orders twice: before any purchase after the first attempt, upstream
    is asked for an order with our order number as referenceId.
    """
    now = timezone.now()
    with transaction.atomic():
        order = _locked(order_id)
        if order.status not in (S.PAID, S.FULFILLING):
            return Outcome(done=True, message=f"nothing to do ({order.status})")
        if order.fulfilment_lease_until and order.fulfilment_lease_until > now:
            return Outcome(done=False, retry=True, message="another worker holds the lease")
        order.fulfilment_attempts += 1
        order.fulfilment_lease_until = now + dt.timedelta(seconds=settings.FULFILMENT_LEASE_SECONDS)
        if order.status == S.PAID:
            _move(order, S.FULFILLING, "Ordering the eSIM upstream")
        else:
            order.save()
        attempt = order.fulfilment_attempts
    try:
        upstream_order = _upstream_order(order, attempt)
        esims = _ready_esims(upstream_order)
    except (roamify.InsufficientBalanceError, roamify.ValidationError, roamify.NotFoundError,
            roamify.AuthenticationError, roamify.ConflictError) as exc:
        return _needs_action(order_id, f"Upstream refused the order: {exc}")
    except (roamify.UpstreamTimeout, roamify.UpstreamUnavailable, roamify.ProfilePendingError,
            _NotReadyYet) as exc:
        if final_attempt:
            return _needs_action(order_id, f"Upstream did not deliver after {attempt} attempts: {exc}")
        _release_lease(order_id, f"Attempt {attempt}: {type(exc).__name__}: {exc}")
        return Outcome(done=False, retry=True, message=str(exc))
    except Exception as exc:  # unknown failure: never silent, never lost
        logger.exception("fulfilment of %s failed", order.number)
        if final_attempt:
            return _needs_action(order_id, f"Unexpected error: {type(exc).__name__}: {exc}")
        _release_lease(order_id, f"Attempt {attempt}: unexpected {type(exc).__name__}: {exc}")
        return Outcome(done=False, retry=True, message=str(exc))
    return _complete(order_id, upstream_order, esims)


class _NotReadyYet(Exception):
    """Upstream has the order but its eSIM profiles are not ready yet."""


def _upstream_order(order: Order, attempt: int) -> roamify.Order:
    client = roamify_client()
    if attempt > 1 or order.upstream_order_id:
        existing = client.find_order(order.number)
        if existing is not None:
            return existing
    lines = list(order.lines.all())
    items = [(line.package_id_upstream, line.quantity) for line in lines]
    placed = client.create_instant_order(items, reference_id=order.number,
                                         start_date=order.travel_date)
    Order.objects.filter(pk=order.pk).update(upstream_order_id=placed.id)
    log_event(order, "upstream_order", f"Upstream order {placed.id} ({placed.status})",
              upstream_order_id=placed.id, upstream_status=placed.status)
    return placed


def _ready_esims(upstream_order: roamify.Order) -> list[roamify.Esim]:
    """Every eSIM of the order with its profile; asks upstream for those still without one."""
    if upstream_order.status in ("CANCELLED", "REFUNDED"):
        raise roamify.ValidationError(f"upstream order is {upstream_order.status}")
    client = roamify_client()
    by_id = {e.id: e for e in upstream_order.esims}
    ready = []
    for esim_id in upstream_order.esim_ids:
        esim = by_id.get(esim_id)
        if esim is None or not esim.has_profile:
            esim = client.get_esim(esim_id=esim_id)
        if not esim.has_profile and esim.status == "NEW" and upstream_order.status == "COMPLETED":
            esim = client.apply(esim_id=esim_id)[0]  # a plain order's eSIM waits for apply
        if not esim.has_profile:
            raise _NotReadyYet(f"eSIM {esim_id} is {esim.status}")
        ready.append(esim)
    if not ready:
        raise _NotReadyYet(f"upstream order {upstream_order.id} is {upstream_order.status}")
    return ready


def _release_lease(order_id: int, message: str) -> None:
    with transaction.atomic():
        order = _locked(order_id)
        order.fulfilment_lease_until = None
        order.save()
        log_event(order, "fulfilment_retry", message)


def _needs_action(order_id: int, reason: str) -> Outcome:
    with transaction.atomic():
        order = _locked(order_id)
        order.fulfilment_lease_until = None
        order.action_reason = reason
        _move(order, S.REQUIRES_ACTION, reason)
        auto_refund = settings.AUTO_REFUND_FAILED_FULFILMENT
    if auto_refund:
        try:
            refund_order(order_id, reason=f"Automatic refund: {reason}")
        except (PaymentError, CheckoutError) as exc:
            with transaction.atomic():
                log_event(_locked(order_id), "refund_failed", f"Automatic refund failed: {exc}")
    return Outcome(done=True, message=reason)


def _complete(order_id: int, upstream_order: roamify.Order, esims: list[roamify.Esim]) -> Outcome:
    with transaction.atomic():
        order = _locked(order_id)
        if order.status not in (S.FULFILLING, S.PAID):
            return Outcome(done=True, message=f"already {order.status}")
        lines = list(order.lines.select_related("package"))
        line_for = _line_assignment(lines, upstream_order, len(esims))
        for esim, line in zip(esims, line_for, strict=False):
            profile = esim.profile or roamify.EsimProfile()
            apn = esim.apn or roamify.Apn()
            Esim.objects.update_or_create(upstream_esim_id=esim.id, defaults={
                "order": order, "order_line": line, "package": line.package if line else None,
                "customer": order.customer, "upstream_order_id": upstream_order.id,
                "iccid": esim.iccid or "", "status": esim.status,
                "lpa_code": profile.lpa_code or "", "smdp_address": profile.smdp_address or "",
                "activation_code": profile.activation_code or "",
                "ios_install_url": profile.ios_install_url or "",
                "android_install_url": profile.android_install_url or "",
                "apn_automatic": apn.automatic, "apn_name": apn.name or "",
                "apn_username": apn.username or "", "apn_password": apn.password or "",
                "with_top_up": esim.with_top_up, "expires_at": esim.expired_at,
            })
        order.upstream_order_id = upstream_order.id
        order.fulfilment_lease_until = None
        order.completed_at = timezone.now()
        order.action_reason = ""
        _move(order, S.COMPLETED, f"{len(esims)} eSIM(s) ready", upstream_order_id=upstream_order.id)
        order_id_ = order.id
        transaction.on_commit(lambda: _queue_esim_email(order_id_))
    return Outcome(done=True, completed=True, message="completed")


def _line_assignment(lines: list[OrderLine], upstream_order: roamify.Order, n: int) -> list[OrderLine | None]:
    """Which order line each eSIM belongs to: by package id where upstream says, else in order."""
    by_package = {line.package_id_upstream: line for line in lines}
    packages = [i.package_id for i in upstream_order.items]
    if len(packages) >= n:
        return [by_package.get(p) for p in packages[:n]]
    expanded = [line for line in lines for _ in range(line.quantity)]
    return (expanded + [None] * n)[:n]


def _queue_esim_email(order_id: int) -> None:
    from . import tasks

    tasks.send_esim_email.delay(order_id)


def retry_fulfilment(order_id: int, *, actor: str) -> None:
    """Staff: try a requires_action (or stuck) order again."""
    with transaction.atomic():
        order = _locked(order_id)
        if order.status not in (S.REQUIRES_ACTION, S.PAID, S.FULFILLING):
            raise CheckoutError(f"An order that is {order.get_status_display().lower()} can't be retried.")
        order.fulfilment_lease_until = None
        if order.status == S.REQUIRES_ACTION:
            _move(order, S.FULFILLING, "Retry requested", actor=actor)
        else:
            order.save()
            log_event(order, "retry", "Retry requested", actor=actor)
        order_id_ = order.id
        transaction.on_commit(lambda: _queue_fulfilment(order_id_))


def _queue_fulfilment(order_id: int) -> None:
    from . import tasks

    tasks.fulfil_order.delay(order_id)


def reconcile_orders() -> dict[str, int]:
    """Pick up orders stuck in paid or fulfilling, and unpaid orders whose webhook never came."""
    now = timezone.now()
    stale = now - dt.timedelta(seconds=settings.RECONCILE_AFTER_SECONDS)
    lease_free = Q(fulfilment_lease_until__isnull=True) | Q(fulfilment_lease_until__lt=now)
    stuck = list(Order.objects.filter(lease_free, status__in=[S.PAID, S.FULFILLING], updated_at__lt=stale)
                 .values_list("id", flat=True))
    for order_id in stuck:
        _queue_fulfilment(order_id)
    checked = 0
    for order in Order.objects.filter(status=S.PENDING_PAYMENT, updated_at__lt=stale,
                                      payments__status=Payment.Status.CREATED).distinct()[:200]:
        payment = order.payments.filter(status=Payment.Status.CREATED).first()
        try:
            session = gateway().retrieve_session(payment.session_id)
        except PaymentError:
            continue
        checked += 1
        if session.is_paid:
            mark_paid(order.number, session, source="reconciler")
        elif session.status == "expired":
            cancel_unpaid(order.number, session.id, "Checkout session expired (reconciler)")
    return {"requeued": len(stuck), "sessions_checked": checked}



# --- Emails ---------------------------------------------------------------------------------------

def send_esim_email(order_id: int, *, resend: bool = False, actor: str = "system") -> bool:
    """Email the eSIMs of a completed order: once, unless staff ask to resend."""
    from .emails import esim_email

    with transaction.atomic():
        order = _locked(order_id)
        if order.status != S.COMPLETED or not order.esims.exists():
            if resend:
                raise CheckoutError("Only a completed order has an eSIM to send.")
            return False
        if order.esim_email_sent_at and not resend:
            return False
        esim_email(order).send()
        order.esim_email_sent_at = timezone.now()
        order.save(update_fields=["esim_email_sent_at", "updated_at"])
        log_event(order, "email", ("Resent" if resend else "Sent") + f" the eSIM email to {order.email}",
                  actor=actor)
    return True


def send_receipt(order_id: int) -> bool:
    from .emails import receipt_email

    with transaction.atomic():
        order = _locked(order_id)
        if order.receipt_sent_at or not order.paid_at:
            return False
        receipt_email(order).send()
        order.receipt_sent_at = timezone.now()
        order.save(update_fields=["receipt_sent_at", "updated_at"])
        log_event(order, "email", f"Sent the receipt to {order.email}")
    return True


def send_refund_notice(order_id: int) -> bool:
    from .emails import refund_email

    with transaction.atomic():
        order = _locked(order_id)
        if order.status != S.REFUNDED or order.events.filter(kind="email_refund").exists():
            return False
        refund_email(order).send()
        log_event(order, "email_refund", f"Sent the refund notice to {order.email}")
    return True
