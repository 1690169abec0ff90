"""Orders paid by several payments, through their own providers: the Stripe sandbox for the
card part, the test providers (one captures at once, one holds like a gift card) for the rest."""

from __future__ import annotations

import pytest

from checkout import cart, services
from checkout.models import Order, OrderStatus
from checkout.services.payment import payment_request
from payments import services as payments
from payments.models import Payment
from payments.providers import get_provider
from payments.providers.stripe_api import gateway

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres")]


def new_order(package, quantity: int = 2) -> Order:
    return services.place_order(cart.PricedCart([cart.CartLine(package, quantity)], []), "mixed@example.com")


def pay_part(order: Order, provider: str, cents: int) -> Payment:
    payment = payments.open_payment(order, provider, cents, order.currency)
    return payments.start(payment, payment_request(order, cents))


def pay_rest_by_card(order: Order, stripe) -> Payment:
    url = services.start_payment(order)
    card = order.payments.get(provider="stripe")
    assert url == card.redirect_url
    assert stripe.control.pay(card.external_reference)["outcome"] == "paid"
    services.confirm_return(order, card.external_reference)
    card.refresh_from_db()
    return card


def test_part_instant_part_card_then_refunded_back_through_each(stripe, package):
    order = new_order(package)
    instant = pay_part(order, "test-instant", 300)
    order.refresh_from_db()
    assert instant.status == Payment.Status.CAPTURED and order.status == OrderStatus.PENDING_PAYMENT
    assert order.events.filter(kind="payment", message__contains="left to pay").exists()
    card = pay_rest_by_card(order, stripe)
    session = gateway().retrieve_session(card.external_reference)
    assert session.amount_total == card.amount_cents == order.total_cents - 300
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID and order.events.filter(to_status="paid").count() == 1

    refunds_before = len(get_provider("test-instant").refunds)
    assert services.refund_order(order.id, actor="staff", reason="Customer asked") == order.total_cents
    order.refresh_from_db()
    card.refresh_from_db()
    instant.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED
    assert card.refunded_cents == card.amount_cents and card.status == Payment.Status.REFUNDED
    assert instant.refunded_cents == 300 and instant.status == Payment.Status.REFUNDED
    # Each through its own provider: Stripe has the card part, the instant provider its own.
    stripe_refunds = gateway().client.v1.refunds.list(params={"payment_intent": card.capture_reference})
    assert [r.amount for r in stripe_refunds.data] == [card.amount_cents]
    assert [r[1] for r in get_provider("test-instant").refunds[refunds_before:] if r[0] == instant.pk] == [
        300
    ]
    # Newest first, and the timeline shows both.
    refund_events = list(order.events.filter(kind="refund").values_list("data__payment_id", flat=True))
    assert refund_events == [card.pk, instant.pk]


def test_a_partial_refund_takes_the_newest_payment_first(stripe, package):
    order = new_order(package)
    instant = pay_part(order, "test-instant", 300)
    card = pay_rest_by_card(order, stripe)
    card_part = card.amount_cents
    services.refund_order(order.id, 100, actor="staff")
    card.refresh_from_db()
    instant.refresh_from_db()
    assert (card.refunded_cents, instant.refunded_cents) == (100, 0)
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID  # still open: most of it is kept
    services.refund_order(order.id, card_part, actor="staff")  # the rest of the card, 100 of the other
    card.refresh_from_db()
    instant.refresh_from_db()
    assert (card.refunded_cents, instant.refunded_cents) == (card_part, 100)
    with pytest.raises(services.CheckoutError, match="left to refund"):
        services.refund_order(order.id, 201, actor="staff")
    services.refund_order(order.id, actor="staff")
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED


def test_an_order_covered_by_held_payments_skips_stripe(stripe, package):
    order = new_order(package)
    hold = pay_part(order, "test-hold", order.total_cents)
    assert hold.status == Payment.Status.RESERVED
    assert services.start_payment(order) is None  # nothing left for the card
    order.refresh_from_db()
    hold.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert hold.status == Payment.Status.CAPTURED and hold.pk in get_provider("test-hold").captured
    assert not order.payments.filter(provider="stripe").exists()
    assert stripe.control.sessions() == []


def test_holds_are_released_when_the_card_session_expires(stripe, package, client):
    order = new_order(package)
    hold = pay_part(order, "test-hold", 200)
    services.start_payment(order)
    card = order.payments.get(provider="stripe")
    assert card.amount_cents == order.total_cents - 200
    gateway().expire_session(card.external_reference)
    assert payments.sync_with_provider(card, source="test") == "failed"
    order.refresh_from_db()
    hold.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert hold.status == Payment.Status.CANCELLED and hold.pk in get_provider("test-hold").released


def test_a_card_session_is_replaced_when_the_amount_left_changes(stripe, package):
    order = new_order(package)
    services.start_payment(order)
    first = order.payments.get(provider="stripe")
    pay_part(order, "test-hold", 250)
    url = services.start_payment(order)
    second = order.payments.filter(provider="stripe", status=Payment.Status.CREATED).get()
    first.refresh_from_db()
    assert url == second.redirect_url and second.amount_cents == order.total_cents - 250
    assert first.status == Payment.Status.FAILED
    assert gateway().retrieve_session(first.external_reference).status == "expired"
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_PAYMENT  # the replaced session cancels nothing
