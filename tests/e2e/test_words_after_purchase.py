"""The words after purchase (issue 21, item 8), on a phone in Chromium, with a real Celery worker on
Redis, the Roamify sandbox's fault controls and PostgreSQL.

A top-up that fails upstream, waits for staff, and is applied on their retry: every page says
"top-up", never "eSIM order"/"preparing your eSIM"/gift card dates/installation, and one "applied"
email goes. The install buttons put the phone's own platform first; the copy buttons copy.
"""

from __future__ import annotations

import time

import pytest
from django.urls import reverse

from checkout import cart, services, tasks
from checkout.models import LineKind, Order, OrderStatus
from checkout.tests.conftest import make_package
from checkout.tests.helpers import force_paid
from conftest import screenshot, wait_until
from core.models import OutboxEmail
from core.roamify_client import roamify_client
from esims.models import Esim

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("worker")]

ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0 Mobile Safari/537.36"
)
EMAIL = "mika@example.com"
NOT_FOR_TOPUPS = (
    "preparing your eSIM",
    "deliver your eSIM",
    "Your eSIM usually arrives",
    "Installation help",
    "Gift cards go to their recipients",
    "Install on iPhone",
)


def status_of(order: Order) -> str:
    order.refresh_from_db()
    return order.status


@pytest.fixture
def shop(celery_worker, live_server, settings):
    settings.SITE_URL = live_server.url
    return live_server.url


@pytest.fixture
def first_esim(shop, roamify, django_user_model):
    user = django_user_model.objects.create_user(EMAIL, EMAIL, "a long pass 123")
    package = make_package()
    order = services.place_order(cart.PricedCart([cart.CartLine(package, 1)], []), EMAIL, user)
    force_paid(order)
    wait_until(lambda: status_of(order) == OrderStatus.COMPLETED, 60, what="the first eSIM")
    esim = order.esims.get()
    Esim.objects.filter(pk=esim.pk).update(customer=user)
    esim.refresh_from_db()
    return user, order, esim


def phone_page(browser, ua: str | None = None, origin: str | None = None):
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        **({"user_agent": ua} if ua else {}),
    )
    if origin:
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=origin)
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


def words(page) -> str:
    return page.locator("main").inner_text() if page.locator("main").count() else page.inner_text("body")


def test_a_failed_then_retried_topup_says_topup_everywhere_and_emails_applied_once(
    shop, roamify, first_esim, chromium_browser
):
    user, _, esim = first_esim
    offered = [p for p in roamify_client().topup_packages(esim.iccid) if not p.is_unlimited]
    topup = make_package(
        package_id=next(p.package_id for p in offered if p.package_id != esim.package_id_upstream)
    )
    control = roamify.control
    control.inject_fault("POST", "/api/esim/order/topup", status=503, count=None)
    control.inject_fault("GET", "/api/esim/order", status=503, count=None)
    order = services.place_order(cart.PricedCart([cart.CartLine(topup, 1, esim=esim)], []), EMAIL, user)
    force_paid(order)
    wait_until(lambda: status_of(order) == OrderStatus.REQUIRES_ACTION, 120, what="the top-up to need staff")
    page = phone_page(chromium_browser, ANDROID)
    page.goto(f"{shop}{order.access_url()}")
    text = words(page)
    assert "We're sorting out your top-up" in text
    assert "will apply your top-up or refund you shortly" in text
    assert not [w for w in NOT_FOR_TOPUPS if w in text], text
    receipt = OutboxEmail.objects.get(to=EMAIL, subject=f"Receipt for order {order.number}")
    assert "we'll email you when it's applied" in receipt.body_text
    screenshot(page, "words-topup-needs-action")
    # Staff retry once upstream is back: the worker applies it.
    control.clear_faults()
    services.retry_fulfilment(order.pk, actor="staff@example.com")
    wait_until(lambda: status_of(order) == OrderStatus.COMPLETED, 60, what="the retried top-up")
    applied = f"Your top-up is applied: order {order.number}"
    wait_until(lambda: OutboxEmail.objects.filter(subject=applied).exists(), 30, what="the applied email")
    page.reload()
    text = words(page)
    assert "Your top-up is applied" in text
    assert f"was added to your eSIM {esim.iccid_masked}. Nothing to install" in text
    assert not [w for w in NOT_FOR_TOPUPS if w in text], text
    status = page.request.get(f"{shop}{reverse('checkout:order_status', args=[order.number])}").json()
    assert status["kind"] == LineKind.TOPUP
    screenshot(page, "words-topup-applied")
    # Done again (a redelivered task, the reconciler): still one "applied" email.
    tasks.fulfil_order.delay(order.pk)
    tasks.send_topup_applied.delay(order.pk)
    services.reconcile_orders()
    time.sleep(4)  # what those queued has run by now (the worker retries in about a second)
    celery_settled = OutboxEmail.objects.filter(to=EMAIL, subject=applied)
    assert celery_settled.count() == 1
    body = celery_settled.get().body_text
    assert esim.iccid_masked in body and "eSIM is ready" not in body


def test_the_phones_own_platform_first_and_copy_buttons_copy(shop, first_esim, chromium_browser):
    _, order, esim = first_esim
    url = f"{shop}{order.access_url()}"
    android = phone_page(chromium_browser, ANDROID, origin=shop)
    android.goto(url)
    buttons = android.locator(".install-buttons a")
    assert buttons.first.inner_text() == "Install on Android"
    assert buttons.nth(1).inner_text() == "Install on iPhone"
    screenshot(android, "words-install-android")
    iphone = phone_page(
        chromium_browser,
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
    )
    iphone.goto(url)
    assert iphone.locator(".install-buttons a").first.inner_text() == "Install on iPhone"
    # Copy the activation code and the SM-DP+ address: on the clipboard, "Copied" said.
    android.get_by_text("Enter the details by hand").click()
    for name, value in (
        ("Copy the activation code", esim.activation_code),
        ("Copy the SM-DP+ address", esim.smdp_address),
    ):
        button = android.get_by_role("button", name=name)
        assert button.get_attribute("data-copy") == value
        button.click()
        assert android.evaluate("navigator.clipboard.readText()") == value
        assert android.locator(".copy-status").inner_text() == "Copied"
    screenshot(android, "words-copied")
