"""A gift card's life on phones: Chromium against the live shop, the Stripe sandbox's hosted page,
a real Celery worker on Redis and the Roamify sandbox upstream (PostgreSQL).

A buyer gives a friend a card (paid by card 4242); the friend's email arrives with the code; another
customer spends part of it on an eSIM (their order also holds a gift card for someone else, which a
gift card can't pay for, so Stripe takes that part); the buyer revokes the rest with the one-time
code sent by email, and the Stripe sandbox shows a refund of exactly the unused part.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from checkout.models import Order, OrderStatus
from checkout.tests.conftest import make_package
from conftest import screenshot, wait_until
from core.models import OutboxEmail
from giftcards.ledger import ledger_sum
from giftcards.models import GiftCard, Status
from payments.models import Payment
from payments.providers.stripe_api import gateway
from tests.e2e.test_checkout_journey import (
    ORDER_URL,
    PAID,
    fill_card,
    fits_the_screen,
    order_from,
    pay_button,
)

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("worker")]

CODE = re.compile(r"[2-9A-HJ-NP-Z]{4}(?:-[2-9A-HJ-NP-Z]{4}){4}")
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}


@pytest.fixture
def shop(live_server, stripe, roamify, settings):
    settings.SITE_URL = live_server.url
    settings.EMAIL_BACKEND = "core.mail.OutboxBackend"  # the live server's mail (the one-time code) too
    stripe.control.register_webhook(f"{live_server.url}/checkout/stripe/webhook/", stripe.webhook_secret)
    return live_server.url


def signed_in_phone(browser, base: str, user):
    client = Client()
    client.force_login(user)
    context = browser.new_context(**PHONE)
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base}])
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


def mail_to(address: str, subject_part: str = "") -> OutboxEmail:
    return wait_until(
        lambda: OutboxEmail.objects.filter(to=address, subject__contains=subject_part).first(),
        45,
        what=f"an email to {address}",
    )


def add_gift_card(page, base: str, amount: str, name: str, email: str) -> None:
    """A card of `amount` (a button's text, e.g. "$15.00") for someone, into the cart."""
    page.goto(base + "/gift-cards/")
    page.get_by_text(amount, exact=True).click()
    page.get_by_label("Recipient's name").fill(name)
    page.get_by_label("Recipient's email").fill(email)
    page.get_by_role("button", name="Add gift card to cart").click()
    page.wait_for_url(base + "/cart/")


def pay_on_stripe(page, stripe) -> Order:
    page.wait_for_url(stripe.base_url + "/pay/*")
    fill_card(page, PAID)
    pay_button(page).click()
    page.wait_for_url(ORDER_URL)
    return order_from(page)


def test_give_redeem_and_revoke_a_gift_card(celery_worker, shop, stripe, roamify, chromium_browser, phone):
    buyer = get_user_model().objects.create_user("buyer", "buyer@example.com", "pw-buyer-123")

    # 1. The buyer gives Ann $50, from the "Gift cards" link of any page.
    page = signed_in_phone(chromium_browser, shop, buyer)
    page.goto(shop + "/")
    page.get_by_role("link", name="Gift cards").click()  # in the footer on a phone
    page.wait_for_url(shop + "/gift-cards/")
    page.get_by_text("$50.00", exact=True).click()
    page.get_by_text("Beach sunset").click()
    page.get_by_label("Recipient's name").fill("Ann")
    page.get_by_label("Recipient's email").fill("ann@example.com")
    page.get_by_label("Message (optional)").fill("Have a wonderful trip!")
    fits_the_screen(page)
    screenshot(page, "giftcard-buy")
    page.get_by_role("button", name="Add gift card to cart").click()
    page.wait_for_url(shop + "/cart/")
    assert "Gift card for Ann" in page.locator("[aria-label='Cart items']").inner_text()
    assert page.get_by_label("Email").input_value() == "buyer@example.com"
    page.get_by_role("button", name="Pay $50.00 securely").click()
    bought = pay_on_stripe(page, stripe)
    page.get_by_role("heading", name="Thank you: your order is complete").wait_for(timeout=45_000)
    screenshot(page, "giftcard-bought")

    # 2. Ann's email, with the code (made when it is sent; kept nowhere else).
    email = mail_to("ann@example.com", "gift card")
    code = CODE.search(email.body_text).group(0)
    assert "Have a wonderful trip!" in email.body_text
    card = GiftCard.objects.get(order=bought)
    assert card.customer == buyer and card.last_characters == code.replace("-", "")[-4:]
    phone.set_content(email.body_html)
    screenshot(phone, "giftcard-email")
    receipt = mail_to("buyer@example.com", "was delivered")
    assert f"ending {card.last_characters}" in receipt.body_text and code not in receipt.body_text

    # 3. Another customer (Ann) checks the balance, then spends part of it on an eSIM; her order also
    #    holds a card for her mother, which a gift card can't pay for: Stripe takes that part.
    other = phone
    other.goto(shop + "/gift-cards/balance/")
    other.get_by_label("Gift card code").fill(code.lower())
    other.get_by_role("button", name="Check balance").click()
    assert "$50.00" in other.locator(".gc-balance").inner_text()
    fits_the_screen(other)
    screenshot(other, "giftcard-balance")
    package = make_package()
    other.goto(shop + package.get_absolute_url())
    other.get_by_role("button", name="Add to cart").click()
    other.wait_for_url(shop + "/cart/")
    other.get_by_label("Gift card code").fill(code)
    # The gift cards' Apply (the cart has a discount code's Apply too).
    other.locator("section[aria-labelledby='gc-apply-title']").get_by_role("button", name="Apply").click()
    other.wait_for_url(shop + "/cart/")
    applied = other.locator("[aria-label='Gift cards applied']").inner_text()
    assert card.last_characters in applied and f"${package.retail_cents / 100:.2f}" in applied
    add_gift_card(other, shop, "$15.00", "Mum", "mum@example.com")
    other.get_by_label("Email").fill("ann@example.com")
    fits_the_screen(other)
    screenshot(other, "giftcard-cart")
    other.get_by_role("button", name="Pay $15.00 securely").click()
    spent = pay_on_stripe(other, stripe)
    other.get_by_role("heading", name="Your eSIM is ready").wait_for(timeout=45_000)
    spent.refresh_from_db()
    assert spent.status == OrderStatus.COMPLETED and spent.total_cents == package.retail_cents + 1500
    by = {p.provider: p.amount_cents for p in spent.payments.filter(status=Payment.Status.CAPTURED)}
    assert by == {"giftcard": package.retail_cents, "stripe": 1500}
    mail_to("mum@example.com", "gift card")
    unused = 5000 - package.retail_cents
    card.refresh_from_db()
    assert card.balance_cents == unused == ledger_sum(card)

    # 4. The buyer revokes the rest with the one-time code.
    page.goto(shop + "/account/gift-cards/")
    fits_the_screen(page)
    screenshot(page, "giftcard-account")
    page.get_by_role("link", name=re.compile("Revoke and get .* from the card for Ann")).click()
    page.get_by_role("button", name="Send me a code").click()
    otp_mail = mail_to("buyer@example.com", "is your code to revoke")
    otp = re.search(r"\b(\d{6})\b", otp_mail.body_text).group(1)
    page.get_by_label("6-digit code").fill(otp)
    fits_the_screen(page)
    screenshot(page, "giftcard-revoke")
    page.get_by_role("button", name=re.compile("Revoke and refund")).click()
    page.wait_for_url(shop + "/account/gift-cards/")
    assert f"${unused / 100:.2f} is on its way back" in page.locator(".messages").inner_text()
    # The revoked card stays in the list with its state (issue 21: it used to vanish, leaving
    # "You haven't bought a gift card yet").
    assert "Revoked" in page.locator(".gc-list").inner_text()
    screenshot(page, "giftcard-revoked")
    card.refresh_from_db()
    assert card.status == Status.REVOKED and card.balance_cents == 0 == ledger_sum(card)

    # 5. Stripe refunded exactly the unused part to the payment that bought the card.
    bought_with = bought.payments.get(provider="stripe")
    refunds = gateway().client.v1.refunds.list(params={"payment_intent": bought_with.capture_reference})
    assert [r.amount for r in refunds.data] == [unused]
    page.context.close()
