"""Order admin: list, search, the order page with its timeline, and the actions."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from catalog.tests.factories import PackageFactory
from checkout import services
from checkout.models import Order, OrderStatus
from checkout.services import staff
from esims.models import Esim

from .helpers import paid_order, refund_on_page

pytestmark = pytest.mark.django_db


@pytest.fixture
def order():
    order = paid_order(PackageFactory(retail_cents=999), email="find.me@example.com")
    order.lines.get().esims.add(
        Esim.objects.create(
            upstream_esim_id="esim-1",
            iccid="8901000000000000001",
            lpa_code="LPA:1$smdp.example$CODE",
            smdp_address="smdp.example",
            activation_code="CODE",
        )
    )
    order.upstream_order_id = "up-123"
    order.save()
    return order


def test_order_list_search_and_page(staff_client, order):
    changelist = reverse("admin:checkout_order_changelist")
    page_url = reverse("admin:checkout_order_change", args=[order.pk])
    # One order found: its page at once (email, number, ICCID or its end, upstream id).
    for term in ("find.me@example.com", order.number, "8901000000000000001", "0000001", "up-123"):
        response = staff_client.get(changelist, {"q": term})
        assert response.status_code == 302 and response["Location"] == page_url, term
    other = paid_order(PackageFactory(retail_cents=499), email="find.me@example.com")
    listed = staff_client.get(changelist, {"q": "find.me@example.com"}).content.decode()
    assert order.number in listed and other.number in listed
    assert order.number not in staff_client.get(changelist, {"q": "nobody@example.com"}).content.decode()
    assert staff_client.get(changelist, {"status__exact": "paid"}).status_code == 200
    page = staff_client.get(page_url)
    html = page.content.decode()
    assert page.status_code == 200
    assert "Timeline" in html and "Paid (test-instant" in html and "8901000000000000001" in html
    assert "UTC" in html  # times name their zone
    # The order page carries its buttons; money shows as money.
    for label in ("Retry fulfilment…", "Refund…", "Add a note…"):
        assert label in html
    assert "$9.99" in html and "Unit price cents" not in html


def test_abandoned_orders_have_their_own_filter(staff_client, order):
    from checkout import cart

    def unpaid(email: str) -> Order:
        return services.place_order(cart.PricedCart([cart.CartLine(PackageFactory(), 1)], []), email)

    abandoned = unpaid("gone@example.com")
    Order.objects.filter(pk=abandoned.pk).update(created_at=timezone.now() - dt.timedelta(hours=2))
    fresh = unpaid("new@example.com")
    changelist = reverse("admin:checkout_order_changelist")
    default = staff_client.get(changelist).content.decode()
    assert order.number in default and fresh.number in default and abandoned.number not in default
    only = staff_client.get(changelist, {"view": "abandoned"}).content.decode()
    assert abandoned.number in only and order.number not in only and fresh.number not in only
    assert abandoned.number in staff_client.get(changelist, {"view": "all"}).content.decode()


def test_admin_index_shows_orders_needing_action_and_balance(staff_client, order, clear_cache):
    order.status = OrderStatus.REQUIRES_ACTION
    order.action_reason = "Upstream refused the order: Insufficient partner balance"
    order.save()
    with mock.patch("core.roamify_client.RoamifyClient.balance", side_effect=ConnectionError("down")):
        html = staff_client.get(reverse("admin:index")).content.decode()
    assert "Orders needing action" in html and "unavailable" in html
    assert "Insufficient partner balance" in html and order.number in html
    assert "Roam Easy eSIM" in html  # the shop's name in the header


def test_order_page_actions_confirm_first(staff_client, order, roamify):
    retry = reverse("admin:checkout_order_retry", args=[order.pk])
    roamify.control.set_balance(2)
    page = staff_client.get(retry).content.decode()
    assert "cannot pay for this order" in page and "$2.00" in page and "Retry anyway" in page
    assert not order.events.filter(kind="retry").exists()  # a GET only shows
    staff_client.post(retry)
    assert order.events.filter(kind="retry", actor="boss@example.com").exists()
    # Resend says when the eSIM was last sent, then sends on confirmation.
    order.status = OrderStatus.COMPLETED
    order.esim_email_sent_at = timezone.now() - dt.timedelta(seconds=17)
    order.save()
    resend = reverse("admin:checkout_order_resend", args=[order.pk])
    page = staff_client.get(resend).content.decode()
    assert "Last sent" in page and "less than an hour ago" in page
    from django.core import mail

    assert len(mail.outbox) == 0
    staff_client.post(resend)
    assert len(mail.outbox) == 1 and order.number in mail.outbox[0].subject
    assert order.events.filter(kind="email", actor="boss@example.com").exists()
    # A note goes to the timeline with the staff member's name.
    staff_client.post(reverse("admin:checkout_order_note", args=[order.pk]), {"note": "Called the customer"})
    assert order.events.get(kind="note").actor == "boss@example.com"


def test_list_actions_no_longer_move_money(staff_client, order, roamify):
    changelist = reverse("admin:checkout_order_changelist")
    html = staff_client.get(changelist).content.decode()
    assert 'value="retry_fulfilment"' in html
    assert 'value="refund"' not in html and 'value="resend_esim_email"' not in html
    assert 'value="delete_selected"' not in html
    # Bulk retry asks first, with the balance; only the confirmation retries.
    confirm = staff_client.post(changelist, {"action": "retry_fulfilment", "_selected_action": [order.pk]})
    assert confirm.status_code == 200 and "Retry 1 order" in confirm.content.decode()
    assert not order.events.filter(kind="retry").exists()
    staff_client.post(
        changelist, {"action": "retry_fulfilment", "_selected_action": [order.pk], "confirmed": "yes"}
    )
    assert order.events.filter(kind="retry", actor="boss@example.com").exists()
    response = staff_client.post(changelist, {"action": "refund", "_selected_action": [order.pk]})
    order.refresh_from_db()
    assert order.status != OrderStatus.REFUNDED and not order.payments.filter(refunded_cents__gt=0).exists()
    assert response.status_code in (200, 302)


def test_refund_page_validates_money_and_reason(staff_client, order, roamify):
    url = reverse("admin:checkout_order_refund", args=[order.pk])
    page = staff_client.get(url).content.decode()
    # The goodwill box starts empty now (lines are picked instead); the page says what is left.
    assert "Left to refund: <strong>$9.99</strong>" in page and "Not installed? Full refund." in page

    def answer(form: dict) -> str:
        return staff_client.post(url, {"action": "preview", "rule": "card_first", **form}).content.decode()

    assert "Must be at most $9.99." in answer({"goodwill": "12.00", "reason": "x"})
    assert "Type an amount like 7.49" in answer({"goodwill": "abc", "reason": "x"})
    refused = answer({"goodwill": "7,4.9", "reason": "x"})
    assert "Type an amount like 7.49" in refused and "$7.49" not in refused
    assert "$7.49" in answer({"goodwill": "7.49", "reason": "x"})  # previewed, not refunded
    _, no_reason = refund_on_page(staff_client, order, goodwill="1.00", reason="")
    assert "Say why the order is refunded" in no_reason.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID and order.payments.get().refunded_cents == 0
    _, done = refund_on_page(staff_client, order, goodwill="2.50", reason="Goodwill")
    assert done.status_code == 302
    assert order.payments.get().refunded_cents == 250


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


def test_order_timeline_can_be_filtered_by_kind(staff_client, order):
    other = paid_order(PackageFactory(retail_cents=499), email="other@example.com")
    staff.add_note(order.pk, "Called the customer", actor="boss@example.com")
    staff.add_note(other.pk, "Someone else's note", actor="boss@example.com")
    # The order page links to its timeline by kind, with how many of each.
    page = staff_client.get(reverse("admin:checkout_order_change", args=[order.pk])).content.decode()
    timeline = reverse("admin:checkout_orderevent_changelist")
    notes_url = f"{timeline}?order__id__exact={order.pk}&amp;kind__exact=note"
    assert f'<a href="{notes_url}">Staff note (1)</a>' in page
    assert f'<a href="{timeline}?order__id__exact={order.pk}">Everything (' in page
    # That link shows this order's notes only.
    notes = staff_client.get(timeline, {"order__id__exact": order.pk, "kind__exact": "note"})
    html = notes.content.decode()
    assert notes.status_code == 200
    assert "Called the customer" in html and "Someone else&#x27;s note" not in html
    assert "Order placed by" not in html  # the order's other events are filtered out
    # Across every order, one kind: both notes; the list filter offers the kinds by name.
    html = staff_client.get(timeline, {"kind__exact": "note"}).content.decode()
    assert "Called the customer" in html and "Someone else&#x27;s note" in html
    assert order.number in html and other.number in html
    assert "Refund email sent" in html and "Cost refunded by Roamify" in html  # the filter's choices
    # History is shown, never edited or added to.
    event = order.events.get(kind="note")
    change = staff_client.get(reverse("admin:checkout_orderevent_change", args=[event.pk]))
    assert change.status_code == 200 and 'name="_save"' not in change.content.decode()
    assert staff_client.get(reverse("admin:checkout_orderevent_add")).status_code == 403
