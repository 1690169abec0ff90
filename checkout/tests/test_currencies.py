"""Orders in the visitor's currency, through the Stripe sandbox, on PostgreSQL: whole yen charged and
refunded, euro orders with base amounts that add up exactly, a stale rate refusing checkout, and a
wrong-unit amount refused by the sandbox as Stripe refuses it."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from unittest import mock

import pytest
import stripe as stripe_lib
from django.contrib.messages import get_messages

from checkout.models import Order, OrderStatus
from payments import services as payments
from payments.models import Payment
from payments.providers import PaymentError, PaymentRequest
from payments.providers.stripe_api import gateway

from .helpers import rates

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres")]


@pytest.fixture(autouse=True)
def _no_queue():
    with mock.patch("checkout.services.payment.after_commit"), mock.patch("payments.services.logger"):
        yield


def _checkout(client, package, currency: str, quantity: int = 1):
    client.cookies["currency"] = currency
    client.post("/cart/add/", {"package": package.package_id, "quantity": str(quantity)})
    return client.post("/checkout/", {"email": "traveller@example.com"})


def _pay_by_webhook(client, stripe, session_id: str) -> None:
    assert stripe.control.pay(session_id)["outcome"] == "paid"
    session = gateway().client.v1.checkout.sessions.retrieve(session_id).to_dict()
    body = json.dumps(
        {"id": f"evt_{session_id}", "type": "checkout.session.completed", "data": {"object": session}}
    ).encode()
    header = stripe_lib.WebhookSignature.generate_signature_header(body.decode(), stripe.webhook_secret)
    answer = client.post(
        "/checkout/stripe/webhook/", body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
    )
    assert answer.status_code == 200


def test_an_order_in_yen_is_charged_and_refunded_in_whole_yen(stripe, package, client):
    with rates(JPY="150", EUR="0.92"):
        response = _checkout(client, package, "JPY", quantity=2)
    assert response.status_code == 302 and "/pay/" in response["Location"]
    order = Order.objects.get()
    line = order.lines.get()
    # Priced in yen by the catalog's rule (hundreds ending in 80), the rate kept on the order.
    assert order.currency == "JPY" and line.unit_price_cents % 100 == 80
    assert order.total_cents == 2 * line.unit_price_cents
    assert order.rate_per_base == Decimal(150) and order.rate_fetched_at is not None
    assert order.base_total_cents == round(order.total_cents * 100 / 150) == line.base_total_cents
    card = order.payments.get()
    assert (card.currency, card.amount_cents, card.base_amount_cents) == (
        "JPY",
        order.total_cents,
        order.base_total_cents,
    )
    # The sandbox's ledger: whole yen, on the session and its line.
    (session,) = stripe.control.sessions()
    remote = gateway().client.v1.checkout.sessions.retrieve(session["id"]).to_dict()
    assert (remote["currency"], remote["amount_total"]) == ("jpy", order.total_cents)
    items = gateway().client.v1.checkout.sessions.line_items.list(session["id"]).data
    assert [(i.price.unit_amount, i.quantity) for i in items] == [(line.unit_price_cents, 2)]

    _pay_by_webhook(client, stripe, session["id"])
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID

    # A full refund goes back in yen, the same yen, at Stripe and in the books' base amounts.
    card.refresh_from_db()
    assert payments.refund(card.pk, card.amount_cents, reason="Customer asked") == order.total_cents
    intent = gateway().client.v1.payment_intents.retrieve(card.capture_reference)
    refunds = gateway().client.v1.refunds.list(params={"payment_intent": intent.id}).data
    assert (intent.currency, [r.amount for r in refunds]) == ("jpy", [order.total_cents])
    card.refresh_from_db()
    assert card.base_refunded_cents == card.base_amount_cents == order.base_total_cents


def test_an_order_in_euros_splits_its_base_amount_exactly(stripe, package, client):
    with rates(EUR="0.9137"):
        _checkout(client, package, "EUR", quantity=3)
    order = Order.objects.get()
    assert order.currency == "EUR" and order.total_cents % 100 == 97  # 3 × x.99
    assert sum(line.base_total_cents for line in order.lines.all()) == order.base_total_cents
    card = order.payments.get()
    (session,) = stripe.control.sessions()
    remote = gateway().client.v1.checkout.sessions.retrieve(session["id"])
    assert (remote.currency, remote.amount_total) == ("eur", order.total_cents)
    _pay_by_webhook(client, stripe, session["id"])
    card.refresh_from_db()
    assert card.status == Payment.Status.CAPTURED
    # Refunded in three parts: their base amounts add up to the payment's, to the cent.
    for part in (1, 333, card.amount_cents - 334):
        assert payments.refund(card.pk, part, reason="Customer asked") == part
    base_parts = [r.base_amount_cents for r in card.refunds.all()]
    assert sum(base_parts) == card.base_amount_cents == order.base_total_cents


def test_a_stale_rate_stops_checkout_in_that_currency_and_changes_nothing(stripe, package, client):
    with rates(age=dt.timedelta(hours=7), JPY="150"):
        response = _checkout(client, package, "JPY")
        cart_page = client.get("/cart/")
    assert response.status_code == 302 and response["Location"] == "/cart/"
    said = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("Prices in JPY are not available" in m for m in said), said
    assert not Order.objects.exists() and not Payment.objects.exists()
    assert stripe.control.sessions() == []
    assert "Prices in JPY are not available" in cart_page.content.decode()
    # Switching currency is enough: the same cart checks out in the base currency.
    client.cookies["currency"] = "USD"
    assert "/pay/" in client.post("/checkout/", {"email": "traveller@example.com"})["Location"]
    assert Order.objects.get().currency == "USD"


def test_a_wrong_unit_amount_is_refused_by_the_sandbox(stripe):
    """Yen sent as if they were hundredths (¥12.80 as 12): below Stripe's ¥50, refused with its error."""
    request = PaymentRequest(
        order_number="RE-TEST-0001",
        email="traveller@example.com",
        amount_cents=12,
        currency="JPY",
        success_url="http://127.0.0.1/ok",
        cancel_url="http://127.0.0.1/cancel",
        lines=[("eSIM", 1, 12)],
    )
    with pytest.raises(PaymentError, match="at least ¥50 jpy"):
        gateway().create_checkout_session(request, idempotency_key="wrong-unit")
    assert stripe.control.sessions() == []
