"""With the real Celery worker on Redis: the daily expiry task expires what is due, and a card
payment's capture has the worker keep Stripe's card fingerprint (the referral check reads it)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from checkout import cart, services
from conftest import wait_until
from core.queue import send
from payments import services as payments
from payments.models import Payment
from storecredit.models import CreditEntry, Kind

from .conftest import balanced, customer, grant

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres")]


def test_the_worker_expires_due_credit(celery_worker):
    ann = customer()
    grant(ann, 400, expires_at=timezone.now() - dt.timedelta(minutes=1))
    grant(ann, 100)
    send("storecredit.expire_credit")  # what beat sends daily
    wait_until(lambda: CreditEntry.objects.filter(kind=Kind.EXPIRE).exists(), 30, what="expiry")
    assert balanced(ann) == 100


def test_the_worker_keeps_the_fingerprint_of_the_card_that_paid(celery_worker, stripe, package):
    order = services.place_order(cart.PricedCart([cart.CartLine(package, 1)], []), "f@example.com")
    services.start_payment(order)
    card = order.payments.get(provider="stripe")
    assert stripe.control.pay(card.external_reference)["outcome"] == "paid"
    payments.sync_with_provider(card, source="test")
    found = wait_until(
        lambda: Payment.objects.get(pk=card.pk).data.get("card_fingerprint"), 60, what="card fingerprint"
    )
    assert isinstance(found, str) and len(found) >= 8
