"""Refunds by line, from the refund page: a two-eSIM order paid by a gift card and a card.

Staff pick one eSIM; the page previews the split by the chosen rule; the refund gives each payment
exactly what the preview said (the Stripe sandbox's refunds, the gift card's ledger), files one
Roamify refund request for that eSIM only, and moves the order's figures by that line alone. The
refunded eSIM shows as refunded on the order, in the account and in admin, and as cancelled once
Roamify approves. An installed eSIM needs the second confirmation and shows the data it used.

Against the Stripe and Roamify sandboxes over HTTP, on PostgreSQL.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import Client
from django.urls import reverse

from checkout import cart, services
from checkout.models import Order, OrderLine, OrderStatus
from checkout.services import staff
from checkout.services.refunds import plan_refund
from core.money import format_money
from esims.models import Esim
from giftcards.ledger import locked, post
from giftcards.models import GiftCard, GiftCardTransaction, Kind
from giftcards.tests.conftest import balanced, new_card
from giftcards.tests.test_buy_and_revoke import buy_card
from payments.models import Payment
from payments.providers.stripe_api import gateway

from .conftest import make_package
from .helpers import paid_order, refund_on_page, shown_on
from .test_mixed_payments import pay_rest_by_card

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres")]
GIFT = 500


@pytest.fixture
def traveller(db):
    return get_user_model().objects.create_user("tess", "tess@example.com", "pw")


def two_esim_order(stripe, traveller) -> tuple[Order, GiftCard]:
    """Two eSIM lines (Japan, France), $5.00 paid by a gift card and the rest by card, delivered."""
    card, _ = new_card(GIFT)
    priced = cart.PricedCart([cart.CartLine(make_package("JP"), 1), cart.CartLine(make_package("FR"), 1)], [])
    order = services.place_order(priced, traveller.email, traveller, gift_cards=[card.pk])
    pay_rest_by_card(order, stripe)
    assert services.fulfil_order(order.id).done
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED and order.esims.count() == 2
    return order, card


def esim_of(line: OrderLine) -> Esim:
    return line.esims.get()


def upstream_requests(roamify, order: Order) -> list[dict]:
    ids = {e.upstream_esim_id for e in order.esims}
    return [r for r in roamify.control.refunds() if r["esimId"] in ids]


def account_page(traveller) -> str:
    client = Client()
    client.force_login(traveller)
    return client.get(reverse("accounts:esim_list")).content.decode()


def test_refund_of_one_esim_line_splits_as_previewed_and_claims_that_esim_once(
    stripe, roamify, staff_client, traveller
):
    order, gift_card = two_esim_order(stripe, traveller)
    japan, france = order.lines.order_by("id")
    refunded_esim, kept_esim = esim_of(japan), esim_of(france)
    gift = order.payments.get(provider="giftcard")
    card = order.payments.get(provider="stripe")
    assert gift.amount_cents + card.amount_cents == order.total_cents and gift.amount_cents == GIFT
    url = reverse("admin:checkout_order_refund", args=[order.pk])
    page = staff_client.get(url).content.decode()
    assert "Card first, then gift cards" in page and "Gift cards first, then the card" in page
    assert (
        refunded_esim.iccid in page and kept_esim.iccid in page and "cost claimed back from Roamify" in page
    )

    # Staff pick the Japan eSIM and send the money to the gift card first.
    gift_share = min(GIFT, japan.total_cents)
    card_share = japan.total_cents - gift_share
    preview, done = refund_on_page(
        staff_client,
        order,
        lines=[f"esim:{refunded_esim.pk}"],
        rule="gift_cards_first",
        reason="Trip shortened",
    )
    assert shown_on(preview, "split") == ",".join(
        f"{pk}:{cents}" for pk, cents in ((gift.pk, gift_share), (card.pk, card_share)) if cents
    )
    assert f"Refund {format_money(japan.total_cents)} as shown" in preview
    assert done.status_code == 302 and done.url == url

    # Each payment got back exactly what the preview said.
    gift.refresh_from_db()
    card.refresh_from_db()
    assert (gift.refunded_cents, card.refunded_cents) == (gift_share, card_share)
    stripe_refunds = gateway().client.v1.refunds.list(params={"payment_intent": card.capture_reference})
    assert [r.amount for r in stripe_refunds.data] == ([card_share] if card_share else [])
    entries = GiftCardTransaction.objects.filter(card=gift_card, kind=Kind.REFUND)
    assert [e.amount_cents for e in entries] == [gift_share]
    assert balanced(gift_card) == gift_share  # spent in full on the order, then given back

    # One Roamify refund request, for that eSIM only; the order moved by that line alone.
    [request] = upstream_requests(roamify, order)
    assert request["esimId"] == refunded_esim.upstream_esim_id
    japan.refresh_from_db()
    france.refresh_from_db()
    assert (japan.refunded_cents, bool(japan.refunded_at)) == (japan.total_cents, True)
    assert (france.refunded_cents, france.refunded_at) == (0, None)
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    assert sum(p.refunded_cents for p in order.payments.all()) == japan.total_cents

    # The page shows the new figures at once; the refunded eSIM can't be picked again.
    after = staff_client.get(url).content.decode()
    assert f"Left to refund: <strong>{format_money(order.total_cents - japan.total_cents)}</strong>" in after
    assert f'value="esim:{refunded_esim.pk}"' not in after and f'value="esim:{kept_esim.pk}"' in after
    again = staff_client.post(
        url, {"lines": [f"esim:{refunded_esim.pk}"], "rule": "card_first", "reason": "x", "action": "refund"}
    )
    assert again.status_code == 200 and len(upstream_requests(roamify, order)) == 1
    with pytest.raises(services.CheckoutError, match="can't be refunded"):
        services.refund_order(order.id, lines=[f"esim:{refunded_esim.pk}"], actor="x")

    # Refunded: on the order, in the account, in admin.
    refunded_esim.refresh_from_db()
    kept_esim.refresh_from_db()
    assert (refunded_esim.refund_state, kept_esim.refund_state) == ("refunded", "")
    order_page = staff_client.get(reverse("admin:checkout_order_change", args=[order.pk])).content.decode()
    assert "Refunded" in order_page
    esim_admin = reverse("admin:esims_esim_change", args=[refunded_esim.pk])
    assert "Refunded" in staff_client.get(esim_admin).content.decode()
    customer = Client()
    customer.force_login(traveller)
    assert "This eSIM was refunded." in customer.get(order.get_absolute_url()).content.decode()
    listing = account_page(traveller)
    assert listing.count(">Refunded<") == 1 and ">Cancelled<" not in listing

    # Roamify approves the request: the eSIM is cancelled everywhere.
    roamify.control.refund_action(request["refundId"], "approve")
    assert services.sync_upstream_refunds(older_than_seconds=0)["decided"] == 1
    refunded_esim.refresh_from_db()
    assert refunded_esim.refund_state == "cancelled"
    assert ">Cancelled<" in account_page(traveller)
    assert "Cancelled" in staff_client.get(esim_admin).content.decode()
    assert "refunded and cancelled" in customer.get(order.get_absolute_url()).content.decode()


def test_an_installed_esim_line_shows_its_usage_and_needs_the_second_confirmation(
    stripe, roamify, staff_client, traveller
):
    order, _ = two_esim_order(stripe, traveller)
    _, france = order.lines.order_by("id")
    used = esim_of(france)
    roamify.control.esim_action(used.upstream_esim_id, "activate")
    roamify.control.esim_action(used.upstream_esim_id, "consume", mb=300)
    url = reverse("admin:checkout_order_refund", args=[order.pk])
    page = staff_client.get(url).content.decode()
    assert "300 MB used of" in page and "installed: its cost will not come back" in page
    # The eSIM's own admin page: data used and left, and a link to its order.
    esim_page = staff_client.get(reverse("admin:esims_esim_change", args=[used.pk])).content.decode()
    assert "300 MB used of" in esim_page and " left" in esim_page
    assert reverse("admin:checkout_order_change", args=[order.pk]) in esim_page and order.number in esim_page

    picks = [f"esim:{used.pk}"]
    _, asked = refund_on_page(staff_client, order, lines=picks, reason="Network never worked")
    asked_html = asked.content.decode()
    assert asked.status_code == 200 and "Second confirmation" in asked_html and used.iccid[-4:] in asked_html
    assert not order.payments.filter(refunded_cents__gt=0).exists()
    _, done = refund_on_page(
        staff_client, order, lines=picks, reason="Network never worked", extra={"confirm_installed": "True"}
    )
    assert done.status_code == 302
    assert upstream_requests(roamify, order) == []  # installed: nothing to claim
    assert used.iccid[-4:] in order.events.get(kind="upstream_refund_skipped").message
    france.refresh_from_db()
    assert france.refunded_cents == france.total_cents


def test_a_refund_is_refused_when_the_payments_changed_since_the_preview(
    stripe, roamify, staff_client, traveller
):
    order, _ = two_esim_order(stripe, traveller)
    japan, _ = order.lines.order_by("id")
    esim = esim_of(japan)
    card = order.payments.get(provider="stripe")
    url = reverse("admin:checkout_order_refund", args=[order.pk])
    form = {"lines": [f"esim:{esim.pk}"], "rule": "card_first", "reason": "Trip shortened", "notify": "on"}
    preview = staff_client.post(url, {**form, "action": "preview"}).content.decode()
    # Meanwhile, another member of staff gives most of the card back.
    staff.refund(order.id, card.amount_cents - 50, actor="colleague", reason="Goodwill", notify=False)
    answer = staff_client.post(
        url,
        {
            **form,
            "split": shown_on(preview, "split"),
            "shown": shown_on(preview, "shown"),
            "action": "refund",
        },
    ).content.decode()
    assert "payments changed since this page was shown" in answer and "nothing was refunded" in answer
    card.refresh_from_db()
    esim.refresh_from_db()
    assert card.refunded_cents == card.amount_cents - 50 and esim.refund_state == ""
    assert Payment.objects.get(order=order, provider="giftcard").refunded_cents == 0
    assert upstream_requests(roamify, order) == []


def test_a_gift_card_line_refunds_its_unspent_balance_to_the_card_that_bought_it(stripe, staff_client):
    buyer = get_user_model().objects.create_user("bea", "bea@example.com", "pw")
    card = buy_card(stripe, buyer, 2500)
    order = card.order
    with transaction.atomic():  # $6.00 of it spent first
        post(locked(card.pk), Kind.ADJUST, -600, actor="test", reason="spent elsewhere")
    line = order.lines.get()
    preview, done = refund_on_page(staff_client, order, lines=[f"line:{line.pk}"], reason="Gift not wanted")
    assert f"{format_money(1900)}" in preview and "unspent of" in preview
    assert done.status_code == 302
    card.refresh_from_db()
    assert card.status == "revoked" and balanced(card) == 0
    stripe_payment = order.payments.get(provider="stripe")
    assert stripe_payment.refunded_cents == 1900


def test_goodwill_on_top_of_a_picked_line_says_it_is_what_is_left_after_the_line(roamify):
    """The refund page opens with the order's line ticked: goodwill typed on top of it was refused
    with "what is left to refund ($0.00)" under "Left to refund: $5.39" (found by the growth journey)."""
    order = paid_order(make_package("JP"))
    line = order.lines.get()
    on_top = plan_refund(order, [f"line:{line.pk}"], 100)
    assert on_top.refusal == (
        f"Choose an amount between {format_money(1)} and what is left to refund after the lines picked "
        f"({format_money(0)})."
    )
    alone = plan_refund(order, [], order.total_cents + 1)
    assert alone.refusal == (
        f"Choose an amount between {format_money(1)} and what is left to refund "
        f"({format_money(order.total_cents)})."
    )
    assert not plan_refund(order, [], order.total_cents).refusal
