"""The saved cards page (list, remove: detached at Stripe; another's card 404) and the one-tap form
on the eSIM page and the signed link page (the owner signed in only). Stripe and Roamify sandboxes,
PostgreSQL."""

from __future__ import annotations

from html import unescape

import pytest
from django.urls import reverse

from checkout.models import Order, OrderStatus
from checkout.tests.test_one_tap import VISA, mine, saved_card  # noqa: F401 (mine: a fixture)
from esims import links
from payments.models import SavedCard
from payments.providers.stripe_api import gateway

from .conftest import make_customer

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres", "clear_cache")]


def text(response) -> str:
    return unescape(response.content.decode())


def test_the_list_shows_brand_last4_and_expiry_and_removes_at_stripe(stripe, client):
    alice = make_customer("alice@example.com")
    card = saved_card(alice, VISA)
    client.force_login(alice)
    page = text(client.get(reverse("accounts:card_list")))
    assert "Visa •••• 4242" in page and "Expires 12/34" in page
    response = client.post(reverse("accounts:card_remove"), {"card": card.pk}, follow=True)
    assert "Your card ending in 4242 is removed." in text(response)
    assert not SavedCard.objects.exists()
    assert gateway().client.v1.payment_methods.retrieve(card.payment_method).customer is None
    assert "You have no saved cards." in text(client.get(reverse("accounts:card_list")))


def test_another_customers_card_is_404_and_stays(stripe, client):
    alice, bob = make_customer("alice@example.com"), make_customer("bob@example.com")
    card = saved_card(alice, VISA)
    client.force_login(bob)
    assert "4242" not in text(client.get(reverse("accounts:card_list")))
    assert client.post(reverse("accounts:card_remove"), {"card": card.pk}).status_code == 404
    assert client.post(reverse("accounts:card_remove"), {"card": "x"}).status_code == 404
    assert SavedCard.objects.filter(pk=card.pk).exists()


def test_one_tap_from_the_signed_link_needs_the_owner_signed_in(mine, client):  # noqa: F811
    alice, esim, topup = mine
    card = saved_card(alice, VISA)
    link = reverse("accounts:signed_topups", args=[links.make_token(esim, links.TOPUP)])
    assert "Buy with •••• 4242" not in text(client.get(link))  # a stranger with the email's link
    buy = {"esim": esim.pk, "package": topup.package_id, "card": card.pk, "key": "t1", "next": link}
    stranger = client.post(reverse("accounts:one_tap_topup"), buy)
    assert stranger.status_code == 302 and "/accounts/login/" in stranger["Location"]
    bob = make_customer("bob@example.com")
    client.force_login(bob)
    assert client.post(reverse("accounts:one_tap_topup"), buy).status_code == 404
    assert not Order.objects.exclude(pk__in=esim.order_lines.values("order")).exists()

    client.force_login(alice)
    page = text(client.get(link))
    assert "Buy with •••• 4242" in page and "Confirm and pay" in page
    response = client.post(reverse("accounts:one_tap_topup"), buy)
    order = Order.objects.get(lines__esim=esim, lines__kind="topup")
    assert response["Location"] == order.get_absolute_url()
    assert order.status == OrderStatus.PAID
    assert client.post(reverse("accounts:one_tap_topup"), buy)["Location"] == order.get_absolute_url()
    assert Order.objects.filter(lines__kind="topup").count() == 1  # the double tap bought once


def test_the_esim_page_offers_one_tap_only_with_a_saved_card(mine, client):  # noqa: F811
    alice, esim, _ = mine
    client.force_login(alice)
    page = reverse("accounts:esim_detail", args=[esim.pk])
    assert "Buy with" not in text(client.get(page))
    saved_card(alice, VISA)
    assert "Buy with •••• 4242" in text(client.get(page))


def test_a_declined_one_tap_says_so_on_the_page(mine, client):  # noqa: F811
    alice, esim, topup = mine
    card = saved_card(alice, "4000000000000341")
    client.force_login(alice)
    buy = {"esim": esim.pk, "package": topup.package_id, "card": card.pk, "key": "t1"}
    page = text(client.post(reverse("accounts:one_tap_topup"), buy, follow=True))
    assert "Your card was declined. Nothing was charged. Please use another card." in page
