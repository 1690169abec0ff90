"""The figures the books need, on a hand-computed fixture (base cents), each in one query whatever
the number of ranges.

  Jan 5   Ann: staff grant                 +1000
  Jan 10  Bob: referral reward              +500
  Jan 15  Ann: order paid with credit       -400  (reserve; its payment captured Jan 15)
  Jan 20  Ann: order not paid yet           -200  (reserve; payment still reserved: still owed)
  Feb 3   Ann: refund back as credit        +100
  Feb 10  Bob: the reward expires           -500
  Feb 12  Ann: staff takes off               -50
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone

from checkout.models import Order
from payments.models import Payment
from storecredit import selectors
from storecredit.ledger import locked, post
from storecredit.models import CreditEntry, Kind
from storecredit.services import expiry, spending

from .conftest import customer, grant

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres")]


def day(month: int, d: int) -> dt.datetime:
    return dt.datetime(2026, month, d, 12, tzinfo=dt.UTC)


def dated(entry: CreditEntry, when: dt.datetime) -> None:
    CreditEntry.objects.filter(pk=entry.pk).update(created_at=when)


def credit_payment(user, cents: int, *, captured_at: dt.datetime | None) -> Payment:
    order = Order.objects.create(email=user.email, currency="USD", total_cents=cents, base_total_cents=cents)
    status = Payment.Status.CAPTURED if captured_at else Payment.Status.RESERVED
    payment = Payment.objects.create(
        order=order,
        provider="storecredit",
        amount_cents=cents,
        currency="USD",
        status=status,
        captured_at=captured_at,
        data={"credit_user_id": user.pk, "order_number": order.number},
    )
    return payment


@pytest.fixture
def fixture():
    ann, bob = customer("ann"), customer("bob")
    dated(grant(ann, 1000, expires_at=day(12, 1)), day(1, 5))
    with transaction.atomic():
        reward = post(locked(bob.pk), Kind.REFERRAL, 500, expires_at=day(2, 10))
    dated(reward, day(1, 10))
    paid = credit_payment(ann, 400, captured_at=day(1, 15))
    dated(spending.reserve(paid), day(1, 15))
    spending.capture(paid)
    CreditEntry.objects.filter(kind=Kind.CAPTURE).update(created_at=day(1, 15))
    dated(spending.reserve(credit_payment(ann, 200, captured_at=None)), day(1, 20))
    spending.refund(paid, 100, "refund-fixture")
    CreditEntry.objects.filter(kind=Kind.REFUND).update(created_at=day(2, 3))
    expiry.expire_due(day(2, 10))
    CreditEntry.objects.filter(kind=Kind.EXPIRE).update(created_at=day(2, 10))
    dated(grant(ann, -50), day(2, 12))
    return ann, bob


RANGES = {"jan": (day(1, 1), day(2, 1)), "feb": (day(2, 1), day(3, 1))}


def test_the_figures_of_each_range(fixture, django_assert_num_queries):
    with django_assert_num_queries(1):
        owed = selectors.liability_at({"new_year": day(1, 1), "feb": day(2, 1), "mar": day(3, 1)})
    # Feb 1: 1000 + 500 - 400 spent (the unpaid 200 is still owed); Mar 1: + 100 - 500 - 50.
    assert owed == {"new_year": 0, "feb": 1100, "mar": 650}
    with django_assert_num_queries(1):
        issued = selectors.issued(RANGES)
    assert (
        issued["jan"].rewards_cents,
        issued["jan"].adjusted_cents,
        issued["jan"].refunded_as_credit_cents,
    ) == (
        500,
        1000,
        0,
    )
    assert (
        issued["feb"].rewards_cents,
        issued["feb"].adjusted_cents,
        issued["feb"].refunded_as_credit_cents,
    ) == (
        0,
        -50,
        100,
    )
    with django_assert_num_queries(1):
        assert selectors.spent(RANGES) == {"jan": 400, "feb": 0}
    with django_assert_num_queries(1):
        assert selectors.breakage(RANGES) == {"jan": 0, "feb": 500}
    # The movements of each range explain the change of liability: issued - spent - breakage.
    assert owed["feb"] - owed["new_year"] == issued["jan"].total_cents - 400 - 0
    assert owed["mar"] - owed["feb"] == issued["feb"].total_cents - 0 - 500


def test_what_the_accounts_hold_now_is_the_liability_less_the_open_reserves(fixture):
    ann, bob = fixture
    holds = sum(a.balance_cents for a in (ann.credit_account, bob.credit_account))
    assert holds == 450  # 1000 - 400 - 200 + 100 - 50, and Bob's 0
    assert selectors.liability_at({"now": timezone.now()})["now"] == holds + 200
