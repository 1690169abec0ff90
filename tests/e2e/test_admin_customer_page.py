"""The customer's page in admin, in Chromium at a desk (1280 px): a guest's gift card bought and spent,
and a refund, in money, with nothing cut off. Takes test-artifacts/admin-customer-page.png."""

from __future__ import annotations

import pytest
from django.test import Client

from checkout.tests.conftest import make_package
from checkout.tests.test_admin_customer_view import guest_story
from conftest import screenshot
from core.tests.staff import sign_in_staff

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres")]


def test_customer_page_in_chromium(roamify, live_server, chromium_browser):
    story = guest_story(make_package())
    client = sign_in_staff(Client(), story.staff_user)
    context = chromium_browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto(f"{live_server.url}/admin/checkout/customer/{story.customer.pk}/change/")
        for heading in ("Gift cards bought", "Gift cards spent", "Refunds"):
            assert page.get_by_role("heading", name=heading).is_visible()
        tables = page.locator("div.readonly table")
        assert tables.count() == 3
        text = page.locator("#content").inner_text()
        assert f"…{story.card.last_characters}" in text and "$50.00" in text and "$4.01" in text
        assert "One day unused" in text and "boss@example.com" in text
        overflow = page.evaluate("document.documentElement.scrollWidth") - 1280
        assert overflow <= 0, f"the customer page is {overflow}px wider than the window"
        screenshot(page, "admin-customer-page")
    finally:
        context.close()
