"""The words after purchase follow what was bought (issue 21, item 8): a gift card order is not
told about an eSIM, while it waits or when it is done; its status poll says the same."""

from __future__ import annotations

from html import unescape

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse

from checkout import cart, services
from checkout.forms import CheckoutForm
from checkout.models import Order, OrderStatus

pytestmark = pytest.mark.django_db


def gift_order() -> Order:
    line = cart.GiftLine("k", 5000, "Ann", "ann@example.com", "Have fun!", None, "sunset")
    return services.place_order(cart.PricedCart([], [], [line]), "buyer@example.com")


@pytest.mark.parametrize(
    "status", [OrderStatus.FULFILLING, OrderStatus.COMPLETED, OrderStatus.REQUIRES_ACTION]
)
def test_a_gift_card_order_never_talks_of_an_esim(client, status):
    order = gift_order()
    Order.objects.filter(pk=order.pk).update(status=status)
    page = unescape(client.get(order.access_url(), follow=True).content.decode())
    assert "eSIM" not in page.split("<main", 1)[1].split("</main>", 1)[0]
    assert "Installation help" not in page
    status_json = client.get(reverse("checkout:order_status", args=[order.number])).json()
    assert status_json["kind"] == "giftcard"
    if status == OrderStatus.FULFILLING:
        assert "Payment received: preparing your gift card" in page
        assert status_json["status_label"] == "Preparing your gift card"
    if status == OrderStatus.COMPLETED:
        assert "Gift cards go to their recipients on the date you chose." in page
        assert "top-ups show in your account" not in page


@pytest.mark.parametrize(
    ("kind", "said"),
    [
        ("esim", "We send your eSIM here."),
        ("giftcard", "We send your receipt here; each gift card goes to the recipient you chose."),
        ("topup", "We send your receipt here, and tell you when your top-up is applied."),
    ],
)
def test_the_checkout_form_says_what_the_email_gets(kind, said):
    request = RequestFactory().get("/")
    request.user = type("Anon", (), {"is_authenticated": False})()
    html = render_to_string(
        "checkout/_checkout_form.html",
        {"cart_kind": kind, "form": CheckoutForm(), "to_pay_cents": None, "cart": cart.PricedCart([], [])},
        request=request,
    )
    assert said in unescape(html)
    assert ("We send your eSIM here." in html) == (kind == "esim")
