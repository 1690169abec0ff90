"""A guest's purchases, found in the account by an emailed code (issue 21), on a phone: Chromium
against the live shop, a real Celery worker on Redis, the Roamify and Stripe sandboxes, PostgreSQL.

A guest buys an eSIM and a gift card for a friend in one order, taps "Track your data and top up"
on the order page, reads the sign-in code from the email, and lands on the eSIM's page in an
account made by that code (no password). The gift card is under "Gift cards"; the guest-now-customer
revokes it with the one-time code sent by email, and the card stays listed as revoked. No page
names the account's internal username.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model

from checkout.tests.conftest import make_package
from conftest import screenshot
from giftcards.models import GiftCard, Status
from tests.e2e.test_checkout_journey import fits_the_screen
from tests.e2e.test_giftcard_journey import add_gift_card, mail_to, pay_on_stripe
from tests.e2e.test_giftcard_journey import shop as shop  # the fixture

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("worker")]
GUEST = "mika.tanaka@example.com"


def no_username(page, username: str) -> None:
    text = page.content()
    assert not re.search(rf"\b{re.escape(username)}\b(?!@)", text), f"{username} shown on {page.url}"


def test_a_guest_signs_in_by_code_from_the_order_page_and_revokes_the_gift_card(
    celery_worker, shop, stripe, roamify, phone
):
    page = phone
    # 1. A guest buys an eSIM and a $50 gift card for a friend, in one order.
    package = make_package()
    page.goto(shop + package.get_absolute_url())
    page.get_by_role("button", name="Add to cart").click()
    page.wait_for_url(shop + "/cart/")
    add_gift_card(page, shop, "$50.00", "Ann", "ann@example.com")
    page.get_by_label("Email").fill(GUEST)
    page.get_by_role("button", name=re.compile(r"^Pay \$.* securely$")).click()
    order = pay_on_stripe(page, stripe)
    page.get_by_role("heading", name="Your eSIM is ready").wait_for(timeout=45_000)
    esim = order.esims.get()
    card = GiftCard.objects.get(order=order)
    assert esim.customer is None and card.customer is None

    # 2. "Track your data and top up": one tap sends the code to the order's email.
    box = page.locator(".track-data")  # drawn while the eSIM was on its way: it lands there all the same
    box.scroll_into_view_if_needed()
    assert GUEST in box.inner_text()
    fits_the_screen(page)
    screenshot(page, "signin-track-data")
    box.get_by_role("button", name="Track your data and top up").click()
    page.wait_for_url(re.compile(r"/accounts/login/code/confirm/"))
    assert page.locator("h1").inner_text() == "Enter your sign-in code"
    assert GUEST in page.locator("main").inner_text()
    mail = mail_to(GUEST, "Sign-In Code")
    code = re.search(r"^\s*([A-Z0-9-]{6,9})\s*$", mail.body_text, re.M)[1]
    # A mistyped code: said at the field, which has the focus (the keyboard opens there).
    page.get_by_label("Code from the email").fill("AAAAAA" if code != "AAAAAA" else "BBBBBB")
    page.get_by_role("button", name="Sign in").click()
    field = page.get_by_label("Code from the email")
    error = page.locator("#" + field.get_attribute("aria-describedby"))
    assert error.is_visible() and error.inner_text().strip()
    assert field.get_attribute("aria-invalid") == "true"
    assert page.evaluate("document.activeElement.name") == "code"
    fits_the_screen(page)
    screenshot(page, "signin-code-wrong")
    field.fill(code)
    page.get_by_role("button", name="Sign in").click()

    # 3. The eSIM's page, in an account made by the code, with no password.
    page.wait_for_url(shop + f"/account/esims/{esim.pk}/")
    assert f"Successfully signed in as {GUEST}." in page.locator(".messages").inner_text()
    user = get_user_model().objects.get(email=GUEST)
    assert not user.has_usable_password()
    esim.refresh_from_db()
    card.refresh_from_db()
    assert esim.customer == user and card.customer == user
    no_username(page, user.username)
    screenshot(page, "signin-landed")

    # 4. The gift card is under "Gift cards"; revoke it with the one-time code by email.
    page.get_by_role("link", name="Gift cards", exact=True).first.click()
    page.wait_for_url(shop + "/account/gift-cards/")
    assert "$50.00 for Ann" in page.locator(".gc-list").inner_text()
    no_username(page, user.username)
    page.get_by_role("link", name=re.compile("Revoke and get .* from the card for Ann")).click()
    page.get_by_role("button", name="Send me a code").click()
    otp_mail = mail_to(GUEST, "is your code to revoke")
    otp = re.search(r"\b(\d{6})\b", otp_mail.body_text).group(1)
    page.get_by_label("6-digit code").fill(otp)
    page.get_by_role("button", name=re.compile("Revoke and refund")).click()
    page.wait_for_url(shop + "/account/gift-cards/")
    assert "$50.00 is on its way back" in page.locator(".messages").inner_text()
    listed = page.locator(".gc-list").inner_text()
    assert "$50.00 for Ann" in listed and "Revoked" in listed
    fits_the_screen(page)
    screenshot(page, "signin-card-revoked")
    card.refresh_from_db()
    assert card.status == Status.REVOKED

    # 5. The settings offer a password, optional; no page names the username.
    for url in ("/account/", "/account/orders/", "/account/settings/", "/accounts/email/"):
        page.goto(shop + url)
        no_username(page, user.username)
    page.goto(shop + "/account/settings/")
    assert page.get_by_role("link", name="Set a password (optional)").is_visible()
