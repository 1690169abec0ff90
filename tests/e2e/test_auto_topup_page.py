"""Automatic top-up on the eSIM's page, on a phone: Chromium against the live shop, the Roamify
sandbox for the eSIM and its top-ups, PostgreSQL. Turn it on with a saved card; one tap turns it off."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.test import Client

from checkout.models import AutoTopup
from checkout.tests.test_auto_topup import bought_esim, saved_card, shop, user  # noqa: F401 (fixtures)
from conftest import screenshot

from .test_checkout_journey import fits_the_screen

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("worker")]


def test_turn_automatic_top_up_on_and_off_on_a_phone(shop, user, phone):  # noqa: F811
    esim, topup = bought_esim(user)
    saved_card(user)
    client = Client()
    client.force_login(user)
    name = django_settings.SESSION_COOKIE_NAME
    phone.context.add_cookies([{"name": name, "url": shop, "value": client.cookies[name].value}])
    page = phone
    page.goto(f"{shop}/account/esims/{esim.pk}/")
    section = page.locator("#auto-topup")
    section.get_by_label("Top-up to buy").select_option(topup.package_id)
    section.get_by_label("When data left is below (MB)").fill("300")
    section.get_by_label("At most, top-ups a month").fill("2")
    section.get_by_label("At most, spent a month (USD)").fill("40")
    fits_the_screen(page)
    screenshot(page, "auto-topup-form")
    section.get_by_role("button", name="Turn on automatic top-up").click()
    page.wait_for_url(f"**/account/esims/{esim.pk}/#auto-topup")
    assert "Buys" in section.inner_text() and "300 MB" in section.inner_text()
    rule = AutoTopup.objects.get(esim=esim)
    assert (
        rule.running and rule.package == topup and rule.max_cents_per_month == 4000 and rule.below_mb == 300
    )
    fits_the_screen(page)
    screenshot(page, "auto-topup-on")

    section.get_by_role("button", name="Turn off automatic top-up").click()  # one tap
    page.wait_for_url(f"**/account/esims/{esim.pk}/#auto-topup")
    assert not AutoTopup.objects.get(esim=esim).enabled
    assert section.get_by_role("button", name="Turn on automatic top-up").is_visible()
    screenshot(page, "auto-topup-off")
