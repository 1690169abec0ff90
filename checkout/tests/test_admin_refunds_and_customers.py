"""From the order page: a partial refund of a mixed order returns the right share to each payment
(the Stripe sandbox for the card part, the test provider for the rest); customers join accounts and
guest emails, with the name the buyer gave Stripe."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from checkout.models import Customer, OrderStatus
from core.models import AuditEntry
from payments.providers import get_provider
from payments.providers.stripe_api import gateway

from .helpers import refund_on_page
from .test_mixed_payments import new_order, pay_part, pay_rest_by_card

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres")]


def test_partial_refund_of_a_mixed_order_from_the_order_page(stripe, package, staff_client):
    order = new_order(package)
    instant = pay_part(order, "test-instant", 300)
    card = pay_rest_by_card(order, stripe)
    url = reverse("admin:checkout_order_refund", args=[order.pk])
    page = staff_client.get(url).content.decode()
    # The page shows where the money goes back: the newest payment (the card) first.
    assert "Card (Stripe)" in page and "test-instant" in page
    partial = card.amount_cents + 150  # all of the card, and 1.50 of the other payment
    # An amount for goodwill (typed as money), previewed and then confirmed as shown.
    _, response = refund_on_page(
        staff_client, order, goodwill=f"{partial // 100}.{partial % 100:02d}", reason="Two days unused"
    )
    assert response.status_code == 302, response.content.decode()[-2000:]
    card.refresh_from_db()
    instant.refresh_from_db()
    assert (card.refunded_cents, instant.refunded_cents) == (card.amount_cents, 150)
    stripe_refunds = gateway().client.v1.refunds.list(params={"payment_intent": card.capture_reference})
    assert [r.amount for r in stripe_refunds.data] == [card.amount_cents]
    assert [r[1] for r in get_provider("test-instant").refunds if r[0] == instant.pk][-1:] == [150]
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID  # 1.50 is still held: not closed
    assert order.upstream_refunds.count() == 0  # partial: the customer keeps the eSIMs
    entry = AuditEntry.objects.get(action="order.refund")
    assert entry.before["refunded_cents"] == 0 and entry.after["refunded_cents"] == partial
    assert entry.note == "Two days unused" and entry.actor == "boss@example.com"
    assert order.events.filter(kind="refund", actor="boss@example.com").count() == 2


def test_customers_join_accounts_and_guests_with_the_name_from_stripe(stripe, package, staff_client):
    user = get_user_model().objects.create_user("alex", "Alex@Example.com", "pw")
    guest_order = new_order(package)  # mixed@example.com, a guest
    pay_rest_by_card(guest_order, stripe)
    guest_order.refresh_from_db()
    # The sandbox's hosted page takes "Name on card"; Stripe returns it as customer_details.name.
    customer = Customer.objects.get(email="mixed@example.com")
    assert guest_order.customer_name == customer.name and customer.name
    from checkout import cart, services

    services.place_order(cart.PricedCart([cart.CartLine(package, 1)], []), "alex@example.com", user)
    alex = Customer.objects.get(email="alex@example.com")
    assert alex.user == user
    listing = staff_client.get(reverse("admin:checkout_customer_changelist"), {"q": customer.name.split()[0]})
    html = listing.content.decode()
    assert "mixed@example.com" in html and "alex@example.com" not in html
    page = staff_client.get(reverse("admin:checkout_customer_change", args=[customer.pk])).content.decode()
    assert guest_order.number in page and "guest" in page
    assert f"${guest_order.total_cents // 100}.{guest_order.total_cents % 100:02d}" in page  # total spent
    staff_client.post(
        reverse("admin:checkout_customer_change", args=[customer.pk]), {"note": "VIP, travels monthly"}
    )
    customer.refresh_from_db()
    assert customer.note == "VIP, travels monthly"
    assert AuditEntry.objects.get(action="customer.note").after == {"note": "VIP, travels monthly"}
