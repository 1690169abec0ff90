"""Sign-in by a code emailed to the customer (issue 21): the main way in, for an email with or
without an account; what a guest bought joins the account when the code proves the email; no
page or message names the internal username; the code requests are rate-limited per account."""

from __future__ import annotations

import re
import time
from html import unescape
from unittest import mock

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model

from checkout.models import Customer, LineKind, Order
from esims.models import Esim
from giftcards import services as giftcards
from giftcards.models import GiftCard

from .conftest import fake_esim, make_customer, make_package

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_limits(clear_cache):
    """Each test starts with no code requests counted."""


def code_from(mailoutbox, email: str) -> str:
    message = [m for m in mailoutbox if m.to == [email]][-1]
    assert "code" in message.subject.lower(), message.subject
    return re.search(r"^\s*([A-Z0-9-]{6,9})\s*$", message.body, re.M)[1]


def ask_code(client, email: str, next_url: str = ""):
    data = {"email": email, **({"next": next_url} if next_url else {})}
    return client.post("/accounts/login/code/", data)


def test_a_code_for_a_new_email_opens_the_account_with_no_password(client, mailoutbox):
    asked = ask_code(client, "New.Traveller@example.com")
    assert asked.status_code == 302 and asked["Location"].startswith("/accounts/login/code/confirm/")
    user = get_user_model().objects.get(email="new.traveller@example.com")
    assert not user.has_usable_password()
    assert not EmailAddress.objects.get(user=user).verified  # not before the code
    assert "_auth_user_id" not in client.session
    done = client.post(
        "/accounts/login/code/confirm/", {"code": code_from(mailoutbox, "new.traveller@example.com")}
    )
    assert done.status_code == 302 and done["Location"] == "/account/"
    assert client.session["_auth_user_id"] == str(user.pk)
    assert EmailAddress.objects.get(user=user).verified
    assert get_user_model().objects.filter(email__iexact="new.traveller@example.com").count() == 1


def test_a_code_for_an_existing_account_signs_it_in(client, alice, mailoutbox):
    ask_code(client, alice.email)
    assert get_user_model().objects.filter(email=alice.email).count() == 1  # no second account
    client.post("/accounts/login/code/confirm/", {"code": code_from(mailoutbox, alice.email)})
    assert client.session["_auth_user_id"] == str(alice.pk)


def test_a_wrong_code_is_said_at_the_field(client, mailoutbox):
    ask_code(client, "wrong@example.com")
    page = client.post("/accounts/login/code/confirm/", {"code": "NOPE00"})
    html = page.content.decode()
    assert page.status_code == 200 and "_auth_user_id" not in client.session
    field = re.search(r"<input[^>]*name=\"code\"[^>]*>", html)[0]
    assert 'aria-invalid="true"' in field and "autofocus" in field
    described = re.search(r'aria-describedby="([^"]+)"', field)[1]
    assert f'id="{described}" class="form-error"' in html


def test_the_code_joins_what_the_guest_bought_with_that_email(client, mailoutbox, bob, roamify):
    """eSIMs, orders (an eSIM's, a top-up's, a gift card's) and the gift cards bought."""
    email = "guest@example.com"
    esim = fake_esim(None, email=email)
    esim_order = Order.objects.create(email=email, currency="USD", total_cents=999, status="completed")
    topup = Order.objects.create(email=email, currency="USD", total_cents=499, status="completed")
    topup.lines.create(
        kind=LineKind.TOPUP,
        package=make_package(),
        esim=esim,
        description="Top-up",
        quantity=1,
        unit_price_cents=499,
        total_cents=499,
    )
    gift_order = Order.objects.create(email=email, currency="USD", total_cents=5000, status="completed")
    card, _ = giftcards.issue(5000, actor="test", order=gift_order, recipient_email="friend@example.com")
    Customer.objects.create(email=email)
    bobs = Order.objects.create(email=email, customer=bob, currency="USD", total_cents=1, status="completed")

    ask_code(client, email)
    user = get_user_model().objects.get(email=email)
    assert not Order.objects.filter(customer=user).exists()  # asking proves nothing
    client.post("/accounts/login/code/confirm/", {"code": code_from(mailoutbox, email)})

    assert set(Order.objects.filter(customer=user)) == {esim_order, topup, gift_order}
    assert list(Esim.objects.filter(customer=user)) == [esim]
    assert list(GiftCard.objects.bought_by(user)) == [card]
    assert Customer.objects.get(email=email).user == user
    assert Order.objects.get(pk=bobs.pk).customer == bob
    cards_page = client.get("/account/gift-cards/").content.decode()
    assert "$50.00 for friend@example.com" in cards_page and "t bought a gift card yet" not in cards_page


def test_a_guest_purchase_after_verification_joins_at_the_next_code_sign_in(client, alice, mailoutbox):
    later = fake_esim(None, email=alice.email)  # bought as a guest, not signed in
    ask_code(client, alice.email, next_url=f"/account/esims/{later.pk}/")
    done = client.post(
        f"/accounts/login/code/confirm/?next=/account/esims/{later.pk}/",
        {"code": code_from(mailoutbox, alice.email), "next": f"/account/esims/{later.pk}/"},
    )
    assert done["Location"] == f"/account/esims/{later.pk}/"
    assert Esim.objects.get(pk=later.pk).customer == alice
    assert client.get(done["Location"]).status_code == 200


def test_no_page_or_message_shows_the_username(client, mailoutbox):
    ask_code(client, "mika.tanaka@example.com")
    user = get_user_model().objects.get(email="mika.tanaka@example.com")
    assert user.username and user.username != user.email  # allauth's internal name, e.g. "mika.tanaka"
    done = client.post(
        "/accounts/login/code/confirm/", {"code": code_from(mailoutbox, user.email)}, follow=True
    )
    shown = [unescape(done.content.decode())]
    assert "Successfully signed in as mika.tanaka@example.com." in shown[0]
    for url in (
        "/account/",
        "/account/settings/",
        "/accounts/email/",
        "/accounts/password/set/",
        "/accounts/logout/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        shown.append(unescape(response.content.decode()))
    for page in shown:
        assert not re.search(rf"\b{re.escape(user.username)}\b(?!@)", page)


def test_the_password_is_optional_and_can_be_set_later(client, mailoutbox):
    ask_code(client, "later@example.com")
    client.post("/accounts/login/code/confirm/", {"code": code_from(mailoutbox, "later@example.com")})
    assert "Set a password (optional)" in client.get("/account/settings/").content.decode()
    client.post("/accounts/password/set/", {"password1": "a long pass 456", "password2": "a long pass 456"})
    client.logout()
    signed_in = client.post("/accounts/login/", {"login": "later@example.com", "password": "a long pass 456"})
    assert signed_in.status_code == 302 and "_auth_user_id" in client.session


def test_an_account_with_no_password_can_still_be_deleted(client, mailoutbox):
    ask_code(client, "gone@example.com")
    client.post("/accounts/login/code/confirm/", {"code": code_from(mailoutbox, "gone@example.com")})
    assert client.post("/account/delete/", {"confirm": "on"}).status_code == 302
    assert not get_user_model().objects.filter(email="gone@example.com").exists()


def test_code_requests_are_limited_per_account_over_hours(client, mailoutbox):
    make_customer("ann@example.com")
    start, accepted = time.time(), 0
    for n in range(9):  # every 2 minutes: past allauth's 3 a minute
        with mock.patch("time.time", return_value=start + n * 120):
            client.cookies.clear()
            response = client.post("/accounts/login/code/", {"email": "ann@example.com"})
        accepted += response.status_code == 302
    assert accepted == 6
    assert len([m for m in mailoutbox if m.to == ["ann@example.com"]]) == 6


def test_the_sign_in_page_offers_the_code_first(client):
    html = client.get("/accounts/login/?next=/account/orders/").content.decode()
    code_form = html.index('action="/accounts/login/code/?next=%2Faccount%2Forders%2F"')
    password_form = html.index('action="/accounts/login/"')
    assert code_form < password_form and "<details" in html[code_form:password_form]
    assert "Email me a sign-in code" in html


def test_the_code_page_can_come_with_the_email_filled_in(client):
    html = client.get("/accounts/login/code/?email=trip%40example.com").content.decode()
    assert 'value="trip@example.com"' in html
