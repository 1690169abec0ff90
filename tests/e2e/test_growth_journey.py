"""Issue 22's journey on phones: a discount code, store credit and a card on one order, then refunds
that send each part back its own way. Chromium (390 px) against the live shop, the Stripe and
Roamify sandboxes, a real Celery worker on Redis, PostgreSQL.

Staff create JAPAN10 (10 % off Japan) in the admin and see the margin it leaves before saving. A
customer with store credit lands from the newsletter, puts a Japan plan in the cart, applies the
code, uses the credit and pays the rest by card on Stripe's page. Staff refund part of the order
(the card's part and some of the credit), then the rest: Stripe refunds exactly what the card paid,
the credit comes back as credit (the account's history shows it), the discount never comes back.
The dashboard shows the sale under source "newsletter", campaign "japan".
"""

from __future__ import annotations

import re

import pytest

from checkout.models import Order, OrderStatus
from checkout.tests.conftest import make_package
from conftest import IPHONE, screenshot, wait_until
from core.models import OutboxEmail
from core.money import format_money as money
from discounts.models import DiscountCode
from payments.models import Payment
from payments.providers.stripe_api import gateway
from storecredit.selectors import statement
from storecredit.services import staff as credit_staff
from tests.e2e.test_abandoned_cart_journey import no_violations
from tests.e2e.test_checkout_journey import (
    ORDER_URL,
    PAID,
    fill_card,
    fits_the_screen,
    order_from,
    pay_button,
)
from tests.e2e.test_giftcard_journey import shop as shop  # the fixture
from tests.e2e.test_giftcard_journey import signed_in_phone

from .test_admin_support_journey import fits
from .test_admin_support_journey import signed_in as staff_signed_in

# clear_cache: the dashboard is cached for a minute, and another test in this process may have drawn it.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("worker"), pytest.mark.usefixtures("clear_cache")]

EMAIL = "kenji@example.com"
CREDIT = 300  # the customer's store credit: less than the order, so the card pays the rest


def staff_phone(browser, base: str):
    """Staff on their phone, signed in with two factors (core/tests/staff.py)."""
    size = IPHONE["viewport"]
    return staff_signed_in(browser, base, width=size["width"], height=size["height"], mobile=True)


def create_japan10(page, base: str, japan) -> DiscountCode:
    """In the admin: the code, its scope (Japan), the margin preview, then Save."""
    page.goto(base + "/admin/discounts/discountcode/add/")
    page.locator("#id_code").fill("japan10")
    page.locator("#id_description").fill("10 % off Japan this month")
    page.locator("#id_percent_off").fill("10")
    page.locator("#id_destinations").fill(str(japan.destination_id))
    page.get_by_role("button", name="Preview").click()
    preview = page.locator("#margin-preview")
    preview.locator("[data-lowest-margin]").wait_for()
    text = preview.inner_text()
    assert "lowest margin left" in text and japan.name in text, text
    screenshot(page, "growth-admin-code-preview")
    page.locator("input[name=_save]").click()
    page.wait_for_url(base + "/admin/discounts/discountcode/")
    code = DiscountCode.objects.get(code="JAPAN10")
    assert code.percent_off == 10 and list(code.destinations.all()) == [japan.destination]
    return code


def refund(page, base: str, order: Order, reason: str, shot: str, *, goodwill: int | None = None) -> dict:
    """The admin's refund page: the order's line (ticked as the page opens) or, with `goodwill`, that
    amount alone; the preview of where the money goes, then Refund. Returns the split the page
    showed: each payment's label and what this refund gives back to it."""
    page.goto(base + f"/admin/checkout/order/{order.pk}/refund/")
    if goodwill is not None:
        page.locator('input[name="lines"]').uncheck()
        page.get_by_label("Goodwill amount").fill(f"{goodwill / 100:.2f}")
    page.get_by_role("button", name="Update the preview").click()
    page.wait_for_load_state()
    rows = page.locator(".shop-refund-split tbody tr")
    split = {
        row.locator("td").nth(0).inner_text(): row.locator("td").nth(3).inner_text() for row in rows.all()
    }
    page.get_by_label("Reason").fill(reason)
    fits(page, IPHONE["viewport"]["width"])
    screenshot(page, shot)
    button = page.get_by_role("button", name=re.compile(r"^Refund \$[\d.]+ as shown$"))
    amount = re.search(r"\$[\d.]+", button.inner_text())[0]
    button.click()
    # Back to the same page, read again, with what was done.
    assert f"Refunded {amount}" in page.locator(".messagelist").inner_text()
    return split


def test_code_credit_and_card_on_one_order_then_each_part_goes_back_its_way(
    celery_worker, shop, stripe, roamify, chromium_browser
):
    from accounts.tests.conftest import make_customer

    japan = make_package("JP")
    staff_context, admin = staff_phone(chromium_browser, shop)

    # 1. Staff create JAPAN10 in the admin, the margin preview first.
    code = create_japan10(admin, shop, japan)

    # 2. A customer with store credit (a staff adjustment) lands from the newsletter.
    kenji = make_customer(EMAIL)
    credit_staff.adjust(kenji, CREDIT, reason="Sorry for the slow support", actor="support@example.com")
    page = signed_in_phone(chromium_browser, shop, kenji)
    page.goto(shop + "/?utm_source=newsletter&utm_campaign=japan")
    page.goto(shop + japan.get_absolute_url())
    page.get_by_role("button", name="Add to cart").click()
    page.wait_for_url(shop + "/cart/")
    page.get_by_role("textbox", name="Discount code").fill("japan10")
    page.locator("[data-discount]").get_by_role("button", name="Apply").click()
    page.wait_for_url(shop + "/cart/")
    discount_line = page.locator("[data-discount-line]").inner_text()
    cut = round(japan.retail_cents * code.percent_off / 100)
    assert "Discount (JAPAN10)" in discount_line and f"−{money(cut)}" in discount_line, discount_line
    total = japan.retail_cents - cut
    page.get_by_role("button", name=f"Use my store credit ({money(CREDIT)} available)").click()
    page.wait_for_url(shop + "/cart/")
    assert page.locator("[data-credit-used]").inner_text() == f"−{money(CREDIT)}"
    card = total - CREDIT
    assert money(card) in page.locator(".gc-total").inner_text()
    assert page.get_by_label("Email").input_value() == EMAIL
    fits_the_screen(page)
    no_violations(page)
    screenshot(page, "growth-cart-code-and-credit")
    page.get_by_role("button", name=f"Pay {money(card)} securely").click()
    page.wait_for_url(stripe.base_url + "/pay/*")
    assert money(card) in page.locator(".total").inner_text()
    fill_card(page, PAID, name="Kenji Sato")
    fits_the_screen(page)
    screenshot(page, "growth-stripe-amount")
    pay_button(page).click()
    page.wait_for_url(ORDER_URL)
    order = order_from(page)
    page.get_by_role("heading", name="Your eSIM is ready").wait_for(timeout=45_000)
    page.locator("img.esim-qr").wait_for()
    screenshot(page, "growth-esim")

    # 3. The money: list price − discount = what was sold = credit + card; the receipt says so.
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED and order.customer == kenji
    assert (order.discount_code, order.discount_cents, order.total_cents) == (code, cut, total)
    assert (order.utm_source, order.utm_campaign) == ("newsletter", "japan")
    paid = {p.provider: p for p in order.payments.filter(status=Payment.Status.CAPTURED)}
    assert {k: p.amount_cents for k, p in paid.items()} == {"storecredit": CREDIT, "stripe": card}
    assert sum(line.total_cents + line.discount_cents for line in order.lines.all()) == japan.retail_cents
    receipt = wait_until(
        lambda: OutboxEmail.objects.filter(to=EMAIL, subject=f"Receipt for order {order.number}").first(),
        45,
        what="the receipt",
    )
    assert f"Discount (JAPAN10): −{money(cut)}" in receipt.body_text, receipt.body_text

    # 4. A partial refund: the card's whole part and a dollar of the credit. The page shows each
    #    part's destination (the card first, store credit last: it is not cash).
    part = card + 100
    shown = refund(admin, shop, order, "The network was slow in Osaka", "growth-refund-page", goodwill=part)
    assert shown == {"Card (Stripe)": money(card), "Store credit (back as credit)": money(100)}, shown
    stripe_refunds = gateway().client.v1.refunds.list(
        params={"payment_intent": paid["stripe"].capture_reference}
    )
    assert [r.amount for r in stripe_refunds.data] == [card]
    assert credit_balance(kenji) == 100

    page.goto(shop + "/account/credit/")
    history = page.locator("[aria-label='Store credit history']").inner_text()
    assert f"Refund of order {order.number}, as credit" in history and f"+{money(100)}" in history, history
    assert page.locator("[data-credit-balance]").inner_text() == money(100)
    fits_the_screen(page)
    tab = page.locator(".account-tabs a[aria-current=page]").bounding_box()  # not scrolled out of sight
    assert tab["x"] >= 0 and tab["x"] + tab["width"] <= IPHONE["viewport"]["width"], tab
    screenshot(page, "growth-credit-history")

    # The rest, by the line (the eSIM was never installed): all of it back as credit; the card got
    # back what it paid; the discount never comes back.
    left = total - part
    shown = refund(admin, shop, order, "Not travelling after all", "growth-refund-rest")
    assert shown == {"Card (Stripe)": money(0), "Store credit (back as credit)": money(left)}, shown
    for p in paid.values():
        p.refresh_from_db()
    assert (paid["stripe"].refunded_cents, paid["storecredit"].refunded_cents) == (card, CREDIT)
    stripe_refunds = gateway().client.v1.refunds.list(
        params={"payment_intent": paid["stripe"].capture_reference}
    )
    assert sum(r.amount for r in stripe_refunds.data) == card
    assert credit_balance(kenji) == CREDIT
    refunded = sum(p.refunded_cents for p in paid.values())
    assert refunded == total == japan.retail_cents - cut  # the discount is not given back
    page.goto(shop + "/account/credit/")
    assert page.locator("[data-credit-balance]").inner_text() == money(CREDIT)
    assert page.get_by_text(f"Refund of order {order.number}, as credit").count() == 2

    # 5. The dashboard: the sale under its source, its campaign and its code. Sales there are at list
    # price (the books' gross sales; the discount is a line of its own).
    admin.goto(shop + "/admin/")
    source = admin.locator('[data-figure="source:newsletter:today-orders"]')
    assert source.inner_text() == "1"
    assert admin.locator('[data-figure="campaign:japan:today-orders"]').inner_text() == "1"
    assert admin.locator('[data-figure="source:newsletter:today-sales"]').inner_text() == money(
        japan.retail_cents
    )
    assert "JAPAN10" in admin.locator("#sales-by-code").locator("..").inner_text()
    source.scroll_into_view_if_needed()
    screenshot(admin, "growth-dashboard")
    staff_context.close()
    page.context.close()


def credit_balance(user) -> int:
    return statement(user).balance_cents
