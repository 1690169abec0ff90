"""Choosing a top-up (issue 21, item 7): the sandbox's real list for an eSIM, the whole destination
sold in the shop. Same-plan extensions first, identical offers merged, speed caps on the cards,
what each adds; a top-up that doesn't fit (data on an unlimited eSIM Roamify doesn't allow, an
expired eSIM) is absent from the page and refused at checkout with nothing charged."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.urls import reverse

from catalog.models import Destination, Package
from catalog.pricing import PricingRules
from catalog.services import _package_values
from checkout import cart, services
from checkout.models import Order
from core.roamify_client import roamify_client
from esims import cached
from payments.models import Payment

from .conftest import bought_esim

pytestmark = pytest.mark.django_db

GROUP = "japan-esims"
PLAN = "esim-japan-7days-5gb-all"
UNLIMITED_PLAN = "esim-japan-3days-un2gb-all"
TWIN = "esim-japan-7days-5gb-all-twin"  # the same offer as PLAN under a second id


def sell_japan(roamify) -> None:
    """Every package of the sandbox's Japan group on sale in the shop, as the catalog sync makes it,
    plus a twin of PLAN (same data, days and price under another id, as upstream sometimes has)."""
    client = roamify_client()
    plan = next(p for g in client.packages_page(1, 5, package_id=PLAN) for p in g.packages)
    twin = {"packageId": TWIN, "package": plan.name, "price": plan.price_cents / 100, "day": plan.days}
    roamify.control.add_package(GROUP, {**twin, "dataAmount": plan.data_mb, "isUnlimited": False})
    group = client.packages_page(1, 5, country_code="JP")[0]
    dest = group.destination
    destination = Destination.objects.create(
        upstream_id=dest.id, code=dest.code, name=dest.name, slug=dest.slug or dest.id, geography="local"
    )
    rules = PricingRules.from_settings()
    Package.objects.bulk_create(
        [
            Package(package_id=p.package_id, **_package_values(p, "t", destination, rules, None))
            for p in group.packages
        ]
    )


@pytest.fixture
def japan(roamify, clear_cache):
    sell_japan(roamify)


def owned(package_id: str, customer):
    _, esim = bought_esim(Package.objects.get(package_id=package_id), customer)
    return esim


def page_of(client, esim) -> str:
    response = client.get(reverse("accounts:esim_detail", args=[esim.pk]))
    assert response.status_code == 200
    return unescape(response.content.decode())


def sections(page: str) -> list[str]:
    return re.findall(r'<section class="topup-group" id="topups-([\w-]+)"', page)


def section(page: str, key: str) -> str:
    start = page.index(f'id="topups-{key}"')
    end = page.find('<section class="topup-group"', start + 1)
    return page[start : end if end > 0 else None]


def cards(html: str) -> list[str]:
    return re.findall(r'<li class="card topup" data-package="([^"]+)"', html)


def test_same_plan_first_then_kinds_with_caps_duplicates_merged(japan, client, alice):
    esim = owned(PLAN, alice)
    client.force_login(alice)
    page = page_of(client, esim)
    keys = sections(page)
    assert keys[0] == "same-plan" and keys[1] == "data", keys
    assert all(k.startswith("unlimited-") for k in keys[2:]) and len(keys) > 3  # by speed cap
    # More days of the same plan: every 5 GB pack, shortest first, saying what it adds.
    same = section(page, "same-plan")
    same_ids = cards(same)
    same_packages = [Package.objects.get(package_id=i) for i in same_ids]
    assert same_packages and all(p.data_mb == 5120 and not p.is_unlimited for p in same_packages)
    assert [p.days for p in same_packages] == sorted(p.days for p in same_packages)
    assert "More days of your plan" in same and "+5 GB, +7 days" in same
    # The twin offer (same data, days and price) is one card, not two.
    assert len([i for i in cards(page) if i in (PLAN, TWIN)]) == 1
    all_cards = cards(page)
    assert len(all_cards) == len(set(all_cards)) == Package.objects.count() - 1
    # Unlimited cards show their speed cap and daily full-speed allowance, so the two "1 day"
    # unlimited offers at different prices tell themselves apart.
    capped = section(page, "unlimited-2048-512")
    assert "Full speed for 2 GB a day, then 512 kbps" in capped
    assert "esim-japan-1days-un2gb-all" in cards(capped)
    assert "Full speed for 3 GB a day, then 512 kbps" in section(page, "unlimited-3072-512")
    assert "Unlimited data, +1 day" in capped  # what it makes of a 5 GB eSIM
    assert "esim-japan-1days-un3gb-all" not in cards(capped)


def test_no_data_on_an_unlimited_esim_unless_roamify_lists_it(japan, client, alice, roamify):
    esim = owned(UNLIMITED_PLAN, alice)
    client.force_login(alice)
    page = page_of(client, esim)
    keys = sections(page)
    assert keys[0] == "same-plan" and "data" not in keys, keys
    assert "+3 days" in section(page, "same-plan")  # days, not data: it is unlimited already
    listed = [Package.objects.get(package_id=i) for i in cards(page)]
    assert listed and all(p.is_unlimited for p in listed)
    data_pack = Package.objects.get(package_id="esim-japan-7days-1gb-all")
    # Asked for anyway (an old page, a crafted form): refused on the page and at checkout.
    refused = client.post(
        reverse("accounts:esim_topup", args=[esim.pk]), {"package": data_pack.package_id}, follow=True
    )
    assert "That top-up doesn't fit this eSIM." in unescape(refused.content.decode())
    assert not cart.priced(client.session).lines
    with pytest.raises(services.Undeliverable) as caught:
        services.place_order(cart.PricedCart([cart.CartLine(data_pack, 1, esim)], []), alice.email, alice)
    assert "its data is already unlimited" in str(caught.value) and "Nothing was charged" in str(caught.value)
    assert not Order.objects.filter(lines__esim=esim).exists()
    assert not Payment.objects.filter(order__lines__esim=esim).exists()
    assert [o["kind"] for o in roamify.control.ledger()] == ["instant"]  # no top-up upstream
    # Where the network sells data on unlimited plans, Roamify lists it and so does the page.
    roamify.control.set_knobs(unlimited_takes_data=True)
    cached.forget(esim.pk)
    page = page_of(client, esim)
    assert "data" in sections(page) and "+1 GB, +7 days" in section(page, "data")


def test_an_expired_esim_lists_no_topup_and_is_refused_with_nothing_charged(japan, client, alice, roamify):
    esim = owned(PLAN, alice)
    topup = Package.objects.get(package_id="esim-japan-60days-5gb-all")
    roamify.control.esim_action(esim.iccid, "expire")
    before = Payment.objects.count()
    with pytest.raises(services.Undeliverable) as caught:
        services.place_order(cart.PricedCart([cart.CartLine(topup, 1, esim)], []), alice.email, alice)
    assert "it has expired. Nothing was charged." in str(caught.value)
    assert Payment.objects.count() == before
    assert [o["kind"] for o in roamify.control.ledger()] == ["instant"]
    client.force_login(alice)
    page = page_of(client, esim)
    assert not sections(page)
    assert "This eSIM can't be topped up: it has expired. Please choose a new eSIM instead." in page
