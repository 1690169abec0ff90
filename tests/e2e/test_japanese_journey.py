"""The journey in Japanese, paying in yen (issue 20): a Japanese phone opens the shop, is sent to
/ja/, types "日本", picks a plan priced in whole yen, pays on the Stripe sandbox's page with 4242 and
sees its eSIM; the emails are in Japanese with the amount in yen; a staff refund gives the same yen
back; the admin shows the order in the base currency at the order's own rate.

Chromium on a phone against the live shop, the catalog and the exchange rates from the Roamify
sandbox, the Stripe sandbox, a real Celery worker on Redis, PostgreSQL. Screenshots: ja-*.png.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext

from catalog.currency import base_price_in, package_price
from catalog.models import Destination, Package
from catalog.rates import refresh_exchange_rates
from checkout.models import Order, OrderStatus
from conftest import IPHONE, screenshot, wait_until
from core.models import OutboxEmail
from core.money import format_money
from payments.providers.stripe_api import gateway

from .test_admin_support_journey import signed_in
from .test_checkout_journey import EMAIL, PAID, decode_qr, fill_card, fits_the_screen

# The catalog's sync (or its copy) is the heavy part: with the other journeys on a synced catalog.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("catalog-sync")]

# Hiragana and katakana: text that is Japanese, not only a name in kanji ("日本") beside English.
KANA = re.compile(r"[\u3040-\u30ff]")
# A price on a Japanese page: the yen sign (CLDR's ja writes the full-width one) and whole yen.
YEN = re.compile(r"^[¥￥]\d{1,3}(,\d{3})*$")
ORDER_URL = re.compile(r"/ja/orders/(?P<number>[A-Z0-9-]+)/")


def ja(message: str) -> str:
    """The shop's Japanese for an English string; it must be Japanese, not the English left as is."""
    with translation.override("ja"):
        text = gettext(message)
    assert KANA.search(text), f"no Japanese for {message!r}"
    return text


def yen(amount: int) -> str:
    """Whole yen as the Japanese pages write them: "￥1,280"."""
    return format_money(amount, "JPY", locale="ja")


def is_japanese_page(page, *shown: str) -> None:
    """`<html lang="ja">`, and these strings of the page (English msgids) shown in Japanese.
    Kana alone would not do: the destination lists hold names in katakana on any untranslated page."""
    assert page.evaluate("document.documentElement.lang") == "ja", page.url
    text = page.locator("body").inner_text()
    for message in shown:
        assert ja(message) in text and message not in text, f"{page.url}: {message!r} is not in Japanese"


def a_plan() -> Package:
    """The cheapest Japan plan that needs no travel date and is not unlimited: the first card."""
    return (
        Package.objects.filter(
            destination__slug="japan", active=True, travel_date_required=False, is_unlimited=False
        )
        .order_by("retail_cents", "days", "package_id")
        .first()
    )


@pytest.fixture
def japanese_phone(chromium_browser):
    """An iPhone set to Japanese: Accept-Language ja-JP, Japan's time zone."""
    context = chromium_browser.new_context(**IPHONE, locale="ja-JP", timezone_id="Asia/Tokyo")
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def test_japanese_journey_paying_in_yen(
    synced_catalog,
    celery_worker,
    live_server,
    stripe,
    roamify,
    settings,
    clear_cache,
    japanese_phone,
    chromium_browser,
):
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1", "testserver"]
    settings.SITE_URL = base = live_server.url
    stripe.control.register_webhook(f"{base}/checkout/stripe/webhook/", stripe.webhook_secret)
    refreshed = refresh_exchange_rates()  # the rates as beat fetches them: from the Roamify sandbox
    assert "JPY" in refreshed.stored
    page = japanese_phone
    plan = a_plan()
    price = package_price(plan, "JPY")
    assert price % 100 == 80  # the local ending: whole hundreds ending in 80

    # -- "/" on a first visit sends the Japanese browser to /ja/.
    page.goto(base + "/")
    page.wait_for_url(base + "/ja/")
    is_japanese_page(page, "Stay connected in 190+ destinations", "Popular destinations")
    fits_the_screen(page)
    screenshot(page, "ja-home")

    # -- "日本" in the search box: Japan, by its Japanese name, from the suggestions.
    search = page.locator("#site-search")
    search.click()
    search.press_sequentially("日本", delay=60)
    suggestion = page.locator("#search-suggestions [role=option]", has_text="日本").first
    suggestion.wait_for(state="visible")
    japan = Destination.objects.get(slug="japan")
    assert yen(base_price_in(japan.from_price_cents, "JPY")) in suggestion.inner_text()
    screenshot(page, "ja-search")
    suggestion.click()
    page.wait_for_url(base + "/ja/esim/japan/")
    assert "日本" in page.locator("h1").inner_text()
    is_japanese_page(page, "Plan your trip")

    # -- Every plan is priced in whole yen; the chosen one at the catalog's price in yen.
    prices = page.locator(".package-list .package-card .price").all_inner_texts()
    assert prices and all(YEN.match(p) for p in prices), prices
    card = page.locator(f".package-list a.package-card[href$='/{plan.package_id}/']")
    assert card.locator(".price").inner_text() == yen(price)
    fits_the_screen(page)
    screenshot(page, "ja-destination")
    card.click()
    page.wait_for_url(base + f"/ja/esim/japan/{plan.package_id}/")
    assert page.locator(".buy-box .price").inner_text() == yen(price)
    is_japanese_page(page, "Add to cart", "What you get")
    screenshot(page, "ja-package")

    # -- Add to cart: the cart shows the same whole yen, and the pay button says it.
    page.locator(".buy-box button[type=submit]").click()
    page.wait_for_url(base + "/ja/cart/")
    is_japanese_page(page, "Your cart", "Checkout")
    items = page.locator(".package-list").inner_text()
    assert "日本" in items and yen(price) in items
    page.locator("#id_email").fill(EMAIL)
    pay = page.locator("form[action$='/checkout/'] button[type=submit]")
    assert yen(price) in pay.inner_text()
    fits_the_screen(page)
    screenshot(page, "ja-cart")
    pay.click()

    # -- Stripe's page asks for whole yen.
    page.wait_for_url(stripe.base_url + "/pay/*")
    assert page.locator(".total").first.inner_text() == f"¥{price:,}"
    fill_card(page, PAID)
    screenshot(page, "ja-stripe")
    page.locator("#pay-button").click()

    # -- Back in the shop, in Japanese: the eSIM on screen.
    page.wait_for_url(ORDER_URL)
    order = Order.objects.get(number=ORDER_URL.search(page.url)["number"])
    page.locator("img.esim-qr").wait_for(timeout=45_000)
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    esim = order.esims.get()
    assert decode_qr(page.locator("img.esim-qr").get_attribute("src")) == [esim.lpa_code]
    is_japanese_page(page, "Your eSIM is ready")
    assert page.locator("h1").inner_text() == ja("Your eSIM is ready")
    with translation.override("ja"):
        placed = date_format(timezone.localtime(order.created_at), "SHORT_DATETIME_FORMAT")
        paid_on = date_format(timezone.localtime(order.paid_at), "DATE_FORMAT")
    assert placed in page.locator("main").inner_text()  # "2026/12/06 20:57", not "6 12月 2026"
    fits_the_screen(page)
    screenshot(page, "ja-esim")

    # -- The order: yen, at the rate fetched, its base amount at that rate; Stripe got whole yen.
    rate = Decimal(roamify.control.rates()["rates"]["JPY"])
    assert (order.currency, order.language, order.total_cents) == ("JPY", "ja", price)
    assert order.rate_per_base == rate and order.rate_fetched_at is not None
    assert order.base_total_cents == (Decimal(price) * 100 / rate).quantize(Decimal(1), ROUND_HALF_UP)
    (session,) = stripe.control.sessions()
    remote = gateway().client.v1.checkout.sessions.retrieve(session["id"])
    assert (remote.currency, remote.amount_total) == ("jpy", price)
    # Its line as the traveller read it on Stripe's page: in Japanese, in whole yen.
    (line,) = order.lines.all()
    items = gateway().client.v1.checkout.sessions.line_items.list(session["id"]).data
    assert [(i.description, i.price.unit_amount, i.quantity) for i in items] == [(line.description, price, 1)]
    assert "日本" in line.description and "日間" in line.description, line.description
    card_payment = order.payments.get()
    assert (card_payment.currency, card_payment.amount_cents) == ("JPY", price)

    # -- The emails, in Japanese: the eSIM (its links to /ja/) and the receipt (the amount in yen).
    with translation.override("ja"):
        esim_subject = gettext("Your eSIM is ready: order %(number)s") % {"number": order.number}
        receipt_subject = gettext("Receipt for order %(number)s") % {"number": order.number}
        ja_links = [order.access_url(), reverse("catalog:how_it_works")]
    esim_email = wait_until(
        lambda: OutboxEmail.objects.filter(to=EMAIL, subject=esim_subject).first(), 30, what="the eSIM email"
    )
    receipt = wait_until(
        lambda: OutboxEmail.objects.filter(to=EMAIL, subject=receipt_subject).first(), 30, what="the receipt"
    )
    assert all(link.startswith("/ja/") for link in ja_links), ja_links
    for email in (esim_email, receipt):
        in_japanese(email)
    assert all(link in esim_email.body_text and link in esim_email.body_html for link in ja_links[1:])
    assert ja_links[0] in esim_email.body_text and ja_links[0] in receipt.body_text
    assert esim.activation_code in esim_email.body_html
    for body in (receipt.body_text, receipt.body_html):
        assert yen(price) in body and f"{price / 100:.2f}" not in body
        assert paid_on in body  # "2026年12月6日"

    # -- Staff refund it: the same yen go back, at Stripe and on the order; the notice is Japanese.
    context, admin = signed_in(chromium_browser, base, width=1280, height=900)
    admin.goto(base + reverse("admin:checkout_order_refund", args=[order.pk]))
    admin.get_by_label("Reason").fill("旅行がキャンセルになった")
    refund = admin.get_by_role("button", name=re.compile(r"^Refund .* as shown$"))
    assert refund.inner_text() == f"Refund {format_money(price, 'JPY', locale='en')} as shown"
    refund.click()
    admin.wait_for_url(f"**/admin/checkout/order/{order.pk}/refund/")
    said = admin.locator(".messagelist").inner_text()
    assert said.startswith(f"Refunded {format_money(price, 'JPY', locale='en')};"), said
    screenshot(admin, "ja-admin-refunded")
    order.refresh_from_db()
    card_payment.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED
    assert (card_payment.refunded_cents, card_payment.base_refunded_cents) == (price, order.base_total_cents)
    intent = gateway().client.v1.payment_intents.retrieve(card_payment.capture_reference)
    refunds = gateway().client.v1.refunds.list(params={"payment_intent": intent.id}).data
    assert (intent.currency, [(r.currency, r.amount) for r in refunds]) == ("jpy", [("jpy", price)])
    with translation.override("ja"):
        refund_subject = gettext("Refund for order %(number)s") % {"number": order.number}
    notice = wait_until(
        lambda: OutboxEmail.objects.filter(to=EMAIL, subject=refund_subject).first(),
        30,
        what="the refund notice",
    )
    in_japanese(notice)
    assert yen(price) in notice.body_text and yen(price) in notice.body_html
    # The traveller's order page says so, in Japanese.
    page.reload()
    assert page.locator("h1").inner_text() == ja("Order refunded")
    is_japanese_page(page, "This order was refunded to your card.")
    screenshot(page, "ja-refunded")

    # -- The admin's order page: the yen charged, and the base amount at the order's own rate.
    admin.goto(base + reverse("admin:checkout_order_change", args=[order.pk]))
    total = admin.locator(".field-total .readonly").inner_text()
    expected = (
        f"{format_money(price, 'JPY', locale='en')} (= "
        f"{format_money(order.base_total_cents, settings.SHOP_CURRENCY, locale='en')} "
        f"at 1 {settings.SHOP_CURRENCY} = {rate:.4f} JPY, rate of "
    )
    assert total.startswith(expected), total
    # The books read the base amount: the sale and its refund in dollars, at the order's rate.
    margin = admin.locator(".field-margin_detail").inner_text()
    sold = format_money(order.base_total_cents, settings.SHOP_CURRENCY, locale="en")
    assert f"eSIMs and top-ups sold\t{sold}" in margin and f"Refunded of them\t-{sold}" in margin, margin
    screenshot(admin, "ja-admin-order")
    context.close()


def in_japanese(email: OutboxEmail) -> None:
    """Subject, text and HTML in Japanese, and nothing from English pages linked."""
    assert KANA.search(email.subject), email.subject
    assert KANA.search(email.body_text) and KANA.search(email.body_html), email.subject
    assert not re.search(r"https?://[^/\s\"'<>]+/(orders|how-it-works)/", email.body_text), email.subject
