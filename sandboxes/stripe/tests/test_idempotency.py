"""Idempotency-Key replay on every POST through the front."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
import stripe

from sandboxes.stripe.testing import StripeSandbox

from .conftest import WebhookReceiver, session_params


def test_same_key_replays_the_first_response(
    client: stripe.StripeClient, sb: StripeSandbox, receiver: WebhookReceiver
) -> None:
    params = session_params(receiver)
    first = client.v1.checkout.sessions.create(params=params, options={"idempotency_key": "ORD-7"})
    second = client.v1.checkout.sessions.create(params=params, options={"idempotency_key": "ORD-7"})
    assert second.id == first.id
    assert second.last_response.headers["Idempotent-Replayed"] == "true"
    assert len(sb.control.sessions()) == 1  # created once


def test_same_key_other_params_is_an_idempotency_error(
    client: stripe.StripeClient, receiver: WebhookReceiver
) -> None:
    client.v1.checkout.sessions.create(params=session_params(receiver), options={"idempotency_key": "ORD-8"})
    with pytest.raises(stripe.IdempotencyError) as info:
        client.v1.checkout.sessions.create(
            params=session_params(receiver, client_reference_id="ORD-9"),
            options={"idempotency_key": "ORD-8"},
        )
    assert info.value.http_status == 400
    assert info.value.json_body["error"]["type"] == "idempotency_error"


def test_validation_errors_are_not_stored(client: stripe.StripeClient, receiver: WebhookReceiver) -> None:
    # Stripe saves no result when params fail validation: a corrected retry works.
    bad = session_params(receiver)
    del bad["success_url"]
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.checkout.sessions.create(params=bad, options={"idempotency_key": "ORD-10"})
    ok = client.v1.checkout.sessions.create(
        params=session_params(receiver), options={"idempotency_key": "ORD-10"}
    )
    assert ok.status == "open"


def test_replay_covers_proxied_posts(sb: StripeSandbox) -> None:
    headers = {"Authorization": f"Bearer {sb.secret_key}", "Idempotency-Key": "pi-1"}
    data = {"amount": "500", "currency": "eur", "description": "kept by the front"}
    with httpx.Client(base_url=sb.base_url, headers=headers) as http:
        first = http.post("/v1/payment_intents", data=data)
        second = http.post("/v1/payment_intents", data=data)
        other = http.post("/v1/payment_intents", data={**data, "amount": "600"})
    assert first.status_code == 200, first.text
    assert first.json()["description"] == "kept by the front"
    assert second.json()["id"] == first.json()["id"]
    assert second.headers["Idempotent-Replayed"] == "true"
    assert other.status_code == 400
    assert other.json()["error"]["type"] == "idempotency_error"


def test_expire_is_idempotent(client: stripe.StripeClient, make_session: Callable[..., Any]) -> None:
    session = make_session()
    a = client.v1.checkout.sessions.expire(session.id, options={"idempotency_key": "exp-1"})
    b = client.v1.checkout.sessions.expire(session.id, options={"idempotency_key": "exp-1"})
    assert a.status == b.status == "expired"
