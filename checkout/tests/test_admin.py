"""Order admin: list, search, the order page with its timeline, and the actions."""

from __future__ import annotations

from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from catalog.tests.factories import PackageFactory
from checkout import services
from checkout.models import OrderStatus
from esims.models import Esim

from .helpers import paid_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    user = get_user_model().objects.create_superuser("boss@example.com", "boss@example.com", "pw")
    client.force_login(user)
    return client


@pytest.fixture
def order():
    order = paid_order(PackageFactory(retail_cents=999), email="find.me@example.com")
    order.lines.get().esims.add(Esim.objects.create(
        upstream_esim_id="esim-1", iccid="8901000000000000001", lpa_code="LPA:1$smdp.example$CODE",
        smdp_address="smdp.example", activation_code="CODE"))
    order.upstream_order_id = "up-123"
    order.save()
    return order


def test_order_list_search_and_page(staff_client, order):
    changelist = reverse("admin:checkout_order_changelist")
    for term in ("find.me@example.com", order.number, "8901000000000000001", "up-123"):
        response = staff_client.get(changelist, {"q": term})
        assert response.status_code == 200
        assert order.number in response.content.decode(), term
    assert order.number not in staff_client.get(changelist, {"q": "nobody@example.com"}).content.decode()
    assert staff_client.get(changelist, {"status__exact": "paid"}).status_code == 200
    page = staff_client.get(reverse("admin:checkout_order_change", args=[order.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Timeline" in html and "Paid (test-instant" in html and "8901000000000000001" in html


def test_admin_index_shows_orders_needing_action_and_balance(staff_client, order):
    order.status = OrderStatus.REQUIRES_ACTION
    order.save()
    with mock.patch("core.upstream.RoamifyClient.balance", side_effect=ConnectionError("down")):
        html = staff_client.get(reverse("admin:index")).content.decode()
    assert "Orders needing action" in html and "unavailable" in html


def test_actions_retry_refund_resend(staff_client, order):
    changelist = reverse("admin:checkout_order_changelist")
    staff_client.post(changelist, {"action": "retry_fulfilment", "_selected_action": [order.pk]})
    assert order.events.filter(kind="retry", actor="boss@example.com").exists()
    # Resending needs a completed order; a clear message otherwise.
    response = staff_client.post(changelist, {"action": "resend_esim_email", "_selected_action": [order.pk]},
                                 follow=True)
    assert "Only a completed order" in response.content.decode()
    order.status = OrderStatus.COMPLETED
    order.save()
    staff_client.post(changelist, {"action": "resend_esim_email", "_selected_action": [order.pk]})
    from django.core import mail

    assert len(mail.outbox) == 1 and order.number in mail.outbox[0].subject
    assert order.events.filter(kind="email", actor="boss@example.com").exists()
    # The refund goes through the provider that took the money, in the staff member's name.
    staff_client.post(changelist, {"action": "refund", "_selected_action": [order.pk]})
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED
    payment = order.payments.get()
    assert payment.refunded_cents == order.total_cents
    assert payment.refunds.get().actor == "boss@example.com"
    assert order.events.filter(kind="refund", actor="boss@example.com").exists()


def test_esim_email_has_an_inline_qr_and_every_way_to_install(order, mailoutbox):
    order.status = OrderStatus.COMPLETED
    order.save()
    assert services.send_esim_email(order.id)
    assert not services.send_esim_email(order.id)  # once
    message = mailoutbox[0]
    html = message.alternatives[0][0]
    assert "cid:esim-qr-1@" in html and "smdp.example" in html and "CODE" in html
    assert message.body.count("SM-DP+ address: smdp.example") == 1
    images = [a for a in message.attachments if getattr(a, "get_content_type", lambda: "")() == "image/png"]
    assert len(images) == 1
