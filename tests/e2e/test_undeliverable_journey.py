"""A top-up for an eSIM upstream revoked is never sold: Chromium on a phone against the live shop,
the Roamify and Stripe sandboxes, PostgreSQL.

The traveller signs in, adds a top-up of their eSIM to the cart; upstream revokes the eSIM while
it sits there (the shop has heard nothing yet); Pay is refused on the cart page, saying which line
can't be delivered and why, and no payment page opens. The eSIM's page then says it is cancelled
and offers no top-ups.
"""

from __future__ import annotations

import re

import pytest

from accounts.tests.conftest import bought_esim, make_customer
from checkout.models import Order
from checkout.tests.conftest import make_package
from conftest import screenshot
from core.roamify_client import roamify_client

from .test_checkout_journey import fits_the_screen

pytestmark = [pytest.mark.e2e]
EMAIL = "revoked@example.com"
PASSWORD = "a long pass 123"


@pytest.fixture
def shop(transactional_db, postgres, clear_cache, live_server, stripe, roamify, settings):
    settings.SITE_URL = live_server.url
    return live_server.url


def test_a_topup_of_a_revoked_esim_is_refused_before_payment(shop, stripe, roamify, phone):
    page = phone
    traveller = make_customer(EMAIL, PASSWORD)
    _, esim = bought_esim(make_package(), traveller)
    offered = [p for p in roamify_client().topup_packages(esim.iccid) if not p.is_unlimited]
    topup = make_package(
        package_id=next(p.package_id for p in offered if p.package_id != esim.package_id_upstream)
    )

    page.goto(shop + "/accounts/login/")
    page.get_by_text("Sign in with a password").click()  # the code comes first since issue 21
    page.get_by_label("Email", exact=True).fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(shop + "/account/")

    # The eSIM is alive: its top-ups are on sale; one goes to the cart.
    page.goto(shop + f"/account/esims/{esim.pk}/")
    add = page.get_by_role("button", name=f"Add the {topup.data_label}, {topup.days}-day top-up to your cart")
    if not add.is_visible():  # past the first few, the top-ups fold away
        page.get_by_text(re.compile(r"^All \d+ top-ups$")).click()
    add.click()
    page.wait_for_url(shop + "/cart/")
    assert "Top-up" in page.locator("[aria-label='Cart items']").inner_text()

    # Upstream revokes it; the shop has not heard. Pay: refused, and said why, on the cart page.
    roamify.control.esim_action(esim.iccid, "revoke")
    page.get_by_role("button", name=re.compile(r"^Pay \$")).click()
    page.wait_for_load_state()
    assert page.url == shop + "/checkout/"  # the cart page again, not Stripe's
    message = page.locator(".message-error").inner_text()
    assert message == (
        f"The {topup.data_label}, {topup.days}-day top-up for your eSIM {esim.iccid_masked} can no longer "
        "be delivered: it was revoked by the network. Nothing was charged. It was removed from your cart."
    )
    assert "Your cart is empty" in page.locator("main").inner_text()
    fits_the_screen(page)
    screenshot(page, "undeliverable-topup-refused")
    assert stripe.control.sessions() == [] and Order.objects.count() == 1  # only the eSIM's own order
    assert [o["kind"] for o in roamify.control.ledger()] == ["instant"]

    # The eSIM's page: cancelled, and no top-up offered.
    page.goto(shop + f"/account/esims/{esim.pk}/")
    assert "Cancelled" in page.locator("main").inner_text()
    topups = page.locator("#top-ups").inner_text()
    assert "This eSIM can't be topped up: it was revoked by the network." in topups
    assert page.get_by_role("button", name=re.compile(r"top-up to your cart$")).count() == 0
    fits_the_screen(page)
    screenshot(page, "undeliverable-esim-page")
