"""A late event from another test (the receiver lives for the whole run) can neither
satisfy nor break a test: the flake seen in a fresh clone's `.ci/run`."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import stripe

from sandboxes.stripe.testing import StripeSandbox

from .conftest import WEBHOOK_SECRET, WebhookReceiver, about


def deliver_late_event(receiver: WebhookReceiver, event_type: str, session_id: str) -> None:
    """What an earlier test's event looks like when it arrives during this one."""
    body = json.dumps(
        {
            "id": "evt_from_another_test",
            "object": "event",
            "type": event_type,
            "livemode": False,
            "data": {
                "object": {"id": session_id, "object": "checkout.session", "payment_intent": "pi_other"}
            },
        }
    )
    signature = stripe.WebhookSignature.generate_signature_header(body, WEBHOOK_SECRET)
    httpx.post(f"{receiver.url}/webhook", content=body, headers={"Stripe-Signature": signature})


def test_a_late_event_does_not_satisfy_the_wait(
    sb: StripeSandbox, make_session: Callable[..., Any], receiver: WebhookReceiver
) -> None:
    session = make_session()
    deliver_late_event(receiver, "checkout.session.completed", "cs_test_another_test")
    ok = sb.control.pay(session.id, "4000002500003155", three_d_secure="complete")
    (event,) = receiver.wait_for("checkout.session.completed", about(session.id))
    assert event.data.object.id == session.id
    assert event.data.object.payment_intent == ok["payment_intent"]


def test_a_late_event_does_not_take_the_failures_meant_for_this_one(
    sb: StripeSandbox, make_session: Callable[..., Any], receiver: WebhookReceiver
) -> None:
    session = make_session()
    receiver.fail(about(session.id), [500])
    deliver_late_event(receiver, "checkout.session.completed", "cs_test_another_test")
    sb.control.pay(session.id)
    (record,) = sb.control.wait_for_event("checkout.session.completed", delivered=True)
    assert [a["status"] for a in record["deliveries"][0]["attempts"]] == [500, 200]
    assert [d.status for d in receiver.deliveries_for(about("cs_test_another_test"))] == [200]


def test_an_event_signed_for_another_endpoint_is_never_verified_here(
    sb: StripeSandbox, make_session: Callable[..., Any], receiver: WebhookReceiver
) -> None:
    # A late delivery for an endpoint another test registered with its own secret.
    body = json.dumps(
        {
            "id": "evt_x",
            "object": "event",
            "type": "charge.refunded",
            "data": {"object": {"id": "ch_other", "object": "charge", "payment_intent": "pi_x"}},
        }
    )
    signature = stripe.WebhookSignature.generate_signature_header(body, "whsec_other_endpoint")
    httpx.post(f"{receiver.url}/webhook", content=body, headers={"Stripe-Signature": signature})
    session = make_session()
    sb.control.pay(session.id)
    assert receiver.wait_for("checkout.session.completed", about(session.id))
