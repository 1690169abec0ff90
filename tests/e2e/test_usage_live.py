"""Usage that is true when shown, on a phone: Chromium against the live shop, a real Celery worker
on Redis sharing its cache, the Roamify sandbox, PostgreSQL.

The eSIM page stays open while the sandbox uses 300 MB; the page shows it within a minute, with no
reload (usage.js asks once the figures age past the usage cache's age, shortened here; the worker
reads the network). No usage webhook is sent: the page's own asking is what is tested.
"""

from __future__ import annotations

import re

import pytest

from accounts.tests.conftest import make_customer
from checkout.models import Order, OrderStatus
from checkout.tests.conftest import make_package
from checkout.tests.helpers import paid_order
from conftest import screenshot, wait_until
from esims.models import Esim

from .test_account_journey import shop  # noqa: F401  (a fixture: the live shop and its worker)
from .test_checkout_journey import fits_the_screen

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("worker")]


@pytest.fixture
def live_shop(shop, roamify, settings):  # noqa: F811  (the imported fixture)
    """The account journey's live shop and worker (sharing its cache), the usage cache's age
    shortened, and no webhooks from Roamify: what the page asks for by itself is what is tested."""
    settings.ESIM_USAGE_FRESH_SECONDS = 5  # "a minute" of the issue, in a test's time
    roamify.control.set_webhook(None, "")
    return shop


def delivered_by_the_worker(package, user) -> Esim:
    """An eSIM bought upstream by the shop's own fulfilment, which the worker runs once it is paid."""
    order = paid_order(package, email=user.email)
    Order.objects.filter(pk=order.pk).update(customer=user)
    wait_until(
        lambda: Order.objects.get(pk=order.pk).status == OrderStatus.COMPLETED, 30, what="the eSIM delivered"
    )
    esim = Order.objects.get(pk=order.pk).esims.get()
    Esim.objects.filter(pk=esim.pk).update(customer=user)
    return esim


def signed_in(page, base: str, user) -> None:
    from django.test import Client

    client = Client()
    client.force_login(user)
    page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base}])


def figure(page, name: str) -> str:
    return page.locator(f".figures dt:text-is('{name}') + dd").inner_text()


def test_an_open_esim_page_shows_data_used_without_a_reload(live_shop, roamify, phone):
    from playwright.sync_api import expect  # here: without Playwright the `phone` fixture skips

    page = phone
    user = make_customer("mika@example.com")
    esim = delivered_by_the_worker(make_package(), user)
    signed_in(page, live_shop, user)
    page.goto(f"{live_shop}/account/esims/{esim.pk}/")
    assert figure(page, "Used") == "0 MB"
    assert page.locator("[data-read-at]").inner_text() == "Read from the network just now"
    page.evaluate("window.drawnAt = performance.timeOrigin")  # gone if the page reloads

    roamify.control.esim_action(esim.iccid, "consume", mb=300)
    # The page's CSP has no 'unsafe-eval': Playwright's expect, not wait_for_function.
    expect(page.locator(".figures dt:text-is('Used') + dd")).to_have_text("300 MB", timeout=60_000)
    assert page.evaluate("window.drawnAt") is not None  # the same page: no reload
    assert re.fullmatch(r"\d+(\.\d)? (MB|GB)", figure(page, "Left"))
    assert page.locator("[data-read-at]").inner_text() == "Read from the network just now"
    fits_the_screen(page)
    screenshot(page, "usage-updated-in-place")

    # The list asks for its bars the same way.
    page.goto(f"{live_shop}/account/")
    roamify.control.esim_action(esim.iccid, "consume", mb=200)
    card = page.locator(".esim-card").first
    left_before = card.locator(".usage-line").inner_text()
    page.wait_for_function(
        "t => document.querySelector('.esim-card .usage-line').innerText !== t",
        arg=left_before,
        timeout=60_000,
    )
    assert "left of" in card.locator(".usage-line").inner_text()
