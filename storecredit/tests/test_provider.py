"""Store credit as a payment, on PostgreSQL through place_order and the real provider: reserve when
the order is placed, capture when it is paid, release when it is not, refund back as credit (never
to a card), an order in another currency at the order's rate; the Stripe sandbox pays the rest."""

from __future__ import annotations

import pytest

from catalog.currency import current_rate
from checkout import cart, services
from checkout.models import Order, OrderStatus
from checkout.tests.helpers import rates
from payments import services as payments
from payments.models import Payment
from storecredit.models import CreditAccount, Kind
from storecredit.provider import StoreCreditProvider

from .conftest import balanced, customer, grant

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres")]


def place(package, user, quantity: int = 1, gifts=(), **priced) -> Order:
    lines = [cart.CartLine(package, quantity, unit_cents=priced.pop("unit_cents", None))]
    return services.place_order(
        cart.PricedCart(lines, [], list(gifts), **priced), user.email, user, store_credit=True
    )


def credit_payment(order: Order) -> Payment:
    return order.payments.get(provider="storecredit")


def kinds(user) -> list[str]:
    return list(CreditAccount.objects.get(user=user).entries.values_list("kind", flat=True))


def test_credit_pays_in_full_reserved_then_captured_and_a_refund_comes_back_as_credit(package, no_queue):
    ann = customer()
    grant(ann, package.retail_cents + 100)
    order = place(package, ann)
    payment = credit_payment(order)
    assert payment.status == Payment.Status.RESERVED and payment.amount_cents == package.retail_cents
    assert balanced(ann) == 100
    assert services.start_payment(order) is None  # nothing left for a card
    order.refresh_from_db(), payment.refresh_from_db()
    assert order.status == OrderStatus.PAID and payment.status == Payment.Status.CAPTURED
    assert not order.payments.filter(provider="stripe").exists()
    assert kinds(ann) == [Kind.ADJUST, Kind.RESERVE, Kind.CAPTURE]

    assert services.refund_order(order.pk, actor="staff", reason="Customer asked") == package.retail_cents
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED
    assert balanced(ann) == package.retail_cents + 100
    refund = CreditAccount.objects.get(user=ann).entries.last()
    assert refund.kind == Kind.REFUND and refund.expires_at is not None  # a new grant
    assert services.refund_order(order.pk, actor="staff") == 0  # nothing more, twice
    assert balanced(ann) == package.retail_cents + 100


def test_credit_pays_part_the_card_the_rest_and_a_refund_reaches_the_card_first(package, stripe, no_queue):
    ann = customer()
    grant(ann, 300)
    order = place(package, ann)
    assert credit_payment(order).amount_cents == 300
    url = services.start_payment(order)
    card = order.payments.get(provider="stripe")
    assert "/pay/" in url and card.amount_cents == package.retail_cents - 300
    assert stripe.control.sessions()[-1]["amount_total"] == package.retail_cents - 300
    assert stripe.control.pay(card.external_reference)["outcome"] == "paid"
    assert payments.sync_with_provider(card, source="test") == "captured"
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert credit_payment(order).status == Payment.Status.CAPTURED
    assert balanced(ann) == 0

    # A part refund: the card is reached first (store credit last), then all of it: credit back as credit.
    services.refund_order(order.pk, actor="staff", amount_cents=200, reason="part")
    assert balanced(ann) == 0
    card.refresh_from_db()
    assert card.refunded_cents == 200
    services.refund_order(order.pk, actor="staff", reason="the rest")
    card.refresh_from_db()
    assert card.refunded_cents == card.amount_cents  # the card got back only what it paid
    assert balanced(ann) == 300


def test_an_unpaid_order_releases_the_credit_once(package, stripe, no_queue):
    ann = customer()
    grant(ann, 300)
    order = place(package, ann)
    services.start_payment(order)
    assert services.reopen_for_cart(order.pk)  # back from the card page: cancelled
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert credit_payment(order).status == Payment.Status.CANCELLED
    assert balanced(ann) == 300
    StoreCreditProvider().cancel(credit_payment(order))  # again: nothing more
    assert kinds(ann) == [Kind.ADJUST, Kind.RESERVE, Kind.RELEASE]
    assert balanced(ann) == 300


def test_credit_never_pays_for_a_gift_card_line(package, no_queue):
    ann = customer()
    grant(ann, 100000)
    gift = cart.GiftLine(key="g", amount_cents=2500, recipient_name="Bo", recipient_email="bo@example.com")
    order = place(package, ann, gifts=[gift])
    assert credit_payment(order).amount_cents == package.retail_cents
    assert balanced(ann) == 100000 - package.retail_cents


def test_a_yen_order_takes_its_base_slice_and_keeps_both_amounts(package, no_queue):
    ann = customer()
    grant(ann, 300)  # $3.00
    with rates(JPY="150"):
        order = place(package, ann, currency="JPY", rate=current_rate("JPY"))
        assert order.currency == "JPY" and order.rate_per_base == 150
        payment = credit_payment(order)
        # $3.00 at 150 yen per dollar pays 450 yen: the largest slice of the order worth at most $3.00.
        assert (payment.amount_cents, payment.currency, payment.base_amount_cents) == (450, "JPY", 300)
        reserve = CreditAccount.objects.get(user=ann).entries.get(kind=Kind.RESERVE)
        assert (reserve.amount_cents, reserve.order_amount_cents, reserve.order_currency) == (
            -300,
            450,
            "JPY",
        )
        assert reserve.rate == 150
        assert balanced(ann) == 0
        # What was taken goes back exactly, never converted again.
        payments.fail(payment.pk, "test")
        assert balanced(ann) == 300


def test_a_partial_refund_is_idempotent_on_the_key(package, no_queue):
    ann = customer()
    grant(ann, package.retail_cents)
    order = place(package, ann)
    services.start_payment(order)
    payment = credit_payment(order)
    assert payments.refund(payment.pk, 100, reason="part") == 100
    payment.refresh_from_db()
    StoreCreditProvider().refund(payment, 100, f"refund-{payment.pk}-0-100")  # a retry after a crash
    assert balanced(ann) == 100
