"""Sign-up hides who has an account; verifying an email attaches the guest purchases made with
it; deleting the account keeps the orders, detached; the printable receipt."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from checkout.models import MarketingConsent, Order
from checkout.services import marketing
from esims.models import Esim

from .conftest import fake_esim, make_customer

pytestmark = pytest.mark.django_db
PASSWORD = "a long pass 123"


def signup(client, email: str):
    return client.post("/accounts/signup/", {"email": email})  # the email alone (issue 21)


def confirmation_link(mailoutbox, email: str) -> str:
    message = [m for m in mailoutbox if m.to == [email]][-1]
    return re.search(r"http://testserver(/accounts/confirm-email/\S+/)", message.body)[1]


def test_enumeration_is_prevented(client, alice, mailoutbox, settings):
    from allauth.account import app_settings

    assert app_settings.PREVENT_ENUMERATION and settings.ACCOUNT_EMAIL_VERIFICATION == "mandatory"
    taken = signup(client, alice.email)
    client.cookies.clear()
    fresh = signup(client, "nobody-yet@example.com")
    assert taken.status_code == fresh.status_code == 302
    assert taken["Location"] == fresh["Location"]
    page = client.get(taken["Location"]).content.decode().lower()
    assert "already" not in page
    assert get_user_model().objects.filter(email=alice.email).count() == 1
    assert len([m for m in mailoutbox if m.to == [alice.email]]) == 1  # the owner is told, by email


def test_verifying_the_email_attaches_guest_orders_and_esims(client, mailoutbox, bob):
    guest = Order.objects.create(
        email="Traveller@Example.com", currency="USD", total_cents=999, status="completed"
    )
    esim = fake_esim(None, email="traveller@example.com")
    bobs = Order.objects.create(
        email="traveller@example.com", customer=bob, currency="USD", total_cents=1, status="completed"
    )
    signup(client, "traveller@example.com")
    user = get_user_model().objects.get(email="traveller@example.com")
    assert not Order.objects.filter(customer=user).exists()  # not before the email is proven
    link = confirmation_link(mailoutbox, "traveller@example.com")
    client.get(link)
    response = client.post(link)
    assert response.status_code == 302
    assert set(Order.objects.filter(customer=user)) == {guest}
    assert list(Esim.objects.filter(customer=user)) == [esim]
    bobs.refresh_from_db()
    assert bobs.customer == bob  # another account's purchases stay put
    assert "_auth_user_id" in client.session  # signed in by the confirmation
    assert esim.iccid[-4:] in client.get("/account/").content.decode()


def test_delete_account_keeps_orders_detached(client, alice):
    order = Order.objects.create(
        email=alice.email, customer=alice, currency="USD", total_cents=999, status="completed"
    )
    esim = fake_esim(alice)
    client.force_login(alice)
    wrong = client.post("/account/delete/", {"password": "wrong", "confirm": "on"})
    assert wrong.status_code == 400 and "That password is not right." in unescape(wrong.content.decode())
    assert get_user_model().objects.filter(pk=alice.pk).exists()
    unconfirmed = client.post("/account/delete/", {"password": PASSWORD})
    assert unconfirmed.status_code == 400
    response = client.post("/account/delete/", {"password": PASSWORD, "confirm": "on"})
    assert response.status_code == 302
    assert not get_user_model().objects.filter(pk=alice.pk).exists()
    order.refresh_from_db()
    esim.refresh_from_db()
    assert order.customer is None and order.email == "alice@example.com" and esim.customer is None
    assert "_auth_user_id" not in client.session


def test_deleting_the_account_withdraws_its_yes_to_offers(client, alice):
    """An account deleted takes its consent to marketing email with it: no abandoned-cart email goes
    to that address afterwards, whatever orders of it stay in the books."""
    marketing.give_consent(alice.email, MarketingConsent.Source.ACCOUNT)
    marketing.give_consent("bob@example.com", MarketingConsent.Source.CHECKOUT)
    client.force_login(alice)
    assert client.post("/account/delete/", {"password": PASSWORD, "confirm": "on"}).status_code == 302
    assert not marketing.has_consent(alice.email)
    assert marketing.has_consent("bob@example.com")  # nobody else's


def test_orders_and_printable_receipt(client, alice, settings):
    from payments.models import Payment

    settings.SHOP_ADDRESS = "1 Harbour Street\nDublin"
    settings.SHOP_TAX_NAME, settings.SHOP_TAX_PERCENT = "VAT", "23"
    order = Order.objects.create(
        email=alice.email, customer=alice, currency="USD", total_cents=1230, status="completed"
    )
    order.lines.create(
        kind="giftcard", description="Gift card $12.30", quantity=1, unit_price_cents=1230, total_cents=1230
    )
    Payment.objects.create(
        order=order, provider="stripe", status="captured", amount_cents=1230, currency="USD"
    )
    client.force_login(alice)
    listing = client.get("/account/orders/").content.decode()
    assert order.number in listing and "Completed" in listing
    receipt = unescape(client.get(f"/account/orders/{order.number}/receipt/").content.decode())
    assert settings.SHOP_NAME in receipt and "1 Harbour Street<br>Dublin" in receipt
    assert "Gift card $12.30" in receipt and "VAT 23% (included)" in receipt and "$2.30" in receipt
    assert "by card" in receipt
    assert "@media print" in (Path(__file__).parents[2] / "static/css/account.css").read_text()


def test_account_pages_use_the_shop_look(client):
    for url in ("/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"):
        html = client.get(url).content.decode()
        assert 'class="site-header"' in html and "account.css" in html


def test_customer_fixture_can_sign_in(client):
    make_customer("c@example.com")
    response = client.post("/accounts/login/", {"login": "c@example.com", "password": PASSWORD})
    assert response.status_code == 302 and "_auth_user_id" in client.session
