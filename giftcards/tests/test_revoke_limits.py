""" "Send me a code" (a gift card revoke) sends a limited number of emails: per card, per address
they go to, and per visitor (the address core.security.client_ip gives)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core import mail

from giftcards import services

pytestmark = pytest.mark.django_db

TOO_MANY = "Too many codes were sent"


def customer(name: str):
    return get_user_model().objects.create_user(name, f"{name}@example.com", f"pw-{name}-12345")


def card_of(user):
    card, _ = services.issue(2500, actor="t", customer=user, recipient_email="ann@example.com")
    return card


def send(client, card, address: str = "203.0.113.1") -> list[str]:
    """Ask for a code from `address`; the messages the page shows."""
    response = client.post(
        f"/account/gift-cards/{card.pk}/revoke/", {"action": "send"}, REMOTE_ADDR=address, follow=True
    )
    assert response.status_code == 200
    return [str(m) for m in response.context["messages"]]


def codes_to(email: str) -> int:
    return sum(m.to == [email] for m in mail.outbox)


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.GIFTCARD_OTP_SENDS_PER_CARD = 3
    settings.GIFTCARD_OTP_SENDS_PER_EMAIL = 4
    settings.GIFTCARD_OTP_SENDS_PER_IP = 6


def test_codes_for_one_card_stop_at_the_limit(client):
    buyer = customer("b")
    card = card_of(buyer)
    client.force_login(buyer)
    assert [send(client, card) for _ in range(3)] == [[], [], []]
    assert any(TOO_MANY in m for m in send(client, card, "198.51.100.7"))  # another address too
    assert codes_to("b@example.com") == 3


def test_codes_to_one_address_stop_at_the_limit_across_cards(client):
    buyer = customer("b")
    first, second = card_of(buyer), card_of(buyer)
    client.force_login(buyer)
    for _ in range(3):
        send(client, first)
    assert send(client, second) == []
    assert any(TOO_MANY in m for m in send(client, second))
    assert codes_to("b@example.com") == 4


def test_codes_from_one_visitor_stop_at_the_limit_across_accounts(client):
    cards = []
    for name in ("b1", "b2", "b3"):
        user = customer(name)
        cards.append((user, card_of(user)))
    for user, card in cards[:2]:
        client.force_login(user)
        for _ in range(3):
            send(client, card)
    user, card = cards[2]
    client.force_login(user)
    assert any(TOO_MANY in m for m in send(client, card))
    assert codes_to("b3@example.com") == 0
    assert send(client, card, "198.51.100.7") == []  # another visitor's address is not limited
    assert codes_to("b3@example.com") == 1
