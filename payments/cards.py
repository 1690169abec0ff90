"""Saved cards: kept at Stripe (a PaymentMethod on a Stripe Customer), listed and removed here.

A card is saved when a payment opened with `save_card_for` (an account's id) is captured: the
capture queues `remember_card` after commit (the webhook and the return page may both capture;
only the first does), which asks Stripe which card paid and keeps one row per PaymentMethod.
No Stripe call is made under a row lock.
"""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction

from .models import Payment, SavedCard
from .providers.stripe_api import gateway

logger = logging.getLogger(__name__)


def create_provider_customer(email: str, key: str) -> str:
    """A new Stripe Customer for `email`. `key`: our own id for the customer, so that two
    concurrent first saves get the one Customer back (Stripe replays the key)."""
    return gateway().create_customer(email, idempotency_key=f"customer-{key}")


def remember_card(payment_id: int) -> SavedCard | None:
    """Keep the card a captured payment was made with, for the account that asked to save it.
    Safe to run twice: one row per PaymentMethod, and one per payment."""
    payment = Payment.objects.filter(pk=payment_id).first()
    if payment is None or payment.status not in Payment.CAPTURED_STATES:
        return None
    user_id = payment.data.get("save_card_for")
    if not user_id or not payment.capture_reference:
        return None
    existing = SavedCard.objects.filter(saved_by_payment=payment).first()
    if existing is not None:
        return existing
    details = gateway().card_of_intent(payment.capture_reference)
    if details is None:
        logger.warning("payment %s: Stripe names no saved card for %s", payment.pk, payment.capture_reference)
        return None
    try:
        with transaction.atomic():
            card, _ = SavedCard.objects.get_or_create(
                payment_method=details.payment_method,
                defaults={
                    "user_id": user_id,
                    "provider_customer": details.customer,
                    "brand": details.brand,
                    "last4": details.last4,
                    "exp_month": details.exp_month,
                    "exp_year": details.exp_year,
                    "saved_by_payment": payment,
                },
            )
    except IntegrityError:  # a concurrent run kept it first
        card = SavedCard.objects.get(payment_method=details.payment_method)
    return card


def remember_fingerprint(payment_id: int) -> str:
    """Keep Stripe's fingerprint of the card a captured card payment was made with (in its data:
    `card_fingerprint`), so a referral by the same card can be told (storecredit.services.referrals).
    Asked after commit, never under a lock; safe to run twice."""
    payment = Payment.objects.filter(pk=payment_id).first()
    if payment is None or payment.status not in Payment.CAPTURED_STATES or not payment.capture_reference:
        return ""
    if payment.data.get("card_fingerprint"):
        return payment.data["card_fingerprint"]
    fingerprint = gateway().card_fingerprint(payment.capture_reference)
    if fingerprint:
        with transaction.atomic():
            locked = Payment.objects.select_for_update().get(pk=payment_id)
            locked.data = {**locked.data, "card_fingerprint": fingerprint}
            locked.save(update_fields=["data", "updated_at"])
    return fingerprint


def cards_of(user) -> list[SavedCard]:
    return list(SavedCard.objects.filter(user=user)) if user.is_authenticated else []


def remove_card(card: SavedCard) -> None:
    """Detach the card at Stripe (it can never be charged again), then forget it here."""
    gateway().detach(card.payment_method)
    SavedCard.objects.filter(pk=card.pk).delete()
