"""Store credit in the cart and at checkout, through the views: offered to a signed-in customer
with a balance, paying part (the Stripe sandbox takes the rest) or all of an order; what it pays
shows in the cart's totals."""

from __future__ import annotations

import pytest

from checkout.models import Order, OrderStatus
from payments import services as payments
from storecredit.models import Kind

from .conftest import balanced, customer, grant

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres")]


def money(cents: int) -> str:
    return f"${cents / 100:,.2f}"


def test_credit_pays_part_in_the_cart_and_the_card_the_rest(client, package, stripe, no_queue):
    ann = customer()
    grant(ann, 300)
    client.force_login(ann)
    client.post("/cart/add/", {"package": package.package_id})
    page = client.get("/cart/").content.decode()
    assert "Use my store credit ($3.00 available)" in page
    client.post("/cart/store-credit/", {"action": "use"})
    page = client.get("/cart/").content.decode()
    assert "−$3.00" in page and f"Pay {money(package.retail_cents - 300)} securely" in page
    response = client.post("/checkout/", {"email": ann.email})
    assert response.status_code == 302 and "/pay/" in response["Location"]
    order = Order.objects.get()
    credit = order.payments.get(provider="storecredit")
    card = order.payments.get(provider="stripe")
    assert (credit.amount_cents, card.amount_cents) == (300, package.retail_cents - 300)
    assert balanced(ann) == 0
    assert stripe.control.pay(card.external_reference)["outcome"] == "paid"
    payments.sync_with_provider(card, source="test")
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert list(ann.credit_account.entries.values_list("kind", flat=True)) == [
        Kind.ADJUST,
        Kind.RESERVE,
        Kind.CAPTURE,
    ]


def test_credit_pays_in_full_without_a_card_page(client, package, no_queue):
    ann = customer()
    grant(ann, package.retail_cents * 3)
    client.force_login(ann)
    client.post("/cart/add/", {"package": package.package_id})
    client.post("/cart/store-credit/", {"action": "use"})
    page = client.get("/cart/").content.decode()
    assert "Place order: nothing left to pay" in page and f"−{money(package.retail_cents)}" in page
    response = client.post("/checkout/", {"email": ann.email})
    order = Order.objects.get()
    assert response["Location"] == order.get_absolute_url()
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert not order.payments.filter(provider="stripe").exists()
    assert balanced(ann) == package.retail_cents * 2


def test_credit_removed_from_the_cart_pays_nothing(client, package, stripe, no_queue):
    ann = customer()
    grant(ann, 300)
    client.force_login(ann)
    client.post("/cart/add/", {"package": package.package_id})
    client.post("/cart/store-credit/", {"action": "use"})
    client.post("/cart/store-credit/", {"action": "remove"})
    assert f"Pay {money(package.retail_cents)} securely" in client.get("/cart/").content.decode()
    client.post("/checkout/", {"email": ann.email})
    assert not Order.objects.get().payments.filter(provider="storecredit").exists()
    assert balanced(ann) == 300


def test_no_offer_without_credit_or_when_signed_out(client, package):
    client.post("/cart/add/", {"package": package.package_id})
    assert "store credit" not in client.get("/cart/").content.decode().lower()
    client.post("/cart/store-credit/", {"action": "use"})  # a guest: nothing to use
    ann = customer()
    client.force_login(ann)
    assert "Use my store credit" not in client.get("/cart/").content.decode()
