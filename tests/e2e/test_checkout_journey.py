"""Buying an eSIM on a phone: Chromium against the live shop, the Stripe sandbox's hosted page,
a real Celery worker on Redis and the Roamify sandbox upstream (PostgreSQL).

The happy path, a declined card, 3D Secure (failed, then completed) and a cancelled payment.
"""

from __future__ import annotations

import base64
import io
import re

import pytest

from checkout.models import Order, OrderStatus
from checkout.tests.conftest import make_package
from conftest import screenshot, wait_until
from core.models import OutboxEmail

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("worker")]

EMAIL = "traveller@example.com"
PAID = "4242 4242 4242 4242"
DECLINED = "4000 0000 0000 0341"
THREE_D_SECURE = "4000 0025 0000 3155"
ORDER_URL = re.compile(r"/orders/(?P<number>[A-Z0-9-]+)/\?")


@pytest.fixture
def shop(live_server, stripe, roamify, settings):
    """The live shop, with Stripe sending its customers and its webhooks back to it."""
    settings.SITE_URL = live_server.url
    stripe.control.register_webhook(f"{live_server.url}/checkout/stripe/webhook/", stripe.webhook_secret)
    return live_server.url


def fits_the_screen(page) -> None:
    """Nothing sticks out sideways. Measured against the phone's width: a mobile browser widens its
    layout viewport (window.innerWidth) to fit content that overflows."""
    overflow = page.evaluate("document.documentElement.scrollWidth") - page.viewport_size["width"]
    assert overflow <= 0, f"{page.url} is {overflow}px wider than the screen"


def money(cents: int) -> str:
    return f"${cents // 100}.{cents % 100:02d}"


def to_stripe(page, base: str, stripe, *, shot: str | None = None):
    """Package page → Add to cart → cart: email, Pay → the hosted payment page. Returns the package."""
    package = make_package()
    page.goto(base + package.get_absolute_url())
    page.get_by_role("button", name="Add to cart").click()
    page.wait_for_url(base + "/cart/")
    assert page.locator("h1").inner_text() == "Your cart"
    assert package.destination.name in page.locator("[aria-label='Cart items']").inner_text()
    page.get_by_label("Email").fill(EMAIL)
    pay = page.get_by_role("button", name=f"Pay {money(package.retail_cents)} securely")
    assert pay.is_visible()
    fits_the_screen(page)
    if shot:
        screenshot(page, shot)
    pay.click()
    page.wait_for_url(stripe.base_url + "/pay/*")
    assert page.get_by_label("Email", exact=True).input_value() == EMAIL
    assert money(package.retail_cents) in page.locator(".total").inner_text()
    return package


def fill_card(page, card: str, *, name: str = "Alex Traveller") -> None:
    page.get_by_label("Card number").fill(card)
    page.get_by_label("Expiry (MM/YY)").fill("12/34")
    page.get_by_label("CVC").fill("123")
    page.get_by_label("Name on card").fill(name)


def pay_button(page):
    return page.get_by_role("button", name=re.compile(r"^Pay \$"))


def order_from(page) -> Order:
    match = ORDER_URL.search(page.url)
    assert match, f"not an order page: {page.url}"
    return Order.objects.get(number=match["number"])


def esim_emails(order: Order):
    return OutboxEmail.objects.filter(to=order.email, subject=f"Your eSIM is ready: order {order.number}")


def wait_for_esim(page, order: Order) -> None:
    """The order page polls until the eSIM is there, then shows it."""
    page.get_by_role("heading", name="Your eSIM is ready").wait_for(timeout=45_000)
    page.locator("img.esim-qr").wait_for()
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED


def completed_once(order: Order, roamify) -> None:
    """One upstream order for our order number, one eSIM email."""
    wait_until(lambda: esim_emails(order).exists(), 30, what="the eSIM email")
    wait_until(
        lambda: OutboxEmail.objects.filter(subject=f"Receipt for order {order.number}").exists(),
        30,
        what="the receipt",
    )
    ledger = roamify.control.ledger()
    assert [o["referenceId"] for o in ledger] == [order.number]
    assert esim_emails(order).count() == 1
    assert order.events.filter(to_status="paid").count() == 1


def decode_qr(data_uri: str) -> list[str]:
    from PIL import Image
    from pyzbar.pyzbar import decode

    png = base64.b64decode(data_uri.split(",", 1)[1])
    return [symbol.data.decode() for symbol in decode(Image.open(io.BytesIO(png)))]


def test_happy_path_on_a_phone(celery_worker, shop, stripe, roamify, phone):
    page = phone
    package = to_stripe(page, shop, stripe, shot="checkout-cart")
    fill_card(page, PAID)
    fits_the_screen(page)
    screenshot(page, "checkout-stripe")
    pay_button(page).click()
    page.wait_for_url(ORDER_URL)
    assert page.url.startswith(shop + "/orders/")
    order = order_from(page)
    assert order.email == EMAIL and order.total_cents == package.retail_cents
    wait_for_esim(page, order)

    esim = order.esims.get()
    qr = page.locator("img.esim-qr")
    src = qr.get_attribute("src")
    assert src.startswith("data:image/png;base64,")
    assert page.evaluate("document.querySelector('img.esim-qr').naturalWidth") > 0
    assert decode_qr(src) == [esim.lpa_code]
    install = page.get_by_role("link", name="Install on iPhone")
    assert install.is_visible() and install.get_attribute("href") == esim.ios_install_url
    page.get_by_text("Enter the details by hand").click()
    code = page.locator("dt:text-is('Activation code') + dd")
    assert code.is_visible()
    assert code.inner_text() == esim.activation_code != ""
    assert EMAIL in page.locator("main").inner_text()
    fits_the_screen(page)
    screenshot(page, "checkout-success")

    completed_once(order, roamify)
    body = esim_emails(order).get().body_html
    assert esim.activation_code in body


def test_declined_card_then_a_good_one(celery_worker, shop, stripe, roamify, phone):
    page = phone
    to_stripe(page, shop, stripe)
    payment_url = page.url
    fill_card(page, DECLINED)
    pay_button(page).click()
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert alert.inner_text() == "Your card was declined."
    assert page.url == payment_url  # still the payment page
    assert pay_button(page).is_enabled()
    fits_the_screen(page)
    screenshot(page, "checkout-declined")
    assert Order.objects.get(email=EMAIL).status == OrderStatus.PENDING_PAYMENT

    fill_card(page, PAID)
    pay_button(page).click()
    page.wait_for_url(ORDER_URL)
    order = order_from(page)
    wait_for_esim(page, order)
    completed_once(order, roamify)


def test_three_d_secure_failed_then_completed(celery_worker, shop, stripe, roamify, phone):
    page = phone
    to_stripe(page, shop, stripe)
    fill_card(page, THREE_D_SECURE)
    pay_button(page).click()
    page.get_by_role("heading", name="Authenticate your payment").wait_for()
    fits_the_screen(page)
    screenshot(page, "checkout-3ds")

    # The bank says no: a message, and the form again.
    page.get_by_role("button", name="Fail authentication").click()
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert alert.inner_text().strip()
    assert "authenticat" in alert.inner_text().lower()
    assert pay_button(page).is_enabled()
    screenshot(page, "checkout-3ds-failed")
    assert Order.objects.get(email=EMAIL).status == OrderStatus.PENDING_PAYMENT

    # Again, and this time the customer confirms.
    fill_card(page, THREE_D_SECURE)
    pay_button(page).click()
    page.get_by_role("button", name="Complete authentication").click()
    page.wait_for_url(ORDER_URL)
    order = order_from(page)
    wait_for_esim(page, order)
    completed_once(order, roamify)


def test_back_from_the_payment_page_is_the_cart_again(transactional_db, postgres, shop, stripe, phone):
    # Found on a phone: "← Back" led to "Payment not completed" and the cart link back there, with no
    # way to change the cart. Now the unpaid order is cancelled and its lines are the cart again.
    page = phone
    package = to_stripe(page, shop, stripe)
    payment_url = page.url
    page.get_by_role("link", name="Back").click()
    page.wait_for_url(shop + "/cart/")
    assert "Your cart is as you left it." in page.locator("body").inner_text()
    assert package.destination.name in page.locator("[aria-label='Cart items']").inner_text()
    assert page.get_by_label("Email").input_value() == EMAIL
    first = Order.objects.get()
    assert first.status == OrderStatus.CANCELLED
    fits_the_screen(page)
    screenshot(page, "checkout-back-to-cart")
    page.goto(shop + "/cart/")  # the cart link: still the cart, not an order page
    assert page.locator("h1").inner_text() == "Your cart"

    # It can be changed and paid.
    page.get_by_label("Quantity").fill("2")
    page.get_by_role("button", name="Update").click()
    pay = page.get_by_role("button", name=f"Pay {money(package.retail_cents * 2)} securely")
    pay.click()
    page.wait_for_url(stripe.base_url + "/pay/*")
    assert page.url != payment_url  # a new payment page, for the cart as it is now
    fill_card(page, PAID)
    pay_button(page).click()
    page.wait_for_url(ORDER_URL)
    order = order_from(page)
    assert order.pk != first.pk and order.total_cents == package.retail_cents * 2
    assert order.status != OrderStatus.PENDING_PAYMENT
    assert Order.objects.get(pk=first.pk).status == OrderStatus.CANCELLED


def in_view(page, selector: str) -> bool:
    box = page.locator(selector).bounding_box()
    height = page.evaluate("window.innerHeight")
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height


@pytest.mark.parametrize("javascript", [True, False], ids=["script", "no-script"])
def test_checkout_without_an_email_says_so_at_the_field_in_view(
    transactional_db, postgres, shop, chromium_browser, javascript
):
    # Found on a phone: Pay without an email reloaded /checkout/ with the error below the fold.
    context = chromium_browser.new_context(
        viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True, java_script_enabled=javascript
    )
    page = context.new_page()
    try:
        package = make_package()
        page.goto(shop + package.get_absolute_url())
        page.get_by_role("button", name="Add to cart").click()
        page.wait_for_url(shop + "/cart/")
        page.evaluate("window.scrollTo(0, 0)")
        page.get_by_role("button", name=re.compile(r"^Pay ")).click()
        email = page.locator("#id_email")
        error = page.locator("#email-error")
        error.wait_for()
        assert error.inner_text() == "Please enter your email address."
        assert email.get_attribute("aria-invalid") == "true"
        assert email.get_attribute("aria-describedby") == "email-error"
        assert page.evaluate("document.activeElement.id") == "id_email"
        assert in_view(page, "#id_email") and in_view(page, "#email-error")
        assert Order.objects.count() == 0
        fits_the_screen(page)
        screenshot(page, f"checkout-email-missing-{'script' if javascript else 'no-script'}")
        # Typed, it goes on to pay.
        email.fill(EMAIL)
        page.get_by_role("button", name=re.compile(r"^Pay ")).click()
        page.wait_for_url(re.compile(r"/pay/"))
    finally:
        context.close()
