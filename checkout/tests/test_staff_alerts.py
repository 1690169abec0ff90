"""Staff are told: an order that needs action emails them once, and the low-balance banner and email
come while orders still succeed (the balance covers the next order, not the next few days).

PostgreSQL, the Roamify sandbox over HTTP, the outbox mail backend, a real Celery worker for one
case and Chromium for the banner.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from checkout import cart, reports, services
from checkout.events import OrderEventKind
from checkout.models import LineKind, Order, OrderLine, OrderStatus
from conftest import screenshot, wait_until
from core import queue
from core.models import OutboxEmail
from core.tests.staff import sign_in_staff
from esims import services as esims
from esims.models import PartnerBalance
from payments import services as payments

from .helpers import paid_order

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres", "clear_cache")]

BANNER = "Roamify partner balance is low"
ALERT_TASK_DONE = re.compile(r"Task checkout\.send_staff_alert\[[^]]+\] succeeded in [0-9.e-]+s: (\w+)")


@pytest.fixture(autouse=True)
def outbox(settings):
    """The shop's mail path, as the worker has it (pytest-django would swap in locmem)."""
    settings.EMAIL_BACKEND = "core.mail.OutboxBackend"
    settings.ALERT_EMAILS = ["ops@example.com"]
    settings.SITE_URL = "https://shop.example.com"


@contextlib.contextmanager
def eager():
    """Tasks queued after commit run here and now (only inside the block)."""
    from storefront.celery import app

    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = False


def staff_alerts(order: Order):
    return OutboxEmail.objects.filter(subject__contains=f"Order {order.number} needs action")


def balance_alerts():
    return OutboxEmail.objects.filter(subject__contains="Roamify balance is low")


# --- An order that needs action ------------------------------------------------------------------


def test_an_order_that_needs_action_emails_staff_once(roamify, package):
    roamify.control.set_balance(0)  # upstream refuses the order: the order needs action
    order = paid_order(package)  # its fulfilment task is queued (no worker runs it here)
    with eager():
        services.fulfil_order(order.id)
        order.refresh_from_db()
        assert order.status == OrderStatus.REQUIRES_ACTION and order.action_reason
        # Staff retry; upstream refuses again: a second move to requires_action, and a redelivered task.
        services.retry_fulfilment(order.id, actor="support@example.com")
        order.refresh_from_db()
        assert order.status == OrderStatus.REQUIRES_ACTION
        assert services.send_staff_alert(order.id) is False
    moves = order.events.filter(kind=OrderEventKind.STATUS, to_status=OrderStatus.REQUIRES_ACTION)
    assert moves.count() == 2
    sent = staff_alerts(order).get()  # exactly one
    assert sent.to == "ops@example.com"
    assert order.action_reason[:40] in sent.subject
    assert f"Reason: {order.action_reason}" in sent.body_text
    assert f"https://shop.example.com/admin/checkout/order/{order.pk}/change/" in sent.body_text
    assert f"Total: ${order.total_cents // 100}." in sent.body_text  # money, not cents
    assert order.staff_alerted_at is not None
    assert order.events.filter(kind=OrderEventKind.STAFF_ALERT).count() == 1


def test_an_order_paid_wrongly_emails_staff_too(package):
    """The other way into requires_action (a payment that does not match the order) alerts the same."""
    order = services.place_order(cart.PricedCart([cart.CartLine(package, 1)], []), "short@example.com")
    payment = payments.open_payment(order, "test-instant", order.total_cents, order.currency)
    with eager():
        payments.capture(payment.id, amount_cents=order.total_cents - 100, source="test")
    order.refresh_from_db()
    assert order.status == OrderStatus.REQUIRES_ACTION
    assert f"Reason: {order.action_reason}" in staff_alerts(order).get().body_text


def test_the_reconciler_sends_an_alert_a_killed_worker_left_unsent(package, settings):
    order = paid_order(package)
    Order.objects.filter(pk=order.pk).update(
        status=OrderStatus.REQUIRES_ACTION,
        action_reason="Upstream refused: no balance",
        updated_at=timezone.now() - dt.timedelta(hours=1),
    )
    with eager():
        services.reconcile_orders()
        services.reconcile_orders()
    assert staff_alerts(order).count() == 1


@pytest.mark.xdist_group("worker")
def test_a_worker_emails_staff_once_for_an_order_that_needs_action(celery_worker, roamify, package):
    roamify.control.set_balance(0)
    order = paid_order(package)  # the worker fulfils it, upstream refuses, the worker emails staff
    wait_until(lambda: staff_alerts(order).exists(), 60, what="the staff email")
    services.retry_fulfilment(order.id, actor="support@example.com")
    wait_until(
        lambda: (
            order.events.filter(kind=OrderEventKind.STATUS, to_status=OrderStatus.REQUIRES_ACTION).count()
            == 2
        ),
        60,
        what="the retried order refused again",
    )
    # The order was alerted already, so that move queued nothing; redelivered tasks, several at
    # once on the worker's threads, send nothing more.
    for _ in range(5):
        queue.send("checkout.send_staff_alert", order.id)
    wait_until(
        lambda: len(ALERT_TASK_DONE.findall(celery_worker.log())) >= 6,
        60,
        what="every alert task done",
    )
    assert ALERT_TASK_DONE.findall(celery_worker.log()).count("True") == 1
    sent = staff_alerts(order).get()
    assert sent.to == "support@example.com"  # ALERT_EMAILS defaults to SUPPORT_EMAIL
    assert f"http://testserver/admin/checkout/order/{order.pk}/change/" in sent.body_text
    assert order.events.filter(kind=OrderEventKind.STAFF_ALERT).count() == 1


# --- The partner balance -------------------------------------------------------------------------


def deliveries(package, cents_a_day: int, days: int = 7) -> None:
    """Lines delivered one a day over the last `days` days, each costing `cents_a_day` wholesale."""
    now = timezone.now()
    order = Order.objects.create(
        email="past@example.com",
        currency="USD",
        total_cents=0,
        status=OrderStatus.COMPLETED,
        paid_at=now - dt.timedelta(days=days),
    )
    for day in range(days):
        OrderLine.objects.create(
            order=order,
            kind=LineKind.ESIM,
            package=package,
            description="past",
            quantity=1,
            unit_price_cents=0,
            total_cents=0,
            wholesale_cents=cents_a_day,
            fulfilled_at=now - dt.timedelta(days=day, hours=1),
        )


def check_balance(roamify, dollars: float) -> str:
    """Roamify holds this balance; the beat's check reads it over HTTP (alert emails sent at once)."""
    roamify.control.set_balance(dollars)
    with eager():
        return esims.check_balance()


@pytest.fixture
def alert_settings(settings):
    settings.ROAMIFY_LOW_BALANCE_CENTS = 100  # $1: only the days of sales can make it low here
    settings.ROAMIFY_LOW_BALANCE_DAYS = 3


def test_the_pace_is_the_cost_delivered_in_the_last_7_days(package):
    deliveries(package, 1000)
    # Neither a line delivered 8 days ago nor one not delivered counts.
    old = OrderLine.objects.first()
    OrderLine.objects.create(
        order=old.order, kind=LineKind.ESIM, package=package, description="old", quantity=3,
        unit_price_cents=0, total_cents=0, wholesale_cents=999,
        fulfilled_at=timezone.now() - dt.timedelta(days=8),
    )  # fmt: skip
    OrderLine.objects.create(
        order=old.order, kind=LineKind.ESIM, package=package, description="due", quantity=1,
        unit_price_cents=0, total_cents=0, wholesale_cents=999,
    )  # fmt: skip
    assert reports.daily_cost_cents() == 1000
    assert reports.Balance(2500, daily_cost_cents=1000).days_covered == 2.5


def test_the_banner_shows_while_orders_still_succeed(roamify, package, alert_settings, admin_client):
    daily = 10 * package.wholesale_cents
    deliveries(package, daily)
    balance = 5 * package.wholesale_cents  # pays for the next order, not for 3 days of sales
    assert package.wholesale_cents < balance < 3 * daily
    check_balance(roamify, balance / 100)
    row = PartnerBalance.objects.get()
    assert row.daily_cost_cents == daily and row.days_covered == 0.5
    page = admin_client.get("/admin/checkout/order/").content.decode()
    assert BANNER in page and "about 0.5 days of sales at the last 7 days&#x27; pace" in page
    index = admin_client.get("/admin/").content.decode()
    assert 'class="shop-balance low"' in index and "about 0.5 days of sales" in index
    assert "below $1.00 or under 3 days of sales" in index
    assert balance_alerts().count() == 1
    # And orders still succeed.
    order = paid_order(package)
    assert services.fulfil_order(order.id).completed
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED


def test_no_banner_while_the_balance_is_comfortable(roamify, package, alert_settings, admin_client):
    daily = 10 * package.wholesale_cents
    deliveries(package, daily)
    check_balance(roamify, 10 * daily / 100)  # 10 days of sales
    assert PartnerBalance.objects.get().days_covered == 10.0
    assert BANNER not in admin_client.get("/admin/checkout/order/").content.decode()
    index = admin_client.get("/admin/").content.decode()
    assert 'class="shop-balance"' in index and "about 10.0 days of sales" in index
    assert not balance_alerts().exists()


def test_the_balance_email_goes_once_per_drop(roamify, package, alert_settings):
    daily = 10 * package.wholesale_cents
    deliveries(package, daily)
    check_balance(roamify, 2 * daily / 100)  # 2 days: low
    check_balance(roamify, 1.5 * daily / 100)  # still low: no second email
    assert balance_alerts().count() == 1
    sent = balance_alerts().get()
    assert sent.to == "ops@example.com" and "about 1.5 days" not in sent.body_text
    assert "about 2 days of sales" in sent.body_text and "$" in sent.subject
    check_balance(roamify, 5 * daily / 100)  # topped up: comfortable, the alert ends
    assert PartnerBalance.objects.get().alerted_at is None
    check_balance(roamify, 2 * daily / 100)  # a new drop: a new email
    assert balance_alerts().count() == 2
    # The pace rising under an unchanged balance is a drop too.
    check_balance(roamify, 5 * daily / 100)
    deliveries(package, 2 * daily)  # now 3 × daily a day: 5 × daily covers 1.7 days
    check_balance(roamify, 5 * daily / 100)
    assert balance_alerts().count() == 3


@pytest.mark.e2e
def test_the_banner_in_chromium(roamify, package, alert_settings, live_server, chromium_browser):
    daily = 10 * package.wholesale_cents
    deliveries(package, daily)
    check_balance(roamify, 5 * package.wholesale_cents / 100)
    user = get_user_model().objects.create_superuser("owner@example.com", "owner@example.com", "pw")
    client = sign_in_staff(Client(), user)
    context = chromium_browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/")
    banner = page.get_by_role("alert").filter(has_text=BANNER)
    assert banner.is_visible()
    assert "about 0.5 days of sales" in banner.inner_text()
    screenshot(page, "admin-low-balance-banner")
    context.close()
