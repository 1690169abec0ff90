"""Settling a referral: the reward once (settled twice), nothing for a refunded order, nothing for
each kind of self-referral (account, email in any case, a card the referrer paid with), nothing
past the monthly cap; not before it is due."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.utils import timezone

from accounts.services import delete_account
from checkout import cart, services
from checkout.models import Order
from payments import cards
from payments import services as payments
from payments.models import Payment
from storecredit.models import Kind, ReferralStatus
from storecredit.services import referrals

from .conftest import balanced, customer

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres")]

PAID = timezone.now() - dt.timedelta(days=40)


def order_of(email: str, user=None, fingerprint: str = "") -> Order:
    order = Order.objects.create(
        email=email, customer=user, currency="USD", total_cents=900, base_total_cents=900
    )
    if fingerprint:
        Payment.objects.create(
            order=order,
            provider="stripe",
            amount_cents=900,
            currency="USD",
            status=Payment.Status.CAPTURED,
            data={"card_fingerprint": fingerprint},
        )
    return order


def refer(referrer, email: str = "friend@example.com", friend=None, paid_at=PAID, **kwargs):
    order = order_of(email, friend, kwargs.pop("order_fingerprint", ""))
    return referrals.record(
        referrer_id=referrer.pk,
        code="ANN-1234",
        order_id=order.pk,
        friend_email=email,
        friend_id=friend.pk if friend else None,
        paid_at=paid_at,
        **kwargs,
    )


def test_the_reward_is_earned_once_and_recording_twice_is_one_referral():
    ann = customer()
    referral = refer(ann)
    assert referral.due_at == PAID + dt.timedelta(days=settings.REFUND_WINDOW_DAYS)
    again = referrals.record(
        referrer_id=ann.pk, code="X", order_id=referral.order_id, friend_email="x@example.com", paid_at=PAID
    )
    assert again.pk == referral.pk
    assert list(referrals.due()) == [referral]
    first = referrals.settle(referral.pk, refunded=False)
    second = referrals.settle(referral.pk, refunded=False)
    assert first.status == second.status == ReferralStatus.EARNED
    assert balanced(ann) == settings.REFERRAL_REWARD_CENTS == 500
    assert ann.credit_account.entries.filter(kind=Kind.REFERRAL).count() == 1
    assert first.reward.amount_cents == 500 and first.reward.expires_at is not None
    assert list(referrals.due()) == []


def test_not_settled_before_it_is_due():
    ann = customer()
    referral = refer(ann, paid_at=timezone.now())
    assert referrals.settle(referral.pk, refunded=False).status == ReferralStatus.PENDING
    assert list(referrals.due()) == []


def test_a_refunded_order_earns_nothing():
    ann = customer()
    referral = referrals.settle(refer(ann).pk, refunded=True)
    assert (referral.status, referral.void_reason) == (ReferralStatus.VOID, referrals.REFUNDED)
    assert balanced(ann) == 0


@pytest.mark.parametrize(
    "how, reason",
    [
        ("account", referrals.SAME_ACCOUNT),
        ("email", referrals.SAME_EMAIL),
        ("card given", referrals.SAME_CARD),
        ("card on the order", referrals.SAME_CARD),
    ],
)
def test_self_referral_earns_nothing(how, reason):
    ann = customer("ann", "Ann@Example.com")
    order_of("ann-old@example.com", ann, fingerprint="fp-ann")  # a card Ann paid with before
    if how == "account":
        referral = refer(ann, "other@example.com", friend=ann)
    elif how == "email":
        referral = refer(ann, "aNN@example.COM")
    elif how == "card given":
        referral = refer(ann, card_fingerprint="fp-ann")
    else:
        referral = refer(ann, order_fingerprint="fp-ann")
    settled = referrals.settle(referral.pk, refunded=False)
    assert (settled.status, settled.void_reason) == (ReferralStatus.VOID, reason)
    assert balanced(ann) == 0


def test_another_card_earns():
    ann = customer()
    order_of("ann@example.com", ann, fingerprint="fp-ann")
    referral = referrals.settle(refer(ann, card_fingerprint="fp-friend").pk, refunded=False)
    assert referral.status == ReferralStatus.EARNED


def test_the_monthly_cap(settings):
    settings.REFERRAL_MONTHLY_CAP = 2
    ann = customer()
    now = timezone.now()
    settled = [
        referrals.settle(refer(ann, f"f{i}@example.com").pk, refunded=False, now=now) for i in range(3)
    ]
    assert [r.status for r in settled] == [ReferralStatus.EARNED, ReferralStatus.EARNED, ReferralStatus.VOID]
    assert settled[2].void_reason == referrals.CAPPED
    assert balanced(ann) == 1000
    # Next calendar month the cap starts again.
    next_month = (timezone.localtime(now).replace(day=1) + dt.timedelta(days=32)).replace(day=2)
    later = referrals.settle(refer(ann, "f9@example.com").pk, refunded=False, now=next_month)
    assert later.status == ReferralStatus.EARNED


def paid_by_card(stripe, package, email: str, user, number: str) -> Order:
    """An order paid on the Stripe sandbox's page with card `number`; its capture queues the
    fingerprint's look-up (run here as the worker would)."""
    order = services.place_order(cart.PricedCart([cart.CartLine(package, 1)], []), email, user)
    services.start_payment(order)
    card = order.payments.get(provider="stripe")
    assert stripe.control.pay(card.external_reference, number)["outcome"] == "paid"
    payments.sync_with_provider(card, source="test")
    assert cards.remember_fingerprint(card.pk)
    return order


def test_the_same_card_number_is_told_by_stripes_fingerprint(stripe, package, no_queue):
    ann = customer()
    paid_by_card(stripe, package, ann.email, ann, "4242424242424242")  # Ann's own order
    queued = [c.args[0] for c in no_queue.call_args_list]
    assert "payments.remember_card_fingerprint" in queued  # asked after commit, at capture
    same = paid_by_card(stripe, package, "friend@example.com", None, "4242424242424242")
    other = paid_by_card(stripe, package, "other@example.com", None, "5555555555554444")
    fingerprints = [o.payments.get(provider="stripe").data["card_fingerprint"] for o in (same, other)]
    assert fingerprints[0] != fingerprints[1]
    by_same = referrals.record(
        referrer_id=ann.pk, code="ANN", order_id=same.pk, friend_email="friend@example.com", paid_at=PAID
    )
    by_other = referrals.record(
        referrer_id=ann.pk, code="ANN", order_id=other.pk, friend_email="other@example.com", paid_at=PAID
    )
    assert referrals.settle(by_same.pk, refunded=False).void_reason == referrals.SAME_CARD
    assert referrals.settle(by_other.pk, refunded=False).status == ReferralStatus.EARNED


def test_a_referrer_who_deleted_their_account_earns_nothing():
    ann = customer()
    referral = refer(ann)
    delete_account(ann)
    settled = referrals.settle(referral.pk, refunded=False)
    assert (settled.status, settled.void_reason) == (ReferralStatus.VOID, referrals.NO_REFERRER)
