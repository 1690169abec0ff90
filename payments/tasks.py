from __future__ import annotations

from celery import shared_task

from . import cards
from .providers import PaymentError

# Asking Stripe about a captured payment, after commit: retried with back-off while Stripe can't say.
STRIPE_LOOKUP = {"acks_late": True, "autoretry_for": (PaymentError,), "max_retries": 5, "retry_backoff": True}


@shared_task(name="payments.remember_saved_card", **STRIPE_LOOKUP)
def remember_saved_card(payment_id: int) -> bool:
    return cards.remember_card(payment_id) is not None


@shared_task(name="payments.remember_card_fingerprint", **STRIPE_LOOKUP)
def remember_card_fingerprint(payment_id: int) -> bool:
    return bool(cards.remember_fingerprint(payment_id))
