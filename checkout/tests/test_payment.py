"""Payment through the Stripe sandbox (localstripe behind our Checkout front), on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from unittest import mock

import pytest
import stripe as stripe_lib
from django.db import connection
from django.utils import timezone

from checkout import cart, services
from checkout.models import Order, OrderStatus
from checkout.services.payment import payment_request
from payments import services as payments
from payments.models import Payment, StripeEvent
from payments.providers import get_provider, stripe_api
from payments.providers.stripe_api import gateway

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres")]


@pytest.fixture(autouse=True)
def _no_queue():
    """These tests look at payment state; queued tasks are checked, not run."""
    with mock.patch("checkout.services.payment.after_commit") as after_commit:
        yield after_commit


def queued(after_commit, task: str) -> list[tuple]:
    return [c.args[1:] for c in after_commit.call_args_list if c.args[0] == task]


def new_order(package, quantity=1) -> Order:
    return services.place_order(
        cart.PricedCart([cart.CartLine(package, quantity)], []), "traveller@example.com"
    )


def checkout_session(order: Order) -> str:
    url = services.start_payment(order)
    assert "/pay/" in url
    return order.payments.get().external_reference


def signed(payload: dict, secret: str) -> tuple[bytes, str]:
    body = json.dumps(payload).encode()
    header = stripe_lib.WebhookSignature.generate_signature_header(body.decode(), secret)
    return body, header


def completed_event(stripe, session_id: str, event_id: str = "evt_test_1") -> dict:
    session = gateway().client.v1.checkout.sessions.retrieve(session_id).to_dict()
    return {
        "id": event_id,
        "object": "event",
        "type": "checkout.session.completed",
        "data": {"object": session},
    }


def test_checkout_session_carries_our_prices_and_reference(stripe, package):
    order = new_order(package, 2)
    session_id = checkout_session(order)
    session = gateway().client.v1.checkout.sessions.retrieve(session_id)
    assert session.client_reference_id == order.number
    assert session.metadata["order_number"] == order.number
    assert session.amount_total == order.total_cents == package.retail_cents * 2
    assert session.customer_email == "traveller@example.com"
    # Asking again reuses the open session instead of making another.
    assert services.start_payment(order) == order.payments.get().redirect_url
    assert order.payments.count() == 1


def crash_after_stripe_made_the_session(order: Order) -> None:
    """What start_payment does up to the provider's answer, and no further (the process died)."""
    card = payments.open_payment(order, "stripe", order.total_cents, order.currency)
    get_provider("stripe").start(card, payment_request(order, order.total_cents))


@contextmanager
def clocks_ahead(seconds: int) -> Iterator[None]:
    """The clocks a payment request could read its expiry from, moved on instead of waited for.

    Stripe's expires_at is in whole seconds: the bug made it now + N minutes at each try, from
    timezone.now or (in the gateway's fallback) datetime.now, so both move."""
    later = timezone.now() + dt.timedelta(seconds=seconds)

    class Later(dt.datetime):
        @classmethod
        def now(cls, tz=None):
            return later.astimezone(tz) if tz else later.astimezone().replace(tzinfo=None)

    with (
        mock.patch("django.utils.timezone.now", return_value=later),
        mock.patch.object(stripe_api, "dt", SimpleNamespace(**{**vars(dt), "datetime": Later})),
    ):
        yield


def test_payment_page_asked_again_after_a_crash_gets_the_same_session(stripe, package):
    """Found by the soak: the web process died after Stripe made the session and before the shop
    recorded it. The customer's retry sent the same idempotency key with a later expiry, which
    Stripe refuses for good, so the order could never be paid. It must get that session back."""
    order = new_order(package)
    crash_after_stripe_made_the_session(order)
    (made,) = stripe.control.sessions()
    assert order.payments.get().external_reference == ""

    with clocks_ahead(seconds=2):  # the retry comes (at least) a second later
        url = services.start_payment(order)
    payment = order.payments.get()
    assert payment.external_reference == made["id"] and url == payment.redirect_url
    assert len(stripe.control.sessions()) == 1
    assert stripe.control.pay(made["id"])["outcome"] == "paid"
    pay_through_return(order, made["id"])
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID


def test_a_card_payment_never_opened_and_too_old_to_open_is_replaced(stripe, package, settings):
    """A page that would close sooner than Stripe allows (30 min) is not asked for: a new attempt is."""
    settings.CHECKOUT_SESSION_MINUTES = 60
    order = new_order(package)
    crash_after_stripe_made_the_session(order)
    Payment.objects.filter(order=order).update(created_at=timezone.now() - dt.timedelta(minutes=45))

    url = services.start_payment(order)
    old, new = order.payments.order_by("attempt")
    assert (old.status, new.status, new.attempt) == (Payment.Status.FAILED, Payment.Status.CREATED, 2)
    assert url == new.redirect_url and new.external_reference
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PENDING_PAYMENT
    assert stripe.control.pay(new.external_reference)["outcome"] == "paid"


def test_paid_by_card_then_marked_paid_once_by_webhook(stripe, package, client, _no_queue):
    order = new_order(package)
    session_id = checkout_session(order)
    assert stripe.control.pay(session_id)["outcome"] == "paid"
    body, header = signed(completed_event(stripe, session_id), stripe.webhook_secret)
    for _ in range(10):
        response = client.post(
            "/checkout/stripe/webhook/", body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
        )
        assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID and order.paid_at
    assert StripeEvent.objects.filter(event_id="evt_test_1").count() == 1
    assert order.events.filter(to_status="paid").count() == 1
    assert queued(_no_queue, "checkout.fulfil_order") == [(order.id,)]
    payment = order.payments.get()
    assert payment.status == Payment.Status.CAPTURED and payment.capture_reference.startswith("pi_")


def test_success_page_and_webhooks_racing_mark_paid_once(stripe, package, _no_queue):
    order = new_order(package)
    session_id = checkout_session(order)
    stripe.control.pay(session_id)
    payment = order.payments.get()
    barrier = threading.Barrier(8)

    def racer():
        barrier.wait()
        try:
            payments.sync_with_provider(payment, source="race")
        finally:
            connection.close()

    threads = [threading.Thread(target=racer) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert order.events.filter(to_status="paid").count() == 1
    assert queued(_no_queue, "checkout.fulfil_order") == [(order.id,)]


def test_forged_or_unsigned_webhooks_are_rejected_and_change_nothing(stripe, package, client):
    order = new_order(package)
    session_id = checkout_session(order)
    stripe.control.pay(session_id)
    event = completed_event(stripe, session_id)
    body, _ = signed(event, "whsec_wrong")
    _, good_header = signed(event, stripe.webhook_secret)
    for headers in (
        {"HTTP_STRIPE_SIGNATURE": signed(event, "whsec_wrong")[1]},
        {},
        {"HTTP_STRIPE_SIGNATURE": "t=1,v1=deadbeef"},
    ):
        response = client.post("/checkout/stripe/webhook/", body, content_type="application/json", **headers)
        assert response.status_code == 400
    tampered = body.replace(b'"evt_test_1"', b'"evt_test_2"')
    response = client.post(
        "/checkout/stripe/webhook/",
        tampered,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=good_header,
    )
    assert response.status_code == 400
    assert client.get("/checkout/stripe/webhook/").status_code == 405
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_PAYMENT
    assert not StripeEvent.objects.exists()


def test_unpaid_session_does_not_mark_paid(stripe, package, client):
    order = new_order(package)
    session_id = checkout_session(order)
    body, header = signed(completed_event(stripe, session_id), stripe.webhook_secret)
    response = client.post(
        "/checkout/stripe/webhook/", body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
    )
    assert response.status_code == 200 and response.json()["outcome"] == "noop"
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_PAYMENT


def test_declined_card_leaves_the_order_payable(stripe, package, client):
    order = new_order(package)
    session_id = checkout_session(order)
    result = stripe.control.pay(session_id, card="4000000000000341")
    assert result["outcome"] == "declined"
    response = client.get(order.access_url(), follow=True)
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_PAYMENT
    assert b"Pay $" in response.content
    assert stripe.control.pay(session_id)["outcome"] == "paid"
    client.get(order.access_url() + f"&session_id={session_id}", follow=True)
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID


def test_expired_session_cancels_the_order(stripe, package, client):
    order = new_order(package)
    session_id = checkout_session(order)
    gateway().expire_session(session_id)
    session = gateway().client.v1.checkout.sessions.retrieve(session_id).to_dict()
    event = {
        "id": "evt_exp",
        "object": "event",
        "type": "checkout.session.expired",
        "data": {"object": session},
    }
    body, header = signed(event, stripe.webhook_secret)
    assert (
        client.post(
            "/checkout/stripe/webhook/", body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
        ).json()["outcome"]
        == "failed"
    )
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert order.payments.get().status == Payment.Status.FAILED


def pay_through_return(order: Order, session_id: str) -> None:
    """Paid as the customer's return from Stripe records it (the webhook is not registered here)."""
    services.confirm_return(order, session_id)
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID


def test_refund_goes_back_through_stripe_once(stripe, package, _no_queue):
    order = new_order(package)
    session_id = checkout_session(order)
    stripe.control.pay(session_id)
    pay_through_return(order, session_id)
    refunded = services.refund_order(order.id, actor="staff")
    assert refunded == order.total_cents
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED
    payment = order.payments.get()
    assert payment.refunded_cents == order.total_cents and payment.status == Payment.Status.REFUNDED
    assert services.refund_order(order.id, actor="staff") == 0  # already refunded: nothing more
    # Stripe agrees: nothing left to refund.
    with pytest.raises(stripe_lib.InvalidRequestError):
        gateway().client.v1.refunds.create(params={"payment_intent": payment.capture_reference})
    # Stripe's own charge.refunded event for our refund changes nothing more.
    assert payments.record_provider_refund("stripe", payment.capture_reference, order.total_cents) == "noop"
    assert order.events.filter(kind="email_refund").count() == 0  # queued, not sent, in these tests
    assert queued(_no_queue, "checkout.send_refund_notice") == [(order.id,)]


def test_unpaid_order_cannot_be_refunded(stripe, package):
    order = new_order(package)
    with pytest.raises(services.CheckoutError):
        services.refund_order(order.id)


def test_reconciler_catches_a_missed_webhook(stripe, package, settings, _no_queue):
    settings.RECONCILE_AFTER_SECONDS = 0
    order = new_order(package)
    session_id = checkout_session(order)
    stripe.control.pay(session_id)
    result = services.reconcile_orders()
    assert result["sessions_checked"] == 1
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID


def test_automatic_refund_when_fulfilment_fails_for_good(stripe, roamify, package, settings):
    settings.AUTO_REFUND_FAILED_FULFILMENT = True
    roamify.control.set_balance(0)
    order = new_order(package)
    session_id = checkout_session(order)
    stripe.control.pay(session_id)
    pay_through_return(order, session_id)
    services.fulfil_order(order.id)
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED
    assert order.payments.get().refunded_cents == order.total_cents
    statuses = list(order.events.filter(kind="status").values_list("to_status", flat=True))
    assert statuses[-2:] == ["requires_action", "refunded"]
