"""Refund limits, charge.refunded, and PaymentIntent params localstripe rejects."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import stripe

from sandboxes.stripe.testing import StripeSandbox

from .conftest import WebhookReceiver, about


@pytest.fixture
def paid_pi(sb: StripeSandbox, make_session: Callable[..., Any]) -> str:
    result = sb.control.pay(make_session().id)
    assert result["outcome"] == "paid"
    return str(result["payment_intent"])


def test_partial_then_full_then_too_much(
    client: stripe.StripeClient, paid_pi: str, receiver: WebhookReceiver
) -> None:
    first = client.v1.refunds.create(
        params={"payment_intent": paid_pi, "amount": 1000, "reason": "requested_by_customer"}
    )
    assert (first.amount, first.status, first.payment_intent) == (1000, "succeeded", paid_pi)
    assert first.reason == "requested_by_customer"  # localstripe drops it; the front keeps it

    with pytest.raises(stripe.InvalidRequestError) as too_large:
        client.v1.refunds.create(params={"payment_intent": paid_pi, "amount": 1599})
    assert too_large.value.code == "amount_too_large"
    assert too_large.value.param == "amount"

    rest = client.v1.refunds.create(params={"payment_intent": paid_pi})
    assert rest.amount == 1598  # the remaining amount, not the whole charge

    with pytest.raises(stripe.InvalidRequestError) as already:
        client.v1.refunds.create(params={"payment_intent": paid_pi, "amount": 1})
    assert already.value.code == "charge_already_refunded"

    events = receiver.wait_for("charge.refunded", about(paid_pi), count=2)
    charges = sorted((e.data.object for e in events), key=lambda c: c.amount_refunded)
    assert [c.amount_refunded for c in charges] == [1000, 2598]
    assert [c.refunded for c in charges] == [False, True]
    assert all(c.payment_intent == paid_pi and c.object == "charge" for c in charges)
    assert len(charges[1].refunds.data) == 2
    assert {e.data.previous_attributes.amount_refunded for e in events} == {0, 1000}


def test_refund_by_charge_id(client: stripe.StripeClient, paid_pi: str) -> None:
    pi = client.v1.payment_intents.retrieve(paid_pi)
    charge_id = pi.latest_charge  # an id, as on Stripe
    assert isinstance(charge_id, str) and charge_id.startswith("ch_")
    refund = client.v1.refunds.create(params={"charge": charge_id, "amount": 98})
    assert (refund.charge, refund.payment_intent) == (charge_id, paid_pi)
    charge = client.v1.charges.retrieve(charge_id)
    assert (charge.amount_refunded, charge.refunded) == (98, False)
    listed = client.v1.refunds.list(params={"payment_intent": paid_pi})
    assert [r.id for r in listed.data] == [refund.id]


def test_refund_errors(client: stripe.StripeClient, sb: StripeSandbox) -> None:
    with pytest.raises(stripe.InvalidRequestError, match="payment_intent or charge"):
        client.v1.refunds.create(params={})
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.refunds.create(params={"payment_intent": "pi_missing"})
    assert missing.value.http_status == 404
    unpaid = client.v1.payment_intents.create(params={"amount": 500, "currency": "usd"})
    with pytest.raises(stripe.InvalidRequestError, match="does not have a successful charge"):
        client.v1.refunds.create(params={"payment_intent": unpaid.id})


def test_payment_intent_params_localstripe_rejects(client: stripe.StripeClient) -> None:
    pi = client.v1.payment_intents.create(
        params={
            "amount": 1500,
            "currency": "eur",
            "description": "Top-up",
            "receipt_email": "a@example.com",
            "automatic_payment_methods": {"enabled": True},
            "statement_descriptor": "ESIM SHOP",
            "metadata": {"order": "ORD-5"},
        }
    )
    assert (pi.description, pi.receipt_email) == ("Top-up", "a@example.com")
    assert pi.automatic_payment_methods.enabled is True
    confirmed = client.v1.payment_intents.confirm(
        pi.id, params={"payment_method": "pm_card_visa", "return_url": "http://x/return"}
    )
    assert confirmed.status == "succeeded"
    assert confirmed.description == "Top-up"
    expanded = client.v1.payment_intents.retrieve(pi.id, params={"expand": ["latest_charge"]})
    assert expanded.latest_charge.amount == 1500
