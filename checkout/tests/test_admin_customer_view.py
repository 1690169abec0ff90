"""The customer's page in admin, complete: gift cards bought (a guest's too) and spent, and refunds,
all in money; the gift card's page names the guest who bought it; a staff refund names the staff
member on the card's ledger and the order's timeline says "$4.01". PostgreSQL, the Roamify sandbox."""

from __future__ import annotations

from dataclasses import dataclass
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.services import attach_guest_purchases
from catalog.models import Package
from checkout import cart, services
from checkout.models import Customer, Order
from checkout.services import staff
from checkout.tests.helpers import force_paid
from core.money import format_money
from giftcards import services as giftcards
from giftcards.models import GiftCard, Kind
from payments.models import Payment

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres")]

GUEST = "sam.guest@example.com"
CARD_CENTS = 5000
REFUND_CENTS = 401


@dataclass
class GuestStory:
    """A guest bought a card, spent it on an eSIM, and staff refunded $4.01 of that order."""

    customer: Customer
    bought: Order
    card: GiftCard
    spent: Order
    staff_user: object


def guest_story(package: Package) -> GuestStory:
    with mock.patch("core.queue.send"):  # tasks run by hand here: no worker in these tests
        line = cart.GiftLine("k", CARD_CENTS, "Sam", GUEST, "For the trip", None, "globe")
        bought = services.place_order(cart.PricedCart([], [], [line]), GUEST)  # a guest: no account
        force_paid(bought)
        assert services.fulfil_order(bought.pk).completed
        card = GiftCard.objects.get(order_line__order=bought)
        assert card.customer is None  # bought as a guest
        giftcards.deliver(card.pk)  # the code is made and emailed: the card can pay
        spent = services.place_order(
            cart.PricedCart([cart.CartLine(package, 1)], []), GUEST, gift_cards=[card.pk]
        )
        assert services.start_payment(spent) is None  # the card pays it all
        users = get_user_model().objects
        boss = users.filter(username="boss@example.com").first() or users.create_superuser(
            "boss@example.com", "boss@example.com", "pw"
        )
        staff.refund(spent.pk, REFUND_CENTS, actor=boss, reason="One day unused", notify=False)
    card.refresh_from_db()
    return GuestStory(Customer.objects.get(email=GUEST), bought, card, spent, boss)


def test_customer_page_shows_a_guests_card_bought_spent_and_refunded(roamify, package, staff_client):
    story = guest_story(package)
    url = reverse("admin:checkout_customer_change", args=[story.customer.pk])
    page = staff_client.get(url).content.decode()
    paid = format_money(package.retail_cents)

    bought = page.split("Gift cards bought")[1].split("Gift cards spent")[0]
    assert f"…{story.card.last_characters}" in bought and story.bought.number in bought
    assert "$50.00" in bought  # its value
    assert format_money(CARD_CENTS - package.retail_cents + REFUND_CENTS) in bought  # its balance now

    spent = page.split("Gift cards spent")[1].split("<h3>Refunds")[0]
    assert f"…{story.card.last_characters}" in spent and story.spent.number in spent
    assert paid in spent and "$4.01" in spent  # paid by the card, and what went back on it

    refunds = page.split("<h3>Refunds")[1]
    assert story.spent.number in refunds and "$4.01" in refunds
    assert "One day unused" in refunds and "boss@example.com" in refunds and "Gift card" in refunds
    # Total spent counts money paid once: the card's price, not the card spent again on the eSIM.
    assert format_money(CARD_CENTS) in page.split("Total spent")[1][:300]


def test_a_card_bought_as_a_guest_shows_its_customer_and_follows_their_account(
    roamify, package, staff_client
):
    story = guest_story(package)
    card_page = staff_client.get(reverse("admin:giftcards_giftcard_change", args=[story.card.pk]))
    html = card_page.content.decode()
    customer_link = reverse("admin:checkout_customer_changelist") + f"?email={GUEST.replace('@', '%40')}"
    assert f'<a href="{customer_link}">{GUEST}</a> (guest)' in html
    listing = staff_client.get(reverse("admin:giftcards_giftcard_changelist")).content.decode()
    assert GUEST in listing
    # The link finds the one customer.
    found = staff_client.get(customer_link).content.decode()
    assert reverse("admin:checkout_customer_change", args=[story.customer.pk]) in found

    # Once the guest verifies an account with that email, the card is theirs, as their orders are.
    user = get_user_model().objects.create_user("sam", GUEST, "pw-sam-123")
    assert attach_guest_purchases(user, GUEST) == (2, 0, 1)
    story.card.refresh_from_db()
    assert story.card.customer == user
    html = staff_client.get(reverse("admin:giftcards_giftcard_change", args=[story.card.pk])).content.decode()
    assert f'<a href="{customer_link}">{GUEST}</a>' in html and "(guest)" not in html


def test_ledger_and_timeline_show_money_and_the_staff_member(roamify, package, staff_client):
    story = guest_story(package)
    refund = story.card.transactions.get(kind=Kind.REFUND)
    assert refund.actor == "boss@example.com"  # not "system": the staff member who refunded
    assert refund.amount_cents == REFUND_CENTS

    html = staff_client.get(reverse("admin:giftcards_giftcard_change", args=[story.card.pk])).content.decode()
    ledger = html.split("Ledger")[1]
    for money in ("$50.00", f"-{format_money(package.retail_cents)}", "$4.01"):
        assert money in ledger, money
    for cents in (str(CARD_CENTS), str(-package.retail_cents), f">{REFUND_CENTS}<"):
        assert cents not in ledger, cents
    assert "boss@example.com" in ledger and story.spent.number in ledger

    event = story.spent.events.get(kind="refund")
    assert event.message.startswith("Refunded $4.01 on the giftcard payment")
    assert event.actor == "boss@example.com"
    requested = story.spent.events.get(kind="refund_requested")
    assert requested.message == "Refund of $4.01 requested ($4.01 of goodwill): One day unused"
    placed = story.spent.events.get(kind="placed")
    assert placed.message == f"Order placed by {GUEST} for {format_money(package.retail_cents)}"
    order_page = staff_client.get(reverse("admin:checkout_order_change", args=[story.spent.pk]))
    assert "Refunded $4.01 on the giftcard payment" in order_page.content.decode()
    assert "minor units" not in order_page.content.decode()
    payment = story.spent.payments.get()
    assert str(payment) == f"giftcard {format_money(package.retail_cents)} (partially_refunded)"
    assert payment.status == Payment.Status.PARTIALLY_REFUNDED


def test_the_customer_page_costs_the_same_queries_with_more_cards(roamify, package, staff_client):
    story = guest_story(package)
    url = reverse("admin:checkout_customer_change", args=[story.customer.pk])
    staff_client.get(url)  # warm: the session, the content types

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert staff_client.get(url).status_code == 200
        return len(ctx)

    first = queries()
    with mock.patch("core.queue.send"):
        giftcards.issue(1000, actor="test")  # not theirs: not counted, not shown
        line = cart.GiftLine("k2", 2500, "Ann", "ann@example.com", "", None, "city")
        more = services.place_order(cart.PricedCart([], [], [line]), GUEST)
        force_paid(more)
        assert services.fulfil_order(more.pk).completed
    assert queries() == first == 11  # pinned: the panels are one query each, whatever their length
