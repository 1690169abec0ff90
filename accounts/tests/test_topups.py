"""Buying a top-up: only for your own eSIM, one that takes top-ups, with a package upstream accepts
for it. Bad input gets a clear message and changes nothing."""

from __future__ import annotations

from html import unescape

import pytest
from django.urls import reverse

from checkout import cart, services
from checkout.models import LineKind, Order
from core.roamify_client import roamify_client
from esims.models import Esim

from .conftest import bought_esim, make_package

pytestmark = pytest.mark.django_db


@pytest.fixture
def mine(roamify, alice, clear_cache, client):
    package = make_package()
    _, esim = bought_esim(package, alice)
    ids = [p.package_id for p in roamify_client().topup_packages(esim.iccid)]
    topup = make_package(package_id=next(i for i in ids if i != package.package_id))
    client.force_login(alice)
    return esim, topup


def cart_of(client) -> dict:
    return dict(client.session.get(cart.SESSION_KEY) or {})


def test_a_fitting_topup_goes_to_the_cart_and_becomes_a_topup_line(mine, client, alice):
    esim, topup = mine
    response = client.post(reverse("accounts:esim_topup", args=[esim.pk]), {"package": topup.package_id})
    assert response.status_code == 302 and response["Location"] == reverse("checkout:cart_detail")
    html = unescape(client.get(reverse("checkout:cart_detail")).content.decode())
    assert f"Top-up: {topup.data_label}" in html and esim.iccid[-4:] in html
    priced = cart.priced(client.session)
    assert [(line.package, line.esim) for line in priced.lines] == [(topup, esim)]
    order = services.place_order(priced, alice.email, alice)
    line = order.lines.get()
    assert line.kind == LineKind.TOPUP and line.esim == esim and line.total_cents == topup.retail_cents


def test_a_package_that_does_not_fit_is_refused(mine, client):
    esim, _ = mine
    elsewhere = make_package("FR")
    response = client.post(
        reverse("accounts:esim_topup", args=[esim.pk]), {"package": elsewhere.package_id}, follow=True
    )
    assert "That top-up doesn't fit this eSIM." in unescape(response.content.decode())
    assert cart_of(client) == {}


def test_place_order_checks_the_package_against_upstream_too(mine, alice):
    esim, _ = mine
    elsewhere = make_package("FR")
    priced = cart.PricedCart([cart.CartLine(elsewhere, 1, esim)], [])
    with pytest.raises(services.CheckoutError, match="doesn't fit your eSIM"):
        services.place_order(priced, alice.email, alice)
    assert Order.objects.count() == 1  # only the one that bought the eSIM


def test_an_esim_that_is_not_yours_is_refused(mine, client, bob):
    esim, topup = mine
    client.force_login(bob)
    response = client.post(reverse("accounts:esim_topup", args=[esim.pk]), {"package": topup.package_id})
    assert response.status_code == 404
    assert cart_of(client) == {}
    priced = cart.PricedCart([cart.CartLine(topup, 1, esim)], [])
    for user in (bob, None):  # another customer, a guest
        with pytest.raises(services.CheckoutError, match="only top up an eSIM of your own"):
            services.place_order(priced, "bob@example.com", user)
    assert Order.objects.count() == 1  # only the one that bought the eSIM


def test_an_esim_without_topup_support_is_refused(mine, client, alice):
    esim, topup = mine
    Esim.objects.filter(pk=esim.pk).update(with_top_up=False)
    response = client.post(
        reverse("accounts:esim_topup", args=[esim.pk]), {"package": topup.package_id}, follow=True
    )
    assert "This eSIM can't be topped up." in unescape(response.content.decode())
    assert cart_of(client) == {}
    esim.refresh_from_db()
    with pytest.raises(services.CheckoutError, match="can't be topped up"):
        services.place_order(cart.PricedCart([cart.CartLine(topup, 1, esim)], []), alice.email, alice)
    assert Order.objects.count() == 1  # only the one that bought the eSIM


@pytest.mark.parametrize("package", ["", "nope", "x" * 500, "esim-japan-1days-1gb-all\x00"])
def test_garbage_package_ids_are_refused(mine, client, package):
    esim, _ = mine
    response = client.post(reverse("accounts:esim_topup", args=[esim.pk]), {"package": package}, follow=True)
    assert response.status_code == 200
    assert "That top-up doesn't fit this eSIM." in unescape(response.content.decode())
    assert cart_of(client) == {}


def test_topup_quantity_stays_one(mine, client):
    esim, topup = mine
    client.post(reverse("accounts:esim_topup", args=[esim.pk]), {"package": topup.package_id})
    key = next(iter(cart_of(client)))
    response = client.post(reverse("checkout:cart_detail"), {"package": key, "quantity": "3"}, follow=True)
    assert "one at a time" in unescape(response.content.decode())
    assert cart_of(client) == {key: 1}
