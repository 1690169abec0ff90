"""The traveller's account on a phone: Chromium against the live shop, a real Celery worker on
Redis, the Roamify and Stripe sandboxes, PostgreSQL.

Buy an eSIM as a guest, sign up with the same email (no password) and verify it through the emailed link,
find the eSIM in the account, use data upstream and see it after a refresh, buy a top-up with
4242 and see the allowance grow. Then: the low-data webhook, its email and its signed link.
"""

from __future__ import annotations

import re
import time
from unittest import mock

import pytest

from checkout.models import LineKind, Order, OrderStatus
from checkout.tests.conftest import make_package
from conftest import CeleryWorker, screenshot, wait_until, worker_env
from core.models import OutboxEmail
from core.roamify_client import roamify_client
from esims.models import Esim, LowDataAlert, RoamifyEvent

from .test_checkout_journey import (
    EMAIL,
    PAID,
    fill_card,
    fits_the_screen,
    order_from,
    pay_button,
    to_stripe,
    wait_for_esim,
)

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("worker")]
SECRET = "whsec_roamify_e2e"


@pytest.fixture
def shop(transactional_db, postgres, redis_url, live_server, stripe, roamify, settings, tmp_path):
    """The live shop and a Celery worker sharing its cache, both sandboxes sending webhooks to it."""
    from storefront.celery import app

    settings.SITE_URL = live_server.url
    settings.ROAMIFY_WEBHOOK_SECRET = SECRET
    settings.EMAIL_BACKEND = "core.mail.OutboxBackend"
    settings.ROAMIFY_INSTANT_ORDER_TIMEOUT = 3.0
    settings.ROAMIFY_RETRY_BACKOFF = 0.05
    stripe.control.register_webhook(f"{live_server.url}/checkout/stripe/webhook/", stripe.webhook_secret)
    roamify.control.set_webhook(f"{live_server.url}/roamify/webhook/", SECRET)
    cache = settings.CACHES["default"]
    env = {
        **worker_env(roamify, stripe, live_server.url),
        "CACHE_REDIS_URL": cache["LOCATION"],
        "TEST_CACHE_KEY_PREFIX": cache["KEY_PREFIX"],
    }
    app.control.purge()
    worker = CeleryWorker(env, tmp_path / "worker.log")
    worker.start()
    yield live_server.url
    worker.stop()


def figure(page, name: str) -> str:
    return page.locator(f".figures dt:text-is('{name}') + dd").inner_text()


def mb(text: str) -> float:
    number, unit = text.split()
    return float(number) * (1024 if unit == "GB" else 1)


def test_guest_buys_signs_up_sees_usage_and_tops_up(shop, stripe, roamify, phone):
    page = phone
    # 1. Buy an eSIM as a guest.
    to_stripe(page, shop, stripe)
    fill_card(page, PAID)
    pay_button(page).click()
    page.wait_for_url(re.compile(r"/orders/"))
    first = order_from(page)
    wait_for_esim(page, first)
    esim = first.esims.get()
    assert esim.customer is None
    topup_id = next(
        p.package_id
        for p in roamify_client().topup_packages(esim.iccid)
        if p.package_id != esim.package_id_upstream and not p.is_unlimited
    )
    topup = make_package(package_id=topup_id)

    # 2. Sign up with the same email; verify it through the emailed link.
    page.goto(shop + "/accounts/signup/")
    page.locator("input[name=email]").fill(EMAIL)  # the email alone since issue 21 (no password)
    fits_the_screen(page)
    screenshot(page, "account-signup")
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url(shop + "/accounts/confirm-email/")
    mail = wait_until(
        lambda: OutboxEmail.objects.filter(to=EMAIL, subject__contains="Confirm").first(),
        10,
        what="the confirmation email",
    )
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", mail.body_text)[0]
    page.goto(link)
    page.get_by_role("button", name="Confirm").click()

    # 3. The eSIM is in the account.
    page.wait_for_url(shop + "/account/")
    assert page.locator("h1").inner_text() == "My eSIMs"
    card = page.locator(".esim-card")
    assert card.count() == 1 and esim.iccid[-4:] in card.inner_text()
    fits_the_screen(page)
    screenshot(page, "account-esims")
    card.click()
    page.wait_for_url(shop + f"/account/esims/{esim.pk}/")
    assert figure(page, "Used") == "0 MB"
    allowance = mb(figure(page, "Plan"))

    # 4. Use data upstream; a refresh shows it.
    roamify.control.esim_action(esim.iccid, "consume", mb=300)
    page.get_by_role("button", name="Refresh").click()
    page.wait_for_url(re.compile(r"#usage$"))
    assert figure(page, "Used") == "300 MB"
    assert page.locator(".usage-chart svg rect").count() >= 1
    fits_the_screen(page)
    screenshot(page, "account-esim")

    # 5. Buy a top-up with 4242; the allowance grows.
    add = f"Add the {topup.data_label}, {topup.days}-day top-up to your cart"
    button = page.get_by_role("button", name=add)
    if not button.is_visible():  # past the first few, the top-ups fold away
        page.get_by_text(re.compile(r"^All \d+ top-ups$")).click()
    button.click()
    page.wait_for_url(shop + "/cart/")
    assert "Top-up" in page.locator("[aria-label='Cart items']").inner_text()
    screenshot(page, "account-topup-cart")
    page.get_by_role("button", name=re.compile(r"^Pay \$")).click()
    page.wait_for_url(stripe.base_url + "/pay/*")
    fill_card(page, PAID)
    pay_button(page).click()
    page.wait_for_url(re.compile(r"/orders/"))
    second = order_from(page)
    assert second.lines.get().kind == LineKind.TOPUP
    wait_until(
        lambda: Order.objects.get(pk=second.pk).status == OrderStatus.COMPLETED,
        60,
        what="the top-up fulfilled",
    )
    assert [o["kind"] for o in roamify.control.ledger()] == ["instant", "topup"]
    page.goto(shop + f"/account/esims/{esim.pk}/")
    assert mb(figure(page, "Plan")) == allowance + topup.data_mb
    assert topup.name in page.locator("#history").inner_text()
    fits_the_screen(page)
    screenshot(page, "account-esim-topped-up")
    page.goto(shop + "/account/orders/")
    orders = page.locator("main").inner_text()
    assert first.number in orders and second.number in orders
    screenshot(page, "account-orders")
    page.goto(shop + f"/account/orders/{second.number}/receipt/")
    assert "Receipt" in page.locator("h1").inner_text()
    screenshot(page, "account-receipt")


def low_data_emails():
    return OutboxEmail.objects.filter(subject__contains="data").exclude(
        subject__startswith="Your eSIM is ready"
    )


def usage_processed(iccid: str, at_least: float) -> bool:
    """A usage webhook of the eSIM reporting at least this percent used has been acted on."""
    for event in RoamifyEvent.objects.filter(iccid=iccid, event_type="usage", processed_at__isnull=False):
        usage = event.payload["data"]["usage_data"]
        if 100 * (1 - usage["remaining_data"] / usage["allowed_data"]) >= at_least - 0.5:
            return True
    return False


def test_low_data_webhook_email_and_its_signed_link(shop, roamify, phone):
    from checkout.tests.helpers import paid_order

    package = make_package()
    order = paid_order(package, email="lowdata@example.com")  # the worker fulfils it
    wait_until(
        lambda: Order.objects.get(pk=order.pk).status == OrderStatus.COMPLETED, 60, what="the order fulfilled"
    )
    esim = Esim.objects.get(order_lines__order=order)
    make_package(
        package_id=next(
            p.package_id
            for p in roamify_client().topup_packages(esim.iccid)
            if p.package_id != package.package_id
        )
    )

    roamify.control.esim_action(esim.iccid, "consume", mb=package.data_mb * 0.85)
    mail = wait_until(lambda: low_data_emails().first(), 30, what="the low-data email")
    assert mail.to == "lowdata@example.com" and "80%" in mail.subject
    roamify.control.esim_action(esim.iccid, "consume", mb=package.data_mb * 0.07)  # 92 %: no new email
    # Wait for the shop to have acted on that usage webhook (not for a while): an email it
    # would send is queued in the same transaction as its alert, so no new alert, no email.
    wait_until(lambda: usage_processed(esim.iccid, at_least=92), 30, what="the 92 % usage webhook processed")
    assert list(
        LowDataAlert.objects.filter(esim=esim, skipped=False).values_list("threshold", flat=True)
    ) == [80]
    assert low_data_emails().count() == 1
    assert all(d["delivered"] for d in roamify.control.webhook_deliveries())

    link = re.search(r"https?://\S+/esim/top-up/\S+/", mail.body_text)[0]
    page = phone
    page.goto(link)  # no sign-in
    assert page.locator("h1").inner_text() == "Top up your eSIM"
    assert page.locator(".topup").count() >= 1
    assert esim.iccid not in page.content()
    fits_the_screen(page)
    screenshot(page, "account-signed-topups")

    page.goto(link[:-8] + ("A" * 7) + "/")
    assert page.locator("h1").inner_text() == "This link is not valid."
    later = time.time() + 8 * 86400
    with mock.patch("django.core.signing.time.time", return_value=later):
        page.goto(link)
        assert page.locator("h1").inner_text() == "This link has expired."
