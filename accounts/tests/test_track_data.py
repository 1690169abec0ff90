""" "Track your data and top up" (issue 21): the order page's one tap sends a sign-in code to the
order's email and, once the code is entered, lands on the order's eSIM, attached to the account;
the eSIM email links to the code page with that email filled in."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.contrib.auth import get_user_model

from checkout.services.notifications import send_esim_email
from esims.models import Esim

from .conftest import bought_esim, make_customer, make_package

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_limits(clear_cache):
    """No code requests counted from another test."""


@pytest.fixture
def package(roamify):
    return make_package()


def hidden(page: str, name: str) -> str:
    return unescape(re.search(rf'<input type="hidden" name="{name}" value="([^"]*)"', page)[1])


def test_the_order_page_sends_the_code_and_lands_on_the_esim(client, roamify, package, mailoutbox):
    order, esim = bought_esim(package, email="guest@example.com")
    page = client.get(order.access_url(), follow=True).content.decode()
    box = page[page.index('class="card track-data"') :]
    assert "Track your data and top up" in box
    action = re.search(r'<form method="post" action="([^"]+)"', box)[1]
    assert action == "/accounts/login/code/"
    opens = f"/account/orders/{order.number}/open/"  # decides where once signed in
    assert hidden(box, "email") == "guest@example.com" and hidden(box, "next") == opens

    asked = client.post(action, {"email": hidden(box, "email"), "next": hidden(box, "next")})
    assert asked.status_code == 302
    code = re.search(r"^\s*([A-Z0-9-]{6,9})\s*$", mailoutbox[-1].body, re.M)[1]
    assert mailoutbox[-1].to == ["guest@example.com"]
    done = client.post(asked["Location"], {"code": code, "next": opens})
    assert done["Location"] == opens
    assert client.get(opens)["Location"] == f"/account/esims/{esim.pk}/"
    user = get_user_model().objects.get(email="guest@example.com")
    assert Esim.objects.get(pk=esim.pk).customer == user
    assert client.get(f"/account/esims/{esim.pk}/").status_code == 200
    # Signed in, the order page opens the eSIM in the account instead.
    again = client.get(order.get_absolute_url()).content.decode()
    assert f'href="{opens}"' in again[again.index("track-data") :]


def test_someone_else_signed_in_is_not_offered_the_order(client, roamify, package, bob):
    order, _ = bought_esim(package, email="guest@example.com")
    client.get(order.access_url())
    client.force_login(bob)
    assert "track-data" not in client.get(order.get_absolute_url()).content.decode()


def test_the_esim_email_links_to_the_code_page_with_the_email(client, roamify, package, mailoutbox, settings):
    settings.SITE_URL = "https://shop.example"
    order, _ = bought_esim(package, email="guest+trip@example.com")
    mailoutbox.clear()
    assert send_esim_email(order.pk, resend=True)
    mail = mailoutbox[-1]
    link = re.search(r"Track your data and top up \(.*\): (\S+)", mail.body)[1]
    assert link == (
        "https://shop.example/accounts/login/code/?email=guest%2Btrip%40example.com"
        f"&next=%2Faccount%2Forders%2F{order.number}%2Fopen%2F"
    )
    html = mail.alternatives[0][0]
    assert unescape(re.search(r'<a href="([^"]+)"[^>]*>Track your data and top up<', html)[1]) == link
    # The link fills the email in; the code goes only on the customer's tap (mail scanners open links).
    sent = len(mailoutbox)
    page = client.get(link.removeprefix("https://shop.example")).content.decode()
    assert 'value="guest+trip@example.com"' in page and len(mailoutbox) == sent
    assert f'name="next" value="/account/orders/{order.number}/open/"' in page


def test_revoked_and_used_up_cards_stay_listed_with_their_state(client, alice):
    from django.utils import timezone

    from giftcards import services as giftcards

    revoked, _ = giftcards.issue(5000, actor="test", customer=alice, recipient_email="a@example.com")
    used, _ = giftcards.issue(2000, actor="test", customer=alice, recipient_email="b@example.com")
    type(revoked).objects.filter(pk=revoked.pk).update(revoked_at=timezone.now(), enabled=False)
    type(used).objects.filter(pk=used.pk).update(balance_cents=0)
    client.force_login(alice)
    page = unescape(client.get("/account/gift-cards/").content.decode())
    assert "for a@example.com" in page and "· Revoked" in page
    assert "for b@example.com" in page and "· Used up" in page
    assert "bought a gift card yet" not in page


def test_a_signed_in_customer_with_a_password_keeps_it(client):
    make_customer("pw@example.com")
    client.post("/accounts/login/", {"login": "pw@example.com", "password": "a long pass 123"})
    assert "Change your password" in client.get("/account/settings/").content.decode()
