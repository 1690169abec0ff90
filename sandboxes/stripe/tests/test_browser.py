"""The hosted payment page in Chromium: a decline, then 4242 lands on success_url."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
import stripe
from playwright.sync_api import expect

from sandboxes.stripe.testing import StripeSandbox

from .conftest import WebhookReceiver, about


@pytest.mark.e2e
def test_pay_on_hosted_page(
    client: stripe.StripeClient,
    sb: StripeSandbox,
    make_session: Callable[..., Any],
    receiver: WebhookReceiver,
    chromium_browser: Any,  # conftest.py: Chromium, or a skip (a failure under REQUIRE_SERVICES=1)
) -> None:
    session = make_session()
    # A phone-sized viewport: the page is meant for travellers on mobile.
    page = chromium_browser.new_page(viewport={"width": 390, "height": 844})
    try:
        page.goto(session.url)
        expect(page.get_by_role("heading", name=re.compile(r"Pay\s+\$25\.98"))).to_be_visible()
        expect(page.get_by_text("Japan 5 GB")).to_be_visible()
        expect(page.get_by_label("Email")).to_have_value("traveller@example.com")
        expect(page.get_by_role("link", name="Back")).to_have_attribute("href", receiver.url + "/cancel")

        page.get_by_label("Card number").fill("4000 0000 0000 0341")
        page.get_by_label("Expiry (MM/YY)").fill("12 / 34")
        page.get_by_label("CVC").fill("123")
        page.get_by_label("Name on card").fill("Ada Lovelace")
        page.get_by_role("button", name=re.compile(r"^Pay")).click()
        expect(page.get_by_role("alert")).to_have_text("Your card was declined.")
        expect(page.get_by_label("Name on card")).to_have_value("Ada Lovelace")
        assert client.v1.checkout.sessions.retrieve(session.id).status == "open"

        page.get_by_label("Card number").fill("4242424242424242")
        page.get_by_label("CVC").fill("123")
        page.get_by_role("button", name=re.compile(r"^Pay")).click()
        page.wait_for_url(f"{receiver.url}/success?session_id={session.id}")
        expect(page.get_by_role("heading", name="Thanks for your order")).to_be_visible()
        expect(page.get_by_text(session.id)).to_be_visible()
    finally:
        page.close()

    done = client.v1.checkout.sessions.retrieve(session.id)
    assert (done.status, done.payment_status) == ("complete", "paid")
    assert done.customer_details.name == "Ada Lovelace"
    (event,) = receiver.wait_for("checkout.session.completed", about(session.id))
    assert event.data.object.payment_status == "paid"
