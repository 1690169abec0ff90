"""Save a card at the first purchase, then top up from the low-data email's link in one tap: Chromium
on a phone against the live shop, a real Celery worker, the Stripe and Roamify sandboxes, PostgreSQL.

The same with a card whose bank asks for 3D Secure every time: the one tap goes to Stripe Checkout
for the same order, and ends the same way. Taps for a top-up, counted: typed card (cart + Stripe's
page) against the saved card's one tap and its one confirmation.
"""

from __future__ import annotations

import re

import pytest

from checkout.models import LineKind, Order, OrderStatus
from checkout.tests.conftest import make_package
from conftest import screenshot, wait_until
from core.roamify_client import roamify_client
from esims.models import Esim
from payments.models import SavedCard

from .test_account_journey import figure, low_data_emails, mb, shop  # noqa: F401 (the fixture)
from .test_checkout_journey import ORDER_URL, fill_card, fits_the_screen, order_from, pay_button

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("worker")]

EMAIL = "mika@example.com"
VISA = "4242 4242 4242 4242"
ALWAYS_3DS = "4000 0027 6000 3184"


def signed_in(page, client, base: str):
    """Mika, with an account (signing in itself is the sign-in pages' own journey)."""
    from accounts.tests.conftest import make_customer

    user = make_customer(EMAIL)
    client.force_login(user)
    page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base}])
    return user


def first_purchase_saving_the_card(page, base: str, stripe, card: str) -> Esim:
    package = make_package()
    page.goto(base + package.get_absolute_url())
    page.get_by_role("button", name="Add to cart").click()
    page.wait_for_url(base + "/cart/")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Save this card for next time").check()
    fits_the_screen(page)
    screenshot(page, "one-tap-save-card")
    page.get_by_role("button", name=re.compile(r"^Pay \$")).click()
    page.wait_for_url(stripe.base_url + "/pay/*")
    page.get_by_label("Email", exact=True).fill(EMAIL)
    fill_card(page, card)
    pay_button(page).click()
    if card == ALWAYS_3DS:
        page.get_by_role("button", name="Complete authentication").click()
    page.wait_for_url(ORDER_URL)
    order = order_from(page)
    wait_until(lambda: Order.objects.get(pk=order.pk).status == OrderStatus.COMPLETED, 60, what="the eSIM")
    wait_until(lambda: SavedCard.objects.filter(user__email=EMAIL).exists(), 30, what="the card saved")
    return order.esims.get()


def low_data_link(esim: Esim, roamify) -> tuple[str, object]:
    """Data runs low upstream: the email's signed top-up link, and a top-up upstream takes."""
    offered = [p for p in roamify_client().topup_packages(esim.iccid) if not p.is_unlimited]
    topup = make_package(
        package_id=next(p.package_id for p in offered if p.package_id != esim.package_id_upstream)
    )
    plan = esim.order_lines.get().package
    roamify.control.esim_action(esim.iccid, "consume", mb=plan.data_mb * 0.85)
    mail = wait_until(lambda: low_data_emails().filter(to=EMAIL).first(), 30, what="the low-data email")
    return re.search(r"https?://\S+/esim/top-up/\S+/", mail.body_text)[0], topup


def one_tap(page, link: str, topup) -> int:
    """From the email's link: "Buy with •••• NNNN", then its one confirmation. Returns the taps."""
    page.goto(link)
    item = page.locator(".topup", has=page.locator(f"input[name=package][value='{topup.package_id}']"))
    if not item.first.is_visible():  # past the first few, the top-ups fold away (not a purchase tap)
        page.get_by_text(re.compile(r"^All \d+ top-ups$")).click()
    buy = item.first.get_by_text(re.compile(r"^Buy with •••• \d{4}$"))
    buy.click()
    confirm = item.first.get_by_role("button", name="Confirm and pay")
    fits_the_screen(page)
    screenshot(page, "one-tap-confirm")
    confirm.click()
    return 2


def bought_and_running_low(page, client, base: str, stripe, roamify, card: str):
    """Mika signs in, buys an eSIM saving the card, and data runs low: (eSIM, its plan's MB, the
    low-data email's link, a top-up)."""
    signed_in(page, client, base)
    esim = first_purchase_saving_the_card(page, base, stripe, card)
    page.goto(base + f"/account/esims/{esim.pk}/")
    before = mb(figure(page, "Plan"))
    link, topup = low_data_link(esim, roamify)
    return esim, before, link, topup


def allowance_grew(page, base: str, esim: Esim, before: float, topup) -> None:
    order = Order.objects.filter(lines__esim=esim, lines__kind=LineKind.TOPUP).get()
    wait_until(lambda: Order.objects.get(pk=order.pk).status == OrderStatus.COMPLETED, 60, what="top-up")
    page.goto(base + f"/account/esims/{esim.pk}/")
    assert mb(figure(page, "Plan")) == before + topup.data_mb


def test_save_a_card_then_top_up_in_one_tap_from_the_low_data_link(shop, stripe, roamify, phone, client):  # noqa: F811
    page = phone
    esim, before, link, topup = bought_and_running_low(page, client, shop, stripe, roamify, VISA)

    taps = one_tap(page, link, topup)
    page.wait_for_url(re.compile(r"/orders/RE-[A-Z0-9-]+/$"))  # the order page: paid, then applied
    page.get_by_text(re.compile("top-up", re.I)).first.wait_for()
    screenshot(page, "one-tap-order")
    allowance_grew(page, shop, esim, before, topup)
    assert taps == 2
    assert [o["kind"] for o in roamify.control.ledger()] == ["instant", "topup"]
    page.goto(shop + "/account/cards/")
    assert "Visa •••• 4242" in page.locator("main").inner_text()


def test_a_card_that_asks_for_3d_secure_goes_through_checkout_and_ends_the_same(
    shop,  # noqa: F811
    stripe,
    roamify,
    phone,
    client,
):
    page = phone
    esim, before, link, topup = bought_and_running_low(page, client, shop, stripe, roamify, ALWAYS_3DS)

    one_tap(page, link, topup)
    page.wait_for_url(stripe.base_url + "/pay/*")  # the bank wants Mika: Stripe Checkout, same order
    order = Order.objects.get(lines__esim=esim, lines__kind=LineKind.TOPUP)
    assert order.status == OrderStatus.PENDING_PAYMENT and not order.payments.captured().exists()
    page.get_by_label("Email", exact=True).fill(EMAIL)
    fill_card(page, ALWAYS_3DS)
    pay_button(page).click()
    page.get_by_role("button", name="Complete authentication").click()
    page.wait_for_url(ORDER_URL)
    assert order_from(page) == order
    allowance_grew(page, shop, esim, before, topup)
