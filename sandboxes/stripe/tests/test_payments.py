"""Paying sessions through the control API (same code path as the hosted form)."""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
import stripe

from sandboxes.stripe.testing import StripeSandbox

from .conftest import WebhookReceiver, about

AUTH_FAILED = "We are unable to authenticate your payment method."


def test_4242_pays(
    client: stripe.StripeClient,
    sb: StripeSandbox,
    make_session: Callable[..., Any],
    receiver: WebhookReceiver,
) -> None:
    session = make_session()
    result = sb.control.pay(session.id)
    assert result["outcome"] == "paid"
    assert result["redirect_url"] == f"{receiver.url}/success?session_id={session.id}"

    done = client.v1.checkout.sessions.retrieve(session.id)
    assert (done.status, done.payment_status) == ("complete", "paid")
    assert done.payment_intent == result["payment_intent"]
    assert done.customer_details.email == "traveller@example.com"
    assert done.customer_details.name == "Test Customer"
    pi = client.v1.payment_intents.retrieve(done.payment_intent)
    assert (pi.status, pi.amount, pi.currency) == ("succeeded", 2598, "usd")
    assert pi.metadata.to_dict() == {"order_number": "ORD-0001"}

    (event,) = receiver.wait_for("checkout.session.completed", about(session.id))
    assert event.id.startswith("evt_")
    assert event.object == "event" and event.livemode is False
    assert event.data.object.id == session.id
    assert event.data.object.payment_status == "paid"
    assert event.data.object.client_reference_id == "ORD-0001"
    assert event.data.object.payment_intent == done.payment_intent
    # Paying twice is impossible.
    assert sb.control.pay(session.id)["outcome"] == "not_open"


def test_decline_leaves_the_session_payable(
    client: stripe.StripeClient, sb: StripeSandbox, make_session: Callable[..., Any]
) -> None:
    session = make_session()
    declined = sb.control.pay(session.id, "4000000000000341")
    assert declined["outcome"] == "declined"
    assert declined["message"] == "Your card was declined."
    assert declined["code"] == "card_declined"
    assert client.v1.checkout.sessions.retrieve(session.id).status == "open"

    funds = sb.control.pay(session.id, "4000000000009995")
    assert (funds["outcome"], funds["decline_code"]) == ("declined", "insufficient_funds")
    assert sb.control.pay(session.id)["outcome"] == "paid"


def test_3d_secure_complete_and_fail(
    client: stripe.StripeClient,
    sb: StripeSandbox,
    make_session: Callable[..., Any],
    receiver: WebhookReceiver,
) -> None:
    session = make_session()
    first = sb.control.pay(session.id, "4000002500003155")
    assert first["outcome"] == "requires_action"
    failed = sb.control.authenticate(session.id, success=False)
    assert failed["outcome"] == "declined"
    assert failed["message"].startswith(AUTH_FAILED)
    assert client.v1.checkout.sessions.retrieve(session.id).status == "open"

    ok = sb.control.pay(session.id, "4000002500003155", three_d_secure="complete")
    assert ok["outcome"] == "paid"
    (event,) = receiver.wait_for("checkout.session.completed", about(session.id))
    assert event.data.object.payment_intent == ok["payment_intent"]


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"card": "4242424242424241"}, "number", "Your card number is invalid."),
        ({"card": "4242 4242"}, "number", "Your card number is incomplete."),
        ({"exp": "01/20"}, "exp", "Your card's expiration year is in the past."),
        ({"exp": "13/40"}, "exp", "Your card's expiration date is invalid."),
        ({"exp": "1"}, "exp", "Your card's expiration date is incomplete."),
        ({"cvc": "1"}, "cvc", "Your card's security code is incomplete."),
    ],
)
def test_bad_card_details(
    sb: StripeSandbox,
    make_session: Callable[..., Any],
    kwargs: dict[str, str],
    field: str,
    message: str,
) -> None:
    session = make_session()
    result = sb.control.pay(session.id, **kwargs)
    assert result["outcome"] == "invalid"
    assert result["errors"][field] == message
    assert result["session"]["status"] == "open"


def test_concurrent_payments_pay_once(sb: StripeSandbox, make_session: Callable[..., Any]) -> None:
    session = make_session()
    with ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(lambda _: sb.control.pay(session.id)["outcome"], range(4)))
    assert sorted(outcomes) == ["not_open"] * 3 + ["paid"]
    assert len(sb.control.events("checkout.session.completed")) == 1


def test_hosted_form_without_a_browser(
    sb: StripeSandbox, make_session: Callable[..., Any], receiver: WebhookReceiver
) -> None:
    session = make_session()
    form = {
        "email": "t@example.com",
        "cardnumber": "4000 0025 0000 3155",
        "exp": "12 / 34",
        "cvc": "123",
        "name": "Ada Lovelace",
    }
    with httpx.Client(base_url=sb.base_url) as http:
        page = http.get(f"/pay/{session.id}")
        assert page.status_code == 200
        for label in ("Email", "Card number", "Expiry (MM/YY)", "CVC", "Name on card"):
            assert re.search(rf"<label for=\"\w+\">{re.escape(label)}</label>", page.text), label
        assert 'value="traveller@example.com"' in page.text
        assert "Japan 5 GB" in page.text and "$25.98" in page.text
        assert f'href="{receiver.url}/cancel"' in page.text

        bad = http.post(f"/pay/{session.id}", data={**form, "cardnumber": "1234"})
        assert bad.status_code == 400
        assert "Your card number is incomplete." in bad.text
        assert 'aria-describedby="cardnumber-error"' in bad.text

        challenge = http.post(f"/pay/{session.id}", data=form)
        assert "Complete authentication" in challenge.text
        assert "Fail authentication" in challenge.text
        failed = http.post(f"/pay/{session.id}/authenticate", data={"action": "fail"})
        assert failed.status_code == 402
        assert AUTH_FAILED in failed.text

        http.post(f"/pay/{session.id}", data=form)
        done = http.post(f"/pay/{session.id}/authenticate", data={"action": "complete"})
        assert done.status_code == 303
        assert done.headers["Location"] == f"{receiver.url}/success?session_id={session.id}"

        after = http.get(f"/pay/{session.id}")
        assert "already been made" in after.text
        again = http.post(f"/pay/{session.id}", data={**form, "cardnumber": "4242424242424242"})
        assert "already been made" in again.text
        assert http.get("/pay/cs_test_nope").status_code == 404
    assert len(sb.control.events("checkout.session.completed")) == 1


def test_expired_session_page(
    client: stripe.StripeClient, sb: StripeSandbox, make_session: Callable[..., Any]
) -> None:
    session = make_session()
    client.v1.checkout.sessions.expire(session.id)
    page = httpx.get(f"{sb.base_url}/pay/{session.id}")
    assert page.status_code == 410
    assert "has expired" in page.text
