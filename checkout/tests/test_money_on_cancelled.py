"""Money that arrives for an order already cancelled is never left unseen: the order moves to
requires_action with the reason (a timeline entry, the staff alert), the dashboard counts it, and
the reconciler finds such payments too. PostgreSQL, the Stripe sandbox, real gift cards.

Found by hand: an order paid partly by gift card and partly by card was cancelled by
`checkout.session.expired` (the gift card hold released); then `checkout.session.completed` came
and $1.99 was captured, and the order stayed cancelled with nothing to tell anyone.
"""

from __future__ import annotations

import datetime as dt
import json
from unittest import mock

import pytest
import stripe as stripe_lib
from django.urls import reverse
from django.utils import timezone

from checkout import books, cart, reports, services
from checkout.models import Order, OrderStatus
from checkout.services import staff
from giftcards.tests.conftest import balanced, new_card
from payments import services as payments
from payments.models import Payment
from payments.providers.stripe_api import gateway

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres", "clear_cache")]

GIFT_CARD_CENTS = 300


@pytest.fixture
def alerts():
    """What order_state.move queues after commit (the staff alert), recorded rather than sent."""
    with mock.patch("checkout.services.order_state.after_commit") as after_commit:
        yield after_commit


def post_event(client, stripe, kind: str, session: dict, event_id: str):
    body = json.dumps({"id": event_id, "object": "event", "type": kind, "data": {"object": session}})
    header = stripe_lib.WebhookSignature.generate_signature_header(body, stripe.webhook_secret)
    response = client.post(
        "/checkout/stripe/webhook/", body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
    )
    assert response.status_code == 200, response.content
    return response.json()["outcome"]


def session_of(payment: Payment) -> dict:
    return gateway().client.v1.checkout.sessions.retrieve(payment.external_reference).to_dict()


def cancelled_with_an_open_card_session(client, stripe, package):
    """Part gift card, part card; the expired event cancels the order and releases the hold, while
    Stripe's page can still be paid (the events came out of order)."""
    card, _ = new_card(GIFT_CARD_CENTS)
    order = services.place_order(
        cart.PricedCart([cart.CartLine(package, 1)], []), "late@example.com", gift_cards=[card.pk]
    )
    services.start_payment(order)
    by_card = order.payments.get(provider="stripe")
    assert by_card.amount_cents == order.total_cents - GIFT_CARD_CENTS
    expired = {**session_of(by_card), "status": "expired"}
    assert post_event(client, stripe, "checkout.session.expired", expired, "evt_expired") == "failed"
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert balanced(card) == GIFT_CARD_CENTS  # the hold went back on the card
    assert stripe.control.pay(by_card.external_reference)["outcome"] == "paid"
    return order, by_card, card


def assert_needs_action(order: Order, by_card: Payment, alerts) -> None:
    order.refresh_from_db()
    by_card.refresh_from_db()
    assert by_card.status == Payment.Status.CAPTURED
    assert order.status == OrderStatus.REQUIRES_ACTION
    paid = f"${by_card.amount_cents / 100:.2f}"
    assert paid in order.action_reason and "cancelled" in order.action_reason
    move = order.events.get(kind="status", to_status=OrderStatus.REQUIRES_ACTION)
    assert move.from_status == OrderStatus.CANCELLED and move.message == order.action_reason
    assert [c.args for c in alerts.call_args_list if c.args[0] == "checkout.send_staff_alert"] == [
        ("checkout.send_staff_alert", order.pk)
    ]


def assert_the_books_balance() -> None:
    """Money captured − refunded = net revenue + change in gift card liability + breakage − value
    put on cards without a payment + money held on orders never paid in full (no sale, no liability)."""
    now = timezone.now()
    whole = books.books_between(now - dt.timedelta(days=1), now + dt.timedelta(minutes=1))
    by_card = Payment.objects.captured().exclude(provider="giftcard")
    cash = sum(p.amount_cents - p.refunded_cents for p in by_card)
    assert cash == (
        whole.net_revenue_cents
        + whole.liability_change_cents
        + whole.breakage_cents
        - whole.giftcards_unpaid_cents
        + books.unpaid_held_cents()
    )


def test_money_captured_on_a_cancelled_order_needs_action(client, stripe, package, alerts, staff_client):
    order, by_card, card = cancelled_with_an_open_card_session(client, stripe, package)
    completed = session_of(by_card)
    assert post_event(client, stripe, "checkout.session.completed", completed, "evt_done") == "captured"
    assert_needs_action(order, by_card, alerts)
    assert "not paid in full" in order.action_reason  # the card paid its part; the hold is gone

    # Counted where staff look: the dashboard's orders needing action and the money they hold.
    board = reports.compute()
    assert board.needing_action_count == 1
    assert [o["number"] for o in board.needing_action] == [order.number]
    assert books.unpaid_held_cents() == by_card.amount_cents
    assert_the_books_balance()
    page = staff_client.get(reverse("admin:checkout_order_change", args=[order.pk])).content.decode()
    assert "not paid in full" in page
    index = staff_client.get(reverse("admin:index")).content.decode()
    assert 'data-figure="unpaid-held">$' in index and order.number in index

    # Staff can't deliver what was not paid for; they refund it, and the order closes.
    with pytest.raises(services.CheckoutError, match="not paid in full"):
        staff.retry(order.pk, actor="boss")
    services.refund_order(order.pk, actor="boss", reason="Paid after it was cancelled")
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED
    assert books.unpaid_held_cents() == 0
    assert_the_books_balance()
    assert balanced(card) == GIFT_CARD_CENTS  # the gift card was never spent


def test_a_whole_late_payment_needs_action_and_staff_can_deliver_it(client, stripe, package, alerts):
    """Paid in full by card after the order was cancelled: not delivered by itself (it was
    cancelled), but staff may retry it, and it is paid then."""
    order = services.place_order(cart.PricedCart([cart.CartLine(package, 1)], []), "late@example.com")
    services.start_payment(order)
    by_card = order.payments.get()
    post_event(client, stripe, "checkout.session.expired", {**session_of(by_card), "status": "expired"}, "e1")
    stripe.control.pay(by_card.external_reference)
    post_event(client, stripe, "checkout.session.completed", session_of(by_card), "e2")
    assert_needs_action(order, by_card, alerts)
    assert "paid in full" in order.action_reason and "not paid in full" not in order.action_reason
    assert order.paid_at is None
    with mock.patch("checkout.services.fulfilment.after_commit") as queued:
        services.retry_fulfilment(order.pk, actor="boss")
    order.refresh_from_db()
    assert order.status == OrderStatus.FULFILLING and order.paid_at is not None
    assert [c.args for c in queued.call_args_list] == [("checkout.fulfil_order", order.pk)]


def test_the_reconciler_flags_money_left_on_a_cancelled_order(package, alerts, settings):
    """Orders the old code left cancelled with money captured are found by the reconciler."""
    settings.RECONCILE_AFTER_SECONDS = 0
    order = services.place_order(cart.PricedCart([cart.CartLine(package, 1)], []), "old@example.com")
    by_card = payments.open_payment(order, "stripe", order.total_cents, order.currency)
    Payment.objects.filter(pk=by_card.pk).update(status=Payment.Status.CAPTURED, captured_at=timezone.now())
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.CANCELLED)
    result = services.reconcile_orders()
    assert result["money_on_cancelled"] == 1
    order.refresh_from_db()
    assert order.status == OrderStatus.REQUIRES_ACTION and "cancelled" in order.action_reason
    assert services.reconcile_orders()["money_on_cancelled"] == 0  # once


def test_the_reconciler_finds_a_paid_session_of_a_cancelled_order(client, stripe, package, alerts, settings):
    """The completed webhook never came: the reconciler asks Stripe about the closed card payments of
    cancelled orders, records the money and flags the order; a session Stripe closed is asked once."""
    settings.RECONCILE_AFTER_SECONDS = 0
    order, by_card, _ = cancelled_with_an_open_card_session(client, stripe, package)
    quiet = services.place_order(cart.PricedCart([cart.CartLine(package, 1)], []), "gone@example.com")
    services.start_payment(quiet)
    closed = quiet.payments.get()
    gateway().expire_session(closed.external_reference)
    payments.sync_with_provider(closed, source="test")  # closed at Stripe: the order is cancelled
    assert Order.objects.get(pk=quiet.pk).status == OrderStatus.CANCELLED

    result = services.reconcile_orders()
    assert result["cancelled_payments_checked"] == 2
    assert_needs_action(order, by_card, alerts)
    assert Order.objects.get(pk=quiet.pk).status == OrderStatus.CANCELLED
    assert services.reconcile_orders()["cancelled_payments_checked"] == 0  # each asked once
