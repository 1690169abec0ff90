"""The books on the admin dashboard, in Chromium at a desk (1280 px): the six days of
checkout/tests/test_books.py (discounts and store credit too) in a chosen date range, fitting the
window. One screenshot."""

from __future__ import annotations

import datetime as dt

import pytest

from checkout.tests.test_books import NOW, shop  # noqa: F401 (the fixture)
from conftest import screenshot
from tests.e2e.test_admin_support_journey import fits, signed_in

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("postgres", "clear_cache")]


def test_the_books_in_a_chosen_range(shop, live_server, chromium_browser):  # noqa: F811
    base = live_server.url
    context, page = signed_in(chromium_browser, base, width=1280, height=900)
    first, last = NOW.date() - dt.timedelta(days=6), NOW.date()
    page.goto(f"{base}/admin/")
    page.fill("#dash-start", str(first))
    page.fill("#dash-end", str(last))
    page.click("form.shop-range input[type=submit]")
    page.wait_for_selector('[data-figure="custom-margin"]')
    assert page.inner_text('[data-figure="custom-net"]') == "$77.94"
    assert page.inner_text('[data-figure="custom-discounts"]') == "$2.00"
    assert page.inner_text('[data-figure="custom-margin"]') == "$20.72 (26.6%)"
    assert page.inner_text('[data-figure="custom-liability"]') == "$37.01"
    assert page.inner_text('[data-figure="custom-credit-liability"]') == "$2.00"
    assert page.inner_text('[data-figure="code:JAPAN10:custom-sales"]') == "$20.00"
    assert "eSIM was installed" in page.inner_text("#shop-dashboard")
    fits(page, 1280)
    screenshot(page, "admin-books-dashboard")
    # A bad date says so.
    page.goto(f"{base}/admin/?start=2026-02-31&end={last}")
    assert "Enter the first day as a date" in page.inner_text("#range-errors")
    context.close()
