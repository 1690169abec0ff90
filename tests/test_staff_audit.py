"""Every staff action on orders and gift cards lands in the audit log with the staff user."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from catalog.tests.factories import PackageFactory
from checkout.models import OrderStatus
from checkout.tests.helpers import paid_order, refund_on_page
from core.models import AuditEntry
from esims.models import Esim
from giftcards.models import GiftCard
from giftcards.tests.conftest import new_card

pytestmark = pytest.mark.django_db


def inline_forms(page) -> dict:
    """The ledger inline's management form and rows, as the change page sends them back."""
    data = {}
    for formset in page.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        data |= {management.add_prefix(name): value for name, value in management.initial.items()}
        for form in formset.formset.forms:
            data |= {form.add_prefix(name): form.initial.get(name, "") for name in form.fields}
    return data


def entry(action: str, obj) -> AuditEntry:
    return AuditEntry.objects.get(action=action, target_type=obj._meta.label_lower, target_id=str(obj.pk))


def test_order_actions_are_recorded_with_the_staff_user(staff_client, roamify):
    order = paid_order(PackageFactory(retail_cents=999), email="t@example.com")
    order.lines.get().esims.add(
        Esim.objects.create(
            upstream_esim_id="esim-1",
            iccid="8901000000000000001",
            lpa_code="LPA:1$smdp.example$CODE",
            smdp_address="smdp.example",
            activation_code="CODE",
        )
    )
    staff_client.post(reverse("admin:checkout_order_retry", args=[order.pk]))
    assert entry("order.retry", order).actor == "boss@example.com"
    order.status, order.esim_email_sent_at = OrderStatus.COMPLETED, timezone.now() - dt.timedelta(hours=2)
    order.save()
    staff_client.post(reverse("admin:checkout_order_resend", args=[order.pk]))
    assert entry("order.resend_esim_email", order).actor == "boss@example.com"
    refund_on_page(staff_client, order, goodwill="2.50", reason="Goodwill")
    refund = entry("order.refund", order)
    assert refund.actor == "boss@example.com" and refund.note == "Goodwill"
    staff_client.post(reverse("admin:checkout_order_note", args=[order.pk]), {"note": "Called the customer"})
    assert entry("order.note", order).actor == "boss@example.com"


def test_gift_card_actions_are_recorded_with_the_staff_user(staff_client, mailoutbox):
    card, _ = new_card(1000)
    GiftCard.objects.filter(pk=card.pk).update(recipient_email="ann@example.com")
    url = "/admin/giftcards/giftcard/"
    for action, recorded in (
        ("disable_cards", "giftcard.disable"),
        ("enable_cards", "giftcard.enable"),
        ("resend_cards", "giftcard.resend"),
    ):
        staff_client.post(url, {"action": action, "_selected_action": [card.pk]})
        assert entry(recorded, card).actor == "staff boss@example.com", recorded
    staff_client.post(f"{url}{card.pk}/adjust/", {"amount_cents": "-3.00", "reason": "Correction"})
    adjust = entry("giftcard.adjust", card)
    assert (adjust.before, adjust.after, adjust.note) == (
        {"balance_cents": 1000},
        {"balance_cents": 700},
        "Correction",
    )
    staff_client.post(url, {"action": "revoke_cards", "_selected_action": [card.pk]})
    revoke = entry("giftcard.revoke", card)
    assert revoke.actor == "staff boss@example.com" and revoke.before == {"balance_cents": 700}


def test_a_card_issued_by_hand_is_recorded(staff_client):
    staff_client.post(
        "/admin/giftcards/giftcard/add/",
        {
            "initial_value_cents": "20.00",
            "recipient_name": "",
            "recipient_email": "",
            "message": "",
            "send_on": "",
            "expires_on": "",
            "template_suffix": "globe",
            "note": "Apology",
        },
    )
    card = GiftCard.objects.get()
    issued = entry("giftcard.issue", card)
    assert issued.actor == "staff boss@example.com" and issued.after == {"balance_cents": 2000}
    change = f"/admin/giftcards/giftcard/{card.pk}/change/"
    staff_client.post(
        change,
        {
            **inline_forms(staff_client.get(change)),
            "note": "Apology, phoned",
            "expires_on": "",
            "template_suffix": "globe",
        },
    )
    update = entry("giftcard.update", card)
    assert update.before == {"note": "Apology"} and update.after == {"note": "Apology, phoned"}
