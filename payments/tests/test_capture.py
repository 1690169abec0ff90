"""Recording a capture inside the caller's transaction (the Stripe webhook's) adds no savepoint."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from checkout.models import Order, OrderStatus
from payments import services
from payments.models import Payment

pytestmark = pytest.mark.django_db


def test_a_capture_inside_the_webhooks_transaction_makes_no_savepoint():
    order = Order.objects.create(
        email="x@example.com", currency="USD", total_cents=1000, status=OrderStatus.PAID
    )
    payment = services.open_payment(order, "test-instant", 1000, "USD")
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        assert services.capture(payment.pk, source="webhook")
    assert not [q["sql"] for q in queries if "SAVEPOINT" in q["sql"]]
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.CAPTURED


def test_a_capture_that_fails_inside_a_transaction_leaves_it_to_roll_back_whole():
    order = Order.objects.create(
        email="x@example.com", currency="USD", total_cents=1000, status=OrderStatus.PAID
    )
    payment = services.open_payment(order, "test-instant", 1000, "USD")
    with pytest.raises(Payment.DoesNotExist), transaction.atomic():
        Payment.objects.filter(pk=payment.pk).update(data={"note": "written before"})
        services.capture(payment.pk + 1000, source="webhook")
    assert Payment.objects.get(pk=payment.pk).data != {"note": "written before"}
