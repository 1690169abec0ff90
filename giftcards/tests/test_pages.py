"""The gift card pages: buying into the cart, applying codes, the balance check, the buyer's
cards; guessing codes past the limit; bad input changes no balance and says why."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from checkout import cart
from giftcards import services
from giftcards.models import GiftCard

from .conftest import balanced, new_card

pytestmark = pytest.mark.django_db

REFUSED = services.CODE_REFUSED


def buy_form(**overrides) -> dict:
    return {
        "amount": "2500",
        "custom_amount": "",
        "recipient_name": "Ann",
        "recipient_email": "ann@example.com",
        "message": "Have fun",
        "send_on": "",
        "template_suffix": "mountains",
        **overrides,
    }


def cart_lines(client) -> list[dict]:
    return list((client.session.get(cart.GIFT_LINES_KEY) or {}).values())


def test_buy_page_and_adding_a_card_to_the_cart(client):
    page = client.get("/gift-cards/")
    assert page.status_code == 200
    html = page.content.decode()
    for label in (
        "$15.00",
        "$25.00",
        "$50.00",
        "$100.00",
        "Other amount",
        "Recipient&#x27;s email",
        "Around the globe",
        "Beach sunset",
        "Mountain trail",
        "City lights",
    ):
        assert label in html
    response = client.post("/cart/gift-card/", buy_form())
    assert response.status_code == 302 and response["Location"] == "/cart/"
    assert cart_lines(client) == [
        {
            "amount_cents": 2500,
            "recipient_name": "Ann",
            "recipient_email": "ann@example.com",
            "message": "Have fun",
            "send_on": None,
            "template_suffix": "mountains",
            "currency": "USD",  # the amount is in the currency it was chosen in
        }
    ]
    cart_page = client.get("/cart/").content.decode()
    assert "Gift card for Ann" in cart_page and "Pay $25.00 securely" in cart_page
    assert "A gift card can't be paid for with another gift card." in cart_page
    client.post("/cart/gift-card/", buy_form(amount="custom", custom_amount="42.00"))
    assert [line["amount_cents"] for line in cart_lines(client)] == [2500, 4200]


@pytest.mark.parametrize(
    "form, field, message",
    [
        (
            {"amount": "custom", "custom_amount": "5.00"},
            "custom_amount",
            "Choose an amount from $10.00 to $500.00.",
        ),
        (
            {"amount": "custom", "custom_amount": "1000"},
            "custom_amount",
            "Choose an amount from $10.00 to $500.00.",
        ),
        (
            {"amount": "custom", "custom_amount": "42.50"},
            "custom_amount",
            "Choose an amount in steps of $1.00.",
        ),
        (
            {"amount": "custom", "custom_amount": "42.555"},
            "custom_amount",
            "Ensure that there are no more than 2",
        ),
        (
            {"amount": "custom", "custom_amount": ""},
            "custom_amount",
            "Enter the amount you&#x27;d like to give.",
        ),
        ({"amount": "1234"}, "amount", "Select a valid choice."),
        ({"recipient_email": "not-an-email"}, "recipient_email", "Enter a valid email address."),
        ({"send_on": "2001-01-01"}, "send_on", "Choose a send date from today to a year from now."),
    ],
)
def test_bad_purchase_input_is_refused_with_a_clear_message(client, form, field, message):
    response = client.post("/cart/gift-card/", buy_form(**form))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert 'aria-invalid="true"' in response.content.decode()
    assert cart_lines(client) == []


def test_applying_codes_in_the_cart(client, package, no_queue):
    client.post("/cart/add/", {"package": package.package_id})
    small, small_code = new_card(100)
    big, big_code = new_card(100000)
    client.post("/cart/gift-code/", {"code": small_code.lower()})
    client.post("/cart/gift-code/", {"code": big_code.replace("-", " ")})
    page = client.get("/cart/").content.decode()
    assert f"•••• {small.last_characters}" in page and f"•••• {big.last_characters}" in page
    assert "Place order: paid by gift card" in page
    client.post("/cart/gift-code/", {"code": big_code})  # twice: refused, once applied
    assert cart.applied_gift_cards(client.session) == [small.pk, big.pk]
    client.post("/cart/gift-code/", {"action": "remove", "card": str(big.pk)})
    assert cart.applied_gift_cards(client.session) == [small.pk]
    page = client.get("/cart/").content.decode()
    assert f"Pay ${(package.retail_cents - 100) / 100:.2f} securely" in page
    assert balanced(small) == 100 and balanced(big) == 100000  # nothing is taken before the order


def test_every_unusable_code_gets_the_same_message_and_changes_nothing(client, package):
    client.post("/cart/add/", {"package": package.package_id}, follow=True)
    expired, expired_code = new_card(1000)
    GiftCard.objects.filter(pk=expired.pk).update(expires_on=timezone.localdate() - dt.timedelta(days=1))
    disabled, disabled_code = new_card(1000)
    services.disable(disabled.pk, actor="t")
    revoked, revoked_code = new_card(1000)
    services.revoke(revoked.pk, actor="t")
    for code in (
        expired_code,
        disabled_code,
        revoked_code,
        "ABCD",
        "2345-6789-ABCD-EFGH-JKLM",
        "' OR 1=1 --",
    ):
        response = client.post("/cart/gift-code/", {"code": code}, follow=True)
        assert [str(m) for m in response.context["messages"]] == [REFUSED]
    assert cart.applied_gift_cards(client.session) == []
    assert [balanced(c) for c in (expired, disabled, revoked)] == [1000, 1000, 0]


def test_balance_check(client):
    _card, code = new_card(4200)
    response = client.post("/gift-cards/balance/", {"code": code})
    assert response.status_code == 200 and "$42.00" in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    response = client.post("/gift-cards/balance/", {"code": "nope"})
    assert response.status_code == 400 and REFUSED.replace("'", "&#x27;") in response.content.decode()


def test_guessing_past_the_limit_is_refused_with_the_same_message(client, settings):
    settings.GIFTCARD_GUESS_LIMIT = 5
    _card, code = new_card(4200)
    for i in range(5):
        response = client.post("/gift-cards/balance/", {"code": f"2345-6789-ABCD-EFGH-JKM{i + 2}"})
        assert response.status_code == 400
    # Now even the right code is refused, with the very same words.
    response = client.post("/gift-cards/balance/", {"code": code})
    assert response.status_code == 400 and REFUSED.replace("'", "&#x27;") in response.content.decode()
    assert "$42.00" not in response.content.decode()
    response = client.post("/cart/gift-code/", {"code": code}, follow=True)
    assert [str(m) for m in response.context["messages"]] == [REFUSED]
    # Another address is not blocked by this one's guesses.
    assert client.post("/gift-cards/balance/", {"code": code}, REMOTE_ADDR="10.9.9.9").status_code == 200


def test_an_ipv6_visitor_is_limited_across_its_slash_64(client, settings):
    settings.GIFTCARD_GUESS_LIMIT = 3
    _card, code = new_card(4200)

    def check(code: str, address: str) -> int:
        return client.post("/gift-cards/balance/", {"code": code}, REMOTE_ADDR=address).status_code

    for i in range(3):
        check("nope", f"2001:db8:7:7::{i + 1}")
    assert check(code, "2001:db8:7:7::99") == 400  # the same /64: the same visitor
    assert check(code, "2001:db8:7:8::1") == 200


def test_the_limit_follows_an_account_across_addresses(client, settings):
    settings.GIFTCARD_GUESS_LIMIT = 3
    user = get_user_model().objects.create_user("g", "g@example.com", "pw-g-12345")
    client.force_login(user)
    _card, code = new_card(4200)
    for i in range(3):
        client.post("/gift-cards/balance/", {"code": "nope"}, REMOTE_ADDR=f"10.0.0.{i}")
    assert client.post("/gift-cards/balance/", {"code": code}, REMOTE_ADDR="10.0.0.99").status_code == 400


def test_the_buyers_cards_and_nobody_elses(client):
    buyer = get_user_model().objects.create_user("b", "b@example.com", "pw-b-12345")
    other = get_user_model().objects.create_user("o", "o@example.com", "pw-o-12345")
    mine, _ = services.issue(
        2500,
        actor="t",
        customer=buyer,
        recipient_name="Ann",
        recipient_email="a@example.com",
        send_on=timezone.localdate() + dt.timedelta(days=3),
    )
    theirs, _ = services.issue(2500, actor="t", customer=other, recipient_email="z@example.com")
    assert client.get("/account/gift-cards/").status_code == 302  # sign in first
    client.force_login(buyer)
    page = client.get("/account/gift-cards/").content.decode()
    assert (
        "$25.00 for Ann" in page and "Will be sent to a@example.com" in page and "z@example.com" not in page
    )
    assert client.get(f"/account/gift-cards/{theirs.pk}/revoke/").status_code == 404
    assert client.post(f"/account/gift-cards/{theirs.pk}/revoke/", {"action": "send"}).status_code == 404
    assert client.get(f"/account/gift-cards/{mine.pk}/revoke/").status_code == 200
    assert client.get("/account/gift-cards/999999/revoke/").status_code == 404
