"""Checkout Sessions through the official stripe library."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import stripe

from sandboxes.stripe.testing import StripeSandbox

from .conftest import WebhookReceiver, about, session_params


def test_create_and_retrieve_with_client(
    client: stripe.StripeClient, sb: StripeSandbox, receiver: WebhookReceiver
) -> None:
    before = int(time.time())
    session = client.v1.checkout.sessions.create(
        params=session_params(receiver, locale="fr", payment_method_types=["card"]),
        options={"idempotency_key": "order-ORD-0001"},
    )
    assert session.id.startswith("cs_test_")
    assert session.object == "checkout.session"
    assert session.url == f"{sb.base_url}/pay/{session.id}"
    assert (session.status, session.payment_status) == ("open", "unpaid")
    assert (session.amount_total, session.currency) == (2598, "usd")
    assert session.customer_email == "traveller@example.com"
    assert session.customer_details is None
    assert session.client_reference_id == "ORD-0001"
    assert session.metadata.to_dict() == {"order_number": "ORD-0001"}
    assert session.payment_intent is None
    assert session.livemode is False
    assert session.locale == "fr"
    assert session.mode == "payment"
    assert before <= session.created <= time.time()
    assert session.expires_at - session.created == 24 * 3600
    assert session.success_url.endswith("session_id={CHECKOUT_SESSION_ID}")

    again = client.v1.checkout.sessions.retrieve(session.id, params={"expand": ["line_items"]})
    assert again.id == session.id
    (item,) = again.line_items.data
    assert (item.description, item.quantity, item.amount_total) == ("Japan 5 GB", 2, 2598)
    assert item.price.unit_amount == 1299
    items = client.v1.checkout.sessions.line_items.list(session.id)
    assert [i.id for i in items.data] == [item.id]


def test_module_level_api(
    sb: StripeSandbox, receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stripe, "api_base", sb.base_url)
    monkeypatch.setattr(stripe, "api_key", sb.secret_key)
    monkeypatch.setattr(stripe, "max_network_retries", 0)
    expires_at = int(time.time()) + 3600
    session = stripe.checkout.Session.create(
        **session_params(receiver, expires_at=expires_at), idempotency_key="global-1"
    )
    assert session.expires_at == expires_at
    assert stripe.checkout.Session.retrieve(session.id).status == "open"
    expired = stripe.checkout.Session.expire(session.id)
    assert (expired.status, expired.url) == ("expired", None)


def test_list_filters_by_payment_intent(
    client: stripe.StripeClient, sb: StripeSandbox, make_session: Callable[..., Any]
) -> None:
    paid, other = make_session(), make_session()
    pi = sb.control.pay(paid.id)["payment_intent"]
    assert pi and pi.startswith("pi_")

    found = client.v1.checkout.sessions.list(params={"payment_intent": pi})
    assert [s.id for s in found.data] == [paid.id]
    assert found.data[0].payment_intent == pi
    everything = client.v1.checkout.sessions.list(params={"limit": 1})
    assert [s.id for s in everything.data] == [other.id]  # newest first
    assert everything.has_more is True
    expanded = client.v1.checkout.sessions.retrieve(paid.id, params={"expand": ["payment_intent"]})
    assert expanded.payment_intent.id == pi
    assert expanded.payment_intent.status == "succeeded"
    assert isinstance(expanded.payment_intent.latest_charge, str)  # an id, as on Stripe


def test_expire_sends_event_and_only_once(
    client: stripe.StripeClient, make_session: Callable[..., Any], receiver: WebhookReceiver
) -> None:
    session = make_session()
    expired = client.v1.checkout.sessions.expire(session.id)
    assert (expired.status, expired.payment_status, expired.url) == ("expired", "unpaid", None)
    (event,) = receiver.wait_for("checkout.session.expired", about(session.id))
    assert event.data.object.status == "expired"
    with pytest.raises(stripe.InvalidRequestError, match="status in"):
        client.v1.checkout.sessions.expire(session.id)


def test_expires_by_itself(
    client: stripe.StripeClient,
    sb: StripeSandbox,
    make_session: Callable[..., Any],
    receiver: WebhookReceiver,
) -> None:
    session = make_session()
    sb.control.set_expires_at(session.id, seconds_from_now=0.5)
    # Nobody looks at the session: the once-a-second sweeper must expire it.
    (event,) = receiver.wait_for("checkout.session.expired", about(session.id))
    assert event.data.object.status == "expired"
    assert client.v1.checkout.sessions.retrieve(session.id).status == "expired"
    assert sb.control.pay(session.id)["outcome"] == "not_open"


@pytest.mark.parametrize(
    ("change", "param", "message"),
    [
        ({"line_items": None}, "line_items", "Missing required param: line_items."),
        ({"success_url": None}, "success_url", "Missing required param: success_url."),
        ({"mode": None}, "mode", "Missing required param: mode."),
        ({"mode": "subscription"}, "mode", "only mode=payment"),
        ({"success_url": "not a url"}, "success_url", "Not a valid URL"),
        ({"customer_email": "nope"}, "customer_email", "Invalid email address"),
        ({"surprise": "1"}, "surprise", "Received unknown parameter: surprise"),
        ({"expires_at": int(time.time()) + 60}, "expires_at", "at least 30 minutes"),
        ({"locale": "xx"}, "locale", "Invalid locale"),
        ({"payment_method_types": ["sepa_debit"]}, "payment_method_types[0]", 'only "card"'),
        (
            {"line_items": [{"price_data": {"currency": "usd", "unit_amount": 100}, "quantity": 1}]},
            "line_items[0][price_data][product_data]",
            "Missing required param",
        ),
        (
            {"line_items": [{"price": "price_123", "quantity": 1}]},
            "line_items[0][price]",
            "No such price",
        ),
        (
            {
                "line_items": [
                    {
                        "price_data": {
                            "currency": "usd",
                            "unit_amount": 10,
                            "product_data": {"name": "x"},
                        },
                        "quantity": 1,
                    }
                ]
            },
            "line_items",
            "at least $0.50",
        ),
    ],
)
def test_validation_errors(
    client: stripe.StripeClient,
    receiver: WebhookReceiver,
    change: dict[str, Any],
    param: str,
    message: str,
) -> None:
    params = session_params(receiver)
    for k, v in change.items():
        if v is None:
            params.pop(k)
        else:
            params[k] = v
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.checkout.sessions.create(params=params)
    assert info.value.http_status == 400
    assert info.value.param == param
    assert message in info.value.user_message
    assert info.value.json_body["error"]["type"] == "invalid_request_error"


def test_errors_are_stripe_shaped(sb: StripeSandbox) -> None:
    r = httpx.post(f"{sb.base_url}/v1/checkout/sessions", data={"mode": "payment"})
    assert r.status_code == 401
    assert r.json()["error"]["type"] == "invalid_request_error"
    auth = {"Authorization": f"Bearer {sb.secret_key}"}
    r = httpx.get(f"{sb.base_url}/v1/checkout/sessions/cs_test_missing", headers=auth)
    assert r.status_code == 404
    assert r.json()["error"] == {
        "type": "invalid_request_error",
        "message": "No such checkout.session: 'cs_test_missing'",
        "param": "session",
        "code": "resource_missing",
        "doc_url": "https://stripe.com/docs/error-codes/resource-missing",
    }
    assert r.headers["Request-Id"].startswith("req_")
