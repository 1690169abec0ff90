"""Celery tasks of checkout. They only call services; retries live here."""

from __future__ import annotations

import contextlib
import random

from celery import shared_task
from django.conf import settings

from . import services


def _backoff(retries: int) -> float:
    base = settings.FULFILMENT_RETRY_BASE_SECONDS
    return min(600.0, base * 2**retries) * (0.5 + random.random() / 2)


@shared_task(bind=True, name="checkout.fulfil_order", acks_late=True, max_retries=None)
def fulfil_order(self, order_id: int) -> str:
    final = self.request.retries >= settings.FULFILMENT_MAX_RETRIES
    outcome = services.fulfil_order(order_id, final_attempt=final)
    if outcome.retry:
        raise self.retry(countdown=_backoff(self.request.retries))
    if outcome.completed:
        # Send at once rather than queue behind other fulfilments; the queued
        # send_esim_email is the fallback and finds it already sent.
        with contextlib.suppress(OSError):  # the mail server is down: the queued task retries
            services.send_esim_email(order_id)
    return outcome.message


@shared_task(bind=True, name="checkout.send_esim_email", acks_late=True, max_retries=5,
             autoretry_for=(OSError,), retry_backoff=True)
def send_esim_email(self, order_id: int) -> bool:
    return services.send_esim_email(order_id)


@shared_task(bind=True, name="checkout.send_receipt", acks_late=True, max_retries=5,
             autoretry_for=(OSError,), retry_backoff=True)
def send_receipt(self, order_id: int) -> bool:
    return services.send_receipt(order_id)


@shared_task(bind=True, name="checkout.send_refund_notice", acks_late=True, max_retries=5,
             autoretry_for=(OSError,), retry_backoff=True)
def send_refund_notice(self, order_id: int) -> bool:
    return services.send_refund_notice(order_id)


@shared_task(name="checkout.reconcile_orders", acks_late=True)
def reconcile_orders() -> dict:
    return services.reconcile_orders()
