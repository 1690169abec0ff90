"""The whole paid path with a real Celery worker on Redis, both sandboxes and PostgreSQL."""

from __future__ import annotations

import email
import io
import threading
from email import policy

import httpx
import pytest

from checkout import cart, services
from checkout.models import Order, OrderStatus
from conftest import wait_until
from core.models import OutboxEmail

from .helpers import paid_order

pytestmark = pytest.mark.xdist_group("worker")

TERMINAL = (OrderStatus.COMPLETED, OrderStatus.REQUIRES_ACTION, OrderStatus.REFUNDED)


def upstream_orders(roamify, order: Order) -> list[dict]:
    return [o for o in roamify.control.ledger() if o["referenceId"] == order.number]


def status_of(order: Order) -> str:
    order.refresh_from_db()
    return order.status


def esim_emails(order: Order):
    return OutboxEmail.objects.filter(
        to=order.email, subject__contains=order.number, subject__startswith="Your eSIM is ready"
    )


def decode_qr_codes(raw: bytes) -> list[str]:
    from PIL import Image
    from pyzbar.pyzbar import decode

    message = email.message_from_bytes(raw, policy=policy.default)
    texts = []
    for part in message.walk():
        if part.get_content_type() == "image/png":
            image = Image.open(io.BytesIO(part.get_payload(decode=True)))
            texts += [symbol.data.decode() for symbol in decode(image)]
    return texts


def test_ten_webhooks_and_the_success_page_race_one_order_one_email(
    celery_worker, roamify, stripe, live_server, settings, package
):
    stripe.control.register_webhook(f"{live_server.url}/checkout/stripe/webhook/", stripe.webhook_secret)
    # The order link trades its token for the session: httpx (unlike a browser on localhost)
    # sends no Secure cookie over the live server's plain HTTP.
    settings.SESSION_COOKIE_SECURE = False
    order = services.place_order(cart.PricedCart([cart.CartLine(package, 1)], []), "racer@example.com")
    services.start_payment(order)
    session_id = order.payments.get().external_reference
    assert stripe.control.pay(session_id)["outcome"] == "paid"
    event = stripe.control.wait_for_event("checkout.session.completed", delivered=True)[0]
    success_url = f"{live_server.url}{order.access_url()}&session_id={session_id}"

    def success_page():
        # A browser: it follows the link's redirect to the clean URL with its session cookie.
        with httpx.Client(follow_redirects=True, timeout=30) as browser:
            for _ in range(3):
                assert browser.get(success_url).status_code == 200

    threads = [threading.Thread(target=success_page) for _ in range(3)]
    for t in threads:
        t.start()
    for _ in range(9):
        stripe.control.redeliver(event["id"])
    for t in threads:
        t.join()
    wait_until(lambda: status_of(order) == OrderStatus.COMPLETED, 60, what="order completed")
    wait_until(lambda: esim_emails(order).exists(), 30, what="eSIM email")
    stripe.control.wait_for_event("checkout.session.completed", delivered=True)
    wait_until(lambda: OutboxEmail.objects.filter(subject__startswith="Receipt").exists(), 30, what="receipt")
    assert len(upstream_orders(roamify, order)) == 1
    assert esim_emails(order).count() == 1
    assert order.events.filter(to_status="paid").count() == 1
    # The emailed QR code decodes to exactly the eSIM's LPA string.
    esim = order.esims.get()
    assert decode_qr_codes(bytes(esim_emails(order).get().raw)) == [esim.lpa_code]
    page = httpx.Client(follow_redirects=True, timeout=30).get(success_url).text
    assert esim.activation_code in page and "data:image/png;base64," in page


def test_worker_killed_mid_order_still_one_upstream_order(own_celery_worker, roamify, package):
    from checkout import tasks

    roamify.control.inject_fault("POST", "/api/esim/order/instant", hang_seconds=15, then="create")
    order = paid_order(package)
    tasks.fulfil_order.delay(order.id)
    wait_until(lambda: upstream_orders(roamify, order), 30, what="upstream order placed")
    own_celery_worker.kill()  # the worker dies while waiting for upstream's answer
    assert status_of(order) == OrderStatus.FULFILLING
    own_celery_worker.start()
    wait_until(lambda: status_of(order) == OrderStatus.COMPLETED, 90, what="order completed after restart")
    assert len(upstream_orders(roamify, order)) == 1
    assert order.esims.count() == 1
    wait_until(lambda: esim_emails(order).exists(), 30, what="eSIM email")


@pytest.mark.parametrize("fault", ["timeout", "server_error", "pending", "no_balance", "down"])
def test_every_paid_order_ends_completed_or_visibly_needing_action(celery_worker, roamify, package, fault):
    from checkout import tasks

    control = roamify.control
    expected = OrderStatus.COMPLETED
    if fault == "timeout":
        control.inject_fault("POST", "/api/esim/order/instant", hang_seconds=5, then="create")
    elif fault == "server_error":
        control.inject_fault("POST", "/api/esim/order/instant", status=500, count=2)
    elif fault == "pending":
        control.set_knobs(instant_pending_seconds=4)
    elif fault == "no_balance":
        control.set_balance(0)
        expected = OrderStatus.REQUIRES_ACTION
    elif fault == "down":
        control.inject_fault("POST", "/api/esim/order/instant", status=503, count=None)
        control.inject_fault("GET", "/api/esim/order", status=503, count=None)
        expected = OrderStatus.REQUIRES_ACTION
    order = paid_order(package)
    tasks.fulfil_order.delay(order.id)
    wait_until(lambda: status_of(order) in TERMINAL, 120, what=f"a final state under {fault}")
    assert order.status == expected, order.action_reason
    assert len(upstream_orders(roamify, order)) == (1 if expected == OrderStatus.COMPLETED else 0)
    if expected == OrderStatus.REQUIRES_ACTION:
        assert order.action_reason
