"""Usage that is true when shown, on a phone: Chromium against the live shop, a real Celery worker
on Redis sharing its cache, the Roamify sandbox, PostgreSQL.

The eSIM page stays open while the sandbox uses 300 MB; the page shows it within a minute, with no
reload (usage.js asks once the figures age past the usage cache's age, shortened here; the worker
reads the network). No usage webhook is sent: the page's own asking is what is tested.
"""

from __future__ import annotations

import re

import pytest

from accounts.tests.conftest import bought_esim, make_customer
from checkout.tests.conftest import make_package
from conftest import CeleryWorker, screenshot, worker_env

from .test_checkout_journey import fits_the_screen

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("worker")]


@pytest.fixture
def live_shop(transactional_db, postgres, redis_url, live_server, stripe, roamify, settings, tmp_path):
    from storefront.celery import app

    settings.SITE_URL = live_server.url
    settings.EMAIL_BACKEND = "core.mail.OutboxBackend"
    settings.ESIM_USAGE_FRESH_SECONDS = 5  # "a minute" of the issue, in a test's time
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
    _, esim = bought_esim(make_package(), user)
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
