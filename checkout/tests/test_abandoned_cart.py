"""The abandoned-cart email: only with consent, once per order, never for a paid cart, in the order's
language, with a link back to that cart and a one-click unsubscribe that stops the next one."""

from __future__ import annotations

import datetime as dt
import re
import threading
from unittest import mock
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import connection
from django.test import Client
from django.utils import timezone, translation

from checkout import cart, services
from checkout.models import AbandonedCartEmail, MarketingConsent, Order, OrderEvent, OrderStatus
from checkout.services import marketing

from .conftest import make_package
from .helpers import force_paid, paid_order

pytestmark = pytest.mark.django_db


def unpaid_order(
    package, email: str = "left@example.com", *, minutes_ago: int = 61, language: str = "en", qty=1
):
    """An order placed from a cart `minutes_ago` and never paid (its card page left open)."""
    with translation.override(language):
        order = services.place_order(cart.PricedCart([cart.CartLine(package, qty)], []), email)
    return aged(order, minutes_ago)


def aged(order: Order, minutes_ago: int) -> Order:
    Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - dt.timedelta(minutes=minutes_ago))
    order.refresh_from_db()
    return order


def reminders(email: str = "left@example.com") -> list[mail.EmailMultiAlternatives]:
    return [m for m in mail.outbox if m.to == [email] and "List-Unsubscribe" in m.extra_headers]


def link(message, name: str) -> str:
    """The path of the email's link named `name` ("cart" or "unsubscribe"), from its text part."""
    pattern = {"cart": r"/cart/back/[^/\s]+/", "unsubscribe": r"/offers/unsubscribe/[^/\s]+/"}[name]
    found = re.search(rf"{re.escape(settings.SITE_URL)}(/[a-z-]+)?{pattern}", message.body)
    assert found, message.body
    return urlsplit(found.group(0)).path


def test_sent_once_after_the_delay_only_with_consent_in_the_orders_language(package, mailoutbox):
    early = unpaid_order(package, "early@example.com", minutes_ago=30)
    stale = unpaid_order(package, "stale@example.com", minutes_ago=3 * 24 * 60)
    unasked = unpaid_order(package, "unasked@example.com")
    order = unpaid_order(package, "Left@Example.com", language="es")
    for email in ("early@example.com", "stale@example.com", "LEFT@example.com"):
        marketing.give_consent(email, MarketingConsent.Source.CHECKOUT)

    assert marketing.send_abandoned_cart_emails() == {"sent": 1, "skipped": 0, "failed": 0}
    assert marketing.send_abandoned_cart_emails() == {"sent": 0, "skipped": 0, "failed": 0}
    assert services.marketing.send_abandoned_cart_email(order.pk) is False  # asked again: once is once

    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["Left@Example.com"]
    assert not {early.email, stale.email, unasked.email} & set(message.to)
    # In the order's language: the page's language attribute and every link (/es/…).
    html = message.alternatives[0][0]
    assert '<html lang="es"' in html
    assert link(message, "cart").startswith("/es/cart/back/")
    assert message.extra_headers["List-Unsubscribe"].startswith(
        f"<{settings.SITE_URL}/es/offers/unsubscribe/"
    )
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert order.lines.get().description in message.body and order.lines.get().description in html
    claim = AbandonedCartEmail.objects.get()
    assert (claim.order, claim.email, claim.sent_at is not None) == (order, "left@example.com", True)
    assert OrderEvent.objects.filter(order=order, data__email=marketing.ABANDONED_CART).count() == 1

    # The early one's turn comes once it is an hour old.
    aged(early, 61)
    assert marketing.send_abandoned_cart_emails()["sent"] == 1
    assert reminders("early@example.com")


def test_no_email_for_a_paid_cart_nor_when_a_later_order_was_paid(package, mailoutbox):
    paid = aged(paid_order(package, email="paid@example.com"), 90)
    left = unpaid_order(package, "again@example.com", minutes_ago=120)
    later = paid_order(package, email="AGAIN@example.com")  # bought after all, from a new cart
    # An order placed before the cart left, paid after it (its card page finished later): bought too.
    before = unpaid_order(package, "before@example.com", minutes_ago=180)
    left_after = unpaid_order(package, "before@example.com", minutes_ago=120)
    force_paid(before)
    for email in (paid.email, left.email, before.email):
        marketing.give_consent(email, MarketingConsent.Source.CHECKOUT)
    assert later.created_at > left.created_at and left_after.created_at > before.created_at

    assert marketing.send_abandoned_cart_emails()["sent"] == 0
    assert not mailoutbox and not AbandonedCartEmail.objects.exists()


def test_withdrawn_consent_sends_nothing_and_an_unticked_box_withdraws_nothing(package, mailoutbox):
    unpaid_order(package, "gone@example.com")
    marketing.give_consent("gone@example.com", MarketingConsent.Source.CHECKOUT)
    marketing.set_from_account("gone@example.com", False)
    marketing.record_checkout_choice("kept@example.com", True)
    marketing.record_checkout_choice("KEPT@example.com", False)  # unticked at a later checkout

    assert marketing.send_abandoned_cart_emails()["sent"] == 0 and not mailoutbox
    assert not marketing.has_consent("gone@example.com") and marketing.has_consent("kept@example.com")


def test_one_reminder_per_address_per_gap_for_its_newest_cart(package, mailoutbox):
    first = unpaid_order(package, "twice@example.com", minutes_ago=300)
    marketing.give_consent("twice@example.com", MarketingConsent.Source.ACCOUNT)
    assert marketing.send_abandoned_cart_emails()["sent"] == 1
    newer = unpaid_order(package, "twice@example.com", minutes_ago=90)
    older = unpaid_order(package, "twice@example.com", minutes_ago=200)  # not the newest cart: never

    assert marketing.send_abandoned_cart_emails()["sent"] == 0  # within the gap
    AbandonedCartEmail.objects.update(claimed_at=timezone.now() - dt.timedelta(hours=25))
    assert marketing.send_abandoned_cart_emails()["sent"] == 1
    assert set(AbandonedCartEmail.objects.values_list("order", flat=True)) == {first.pk, newer.pk}
    assert older.pk not in {m.order_id for m in AbandonedCartEmail.objects.all()}
    assert len(reminders("twice@example.com")) == 2


def test_a_mail_server_down_gives_the_claim_back(package, mailoutbox):
    order = unpaid_order(package)
    marketing.give_consent(order.email, MarketingConsent.Source.CHECKOUT)
    with mock.patch("django.core.mail.EmailMessage.send", side_effect=OSError("down")):
        assert marketing.send_abandoned_cart_emails() == {"sent": 0, "skipped": 0, "failed": 1}
    assert not AbandonedCartEmail.objects.exists()
    assert marketing.send_abandoned_cart_emails()["sent"] == 1 and len(mailoutbox) == 1


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_send_one_email(package, postgres, mailoutbox):
    orders = [unpaid_order(package, f"race{n}@example.com", minutes_ago=70 + n) for n in range(3)]
    for order in orders:
        marketing.give_consent(order.email, MarketingConsent.Source.CHECKOUT)
    barrier = threading.Barrier(4)
    results: list[dict] = []

    def run() -> None:
        barrier.wait()
        try:
            results.append(marketing.send_abandoned_cart_emails())
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r["sent"] for r in results) == 3
    assert sorted(m.to[0] for m in mailoutbox) == sorted(o.email for o in orders)
    assert AbandonedCartEmail.objects.count() == 3


def test_the_link_puts_that_cart_back_and_leaves_out_a_plan_no_longer_sold(client, package, mailoutbox):
    gone = make_package("FR")
    order = services.place_order(
        cart.PricedCart([cart.CartLine(package, 2), cart.CartLine(gone, 1)], []), "back@example.com"
    )
    aged(order, 65)
    marketing.give_consent(order.email, MarketingConsent.Source.CHECKOUT)
    type(gone).objects.filter(pk=gone.pk).update(active=False)
    assert marketing.send_abandoned_cart_emails()["sent"] == 1
    message = reminders("back@example.com")[0]
    assert "no longer sold" in message.body and gone.destination.name not in message.body

    page = client.get(link(message, "cart"), follow=True)
    assert page.redirect_chain[-1][0] == "/cart/"
    body = page.content.decode()
    assert "Your cart is back as you left it" in body
    assert str(cart.NO_LONGER_SOLD) in body
    assert cart.count(client.session) == 2 and client.session[cart.EMAIL_KEY] == "back@example.com"
    assert 'value="back@example.com"' in body  # the checkout form has its email
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED  # its card page closed: not payable beside the new one
    client.get(link(message, "cart"))  # a second click adds nothing twice
    assert cart.count(client.session) == 2


def test_a_bad_or_old_link_says_so_and_changes_nothing(client, package, mailoutbox):
    order = unpaid_order(package)
    consent = marketing.give_consent(order.email, MarketingConsent.Source.CHECKOUT)
    marketing.send_abandoned_cart_emails()
    message = reminders()[0]

    bad = client.get("/cart/back/nothing-signed-here/")
    assert bad.status_code == 404 and "This link is not valid." in bad.content.decode()
    later = timezone.now().timestamp() + (settings.ABANDONED_CART_LINK_DAYS + 1) * 86400
    with mock.patch("django.core.signing.time.time", return_value=later):
        old = client.get(link(message, "cart"))
        still = client.post(link(message, "unsubscribe"), {"List-Unsubscribe": "One-Click"})
    assert old.status_code == 404 and "This link has expired." in old.content.decode()
    assert cart.count(client.session) == 0
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_PAYMENT
    assert still.status_code == 200  # an unsubscribe link outlives the cart link by far
    consent.refresh_from_db()
    assert not consent.active

    marketing.give_consent(order.email, MarketingConsent.Source.ACCOUNT)
    years = timezone.now().timestamp() + (settings.MARKETING_UNSUBSCRIBE_LINK_DAYS + 1) * 86400
    with mock.patch("django.core.signing.time.time", return_value=years):
        too_old = client.post(link(message, "unsubscribe"), {"List-Unsubscribe": "One-Click"})
    assert too_old.status_code == 404 and "This link has expired." in too_old.content.decode()
    assert marketing.has_consent(order.email)
    token = link(message, "unsubscribe").rstrip("/").rsplit("/", 1)[1]
    tampered = client.post(f"/offers/unsubscribe/{token[:-2]}xx/", {"List-Unsubscribe": "One-Click"})
    assert tampered.status_code == 404 and "Nothing was changed" in tampered.content.decode()
    assert marketing.has_consent(order.email)


def test_unsubscribe_page_get_changes_nothing_post_does_and_the_next_cart_sends_nothing(
    client, package, mailoutbox
):
    order = unpaid_order(package, "leave@example.com")
    marketing.give_consent(order.email, MarketingConsent.Source.CHECKOUT)
    marketing.send_abandoned_cart_emails()
    message = reminders("leave@example.com")[0]
    path = link(message, "unsubscribe")
    assert f'href="{settings.SITE_URL}{path}"' in message.alternatives[0][0]

    page = client.get(path)
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    assert "Stop emails about offers?" in page.content.decode()
    assert marketing.has_consent("leave@example.com")  # a mail scanner's GET unsubscribes nobody
    done = client.post(path, {"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and "You are unsubscribed" in done.content.decode()
    assert not marketing.has_consent("leave@example.com")
    assert MarketingConsent.objects.get().source == MarketingConsent.Source.UNSUBSCRIBE

    unpaid_order(package, "leave@example.com", minutes_ago=70)  # the next abandoned cart
    AbandonedCartEmail.objects.update(claimed_at=timezone.now() - dt.timedelta(days=2))
    assert marketing.send_abandoned_cart_emails()["sent"] == 0
    assert len(reminders("leave@example.com")) == 1


def test_rfc_8058_one_click_post_without_cookies_or_csrf_token(package, mailoutbox):
    order = unpaid_order(package, "oneclick@example.com", language="fr")
    marketing.give_consent(order.email, MarketingConsent.Source.CHECKOUT)
    marketing.send_abandoned_cart_emails()
    header = reminders("oneclick@example.com")[0].extra_headers["List-Unsubscribe"]
    url = header.strip("<>")
    mail_app = Client(enforce_csrf_checks=True)  # a mail provider's server: no cookie, no token
    answer = mail_app.post(
        urlsplit(url).path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert answer.status_code == 200
    assert not marketing.has_consent("oneclick@example.com")


def test_the_offers_box_at_checkout_through_the_checkout_view(client, package, stripe):
    cart_page = client.get("/cart/")  # empty cart: no form; add a plan first
    client.post("/cart/add/", {"package": package.package_id})
    cart_page = client.get("/cart/").content.decode()
    box = re.search(r'<input type="checkbox" name="offers"[^>]*>', cart_page)
    assert box and "checked" not in box.group(0)  # never ticked for the buyer
    assert "Tell me about offers and deals (you can unsubscribe any time)" in cart_page

    assert client.post("/checkout/", {"email": "quiet@example.com"}).status_code == 302
    assert not MarketingConsent.objects.exists()

    client.post("/cart/add/", {"package": package.package_id})
    assert client.post("/checkout/", {"email": "Keen@Example.com", "offers": "1"}).status_code == 302
    consent = MarketingConsent.objects.get()
    assert (consent.email, consent.source, consent.active) == ("keen@example.com", "checkout", True)

    client.post("/cart/add/", {"package": package.package_id})
    client.post("/checkout/", {"email": "keen@example.com"})  # unticked later: the yes stands
    assert marketing.has_consent("keen@example.com")


def test_the_account_toggle_gives_and_withdraws(client):
    user = get_user_model().objects.create_user("toggle", "toggle@example.com", "pw-for-tests-1")
    client.force_login(user)
    page = client.get("/account/settings/").content.decode()
    assert re.search(r'<input type="checkbox" name="offers" value="1" id="id_offers">', page)
    client.post("/account/settings/offers/", {"offers": "1"})
    assert marketing.has_consent("toggle@example.com")
    assert 'id="id_offers" checked' in client.get("/account/settings/").content.decode()
    client.post("/account/settings/offers/", {})
    assert not marketing.has_consent("toggle@example.com")
    assert MarketingConsent.objects.get().source == MarketingConsent.Source.ACCOUNT


@pytest.mark.xdist_group("worker")
def test_the_beat_task_on_a_real_worker_puts_the_email_in_the_outbox(celery_worker, package):
    from conftest import wait_until
    from core.models import OutboxEmail
    from storefront.celery import app

    order = unpaid_order(package, "worker@example.com", minutes_ago=75)
    marketing.give_consent(order.email, MarketingConsent.Source.CHECKOUT)
    entry = settings.CELERY_BEAT_SCHEDULE["send-abandoned-cart-emails"]
    assert entry["schedule"] == 600
    app.send_task(entry["task"])  # as beat sends it, by name

    sent = wait_until(lambda: OutboxEmail.objects.filter(to="worker@example.com").first(), 30, what="email")
    assert b"List-Unsubscribe-Post: List-Unsubscribe=One-Click" in bytes(sent.raw)
    assert "/cart/back/" in sent.body_text and sent.body_html
    wait_until(lambda: AbandonedCartEmail.objects.filter(order=order, sent_at__isnull=False).exists(), 10)
