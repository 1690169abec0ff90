"""The ledger's rules on PostgreSQL: never negative (here and in the database), the oldest grant is
spent first, a release goes back to the grants it came from, and concurrent spends: one wins."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from checkout import cart, services
from checkout.models import Order, OrderStatus
from payments.models import Payment
from storecredit.ledger import CreditError, locked, post
from storecredit.models import CreditAccount, Kind
from storecredit.services import staff

from .conftest import balanced, customer, grant

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres")]


def test_a_balance_never_goes_negative():
    ann = customer()
    grant(ann, 500)
    with pytest.raises(CreditError):
        staff.adjust(ann, -501, reason="too much", actor="test")
    assert balanced(ann) == 500
    with pytest.raises(IntegrityError), transaction.atomic():  # nor by a write around the ledger
        CreditAccount.objects.filter(user=ann).update(balance_cents=-1)
    with pytest.raises(CreditError):
        staff.adjust(ann, 100, reason="   ", actor="test")  # a reason is required


def test_the_grant_that_expires_first_is_spent_first_and_a_release_puts_it_back():
    ann = customer()
    now = timezone.now()
    late = grant(ann, 300, expires_at=now + dt.timedelta(days=300))
    soon = grant(ann, 200, expires_at=now + dt.timedelta(days=10))
    with transaction.atomic():
        spend = post(locked(ann.pk), Kind.RESERVE, -250)
    assert spend.drawn == [[soon.pk, 200], [late.pk, 50]]
    soon.refresh_from_db(), late.refresh_from_db()
    assert (soon.remaining_cents, late.remaining_cents) == (0, 250)
    with transaction.atomic():
        post(locked(ann.pk), Kind.RELEASE, 250, draw=spend.drawn)
    soon.refresh_from_db(), late.refresh_from_db()
    assert (soon.remaining_cents, late.remaining_cents) == (200, 300)
    assert balanced(ann) == 500


def test_concurrent_checkouts_on_one_balance_exactly_one_wins(package, no_queue):
    ann = customer()
    grant(ann, package.retail_cents)  # pays for exactly one order
    barrier = threading.Barrier(10)
    won, lost, errors = [], [], []

    def checkout(i: int) -> None:
        try:
            barrier.wait()
            priced = cart.PricedCart([cart.CartLine(package, 1)], [])
            won.append(services.place_order(priced, f"t{i}@example.com", ann, store_credit=True))
        except services.CheckoutError as exc:
            lost.append(str(exc))
        except Exception as exc:
            errors.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=checkout, args=(i,)) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]
    # Every order whose reserve failed is cancelled; the others were placed with no credit at all
    # (they read a zero balance): exactly one order holds the credit.
    reserved = Payment.objects.filter(provider="storecredit", status=Payment.Status.RESERVED)
    assert reserved.count() == 1
    assert balanced(ann) == 0
    assert CreditAccount.objects.get(user=ann).entries.filter(kind=Kind.RESERVE).count() == 1
    assert all("store credit" in message.lower() for message in lost)
    assert Order.objects.filter(status=OrderStatus.CANCELLED).count() == len(lost)
    winner = reserved.get().order
    assert services.start_payment(winner) is None
    winner.refresh_from_db()
    assert winner.status == OrderStatus.PAID
