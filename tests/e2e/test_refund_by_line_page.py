"""The refund page in Chromium at a desk (1280 px): a two-eSIM order paid by a gift card and a card;
staff untick one eSIM, choose gift cards first, update the preview and see the split, the data each
eSIM used and what happens to each line. One screenshot of the page.

Against the live shop, the Stripe and Roamify sandboxes and PostgreSQL.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from checkout.tests.test_refund_by_line import esim_of, two_esim_order
from conftest import screenshot
from core.money import format_money

from .test_admin_support_journey import fits, signed_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres")]


def test_refund_page_previews_the_split_of_one_line(live_server, stripe, roamify, chromium_browser):
    traveller = get_user_model().objects.create_user("tess", "tess@example.com", "pw")
    order, _ = two_esim_order(stripe, traveller)
    japan, france = order.lines.order_by("id")
    roamify.control.esim_action(esim_of(france).upstream_esim_id, "activate")
    roamify.control.esim_action(esim_of(france).upstream_esim_id, "consume", mb=300)
    base = live_server.url
    context, page = signed_in(chromium_browser, base, width=1280, height=900)
    page.goto(base + f"/admin/checkout/order/{order.pk}/refund/")
    assert "300 MB used of" in page.content()
    page.locator(f'input[name="lines"][value="esim:{esim_of(france).pk}"]').uncheck()
    page.get_by_label("Gift cards first, then the card").check()
    page.get_by_role("button", name="Update the preview").click()
    page.wait_for_load_state()
    split = page.locator(".shop-refund-split tbody tr")
    assert split.count() == 2
    assert split.nth(0).inner_text().startswith("Gift card")
    button = page.get_by_role("button", name=f"Refund {format_money(japan.total_cents)} as shown")
    assert button.is_enabled()
    fits(page, 1280)
    screenshot(page, "admin-refund-by-line-desk")
    context.close()
