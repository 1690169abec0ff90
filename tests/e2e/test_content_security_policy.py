"""The Content-Security-Policy breaks nothing: Chromium reports no violation on the shop's pages,
through a full purchase (Stripe's hosted page, the QR on screen), on the traveller's account pages,
on allauth's two-factor pages and in the admin.

Violations are caught twice: Chromium's own console errors ("Refused to ... Content Security
Policy") and a `securitypolicyviolation` listener added to every document by an init script.
"""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.test import Client

from accounts.services import attach_guest_purchases
from checkout.models import Order
from core.tests.staff import sign_in_staff, totp_code
from tests.e2e.test_checkout_journey import (
    EMAIL,
    ORDER_URL,
    PAID,
    fill_card,
    order_from,
    pay_button,
    to_stripe,
    wait_for_esim,
)

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("worker")]

LISTENER = """
document.addEventListener("securitypolicyviolation", function (e) {
  console.error("securitypolicyviolation: " + e.violatedDirective + " blocked " + e.blockedURI
                + " on " + document.location.href);
});
"""
PASSWORD = "a long staff password"


class Violations:
    """Every CSP (and Permissions-Policy) complaint a page's console shows, with the page's URL."""

    def __init__(self, page) -> None:
        self.found: list[str] = []
        self.pages: list[str] = []
        page.context.add_init_script(LISTENER)
        page.on("console", self._console)
        page.on("framenavigated", lambda frame: self.pages.append(frame.url))

    def _console(self, message) -> None:
        text = message.text
        if (
            "Content Security Policy" in text
            or "securitypolicyviolation" in text
            or "Permissions-Policy" in text
        ):
            self.found.append(f"{message.page.url if message.page else '?'}: {text}")

    def assert_none(self) -> None:
        assert not self.found, "\n".join(self.found)


@pytest.fixture
def shop(live_server, stripe, roamify, settings):
    settings.SITE_URL = live_server.url
    stripe.control.register_webhook(f"{live_server.url}/checkout/stripe/webhook/", stripe.webhook_secret)
    return live_server.url


def sign_in_cookie(page, base: str, client: Client) -> None:
    name = django_settings.SESSION_COOKIE_NAME
    page.context.add_cookies([{"name": name, "value": client.cookies[name].value, "url": base}])


def test_pages_and_a_full_purchase_with_no_violation(celery_worker, shop, stripe, roamify, phone):
    page, base = phone, shop
    violations = Violations(page)
    response = page.goto(base + "/")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    # The search combobox fetches suggestions (connect-src) once there is a destination.
    package = to_stripe(page, base, stripe)  # package page, add to cart, cart, Pay → Stripe's page
    fill_card(page, PAID)
    pay_button(page).click()
    page.wait_for_url(ORDER_URL)
    order = order_from(page)
    wait_for_esim(page, order)  # the page polls (order.js) and reloads with the QR
    assert page.evaluate("document.querySelector('img.esim-qr').naturalWidth") > 0

    for path in (
        "/",
        package.destination.get_absolute_url(),
        package.get_absolute_url(),
        "/cart/",
        "/destinations/",
        "/devices/",
        "/how-it-works/",
        "/gift-cards/",
        "/gift-cards/balance/",
    ):
        page.goto(base + path)
    page.goto(base + "/")
    page.locator("#site-search").press_sequentially(package.destination.name[:4], delay=30)
    page.locator("#search-suggestions [role=option]").first.wait_for(state="visible")

    # The traveller's account: eSIMs (usage bar), an eSIM, orders, a receipt (print button), settings.
    user = get_user_model().objects.create_user(EMAIL, EMAIL, PASSWORD)
    EmailAddress.objects.create(user=user, email=EMAIL, verified=True, primary=True)
    attach_guest_purchases(user, EMAIL)
    client = Client()
    client.force_login(user)
    sign_in_cookie(page, base, client)
    esim = Order.objects.get(pk=order.pk).esims.get()
    for path in (
        "/account/",
        f"/account/esims/{esim.pk}/",
        "/account/orders/",
        f"/account/orders/{order.number}/receipt/",
        "/account/settings/",
        "/account/gift-cards/",
    ):
        answer = page.goto(base + path)
        assert answer.status == 200, path
    page.goto(f"{base}/account/esims/{esim.pk}/")
    violations.assert_none()
    assert len(violations.pages) > 15


def test_two_factor_setup_and_the_admin_with_no_violation(shop, chromium_browser):
    context = chromium_browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    violations = Violations(page)
    base = shop
    staff = get_user_model().objects.create_superuser("boss", "boss@example.com", PASSWORD)
    EmailAddress.objects.create(user=staff, email=staff.email, verified=True, primary=True)

    # /admin/ → allauth's sign-in → TOTP setup (password asked again) → recovery codes → the admin.
    page.goto(base + "/admin/")
    page.wait_for_url(f"{base}/accounts/login/**")
    page.get_by_text("Sign in with a password").click()  # the code comes first since issue 21
    page.get_by_label("Email", exact=True).fill(staff.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.goto(base + "/admin/")
    page.wait_for_url(f"{base}/accounts/reauthenticate/**")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url(f"{base}/accounts/2fa/totp/activate/")
    assert page.evaluate("document.querySelector('img[src^=\"data:image/svg\"]').naturalWidth") > 0
    secret = page.get_by_label("Authenticator secret").input_value()  # what a person types into the app
    page.get_by_label("Authenticator code").fill(totp_code(secret))
    page.get_by_role("button", name="Activate").click()
    page.wait_for_url(f"{base}/accounts/2fa/recovery-codes/")
    page.goto(base + "/admin/")
    assert page.url == base + "/admin/"

    for path in (
        "/admin/checkout/order/",
        "/admin/catalog/package/",
        "/admin/giftcards/giftcard/",
        "/admin/giftcards/giftcard/add/",
        "/admin/core/auditentry/",
        "/admin/auth/user/",
        f"/admin/auth/user/{staff.pk}/change/",
        "/admin/catalog/syncrun/",
    ):
        answer = page.goto(base + path)
        assert answer.status == 200, path
    context.close()
    violations.assert_none()


def test_a_staff_cookie_from_the_test_helper_opens_the_admin(shop, chromium_browser):
    """The helper the admin tests use gives a browser the same access."""
    staff = get_user_model().objects.create_superuser("helper", "helper@example.com", PASSWORD)
    context = chromium_browser.new_context()
    page = context.new_page()
    violations = Violations(page)
    sign_in_cookie(page, shop, sign_in_staff(Client(), staff))
    assert page.goto(shop + "/admin/").status == 200 and page.url == shop + "/admin/"
    context.close()
    violations.assert_none()
