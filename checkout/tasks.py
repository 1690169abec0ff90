"""Celery tasks of checkout. They only call services; retries live here."""

from __future__ import annotations

import random

from celery import shared_task
from django.conf import settings

from core.queue import EMAIL_TASK

from . import services


def _backoff(retries: int) -> float:
    base = settings.FULFILMENT_RETRY_BASE_SECONDS
    return min(600.0, base * 2**retries) * (0.5 + random.random() / 2)  # noqa: S311 - jitter, not a secret


@shared_task(bind=True, name="checkout.fulfil_order", acks_late=True, max_retries=None)
def fulfil_order(self, order_id: int) -> str:
    final = self.request.retries >= settings.FULFILMENT_MAX_RETRIES
    outcome = services.fulfil_order(order_id, final_attempt=final)
    # The emails go from here at once rather than as tasks of their own queued behind
    # other orders' fulfilment; a task is queued only when sending fails (and the
    # reconciler sends what a killed worker left unsent).
    if outcome.completed:
        _send_now(services.send_esim_email, send_esim_email, order_id)
    _send_now(services.send_receipt, send_receipt, order_id)
    if outcome.completed:  # after the receipt: a receipt sent now says "applied" itself
        _send_now(services.send_topup_applied, send_topup_applied, order_id)
    if outcome.retry:
        raise self.retry(countdown=_backoff(self.request.retries))
    return outcome.message


def _send_now(send, fallback, order_id: int) -> None:
    try:
        send(order_id)
    except OSError:  # the mail server is down, or another worker is sending it: retry later
        fallback.apply_async((order_id,), countdown=settings.FULFILMENT_RETRY_BASE_SECONDS)


@shared_task(name="checkout.send_esim_email", **EMAIL_TASK)
def send_esim_email(order_id: int) -> bool:
    return services.send_esim_email(order_id)


@shared_task(name="checkout.send_receipt", **EMAIL_TASK)
def send_receipt(order_id: int) -> bool:
    return services.send_receipt(order_id)


@shared_task(name="checkout.send_topup_applied", **EMAIL_TASK)
def send_topup_applied(order_id: int) -> bool:
    return services.send_topup_applied(order_id)


@shared_task(name="checkout.send_refund_notice", **EMAIL_TASK)
def send_refund_notice(order_id: int) -> bool:
    return services.send_refund_notice(order_id)


@shared_task(name="checkout.send_staff_alert", **EMAIL_TASK)
def send_staff_alert(order_id: int) -> bool:
    return services.send_staff_alert(order_id)


@shared_task(name="checkout.reconcile_orders", acks_late=True)
def reconcile_orders() -> dict:
    return services.reconcile_orders()


@shared_task(name="checkout.sync_upstream_refunds", acks_late=True)
def sync_upstream_refunds() -> dict:
    return services.sync_upstream_refunds()


@shared_task(name="checkout.run_auto_topup", acks_late=True)
def run_auto_topup(crossing_id: int) -> str:
    return services.auto_topup.run(crossing_id)


@shared_task(bind=True, name="checkout.confirm_off_session_charge", acks_late=True, max_retries=None)
def confirm_off_session_charge(self, payment_id: int) -> str:
    outcome = services.one_tap.confirm_charge(payment_id)
    if outcome == "unknown":  # Stripe still unreachable; the service stops asking after its window
        # At most 4 minutes apart: the reconciler queues another task for one untouched for 5.
        countdown = min(240.0, 15.0 * 2**self.request.retries) * (0.5 + random.random() / 2)  # noqa: S311
        raise self.retry(countdown=countdown)
    return outcome


@shared_task(name="checkout.send_auto_topup_email", **EMAIL_TASK)
def send_auto_topup_email(crossing_id: int) -> bool:
    return services.auto_topup.send_email(crossing_id)


@shared_task(name="checkout.send_abandoned_cart_emails", acks_late=True)
def send_abandoned_cart_emails() -> dict:
    return services.marketing.send_abandoned_cart_emails()


@shared_task(name="checkout.settle_referrals", acks_late=True)
def settle_referrals() -> dict:
    return services.referrals.settle_due()


@shared_task(name="checkout.send_referral_email", **EMAIL_TASK)
def send_referral_email(referral_id: int) -> bool:
    return services.referrals.send_reward_email(referral_id)
