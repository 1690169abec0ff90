"""Referrals wired to orders: a friend's order paid with a customer's referral code is recorded once;
when it is due the settle run (`checkout.settle_referrals`) earns the referrer the reward once, or
nothing: a refunded order (any refund, or one asked for), a self-referral (the same account, the same
email, the same card: Stripe's fingerprint), past the monthly cap; an order waiting for staff waits.
The referrer is emailed once, in their language.

On PostgreSQL; orders paid through the Stripe sandbox over HTTP (or the instant test provider where
the card does not matter), fulfilled through the Roamify sandbox; the whole journey with the real
worker."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import transaction
from django.test import Client
from django.utils import timezone, translation

from checkout import cart, services
from checkout.models import Order, OrderStatus
from checkout.services import referrals
from checkout.services.order_state import locked, log_event, move
from conftest import wait_until
from core.models import OutboxEmail
from core.money import format_money
from core.queue import send
from discounts.models import DiscountUse
from discounts.services import share_code_for
from payments import cards
from payments import services as payments
from storecredit.models import CreditEntry, Kind, Referral, ReferralStatus
from storecredit.services import referrals as credit
from storecredit.tests.conftest import balanced

from .conftest import make_package
from .helpers import force_paid

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres")]

ANN = "ann@example.com"


def customer(name: str, email: str | None = None, *, verified: bool = True):
    user = get_user_model().objects.create_user(name, email or f"{name}@example.com", f"pw-{name}-12345")
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=verified)
    return user


def through_code(package, email: str, code: str, user=None) -> Order:
    return services.place_order(
        cart.PricedCart([cart.CartLine(package, 1)], []), email, user, discount_code=code
    )


def paid_by_card(stripe, order: Order, number: str = "4242424242424242") -> Order:
    """Paid on the Stripe sandbox's page with card `number`; the fingerprint kept as the worker would."""
    services.start_payment(order)
    card = order.payments.get(provider="stripe")
    assert stripe.control.pay(card.external_reference, number)["outcome"] == "paid"
    payments.sync_with_provider(card, source="test")
    assert cards.remember_fingerprint(card.pk)
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    return order


def due_now(*referrals_: Referral) -> None:
    """The refund window passes."""
    Referral.objects.filter(pk__in=[r.pk for r in referrals_]).update(
        due_at=timezone.now() - dt.timedelta(seconds=1)
    )


@pytest.fixture
def plan(roamify, db):
    return make_package()


@pytest.fixture
def ann(db):
    return customer("ann")


def test_a_paid_order_with_a_referral_code_is_recorded_once_and_others_are_not(plan, ann, settings):
    settings.REFERRAL_REWARD_AFTER_SECONDS = 120
    code = share_code_for(ann)
    order = through_code(plan, "bea@example.com", code.code)
    assert not Referral.objects.exists()  # placed, not paid
    force_paid(order)
    order.refresh_from_db()
    referral = Referral.objects.get()
    assert (referral.referrer_id, referral.code, referral.order_id) == (ann.pk, code.code, order.pk)
    assert (referral.friend_email, referral.friend_id) == ("bea@example.com", None)
    assert referral.due_at == order.paid_at + dt.timedelta(seconds=120)
    assert DiscountUse.objects.get(order=order).status == DiscountUse.Status.COUNTED
    # Moved again (fulfilling, and a retry's move back to paid): still one referral.
    with transaction.atomic():
        with_lock = locked(order.pk)
        move(with_lock, OrderStatus.FULFILLING)
        move(with_lock, OrderStatus.PAID)
    assert Referral.objects.count() == 1
    # A promotion's code and no code: no referral.
    from discounts.tests.conftest import code as promotion

    promotion("SPRING5", percent_off=5)
    force_paid(through_code(plan, "cy@example.com", "SPRING5"))
    force_paid(services.place_order(cart.PricedCart([cart.CartLine(plan, 1)], []), "di@example.com"))
    assert Referral.objects.count() == 1


def test_settled_twice_the_reward_comes_once_and_the_email_once_in_the_referrers_language(plan, ann):
    from accounts.language import save_language

    save_language(ann, "es")
    bea = customer("bea")
    order = through_code(plan, bea.email, share_code_for(ann).code, bea)
    force_paid(order)
    Order.objects.filter(pk=order.pk).update(customer_name="Bea Smith")
    referral = Referral.objects.get()
    assert referral.friend_id == bea.pk
    assert referrals.settle_due() == {"earned": 0, "void": 0, "waiting": 0, "emails": 0}  # not due yet
    due_now(referral)
    mail.outbox.clear()
    assert referrals.settle_due()["earned"] == 1
    assert referrals.settle_due()["earned"] == 0
    assert balanced(ann) == 500
    assert CreditEntry.objects.filter(kind=Kind.REFERRAL).count() == 1
    # The email is queued to the worker; sent here as it would: once, however often it is asked.
    assert referrals.send_reward_email(referral.pk) is True
    assert referrals.send_reward_email(referral.pk) is False
    [sent] = mail.outbox
    assert sent.to == [ANN]
    with translation.override("es"):  # in her language: its words, her money's format and links
        amount = format_money(500)
    assert sent.subject == f"Has conseguido {amount} de crédito en tienda: Bea compró su primera eSIM"
    assert amount != "$5.00" and "/es/account/credit/" in sent.body
    assert Referral.objects.get().emailed_at is not None


def test_two_workers_never_send_the_email_twice(plan, ann):
    order = through_code(plan, "bea@example.com", share_code_for(ann).code)
    force_paid(order)
    referral = Referral.objects.get()
    due_now(referral)
    referrals.settle_due()
    from django.core.cache import cache

    cache.add(f"referral-email:{referral.pk}", 1, 60)  # another worker is sending it now
    with pytest.raises(OSError):
        referrals.send_reward_email(referral.pk)
    cache.delete(f"referral-email:{referral.pk}")
    assert referrals.send_reward_email(referral.pk) and not referrals.send_reward_email(referral.pk)


@pytest.mark.parametrize("how", ["refunded", "refund asked for"])
def test_a_refunded_friends_order_earns_nothing(plan, ann, how):
    order = through_code(plan, "bea@example.com", share_code_for(ann).code)
    force_paid(order)
    if how == "refunded":
        assert services.refund_order(order.pk, actor="staff", reason="Changed plans") > 0
    else:  # staff asked for it; the money has not gone back yet
        log_event(order, "refund_requested", "Refund asked", actor="staff")
    referral = Referral.objects.get()
    due_now(referral)
    assert referrals.was_refunded(order.pk)
    assert referrals.settle_due()["void"] == 1
    referral.refresh_from_db()
    assert (referral.status, referral.void_reason) == (ReferralStatus.VOID, credit.REFUNDED)
    assert balanced(ann) == 0


def test_an_order_waiting_for_staff_waits(plan, ann):
    order = through_code(plan, "bea@example.com", share_code_for(ann).code)
    force_paid(order)
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.REQUIRES_ACTION)
    referral = Referral.objects.get()
    due_now(referral)
    assert referrals.settle_due()["waiting"] == 1
    assert Referral.objects.get().status == ReferralStatus.PENDING
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.COMPLETED)  # staff delivered it
    assert referrals.settle_due()["earned"] == 1


@pytest.mark.parametrize("how", ["same account", "same email"])
def test_referring_yourself_by_account_or_email_earns_nothing(plan, ann, how):
    # The cart refuses a customer's own code; an order that was placed as a guest and is hers after
    # all (her account, her address) still earns nothing when it is settled.
    order = through_code(plan, "someone@example.com", share_code_for(ann).code)
    if how == "same account":
        Order.objects.filter(pk=order.pk).update(customer=ann)
    else:
        Order.objects.filter(pk=order.pk).update(email="ANN@example.com")
    force_paid(order)
    referral = Referral.objects.get()
    due_now(referral)
    referrals.settle_due()
    referral.refresh_from_db()
    expected = credit.SAME_ACCOUNT if how == "same account" else credit.SAME_EMAIL
    assert (referral.status, referral.void_reason) == (ReferralStatus.VOID, expected)


def test_the_same_card_earns_nothing_and_another_card_earns(stripe, plan, ann):
    own = services.place_order(cart.PricedCart([cart.CartLine(plan, 1)], []), ANN, ann)
    paid_by_card(stripe, own, "4242424242424242")  # Ann's own order, her card
    code = share_code_for(ann).code
    same = paid_by_card(stripe, through_code(plan, "alt@example.com", code), "4242424242424242")
    other = paid_by_card(stripe, through_code(plan, "bea@example.com", code), "5555555555554444")
    # The sandbox gives one card number one fingerprint, and another number another.
    prints = [referrals.card_fingerprints(o.pk) for o in (own, same, other)]
    assert prints[0] == prints[1] and prints[0] != prints[2] and all(len(p) == 1 for p in prints)
    due_now(*Referral.objects.all())
    assert referrals.settle_due() == {"earned": 1, "void": 1, "waiting": 0, "emails": 1}
    assert Referral.objects.get(order=same).void_reason == credit.SAME_CARD
    assert Referral.objects.get(order=other).status == ReferralStatus.EARNED
    assert balanced(ann) == 500


def test_the_monthly_cap(plan, ann, settings):
    settings.REFERRAL_MONTHLY_CAP = 2
    code = share_code_for(ann).code
    for i in range(3):
        force_paid(through_code(plan, f"friend{i}@example.com", code))
    due_now(*Referral.objects.all())
    assert referrals.settle_due() == {"earned": 2, "void": 1, "waiting": 0, "emails": 2}
    assert Referral.objects.filter(void_reason=credit.CAPPED).count() == 1
    assert balanced(ann) == 1000


def test_the_whole_referral_with_the_worker(celery_worker, stripe, plan, ann, settings, clear_cache):
    """A friend lands on the share link, sees their discount in the cart, pays by card on the Stripe
    sandbox; the worker fulfils it through Roamify; the referral is recorded once; once it is due
    the beat task runs twice: the credit appears once and the email goes once."""
    code = share_code_for(ann)
    friend = Client()
    landing = friend.get(f"/r/{code.code}/")
    assert landing.status_code == 302 and landing.url == f"/?ref={code.code}"
    assert friend.post("/cart/add/", {"package": plan.package_id}).status_code == 302
    page = friend.get("/cart/").content.decode()
    assert f"A friend's invite ({code.code})" in page  # a friend's code says whose gift it is
    assert friend.post("/checkout/", {"email": "bea@example.com"}).status_code == 302
    order = Order.objects.get(email="bea@example.com")
    assert order.discount_cents > 0 and order.discount_code_id == code.pk
    session_id = order.payments.get(provider="stripe").external_reference
    assert stripe.control.pay(session_id)["outcome"] == "paid"
    assert friend.get(f"{order.get_absolute_url()}?session_id={session_id}").status_code == 200
    wait_until(lambda: Order.objects.get(pk=order.pk).status == OrderStatus.COMPLETED, 60, what="fulfilment")
    wait_until(
        lambda: order.payments.get(provider="stripe").data.get("card_fingerprint"), 60, what="fingerprint"
    )
    referral = Referral.objects.get()
    assert (referral.order_id, referral.referrer_id, referral.friend_email) == (
        order.pk,
        ann.pk,
        "bea@example.com",
    )
    due_now(referral)
    entry = settings.CELERY_BEAT_SCHEDULE["settle-referrals"]
    assert entry == {"task": "checkout.settle_referrals", "schedule": 3600}
    send(entry["task"])  # what beat sends, by name: twice
    send(entry["task"])
    # The friend as they paid on the card page (the sandbox's payer), by first name only.
    first_name = Order.objects.get(pk=order.pk).customer_name.split()[0]
    subject = f"You earned $5.00 store credit: {first_name} bought their first eSIM"
    wait_until(lambda: OutboxEmail.objects.filter(subject=subject).exists(), 60, what="the referrer's email")
    wait_until(lambda: Referral.objects.get().emailed_at, 30, what="the email recorded")
    time.sleep(1)  # a second email, if there were one, would be in the outbox by now
    assert OutboxEmail.objects.filter(subject=subject, to=ANN).count() == 1
    assert Referral.objects.get().status == ReferralStatus.EARNED
    assert balanced(ann) == 500 and CreditEntry.objects.filter(kind=Kind.REFERRAL).count() == 1


def test_a_referrer_whose_code_was_used_can_delete_their_account(plan, ann):
    from accounts.services import delete_account
    from discounts.models import DiscountCode

    code = share_code_for(ann)
    order = through_code(plan, "bea@example.com", code.code)
    force_paid(order)
    delete_account(ann)  # the orders that used her code PROTECT it: kept, detached, switched off
    code.refresh_from_db()
    assert (code.referrer_id, code.active) == (None, False)
    assert Order.objects.get(pk=order.pk).discount_code_id == code.pk
    assert DiscountCode.objects.count() == 1
    due_now(*Referral.objects.all())
    assert referrals.settle_due()["void"] == 1
    assert Referral.objects.get().void_reason == credit.NO_REFERRER
