"""Safe refunds: each uninstalled eSIM's cost is claimed back from Roamify exactly once; the
refund webhook closes or flags the claim; an installed eSIM needs a second confirmation.

Against the Roamify sandbox over HTTP, on PostgreSQL; the sandbox's signed webhooks go to a
small receiver, whose events are handed to checkout as the esims webhook endpoint will."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from checkout import services
from checkout.models import Order, OrderStatus, UpstreamRefund
from checkout.services import staff
from core.models import AuditEntry
from core.signals import roamify_refund_event
from core.tests.staff import sign_in_staff
from sandboxes.roamify.tests.test_webhooks import Receiver

from .helpers import paid_order, refund_on_page

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres")]
SECRET = "whsec-refunds"


def completed_order(package, quantity: int = 1) -> Order:
    order = paid_order(package, quantity=quantity)
    assert services.fulfil_order(order.id).done
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    return order


def upstream_requests(roamify, order: Order) -> list[dict]:
    ids = {e.upstream_esim_id for e in order.esims}
    return [r for r in roamify.control.refunds() if r["esimId"] in ids]


def test_refund_of_an_uninstalled_esim_files_one_request_and_refunded_closes_it(roamify, package):
    order = completed_order(package)
    esim = order.esims.get()
    staff.refund(order.id, actor="boss", reason="Trip cancelled", notify=True)
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED
    [claim] = order.upstream_refunds.all()
    [request] = upstream_requests(roamify, order)
    assert (claim.refund_id, claim.status, claim.cost_cents) == (
        request["refundId"],
        "pending",
        order.lines.get().wholesale_cents,
    )
    assert request["reason"] == "NOT_INSTALLED" and order.number in request["notes"]
    # Twice in a row: nothing more upstream.
    with pytest.raises(services.CheckoutError, match="can't be refunded"):
        staff.refund(order.id, actor="boss", reason="again", notify=False)
    services.upstream_refunds.file_upstream_refunds(order.id, actor="boss")
    services.upstream_refunds.file_upstream_refunds(order.id, actor="boss")
    assert len(upstream_requests(roamify, order)) == 1 and order.upstream_refunds.count() == 1
    assert order.events.filter(kind="upstream_refund", actor="boss").count() == 1

    # Roamify approves: the signed webhook reaches a receiver and closes the claim, once.
    with Receiver() as receiver:
        roamify.control.set_webhook(receiver.url, SECRET)
        roamify.control.refund_action(claim.refund_id, "approve")
        receiver.wait_for(1)
        [(body, signature)] = receiver.received
    assert signature == hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    event = json.loads(body)
    assert (event["event_category"], event["event_type"]) == ("refund", "refunded")
    for _ in range(2):  # a redelivery changes nothing
        data = event["data"]
        roamify_refund_event.send(
            "esims",
            refund_id=data["refund_id"],
            status=data["status"],
            reason=data.get("rejection_reason") or "",
            event_id=event["event_id"],
            data=data,
        )
    claim.refresh_from_db()
    assert claim.status == UpstreamRefund.Status.REFUNDED and claim.decided_at
    assert order.events.filter(kind="upstream_refund_refunded", actor="roamify").count() == 1
    assert esim.iccid[-4:] in order.events.get(kind="upstream_refund_refunded").message


def test_rejected_shows_in_the_timeline(roamify, package):
    order = completed_order(package)
    staff.refund(order.id, actor="boss", reason="Trip cancelled", notify=False)
    claim = order.upstream_refunds.get()
    with Receiver() as receiver:
        roamify.control.set_webhook(receiver.url, SECRET)
        roamify.control.refund_action(claim.refund_id, "reject", reason="Data was used")
        [event] = receiver.wait_for(1)
    assert (
        services.record_upstream_refund_event(
            event["data"]["refund_id"],
            event["data"]["status"],
            event["data"]["rejection_reason"],
            event["event_id"],
        )
        == "rejected"
    )
    claim.refresh_from_db()
    assert claim.status == "rejected" and claim.rejection_reason == "Data was used"
    note = order.events.get(kind="upstream_refund_rejected")
    assert "rejected" in note.message and "Data was used" in note.message
    assert "will not come back" in note.message
    # Rejected: no notice to the customer was asked for, so none went.
    assert not order.events.filter(kind="email_refund").exists()


def test_an_installed_esim_asks_for_a_second_confirmation(roamify, package, client):
    order = completed_order(package, quantity=2)
    first, second = order.esims.order_by("id")
    roamify.control.esim_action(first.upstream_esim_id, "install")
    user = get_user_model().objects.create_superuser("boss@example.com", "boss@example.com", "pw")
    sign_in_staff(client, user)
    url = reverse("admin:checkout_order_refund", args=[order.pk])
    page = client.get(url).content.decode()
    assert "installed: its cost will not come back" in page and "cost claimed back from Roamify" in page
    # Both eSIMs picked on the page (it was an amount of the whole order before refunds by line).
    picks = [f"esim:{first.pk}", f"esim:{second.pk}"]
    _, answer = refund_on_page(client, order, lines=picks, reason="Changed plans")
    asked = answer.content.decode()
    assert "Second confirmation" in asked and "will not come back" in asked and first.iccid[-4:] in asked
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED and not order.payments.filter(refunded_cents__gt=0).exists()
    _, done = refund_on_page(
        client, order, lines=picks, reason="Changed plans", extra={"confirm_installed": "True"}
    )
    assert done.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED
    # Only the uninstalled eSIM is claimed; the installed one is written off in the timeline.
    assert [r["esimId"] for r in upstream_requests(roamify, order)] == [second.upstream_esim_id]
    skipped = order.events.get(kind="upstream_refund_skipped")
    assert first.iccid[-4:] in skipped.message and skipped.actor == "boss@example.com"
    entry = AuditEntry.objects.get(action="order.refund", target_id=str(order.pk))
    assert entry.actor == "boss@example.com" and entry.note == "Changed plans"
    assert entry.before["status"] == "completed" and entry.after["status"] == "refunded"
    assert entry.after["refunded_cents"] == order.total_cents and entry.after["notified"] is True


def test_unanswered_request_is_looked_up_before_filing_again(roamify, package):
    order = completed_order(package)
    roamify.control.inject_fault("POST", "/api/refund", hang_seconds=1.5, then="create", status=504)
    staff.refund(order.id, actor="boss", reason="Trip cancelled", notify=False)
    claim = order.upstream_refunds.get()
    assert claim.status == "requested" and claim.last_error
    assert order.events.filter(kind="upstream_refund_failed").exists()
    assert len(upstream_requests(roamify, order)) == 1  # it got there; we did not hear
    assert services.sync_upstream_refunds(older_than_seconds=0)["filed"] == 1
    claim.refresh_from_db()
    assert claim.status == "pending" and claim.refund_id == upstream_requests(roamify, order)[0]["refundId"]
    assert len(upstream_requests(roamify, order)) == 1
    # The sync also asks how open requests stand, for webhooks that never came.
    roamify.control.refund_action(claim.refund_id, "approve")
    assert services.sync_upstream_refunds(older_than_seconds=0)["decided"] == 1
    claim.refresh_from_db()
    assert claim.status == "refunded"


def test_partial_refund_claims_nothing_and_can_skip_the_email(roamify, package, mailoutbox):
    order = completed_order(package)
    staff.refund(order.id, 100, actor="boss", reason="Goodwill", notify=False)
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED and upstream_requests(roamify, order) == []
    # The notice task (queued after commit) finds nothing to send when staff chose not to tell.
    assert services.send_refund_notice(order.id) is False
    staff.refund(order.id, 100, actor="boss", reason="More goodwill", notify=True)
    assert services.send_refund_notice(order.id) is True
    assert services.send_refund_notice(order.id) is False  # once
    assert [m.subject for m in mailoutbox] == [f"Refund for order {order.number}"]
    assert "$2.00" in mailoutbox[0].body
