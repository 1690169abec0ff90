"""Saved cards and the one-tap top-up, against the Stripe and Roamify sandboxes (PostgreSQL).

A card is saved by paying through Stripe Checkout as the customer's Stripe Customer (created once);
a top-up is then bought with it off session: paid (and fulfilled exactly once, as after the
webhook), declined (nothing charged, the order cancelled), needing 3D Secure (Stripe Checkout for
the same order), or refused before any charge when it does not fit the eSIM. The same key twice
charges once.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from checkout import cart, services
from checkout.models import Customer, LineKind, Order, OrderStatus
from checkout.services.one_tap import buy_topup_with_saved_card
from core.roamify_client import roamify_client
from esims.models import Esim
from payments import cards
from payments.models import Payment, SavedCard
from payments.providers.stripe_api import gateway

from .conftest import make_package
from .helpers import saved_card

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres", "clear_cache")]

VISA = "4242424242424242"
DECLINES = "4000000000000341"  # attaches, then every charge is declined
ALWAYS_3DS = "4000002760003184"  # the bank asks on every payment, off session too


@pytest.fixture
def mine(roamify, stripe):
    """Alice's eSIM, bought upstream through the shop, and a top-up upstream accepts for it."""
    from accounts.tests.conftest import bought_esim, make_customer

    alice = make_customer("alice@example.com")
    _, esim = bought_esim(make_package(), alice)
    offered = [p.package_id for p in roamify_client().topup_packages(esim.iccid)]
    topup = make_package(package_id=next(i for i in offered if i != esim.package_id_upstream))
    return alice, esim, topup


def intents_for(order: Order) -> list:
    found = gateway().client.v1.payment_intents.list(params={"limit": 100}).data
    return [i for i in found if i.metadata and i.metadata.to_dict().get("order_number") == order.number]


def buy(alice, esim, topup, card, key: str = "k1"):
    return buy_topup_with_saved_card(
        customer=alice, esim=esim, package=topup, card=card, idempotency_key=key, source="test"
    )


def test_saving_a_card_at_checkout_creates_one_stripe_customer_and_one_card(mine, stripe):
    alice, esim, _ = mine
    plan = esim.order_lines.get().package
    for _ in (1, 2):  # two purchases, each saving the card: one Stripe Customer, reused
        priced = cart.PricedCart([cart.CartLine(plan, 1)], [])
        order = services.place_order(priced, alice.email, alice)
        url = services.start_payment(order, save_card=True)
        session = url.rsplit("/", 1)[1]
        assert stripe.control.pay(session, email=alice.email)["outcome"] == "paid"
        services.confirm_return(order, session)  # the return page's look-up (the webhook's twin)
        payment = order.payments.get(provider="stripe")
        assert payment.status == Payment.Status.CAPTURED
        first = cards.remember_card(payment.pk)
        assert cards.remember_card(payment.pk) == first  # the webhook's copy of the task: no second row
        assert (first.last4, first.brand, first.exp_month, first.exp_year, first.user) == (
            "4242",
            "visa",
            12,
            2034,
            alice,
        )
    customer = Customer.objects.get(email=alice.email)
    assert customer.stripe_customer_id.startswith("cus_")
    assert {c.provider_customer for c in SavedCard.objects.all()} == {customer.stripe_customer_id}
    assert SavedCard.objects.filter(user=alice).count() == 2  # one PaymentMethod per payment


def test_a_guest_checkout_saves_no_card(roamify, stripe):
    priced = cart.PricedCart([cart.CartLine(make_package(), 1)], [])
    order = services.place_order(priced, "guest@example.com")
    session = services.start_payment(order, save_card=True).rsplit("/", 1)[1]
    stripe.control.pay(session, email="guest@example.com")
    services.confirm_return(order, session)
    assert cards.remember_card(order.payments.get().pk) is None
    assert not Customer.objects.exclude(stripe_customer_id="").exists()


def test_one_tap_pays_and_fulfils_once(mine, roamify):
    alice, esim, topup = mine
    card = saved_card(alice, VISA)
    result = buy(alice, esim, topup, card)
    assert result.status == "paid", result.message
    order = result.order
    line = order.lines.get()
    assert line.kind == LineKind.TOPUP and line.esim == esim and line.unit_price_cents == topup.retail_cents
    assert order.status == OrderStatus.PAID and order.paid_at is not None
    payment = order.payments.get()
    assert payment.status == Payment.Status.CAPTURED and payment.capture_reference.startswith("pi_")
    assert [i.status for i in intents_for(order)] == ["succeeded"]
    assert services.fulfil_order(order.pk).completed
    services.fulfil_order(order.pk)  # a second run of the task delivers nothing more
    assert [o["kind"] for o in roamify.control.ledger()] == ["instant", "topup"]


def test_the_same_key_twice_charges_once(mine):
    alice, esim, topup = mine
    card = saved_card(alice, VISA)
    first, again = buy(alice, esim, topup, card, "same"), buy(alice, esim, topup, card, "same")
    assert (first.status, again.status) == ("paid", "paid")
    assert again.order == first.order
    assert Order.objects.filter(lines__esim=esim, lines__kind=LineKind.TOPUP).count() == 1
    assert len(intents_for(first.order)) == 1
    other = buy(alice, esim, topup, card, "another tap")
    assert other.order != first.order and other.status == "paid"


def test_a_declined_card_charges_nothing_and_cancels_the_order(mine):
    alice, esim, topup = mine
    result = buy(alice, esim, topup, saved_card(alice, DECLINES))
    assert result.status == "declined"
    assert result.message == "Your card was declined. Nothing was charged. Please use another card."
    assert result.order.status == OrderStatus.CANCELLED
    assert not result.order.payments.captured().exists()
    assert [i.status for i in intents_for(result.order)] == ["requires_payment_method"]
    again = buy(alice, esim, topup, saved_card(alice, DECLINES), "k1")  # the same key: the same answer
    assert (again.status, again.order) == ("declined", result.order)


def test_a_card_that_needs_3d_secure_falls_back_to_checkout_for_the_same_order(mine, stripe):
    alice, esim, topup = mine
    result = buy(alice, esim, topup, saved_card(alice, ALWAYS_3DS))
    assert result.status == "needs_authentication"
    assert result.redirect_url.startswith(stripe.base_url + "/pay/cs_")
    order = result.order
    assert order.status == OrderStatus.PENDING_PAYMENT
    assert not order.payments.captured().exists()
    # The customer confirms with the bank on Stripe's page: the same order is paid.
    session = result.redirect_url.rsplit("/", 1)[1]
    paid = stripe.control.pay(session, ALWAYS_3DS, email=alice.email, three_d_secure="complete")
    assert paid["outcome"] == "paid"
    services.confirm_return(order, session)
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert order.payments.captured().count() == 1


@pytest.mark.parametrize("why", ["expired", "refunded", "not a top-up of it"])
def test_a_topup_that_does_not_fit_is_refused_and_nothing_is_charged(mine, why):
    alice, esim, topup = mine
    card = saved_card(alice, VISA)
    if why == "expired":
        Esim.objects.filter(pk=esim.pk).update(expires_at=timezone.now() - dt.timedelta(days=1))
    elif why == "refunded":
        Esim.objects.filter(pk=esim.pk).update(refund_state="refunded")
    else:
        topup = make_package("FR")  # an eSIM plan of elsewhere, not one upstream takes as a top-up
    esim.refresh_from_db()
    result = buy(alice, esim, topup, card)
    assert result.status == "refused" and result.order is None
    assert "Nothing was charged" in result.message or "doesn't fit" in result.message
    assert not Order.objects.filter(lines__kind=LineKind.TOPUP).exists()


def test_another_customers_card_is_refused(mine):
    from accounts.tests.conftest import make_customer

    alice, esim, topup = mine
    bob = make_customer("bob@example.com")
    result = buy(alice, esim, topup, saved_card(bob, VISA))
    assert result.status == "refused" and result.order is None


# --- Stripe's answer lost (a 500, a timeout): the charge is confirmed with the same key -----------


@pytest.fixture
def queued(monkeypatch):
    """The tasks queued (name, args, countdown), not run: the tests run the service themselves."""
    sent: list[tuple] = []

    def send(name, *args, countdown=None):
        sent.append((name, args, countdown))

    monkeypatch.setattr("core.queue.send", send)
    monkeypatch.setattr("checkout.services.reconciliation.send", send)
    return sent


def confirming(queued) -> list[int]:
    return [args[0] for name, args, _ in queued if name == "checkout.confirm_off_session_charge"]


@pytest.mark.parametrize("fault", ["after", "before"])
def test_a_charge_whose_answer_was_lost_is_confirmed_with_the_same_key(mine, stripe, roamify, queued, fault):
    alice, esim, topup = mine
    card = saved_card(alice, VISA)
    stripe.control.fault("/v1/payment_intents", fault)  # "after": charged, but the shop hears a 500
    result = buy(alice, esim, topup, card)
    assert result.status == "pending"
    assert result.message.startswith("We're confirming the payment with your bank.")
    order = result.order
    assert order.status == OrderStatus.PENDING_PAYMENT  # not cancelled: it may have been paid
    payment = order.payments.get()
    assert payment.status == Payment.Status.CREATED and not payment.external_reference
    assert len(intents_for(order)) == (1 if fault == "after" else 0)
    assert [(n, c) for n, _, c in queued] == [("checkout.confirm_off_session_charge", 30)]
    assert buy(alice, esim, topup, card).status == "pending"  # a replay of the tap says the same, at once
    assert services.one_tap.confirm_charge(confirming(queued)[0]) == "paid"
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert [i.status for i in intents_for(order)] == ["succeeded"]  # one charge, either way
    assert services.fulfil_order(order.pk).completed
    assert services.one_tap.confirm_charge(payment.pk) == "done"  # a second task: nothing more
    services.fulfil_order(order.pk)
    assert [o["kind"] for o in roamify.control.ledger()] == ["instant", "topup"]
    assert len(intents_for(order)) == 1


def test_a_lost_answer_of_a_declined_card_closes_the_order_as_the_first_would_have(mine, stripe, queued):
    alice, esim, topup = mine
    stripe.control.fault("/v1/payment_intents", "after")
    result = buy(alice, esim, topup, saved_card(alice, DECLINES))
    assert result.status == "pending"
    assert services.one_tap.confirm_charge(confirming(queued)[0]) == "declined"
    order = Order.objects.get(pk=result.order.pk)
    assert order.status == OrderStatus.CANCELLED
    assert not order.payments.captured().exists()
    assert [i.status for i in intents_for(order)] == ["requires_payment_method"]


def test_stripe_still_unreachable_keeps_asking_then_hands_it_to_staff(mine, stripe, queued):
    alice, esim, topup = mine
    stripe.control.fault("/v1/payment_intents", "before", times=2)
    result = buy(alice, esim, topup, saved_card(alice, VISA))
    payment = result.order.payments.get()
    assert services.one_tap.confirm_charge(payment.pk) == "unknown"
    Payment.objects.filter(pk=payment.pk).update(created_at=timezone.now() - dt.timedelta(hours=24))
    assert services.one_tap.confirm_charge(payment.pk) == "expired"  # never sent again past the key's life
    order = Order.objects.get(pk=result.order.pk)
    assert order.status == OrderStatus.REQUIRES_ACTION
    assert intents_for(order) == []


def test_the_reconciler_confirms_a_charge_whose_task_was_lost(mine, stripe, queued):
    alice, esim, topup = mine
    stripe.control.fault("/v1/payment_intents", "after")
    result = buy(alice, esim, topup, saved_card(alice, VISA))
    payment = result.order.payments.get()
    queued.clear()  # the task is lost
    assert services.reconcile_orders()["off_session_confirming"] == 0  # too recent: its task may be on it
    long_ago = timezone.now() - dt.timedelta(minutes=10)
    Payment.objects.filter(pk=payment.pk).update(created_at=long_ago, updated_at=long_ago)
    assert services.reconcile_orders()["off_session_confirming"] == 1
    assert confirming(queued) == [payment.pk]
    assert services.one_tap.confirm_charge(payment.pk) == "paid"
    assert Order.objects.get(pk=result.order.pk).is_paid
    assert len(intents_for(result.order)) == 1
