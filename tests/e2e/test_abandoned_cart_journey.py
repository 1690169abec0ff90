"""The abandoned-cart email on a phone (issue 22): Chromium against the live shop, the Stripe and
Roamify sandboxes, PostgreSQL.

A traveller ticks "Tell me about offers" at checkout, goes to the card page and leaves without
paying. An hour later the shop's email brings them back: its link opens the same cart in another
browser (the mail app's), with the email filled in. The email's unsubscribe link opens a page that
changes nothing until its one button is pressed; then the next abandoned cart sends nothing. Each
page fits the phone's screen and has no accessibility violation (axe).
"""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone

from checkout.models import MarketingConsent, Order
from checkout.services import marketing
from checkout.tests.conftest import make_package
from conftest import IPHONE, screenshot
from core.models import OutboxEmail
from tests.e2e.test_accessibility import AXE_OPTIONS
from tests.e2e.test_checkout_journey import fits_the_screen
from tests.e2e.test_giftcard_journey import shop as shop  # the fixture

pytestmark = [pytest.mark.e2e]
EMAIL = "alex@example.com"


def no_violations(page) -> None:
    violations = Axe().run(page, options=AXE_OPTIONS).response["violations"]
    assert not violations, [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in violations]


def an_hour_later(order: Order) -> None:
    Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - dt.timedelta(minutes=61))


def test_ticked_offers_then_the_email_brings_the_cart_back_and_one_button_unsubscribes(
    transactional_db, shop, stripe, roamify, phone, chromium_browser
):
    page = phone
    # 1. Checkout with the box ticked (it starts unticked), then leave the card page unpaid.
    package = make_package()
    to_card_page(page, shop, stripe, package, offers=True)
    order = Order.objects.get(email=EMAIL)
    assert marketing.has_consent(EMAIL)

    # 2. An hour later the beat task's service sends the email (its worker run is in checkout's tests).
    an_hour_later(order)
    assert marketing.send_abandoned_cart_emails()["sent"] == 1
    sent = OutboxEmail.objects.get(to=EMAIL)
    cart_link = re.search(r"https?://\S+/cart/back/\S+/", sent.body_text).group(0)
    unsubscribe_link = re.search(r"List-Unsubscribe:\s*<([^>]+)>", bytes(sent.raw).decode()).group(1)

    # 3. The link, opened from the mail app (another browser): the same cart, the email filled in.
    mail_app = chromium_browser.new_context(**IPHONE)
    other = mail_app.new_page()
    other.goto(cart_link)
    assert urlsplit(other.url).path == "/cart/"
    assert other.get_by_text("Your cart is back as you left it").is_visible()
    assert package.destination.name in other.locator("[aria-label='Cart items']").inner_text()
    assert other.locator("#id_email").input_value() == EMAIL
    fits_the_screen(other)
    no_violations(other)
    screenshot(other, "abandoned-cart-back")

    # 4. Unsubscribe: the page asks first (a GET changes nothing), its one button does it.
    other.goto(unsubscribe_link)
    assert other.locator("h1").inner_text() == "Stop emails about offers?"
    assert marketing.has_consent(EMAIL)
    fits_the_screen(other)
    no_violations(other)
    screenshot(other, "abandoned-cart-unsubscribe")
    other.get_by_role("button", name="Unsubscribe").click()
    other.get_by_role("heading", name="You are unsubscribed").wait_for()
    no_violations(other)
    assert not marketing.has_consent(EMAIL)
    assert MarketingConsent.objects.get(email=EMAIL).source == MarketingConsent.Source.UNSUBSCRIBE
    mail_app.close()

    # 5. The next cart left unpaid sends nothing.
    to_card_page(page, shop, stripe, package, offers=False)
    newest = Order.objects.filter(email=EMAIL).order_by("-created_at").first()
    assert newest.pk != order.pk
    an_hour_later(newest)
    assert marketing.send_abandoned_cart_emails()["sent"] == 0
    assert OutboxEmail.objects.filter(to=EMAIL).count() == 1


def to_card_page(page, shop: str, stripe, package, *, offers: bool) -> None:
    """Package page → Add to cart → the cart's checkout form: the email, the offers box, Pay."""
    page.goto(shop + package.get_absolute_url())
    page.get_by_role("button", name="Add to cart").click()
    page.wait_for_url(shop + "/cart/")
    box = page.get_by_label("Tell me about offers and deals (you can unsubscribe any time)")
    assert not box.is_checked()  # never ticked for the buyer
    if offers:
        box.check()
    page.get_by_label("Email").fill(EMAIL)
    fits_the_screen(page)
    page.get_by_role("button", name=re.compile(r"^Pay .* securely$")).click()
    page.wait_for_url(stripe.base_url + "/pay/*")
