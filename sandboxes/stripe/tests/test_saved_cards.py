"""Saved cards: Checkout as a Customer with setup_future_usage attaches the card; off-session
PaymentIntents then charge it as Stripe does (succeeded, card_declined, authentication_required)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
import stripe

from sandboxes.stripe.testing import StripeSandbox


def _saved_card(client: stripe.StripeClient, sb: StripeSandbox, make_session, card: str) -> tuple[str, str]:
    """A card paid with through Checkout as a new Customer, saved for off-session use."""
    customer = client.v1.customers.create(params={"email": "mika@example.com"})
    session = make_session(
        customer=customer.id,
        customer_email=None,
        payment_intent_data={"metadata": {"order_number": "ORD-1"}, "setup_future_usage": "off_session"},
    )
    assert session.customer == customer.id
    secure = "complete" if "00031" in card else None
    result = sb.control.pay(session.id, card, email="mika@example.com", three_d_secure=secure)
    assert result["outcome"] == "paid", result
    intent = client.v1.payment_intents.retrieve(result["payment_intent"])
    method = client.v1.payment_methods.retrieve(intent.payment_method)
    assert method.customer == customer.id
    assert method.card.last4 == card[-4:]
    return customer.id, method.id


def _charge(client: stripe.StripeClient, customer: str, pm: str, key: str | None = None) -> Any:
    return client.v1.payment_intents.create(
        params={
            "amount": 499,
            "currency": "usd",
            "customer": customer,
            "payment_method": pm,
            "off_session": True,
            "confirm": True,
        },
        options={"idempotency_key": key or uuid.uuid4().hex},
    )


def test_saved_4242_charges_off_session(
    client: stripe.StripeClient, sb: StripeSandbox, make_session: Callable[..., Any]
) -> None:
    customer, pm = _saved_card(client, sb, make_session, "4242424242424242")
    intent = _charge(client, customer, pm)
    assert (intent.status, intent.amount, intent.customer) == ("succeeded", 499, customer)


def test_a_replayed_key_charges_once(
    client: stripe.StripeClient, sb: StripeSandbox, make_session: Callable[..., Any]
) -> None:
    customer, pm = _saved_card(client, sb, make_session, "4242424242424242")
    first, again = _charge(client, customer, pm, "k-1"), _charge(client, customer, pm, "k-1")
    assert first.id == again.id
    assert len(client.v1.payment_intents.list(params={"limit": 100}).data) == 2  # the Checkout one + this


def test_3155_set_up_needs_no_authentication_off_session(
    client: stripe.StripeClient, sb: StripeSandbox, make_session: Callable[..., Any]
) -> None:
    customer, pm = _saved_card(client, sb, make_session, "4000002500003155")
    assert _charge(client, customer, pm).status == "succeeded"


def test_3184_always_asks_the_bank(
    client: stripe.StripeClient, sb: StripeSandbox, make_session: Callable[..., Any]
) -> None:
    customer, pm = _saved_card(client, sb, make_session, "4000002760003184")
    with pytest.raises(stripe.CardError) as caught:
        _charge(client, customer, pm)
    assert caught.value.code == "authentication_required"
    assert caught.value.error.payment_intent.status == "requires_action"


def test_0341_saves_then_declines(
    client: stripe.StripeClient, sb: StripeSandbox, make_session: Callable[..., Any]
) -> None:
    customer = client.v1.customers.create(params={"email": "mika@example.com"})
    pm = client.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": "4000000000000341", "exp_month": 12, "exp_year": 2034, "cvc": "123"},
        }
    )
    client.v1.payment_methods.attach(pm.id, params={"customer": customer.id})  # attaching works
    with pytest.raises(stripe.CardError) as caught:
        _charge(client, customer.id, pm.id)
    assert caught.value.code == "card_declined"
    assert caught.value.error.payment_intent.status == "requires_payment_method"


def test_a_card_of_another_customer_is_refused(
    client: stripe.StripeClient, sb: StripeSandbox, make_session: Callable[..., Any]
) -> None:
    _, pm = _saved_card(client, sb, make_session, "4242424242424242")
    stranger = client.v1.customers.create(params={"email": "x@example.com"})
    with pytest.raises(stripe.InvalidRequestError):
        _charge(client, stranger.id, pm)


def test_customer_and_customer_email_together_are_refused(
    client: stripe.StripeClient, make_session: Callable[..., Any]
) -> None:
    customer = client.v1.customers.create(params={"email": "mika@example.com"})
    with pytest.raises(stripe.InvalidRequestError):
        make_session(customer=customer.id, customer_email="mika@example.com")
    with pytest.raises(stripe.InvalidRequestError):
        make_session(customer="cus_nope", customer_email=None)


@pytest.mark.parametrize("mode", ["before", "after"])
def test_a_fault_answers_500_and_the_same_key_then_charges_once(
    client: stripe.StripeClient, sb: StripeSandbox, make_session: Callable[..., Any], mode: str
) -> None:
    customer, pm = _saved_card(client, sb, make_session, "4242424242424242")
    sb.control.fault("/v1/payment_intents", mode)  # type: ignore[arg-type]
    with pytest.raises(stripe.APIError) as caught:
        _charge(client, customer, pm, "k-f")
    assert caught.value.http_status == 500
    made = 2 if mode == "after" else 1  # "after": charged although the caller heard a 500
    assert len(client.v1.payment_intents.list(params={"limit": 100}).data) == made
    intent = _charge(client, customer, pm, "k-f")  # the fault was for one request only
    assert intent.status == "succeeded"
    assert (intent.last_response.headers.get("Idempotent-Replayed") == "true") == (mode == "after")
    assert len(client.v1.payment_intents.list(params={"limit": 100}).data) == 2
