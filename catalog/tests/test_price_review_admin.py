"""The price review in admin, in Chromium at a desk (1280 px): the list of packages a sync held for
review, and the one-click Approve that puts the new price live (audited)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from catalog.models import Package
from catalog.selectors import packages_awaiting_price_review, price_review_admin_url
from conftest import screenshot
from core.models import AuditEntry
from core.tests.staff import sign_in_staff

from .factories import DestinationFactory, PackageFactory

pytestmark = pytest.mark.e2e


def test_staff_approve_a_held_price_rise_in_one_click(live_server, chromium_browser, postgres):
    japan = DestinationFactory(name="Japan", code="JP", slug="japan")
    now = timezone.now()
    # As a sync leaves them: the cost rose 50 % (6.99 kept, 9.99 proposed, under cost + margin so
    # not sold) and 20 % (28.99 kept and still sold, 34.99 proposed).
    held = PackageFactory(
        destination=japan,
        package_id="esim-japan-7days-1gb-all",
        wholesale_cents=693,
        retail_cents=699,
        proposed_retail_cents=999,
        proposed_at=now,
        held_for_review=True,
    )
    PackageFactory(
        destination=japan,
        package_id="esim-japan-30days-10gb-all",
        name="10 GB - 30 Days",
        days=30,
        data_mb=10240,
        wholesale_cents=2520,
        retail_cents=2899,
        proposed_retail_cents=3499,
        proposed_at=now,
    )
    PackageFactory(destination=japan, package_id="esim-japan-1days-1gb-all", retail_cents=699)
    user = get_user_model().objects.create_superuser("owner@example.com", "owner@example.com", "pw")
    client = sign_in_staff(Client(), user)
    context = chromium_browser.new_context(viewport={"width": 1280, "height": 800})
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto(live_server.url + price_review_admin_url())
        rows = page.locator("#result_list tbody tr")
        assert rows.count() == 2
        held_row = rows.filter(has_text="esim-japan-7days-1gb-all")
        assert "$9.99 +43%" in held_row.inner_text() and "not sold" in held_row.inner_text()
        results = page.locator(".results")
        assert results.evaluate("r => r.scrollWidth <= r.clientWidth"), "the list is cut off at 1280 px"
        screenshot(page, "admin-price-review-list")

        held_row.get_by_role("button", name="Approve").click()  # one click
        page.wait_for_url("**" + price_review_admin_url())
        assert "Approved 1: esim-japan-7days-1gb-all at $9.99." in page.content()
        assert page.locator("#result_list tbody tr").count() == 1
    finally:
        context.close()
    held.refresh_from_db()
    assert (held.retail_cents, held.proposed_retail_cents, held.held_for_review) == (999, None, False)
    assert held in Package.objects.active()
    entry = AuditEntry.objects.get(action="package.price_rise_approved")
    assert entry.actor == "owner@example.com" and entry.target_id == str(held.pk)
    assert packages_awaiting_price_review().count() == 1
