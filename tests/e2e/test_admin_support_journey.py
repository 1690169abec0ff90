"""Support in the admin, in Chromium at a desk (1280 px): find an order by ICCID, retry with a
warning at low partner balance, resend, refund with a reason. Click counts are pinned.

Before this admin (list actions): find by ICCID 3 clicks; retry 3 (tick, choose action, Go) with no
warning; resend 3 with no word of the last send; refund 3 with no amount, reason or confirmation.
After: find 1; retry 2; resend 2; refund 2 (3 when an eSIM is installed: the second confirmation).

Against the live shop, a real Celery worker, the Roamify sandbox upstream and PostgreSQL.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from checkout.models import Order, OrderStatus
from checkout.tests.conftest import make_package
from checkout.tests.helpers import paid_order
from conftest import screenshot, wait_until
from core.tests.staff import sign_in_staff

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("worker")]


class Clicks:
    def __init__(self, page) -> None:
        self.page, self.count = page, 0

    def tap(self, locator) -> None:
        self.count += 1
        locator.click()


def signed_in(browser, base: str, *, width: int, height: int, mobile: bool = False):
    user = get_user_model().objects.filter(
        username="support@example.com"
    ).first() or get_user_model().objects.create_superuser("support@example.com", "support@example.com", "pw")
    client = Client()
    sign_in_staff(client, user)
    context = browser.new_context(
        viewport={"width": width, "height": height},
        is_mobile=mobile,
        has_touch=mobile,
        device_scale_factor=2 if mobile else 1,
    )
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base}])
    page = context.new_page()
    page.set_default_timeout(15_000)
    return context, page


def fits(page, width: int) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth") - width
    assert overflow <= 0, f"{page.url} is {overflow}px wider than the window"


def test_support_journey(celery_worker, live_server, roamify, chromium_browser, settings):
    settings.SITE_URL = live_server.url
    package = make_package()
    # Paying queues fulfilment, and the worker fulfils and emails (the test does not race it).
    done = paid_order(package, email="traveller@example.com")
    wait_until(
        lambda: Order.objects.filter(pk=done.pk, esim_email_sent_at__isnull=False).exists(),
        60,
        what="the first order completed and emailed",
    )
    done.refresh_from_db()
    esim = done.esims.get()
    roamify.control.set_balance(2)
    stuck = paid_order(package, email="stuck@example.com")
    wait_until(
        lambda: Order.objects.get(pk=stuck.pk).status == OrderStatus.REQUIRES_ACTION,
        60,
        what="the second order refused for the balance",
    )
    stuck.refresh_from_db()

    base = live_server.url
    context, page = signed_in(chromium_browser, base, width=1280, height=900)
    clicks = Clicks(page)

    # 1. Find the order by the end of its ICCID: one click, straight to the order.
    page.goto(base + "/admin/")
    page.get_by_label("Find an order").fill(esim.iccid[-8:])
    clicks.tap(page.get_by_role("button", name="Find"))
    page.wait_for_url(f"**/admin/checkout/order/{done.pk}/change/")
    assert clicks.count == 1
    assert esim.iccid in page.content()
    fits(page, 1280)

    # 2. Retry at low balance: the warning has the figures; confirmed, the worker tries and fails again.
    clicks.count = 0
    page.goto(base + f"/admin/checkout/order/{stuck.pk}/change/")
    clicks.tap(page.get_by_role("link", name="Retry fulfilment…"))
    warning = page.get_by_role("alert")
    assert "cannot pay for this order" in warning.inner_text() and "$2.00" in warning.inner_text()
    clicks.tap(page.get_by_role("button", name="Retry anyway"))
    page.wait_for_url(f"**/admin/checkout/order/{stuck.pk}/change/")
    assert clicks.count == 2
    assert stuck.events.filter(kind="status", to_status="fulfilling", actor="support@example.com").exists()
    wait_until(
        lambda: stuck.events.filter(to_status="requires_action").count() == 2,
        30,
        what="the retried order back in requires_action",
    )

    # 3. Resend: the page says when it was last sent, then sends on confirmation.
    clicks.count = 0
    page.goto(base + f"/admin/checkout/order/{done.pk}/change/")
    clicks.tap(page.get_by_role("link", name="Resend eSIM email…"))
    assert "Last sent" in page.get_by_role("alert").inner_text()
    clicks.tap(page.get_by_role("button", name="Send it again"))
    page.wait_for_url(f"**/admin/checkout/order/{done.pk}/change/")
    assert clicks.count == 2
    resent = done.events.filter(kind="email", message__startswith="Resent", actor="support@example.com")
    assert resent.exists()

    # 4. Refund with a reason: the uninstalled eSIM's cost is claimed back from Roamify.
    clicks.count = 0
    clicks.tap(page.get_by_role("link", name="Refund…"))
    assert "cost claimed back from Roamify" in page.content()
    page.get_by_label("Reason").fill("Trip cancelled")
    clicks.tap(page.get_by_role("button", name=re.compile(r"^Refund .* as shown$")))
    # The refund page again, read anew: its figures are the new ones at once.
    page.wait_for_url(f"**/admin/checkout/order/{done.pk}/refund/")
    assert clicks.count == 2
    assert "1 eSIM cost claim(s) filed with Roamify" in page.content()
    assert "Left to refund: <strong>$0.00</strong>" in page.content()
    page.goto(base + f"/admin/checkout/order/{done.pk}/change/")
    done.refresh_from_db()
    assert done.status == OrderStatus.REFUNDED
    assert [r["esimId"] for r in roamify.control.refunds()] == [esim.upstream_esim_id]
    assert "Cost claimed back from Roamify" in page.content() and "Waiting for Roamify" in page.content()
    fits(page, 1280)
    assert page.evaluate(
        "[...document.querySelectorAll('.inline-group .tabular')]"
        ".every(t => t.scrollWidth <= t.clientWidth + 1)"
    )  # the timeline is not cut off
    screenshot(page, "admin-order-refunded-desk")
    page.goto(base + "/admin/checkout/order/?view=all")  # the list fits a desk's screen too
    assert page.locator("#result_list tbody tr").count() == 2
    fits(page, 1280)
    # No column cut off: the results table does not scroll inside its box.
    assert page.evaluate(
        "(() => { const r = document.querySelector('.results'); return r.scrollWidth <= r.clientWidth; })()"
    )
    screenshot(page, "admin-order-list-desk")
    context.close()

    # Each new page on a phone, for a look.
    context, phone = signed_in(chromium_browser, base, width=390, height=844, mobile=True)
    for name, path in (
        ("admin-dashboard", "/admin/"),
        ("admin-order", f"/admin/checkout/order/{stuck.pk}/change/"),
        ("admin-retry", f"/admin/checkout/order/{stuck.pk}/retry/"),
        ("admin-resend", f"/admin/checkout/order/{done.pk}/resend/"),
        ("admin-refund", f"/admin/checkout/order/{stuck.pk}/refund/"),
        ("admin-customers", "/admin/checkout/customer/"),
        ("admin-audit-log", "/admin/core/auditentry/"),
    ):
        phone.goto(base + path)
        assert phone.locator("#site-name").inner_text().startswith(settings.SHOP_NAME)
        screenshot(phone, name)
    context.close()
