"""Signed events, retries, redelivery and /v1/events."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import stripe

from sandboxes.stripe.testing import ControlError, StripeSandbox

from .conftest import WEBHOOK_SECRET, WebhookReceiver, about


def test_events_are_signed_like_stripe(
    sb: StripeSandbox, make_session: Callable[..., Any], receiver: WebhookReceiver
) -> None:
    session = make_session()
    sb.control.pay(session.id)
    receiver.wait_for("checkout.session.completed", about(session.id))
    (delivery,) = receiver.deliveries_for(about(session.id))
    event = stripe.Webhook.construct_event(delivery.body, delivery.signature, WEBHOOK_SECRET)
    assert event.type == "checkout.session.completed"
    assert event.api_version
    assert delivery.signature.startswith("t=") and ",v1=" in delivery.signature
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(delivery.body, delivery.signature, "whsec_wrong")
    tampered = delivery.body.replace(b"paid", b"unpaid", 1)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(tampered, delivery.signature, WEBHOOK_SECRET)


def test_failed_deliveries_are_retried(
    sb: StripeSandbox, make_session: Callable[..., Any], receiver: WebhookReceiver
) -> None:
    session = make_session()
    receiver.fail(about(session.id), [500, 503])
    sb.control.pay(session.id)
    (record,) = sb.control.wait_for_event("checkout.session.completed", delivered=True, timeout=5)
    (delivery,) = record["deliveries"]
    assert [a["status"] for a in delivery["attempts"]] == [500, 503, 200]
    assert [d.status for d in receiver.deliveries_for(about(session.id))] == [500, 503, 200]


def test_redeliver_and_several_endpoints(
    sb: StripeSandbox, make_session: Callable[..., Any], receiver: WebhookReceiver
) -> None:
    # A second endpoint that only wants refunds gets nothing here; a dead one is retried.
    sb.control.register_webhook(receiver.url + "/webhook?only=refunds", "whsec_x", ["charge.refunded"])
    sb.control.register_webhook("http://127.0.0.1:9/dead", "whsec_dead")
    session = make_session()
    sb.control.pay(session.id)
    receiver.wait_for("checkout.session.completed", about(session.id))
    (record,) = sb.control.events("checkout.session.completed")
    urls = {d["url"] for d in record["deliveries"]}
    assert urls == {receiver.url + "/webhook", "http://127.0.0.1:9/dead"}

    sb.control.remove_webhooks("http://127.0.0.1:9/dead")
    sb.control.redeliver(record["id"])
    again = receiver.wait_for("checkout.session.completed", about(session.id), count=2)
    assert again[0].id == again[1].id == record["id"]


def test_chaos_duplicates_and_reorders_deliveries(
    sb: StripeSandbox, make_session: Callable[..., Any], receiver: WebhookReceiver
) -> None:
    settings = sb.control.webhook_chaos(copies=2, max_delay=1.5, seed=7)
    assert settings == {
        "copies": 2,
        "max_delay": 1.5,
        "seed": 7,
        "counts": {"duplicated": 0, "delayed": 0, "out_of_order": 0},
    }
    sessions = [make_session() for _ in range(6)]
    for session in sessions:
        sb.control.pay(session.id)
    records = sb.control.wait_for_event("checkout.session.completed", count=6, delivered=True, timeout=10)
    for session in sessions:
        got = receiver.wait_for("checkout.session.completed", about(session.id), count=2)
        assert len({e.id for e in got}) == 1  # the same event, twice
    # The first arrival of each event, in the order they arrived, against the order they were made.
    made = [r["id"] for r in records]
    arrived = list(dict.fromkeys(d.event.id for d in receiver.deliveries if d.event.id in made))
    counts = sb.control.webhook_chaos()["counts"]
    assert counts["duplicated"] == 6 and counts["delayed"] == 12
    assert arrived != made and counts["out_of_order"] >= 1
    with pytest.raises(ControlError, match="copies"):
        sb.control.webhook_chaos(copies=9)
    sb.control.reset()  # back to one prompt delivery
    assert sb.control.webhook_chaos() == {
        "copies": 1,
        "max_delay": 0.0,
        "seed": 0,
        "counts": {"duplicated": 0, "delayed": 0, "out_of_order": 0},
    }


def test_events_api(client: stripe.StripeClient, sb: StripeSandbox, make_session: Callable[..., Any]) -> None:
    paid, expired = make_session(), make_session()
    sb.control.pay(paid.id)
    client.v1.checkout.sessions.expire(expired.id)
    events = client.v1.events.list()
    assert [e.type for e in events.data] == ["checkout.session.expired", "checkout.session.completed"]
    only = client.v1.events.list(params={"type": "checkout.session.completed"})
    assert [e.data.object.id for e in only.data] == [paid.id]
    wildcard = client.v1.events.list(params={"type": "checkout.session.*", "limit": 1})
    assert len(wildcard.data) == 1 and wildcard.has_more
    one = client.v1.events.retrieve(only.data[0].id)
    assert one.data.object.status == "complete"
    assert json.loads(json.dumps(one.to_dict()))["object"] == "event"


def test_webhook_registration_is_validated(sb: StripeSandbox, receiver: WebhookReceiver) -> None:
    with pytest.raises(ControlError):
        sb.control.register_webhook("ftp://nope", "whsec_x")
    with pytest.raises(ControlError):
        sb.control.register_webhook(receiver.url + "/other", "")
    # Same URL again replaces the endpoint instead of adding a second one.
    sb.control.register_webhook(receiver.url + "/webhook", WEBHOOK_SECRET, ["charge.refunded"])
    assert sb.control.webhooks() == [
        {"url": receiver.url + "/webhook", "secret": WEBHOOK_SECRET, "events": ["charge.refunded"]}
    ]
