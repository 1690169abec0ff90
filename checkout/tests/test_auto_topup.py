"""Automatic top-up against the real pieces: PostgreSQL, the Roamify sandbox sending its signed usage
webhooks to the live shop, a real Celery worker (sharing the shop's cache), the outbox for emails.

The charge goes through `checkout.services.one_tap.buy_topup_with_saved_card`. Until saved-cards
merges that is a stand-in (it declines as Stripe does for `pm_card_chargeDeclined`); the tests only
use its contract (orders, the Roamify ledger, emails), so they run unchanged against the real one
with the Stripe sandbox. `saved_card` below is the one place to change at the merge.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from django.contrib.auth import get_user_model

from checkout.models import AutoTopup, AutoTopupCrossing, LineKind, Order, OrderLine, OrderStatus
from checkout.services import auto_topup
from checkout.tests.conftest import make_package
from checkout.tests.helpers import paid_order, saved_card
from conftest import wait_until
from core.models import OutboxEmail
from core.roamify_client import roamify_client
from esims.models import Esim, RoamifyEvent
from esims.signatures import sign
from tests.e2e import test_account_journey as journey

SECRET = journey.SECRET
shop = journey.shop  # the fixture: the live shop and a worker sharing its cache, webhooks to it
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("worker")]
EMAIL = "auto@example.com"
DEAD_URL = "http://127.0.0.1:9/roamify/webhook/"  # nothing listens: the sandbox records what it sent


def bought_esim(user) -> tuple[Esim, object]:
    """An eSIM bought from the sandbox by the user (the worker fulfils it), and a top-up that fits it."""
    package = make_package()
    order = paid_order(package, email=EMAIL)
    wait_until(lambda: Order.objects.get(pk=order.pk).status == OrderStatus.COMPLETED, 60, what="the eSIM")
    Order.objects.filter(pk=order.pk).update(customer=user)
    esim = Esim.objects.get(order_lines__order=order)
    Esim.objects.filter(pk=esim.pk).update(customer=user)
    esim.refresh_from_db()
    topup_id = next(
        p.package_id
        for p in roamify_client().topup_packages(esim.iccid)
        if p.package_id != package.package_id and not p.is_unlimited
    )
    return esim, make_package(package_id=topup_id)


def turn_on(user, esim, topup, card, *, max_per_month=3, max_cents=100_000) -> AutoTopup:
    # Below half the plan's data: crossed by using 60 % of it.
    below = round(esim_allowance(esim) * 0.5)
    return auto_topup.set_up(
        customer=user,
        esim=esim,
        package=topup,
        card=card,
        below_mb=below,
        below_days=None,
        max_per_month=max_per_month,
        max_cents_per_month=max_cents,
        currency="USD",
        language="en",
    )


def esim_allowance(esim: Esim) -> float:
    return roamify_client().usage_details(esim.iccid).allowed_data_mb


def topup_orders(esim: Esim):
    return Order.objects.filter(lines__kind=LineKind.TOPUP, lines__esim=esim).distinct()


def auto_emails(kind: str):
    subject = "was topped up automatically" if kind == "bought" else "is paused"
    return OutboxEmail.objects.filter(to=EMAIL, subject__contains=subject)


def post_signed(shop: str, envelope: dict) -> int:
    body = json.dumps(envelope).encode()
    headers = {"Content-Type": "application/json", "X-Roamify-Signature": sign(SECRET, body)}
    return httpx.post(f"{shop}/roamify/webhook/", content=body, headers=headers, timeout=10).status_code


def sent_while_away(roamify, action) -> list[dict]:
    """Do `action` upstream with the webhooks going nowhere; the signed events the sandbox sent."""
    before = len(roamify.control.webhook_deliveries())
    roamify.control.set_webhook(DEAD_URL, SECRET)
    action()
    events = [d["event"] for d in roamify.control.webhook_deliveries()[before:]]
    return events


def all_processed() -> bool:
    return not RoamifyEvent.objects.filter(processed_at__isnull=True).exists()


def settled(esim: Esim) -> bool:
    """Every crossing decided and its email sent (nothing left for the worker to do about it)."""
    crossings = AutoTopupCrossing.objects.filter(esim=esim)
    return (
        all(c.status in ("bought", "stopped") for c in crossings)
        and not crossings.filter(
            status="stopped", reason__in=["declined", "cap", "undeliverable"], emailed_at__isnull=True
        ).exists()
    )


@pytest.fixture
def user(db):
    return get_user_model().objects.create_user(username="auto", email=EMAIL, password="a long pass 123")


def test_a_storm_of_ten_low_data_webhooks_buys_one_top_up(shop, roamify, user):
    esim, topup = bought_esim(user)
    turn_on(user, esim, topup, saved_card(user))
    allowance = esim_allowance(esim)
    events = sent_while_away(
        roamify, lambda: roamify.control.esim_action(esim.iccid, "consume", mb=allowance * 0.6)
    )
    usage = [e for e in events if e["event_type"] == "usage"]
    assert usage, events
    low = usage[-1]
    # Ten copies at once, each a distinct delivery (its own timestamp), so none is dropped as a replay.
    copies = [{**low, "data": {**low["data"], "timestamp": low["data"]["timestamp"] + i}} for i in range(10)]
    with ThreadPoolExecutor(10) as pool:
        assert set(pool.map(lambda e: post_signed(shop, e), copies)) == {200}
    wait_until(lambda: RoamifyEvent.objects.filter(event_type="usage").count() >= 10 and all_processed(), 60)
    wait_until(lambda: auto_emails("bought").exists(), 60, what="the receipt of the automatic top-up")
    wait_until(
        lambda: topup_orders(esim).filter(status=OrderStatus.COMPLETED).exists(), 60, what="the top-up"
    )
    assert AutoTopupCrossing.objects.filter(esim=esim).count() == 1
    assert topup_orders(esim).count() == 1
    assert [o["kind"] for o in roamify.control.ledger()].count("topup") == 1
    mail = auto_emails("bought").get()
    assert topup.data_label in mail.body_text and topup_orders(esim).get().number in mail.body_text
    assert esim_allowance(esim) == allowance + topup.data_mb


def test_the_monthly_cap_stops_the_next_one_and_emails(shop, roamify, user):
    esim, topup = bought_esim(user)
    rule = turn_on(user, esim, topup, saved_card(user), max_per_month=1)
    allowance = esim_allowance(esim)
    roamify.control.esim_action(esim.iccid, "consume", mb=allowance * 0.6)
    wait_until(lambda: topup_orders(esim).filter(status=OrderStatus.COMPLETED).exists(), 60, what="the first")
    wait_until(lambda: auto_emails("bought").exists(), 30)
    # The top-up grew the allowance; use enough of it to fall below the threshold again.
    grown = esim_allowance(esim)
    assert grown > allowance
    left = roamify_client().usage_details(esim.iccid).remaining_data_mb
    roamify.control.esim_action(esim.iccid, "consume", mb=left - rule.below_mb / 2)
    wait_until(lambda: auto_emails("paused").exists(), 60, what="the cap's email")
    rule.refresh_from_db()
    assert rule.paused == AutoTopup.Pause.CAP
    assert topup_orders(esim).count() == 1
    assert [o["kind"] for o in roamify.control.ledger()].count("topup") == 1
    assert "limit" in auto_emails("paused").get().body_text


def test_a_declined_card_pauses_it_and_emails_why(shop, roamify, user):
    esim, topup = bought_esim(user)
    rule = turn_on(user, esim, topup, saved_card(user, "4000000000000341"))
    roamify.control.esim_action(esim.iccid, "consume", mb=esim_allowance(esim) * 0.6)
    mail = wait_until(lambda: auto_emails("paused").first(), 60, what="the paused email")
    rule.refresh_from_db()
    # Declined: the order is cancelled with nothing charged (no payment to finish, unlike a card
    # that asks for authentication); the email says why and links to the eSIM's page.
    assert rule.paused == AutoTopup.Pause.DECLINED and not rule.finish_url
    assert str(rule.paused_message) in mail.body_text and f"/account/esims/{esim.pk}/" in mail.body_text
    assert not topup_orders(esim).filter(paid_at__isnull=False).exists()
    assert "topup" not in [o["kind"] for o in roamify.control.ledger()]
    assert not auto_emails("bought").exists()


@pytest.mark.parametrize("ending", ["expired", "refunded"])
def test_an_expired_or_refunded_esim_never_buys(shop, roamify, user, ending):
    from esims.services import mark_refunded

    esim, topup = bought_esim(user)
    rule = turn_on(user, esim, topup, saved_card(user))
    allowance = esim_allowance(esim)

    def use_then_end():
        roamify.control.esim_action(
            esim.iccid, "consume", mb=allowance * 0.3
        )  # past 25 %: the sandbox sends a usage webhook
        if ending == "expired":
            roamify.control.esim_action(esim.iccid, "expire")

    events = sent_while_away(roamify, use_then_end)
    if ending == "refunded":
        mark_refunded([esim.pk])
    for event in [e for e in events if e["event_type"] == "status"]:
        assert post_signed(shop, event) == 200
    wait_until(all_processed, 30)
    usage = next(e for e in events if e["event_type"] == "usage")
    low = {**usage, "data": {**usage["data"], "timestamp": usage["data"]["timestamp"] + 99}}
    low["data"]["usage_data"] = {**low["data"]["usage_data"], "remaining_data": rule.below_mb / 4}
    assert post_signed(shop, low) == 200
    wait_until(lambda: all_processed() and settled(esim) and AutoTopupCrossing.objects.filter(esim=esim), 30)
    rule.refresh_from_db()
    assert rule.paused == AutoTopup.Pause.UNDELIVERABLE
    assert not topup_orders(esim).exists()
    assert "topup" not in [o["kind"] for o in roamify.control.ledger()]
    assert auto_emails("paused").exists()


def test_turned_off_it_buys_nothing(shop, roamify, user):
    esim, topup = bought_esim(user)
    turn_on(user, esim, topup, saved_card(user))
    assert auto_topup.turn_off(customer=user, esim=esim)
    roamify.control.esim_action(esim.iccid, "consume", mb=esim_allowance(esim) * 0.6)
    wait_until(lambda: RoamifyEvent.objects.filter(event_type="usage").exists() and all_processed(), 30)
    assert not AutoTopupCrossing.objects.filter(esim=esim).exists()
    assert not topup_orders(esim).exists() and not OrderLine.objects.filter(esim=esim).exists()
