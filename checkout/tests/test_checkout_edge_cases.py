"""Checkout and order pages at their edges: odd tokens, a switched-off destination, concurrent
checkouts of one cart, polling, HEAD, and coming back from the payment page."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test import Client

from catalog.tests.factories import PackageFactory
from checkout import cart, services
from checkout.models import Order, OrderStatus
from payments.models import Payment

pytestmark = pytest.mark.django_db


@pytest.fixture
def pkg():
    return PackageFactory(retail_cents=999, wholesale_cents=500)


def placed_order(pkg) -> Order:
    return services.place_order(cart.PricedCart([cart.CartLine(pkg, 1)], []), "a@example.com")


@pytest.mark.parametrize("path", ["/orders/{n}/", "/orders/{n}/status/"])
@pytest.mark.parametrize("token", ["ünïcødé", "€", "\u200b", "x" * 5000])
def test_a_strange_token_is_a_404_like_any_wrong_token(client, pkg, path, token):
    order = placed_order(pkg)
    assert client.get(path.format(n=order.number), {"t": token}).status_code == 404
    assert client.get(path.format(n="RE-XXXX-XXXX"), {"t": token}).status_code == 404


def test_a_package_of_a_switched_off_destination_cannot_be_opened_added_or_paid(client, pkg):
    client.post("/cart/add/", {"package": pkg.package_id})
    pkg.destination.active = False
    pkg.destination.save()
    assert client.get(pkg.get_absolute_url()).status_code == 404
    response = client.post("/cart/add/", {"package": pkg.package_id}, follow=True)
    assert "not available any more" in response.content.decode()
    # What was in the cart before is dropped, and checkout places nothing.
    response = client.post("/checkout/", {"email": "a@example.com"}, follow=True)
    assert "cart is empty" in response.content.decode()
    assert not Order.objects.exists()
    with pytest.raises(services.CheckoutError, match="no longer sold"):
        placed_order(pkg)


@pytest.mark.django_db(transaction=True)
def test_five_concurrent_checkouts_of_one_cart_make_one_order_and_one_session(pkg, stripe, postgres):
    client = Client()
    client.post("/cart/add/", {"package": pkg.package_id})
    cookie = client.cookies
    barrier = threading.Barrier(5)
    answers: list[str] = []

    def submit() -> None:
        racer = Client()
        racer.cookies = cookie
        barrier.wait()
        try:
            response = racer.post("/checkout/", {"email": "a@example.com"})
            answers.append(response["Location"])
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    order = Order.objects.get()
    payment = order.payments.get()
    assert payment.provider == "stripe" and payment.external_reference.startswith("cs_")
    assert len(answers) == 5 and set(answers) <= {payment.redirect_url, order.get_absolute_url()}
    assert payment.redirect_url in answers
    # A late double submit, after the cart was emptied, goes to the same order.
    late = client.post("/checkout/", {"email": "a@example.com"})
    assert late["Location"] == order.get_absolute_url()
    assert Order.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_polling_never_asks_stripe_and_the_return_is_looked_up_once(client, pkg, stripe, settings, postgres):
    client.post("/cart/add/", {"package": pkg.package_id})
    client.post("/checkout/", {"email": "a@example.com"})
    order = Order.objects.get()
    session_id = order.payments.get().external_reference
    status_url = f"/orders/{order.number}/status/?t={order.access_token}&session_id={session_id}"
    # The customer comes back before paying (back button): looked up once, still unpaid.
    back = client.get(f"{order.access_url()}&session_id={session_id}", follow=True)
    clean = f"{order.get_absolute_url()}?session_id={session_id}"  # the token moved into the session
    assert back.status_code == 200 and back.redirect_chain == [(clean, 302)]
    assert stripe.control.pay(session_id)["outcome"] == "paid"
    # No webhook is registered: neither the poll nor another return looks Stripe up again.
    for _ in range(5):
        assert client.get(status_url).json()["status"] == OrderStatus.PENDING_PAYMENT
    client.get(f"{order.access_url()}&session_id={session_id}", follow=True)
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_PAYMENT
    # The reconciler catches it.
    settings.RECONCILE_AFTER_SECONDS = 0
    services.reconcile_orders()
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert order.payments.get().status == Payment.Status.CAPTURED


def test_order_pages_answer_head(client, pkg):
    order = placed_order(pkg)
    status_url = f"/orders/{order.number}/status/?t={order.access_token}"
    for path in ("/cart/", order.access_url(), order.get_absolute_url(), status_url):
        get, head = client.get(path), client.head(path)
        if path == order.access_url():  # the link moves its token into the session
            assert get.status_code == head.status_code == 302
            continue
        assert head.status_code == get.status_code == 200, path
        assert head.content == b""


def _to_stripe(client, pkg, quantity: int = 2) -> Order:
    client.post("/cart/add/", {"package": pkg.package_id, "quantity": str(quantity)})
    to_stripe = client.post("/checkout/", {"email": "a@example.com"})
    order = Order.objects.get(status=OrderStatus.PENDING_PAYMENT)
    assert to_stripe["Location"] == order.payments.get().redirect_url
    return order


def _cart_lines(html: str) -> str:
    return html.split('aria-label="Cart items"')[1].split("</ul>")[0]


def test_back_from_the_payment_page_is_the_cart_again(client, pkg, stripe):
    # Found on a phone: "← Back" on Stripe's page led to "Payment not completed", and the cart link
    # back to that page, with no way to change the cart. Now the cart is the cart again.
    order = _to_stripe(client, pkg)
    back = client.get(order.access_url() + "&cancelled=1", follow=True)
    assert back.redirect_chain[-1][0] == "/cart/"
    html = back.content.decode()
    assert "Payment not completed: your card was not charged. Your cart is as you left it." in html
    assert pkg.destination.name in _cart_lines(html) and 'value="2"' in _cart_lines(html)
    assert 'value="a@example.com"' in html  # the email typed before
    order.refresh_from_db()
    card = order.payments.get()
    assert order.status == OrderStatus.CANCELLED  # nothing can be paid on it any more
    assert card.status == Payment.Status.FAILED and "back to the cart" in card.data["closed_reason"]
    # It can be changed and paid: one plan, a new order, a new payment page.
    client.post("/cart/", {"package": pkg.package_id, "quantity": "1"})
    again = client.post("/checkout/", {"email": "a@example.com"})
    new = Order.objects.exclude(pk=order.pk).get()
    assert again["Location"] == new.payments.get().redirect_url != card.redirect_url
    assert new.status == OrderStatus.PENDING_PAYMENT and new.total_cents == 999


def test_the_browsers_back_or_the_cart_link_finds_the_cart_too(client, pkg, stripe):
    order = _to_stripe(client, pkg, quantity=1)
    html = client.get("/cart/").content.decode()  # the page before Stripe's
    assert pkg.destination.name in _cart_lines(html)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CANCELLED
    assert client.head("/cart/").status_code == 200  # a HEAD changes nothing (and nothing is left)


def test_back_from_the_payment_page_of_a_paid_order_shows_the_order(client, pkg, stripe):
    from checkout.tests.helpers import force_paid

    order = _to_stripe(client, pkg, quantity=1)
    force_paid(order)
    back = client.get(order.get_absolute_url() + "?cancelled=1")
    assert back.status_code == 200 and "Your cart is as you left it" not in back.content.decode()
    assert not cart.priced(client.session)  # nothing bought twice
    # Once it is paid, the cart is just an empty cart again.
    assert client.get("/cart/").status_code == 200 and not cart.priced(client.session)


def test_back_from_the_payment_page_gives_back_the_gift_card_hold_and_keeps_it_applied(client, pkg, stripe):
    from giftcards.models import GiftCard
    from giftcards.tests.conftest import new_card

    card, code = new_card(500)
    client.post("/cart/add/", {"package": pkg.package_id})
    client.post("/cart/gift-code/", {"code": code})
    client.post("/checkout/", {"email": "a@example.com"})
    order = Order.objects.get()
    assert GiftCard.objects.get(pk=card.pk).balance_cents == 0  # $5 held, $4.99 left for the card page
    html = client.get(order.access_url() + "&cancelled=1", follow=True).content.decode()
    assert GiftCard.objects.get(pk=card.pk).balance_cents == 500  # the hold released
    assert cart.applied_gift_cards(client.session) == [card.pk]
    assert f"•••• {card.last_characters}" in html and "Pay $4.99 securely" in html
