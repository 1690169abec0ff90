"""Sell only what can be delivered: a top-up is offered, added to the cart and paid only for an eSIM
that upstream says is alive and that accepts top-ups, and every line is checked again right before
payment. A refusal says which line and why, and nothing is charged.

Found by hand: upstream revoked an eSIM; its page said "Cancelled" yet listed 166 top-ups; one was
added to the cart and paid with 4242, and the order went to requires_action ("eSIM has been
revoked"): the customer was charged and staff had to refund. The Roamify and Stripe sandboxes,
PostgreSQL, real gift cards.
"""

from __future__ import annotations

from html import unescape

import pytest
from django.urls import reverse

from checkout import cart, services
from checkout.models import LineKind, Order, OrderStatus
from checkout.tests.helpers import force_paid
from core.roamify_client import roamify_client
from esims import services as esim_services
from esims.models import Esim
from giftcards.tests.conftest import balanced, new_card
from payments.models import Payment
from payments.providers.stripe_api import gateway

from .conftest import make_package

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres", "clear_cache")]

ADD = "to your cart"  # the end of every top-up's button label


@pytest.fixture
def mine(roamify, stripe, client):
    """Alice's eSIM, bought upstream through the shop, and a top-up upstream accepts for it."""
    from accounts.tests.conftest import bought_esim, make_customer

    alice = make_customer("alice@example.com")
    _, esim = bought_esim(make_package(), alice)
    offered = [p.package_id for p in roamify_client().topup_packages(esim.iccid)]
    topup = make_package(package_id=next(i for i in offered if i != esim.package_id_upstream))
    client.force_login(alice)
    return esim, topup


def page_of(client, esim: Esim) -> str:
    return unescape(client.get(reverse("accounts:esim_detail", args=[esim.pk])).content.decode())


def add_topup(client, esim: Esim, topup) -> str:
    response = client.post(
        reverse("accounts:esim_topup", args=[esim.pk]), {"package": topup.package_id}, follow=True
    )
    return unescape(response.content.decode())


def in_cart(client) -> dict:
    return dict(client.session.get(cart.SESSION_KEY) or {})


def checkout(client):
    return client.post(reverse("checkout:checkout_start"), {"email": "alice@example.com"}, follow=True)


def test_a_revoked_esim_offers_no_topups_and_none_can_be_added(mine, client, roamify):
    esim, topup = mine
    assert ADD in page_of(client, esim)  # alive: its top-ups are listed (and kept in the cache)
    roamify.control.esim_action(esim.iccid, "revoke")
    client.post(reverse("accounts:esim_refresh", args=[esim.pk]))  # the shop learns it from upstream
    html = page_of(client, esim)
    assert "Cancelled" in html
    assert ADD not in html and "can't be topped up: it was revoked by the network" in html
    refused = add_topup(client, esim, topup)
    assert "can't be topped up: it was revoked by the network" in refused
    assert in_cart(client) == {}


def test_a_topup_whose_esim_died_after_it_was_added_is_refused_at_checkout(mine, client, roamify, stripe):
    """Revoked upstream while it sat in the cart, and the shop heard nothing (no webhook yet): the
    check right before payment asks upstream, refuses, says why and drops the line."""
    esim, topup = mine
    assert "Added a" in add_topup(client, esim, topup)
    roamify.control.esim_action(esim.iccid, "revoke")
    response = checkout(client)
    html = unescape(response.content.decode())
    assert response.status_code == 400
    assert f"The {topup.data_label}, {topup.days}-day top-up for your eSIM {esim.iccid_masked}" in html
    assert "can no longer be delivered: it was revoked by the network" in html
    assert "Nothing was charged" in html
    assert Order.objects.filter(lines__kind=LineKind.TOPUP).count() == 0
    assert stripe.control.sessions() == []
    assert in_cart(client) == {}  # the line is gone: the cart shows what can still be bought
    assert [o["kind"] for o in roamify.control.ledger()] == ["instant"]  # no top-up ordered


def test_a_refunded_esim_offers_no_topups_and_leaves_the_cart(mine, client):
    esim, topup = mine
    add_topup(client, esim, topup)
    esim_services.mark_refunded([esim.pk])  # staff refunded it meanwhile
    html = unescape(client.get(reverse("checkout:cart_detail")).content.decode())
    assert f"The {topup.data_label}, {topup.days}-day top-up for your eSIM {esim.iccid_masked}" in html
    assert "was removed from your cart: it was refunded" in html
    assert in_cart(client) == {}
    page = page_of(client, esim)
    assert ADD not in page and "can't be topped up: it was refunded" in page


def test_a_saved_order_is_not_paid_once_its_esim_died(mine, client, roamify, stripe):
    """Placed with a gift card's hold and a card page opened; the eSIM is revoked before the
    customer presses Pay again: refused, the order cancelled, the hold back on the card and
    Stripe's page closed, so nothing can be charged."""
    esim, topup = mine
    card, _ = new_card(200)
    order = services.place_order(
        cart.PricedCart([cart.CartLine(topup, 1, esim)], []),
        "alice@example.com",
        esim.customer,
        gift_cards=[card.pk],
    )
    services.start_payment(order)
    by_card = order.payments.get(provider="stripe")
    assert balanced(card) == 0
    roamify.control.esim_action(esim.iccid, "revoke")
    response = client.post(reverse("checkout:order_pay", args=[order.number]), follow=True)
    html = unescape(response.content.decode())
    assert (
        "can no longer be delivered: it was revoked by the network" in html and "Nothing was charged" in html
    )
    order.refresh_from_db()
    by_card.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert balanced(card) == 200
    assert by_card.status == Payment.Status.FAILED
    assert gateway().retrieve_session(by_card.external_reference).status == "expired"


def test_a_saved_order_of_a_package_no_longer_sold_is_not_paid(mine, client, stripe):
    esim, _ = mine
    package = make_package("FR")
    order = services.place_order(
        cart.PricedCart([cart.CartLine(package, 1)], []), "alice@example.com", esim.customer
    )
    package.active = False
    package.save()
    response = client.post(reverse("checkout:order_pay", args=[order.number]), follow=True)
    html = unescape(response.content.decode())
    assert (
        f"The {package.destination.name} eSIM, {package.data_label}" in html and "is no longer sold" in html
    )
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CANCELLED
    assert stripe.control.sessions() == []


def test_a_paid_topup_of_an_esim_revoked_meanwhile_still_needs_action(mine, roamify):
    """Paid before the eSIM died (payment reaches fulfilment without the checks): fulfilment finds
    it dead upstream and the order needs staff, as before."""
    esim, topup = mine
    order = services.place_order(
        cart.PricedCart([cart.CartLine(topup, 1, esim)], []), "alice@example.com", esim.customer
    )
    roamify.control.esim_action(esim.iccid, "revoke")
    force_paid(order)
    services.fulfil_order(order.pk)
    order.refresh_from_db()
    assert order.status == OrderStatus.REQUIRES_ACTION and "revoked" in order.action_reason


def test_placing_a_topup_order_asks_upstream_about_its_esim_once(mine, client, stripe):
    """place_order asks upstream right before the payment page opens; the payment that follows in
    the same request does not ask again (a saved order's Pay button does: a test above)."""
    from unittest import mock

    esim, topup = mine
    add_topup(client, esim, topup)
    with mock.patch.object(esim_services, "confirm_status", wraps=esim_services.confirm_status) as asked:
        response = client.post(reverse("checkout:checkout_start"), {"email": "alice@example.com"})
    assert response.status_code == 302 and response.url.startswith(stripe.base_url)
    assert asked.call_count == 1
