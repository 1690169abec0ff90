"""A gift card meeting a cart in another currency (docs/architecture.md, "Gift cards in other
currencies"): it pays at the rate of the moment, its ledger keeps both amounts and the rate, and what it
took goes back exactly, never converted again. Property: however often a card is converted, reserved,
released, captured and refunded, no minor unit is created or lost. On PostgreSQL, through the real
payment provider and ledger."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checkout.models import Order
from giftcards.ledger import ledger_sum
from giftcards.models import GiftCard, Kind
from giftcards.services.redemption import card_amount, card_share
from payments import services as payments
from payments.models import Payment
from payments.providers import PaymentRequest

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("postgres")]

CURRENCIES = ["USD", "EUR", "GBP", "AUD", "CAD", "JPY"]
rates = st.decimals(min_value=Decimal("0.005"), max_value=Decimal("400"), places=4)


def _order(currency: str, rate: Decimal) -> Order:
    return Order.objects.create(
        email="t@example.com",
        currency=currency,
        total_cents=10**7,
        base_total_cents=10**7,
        rate_per_base=rate,
    )


def _redeem(card: GiftCard, currency: str, rate: Decimal, payable: int) -> Payment | None:
    """A card paying part of an order in `currency` at `rate` (order units per card unit)."""
    amount, taken = card_share(payable, card.balance_cents, rate, card.currency, currency)
    if amount <= 0:
        return None
    order = _order(currency, rate)
    extra = {"card_amount_cents": taken, "card_currency": card.currency, "rate": str(rate)}
    if card.currency == currency:
        amount, extra = min(payable, card.balance_cents), {}
    payment = payments.open_payment(
        order, "giftcard", amount, currency, base_amount_cents=amount, gift_card_id=card.pk, **extra
    )
    request = PaymentRequest(order.number, order.email, amount, currency, "http://x/ok", "http://x/no")
    return payments.start(payment, request)


steps = st.lists(
    st.tuples(
        st.sampled_from(["redeem", "release", "capture", "refund"]),
        st.sampled_from(CURRENCIES),
        rates,
        st.integers(min_value=1, max_value=500_000),
        st.integers(min_value=0, max_value=10),
    ),
    max_size=12,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    card_currency=st.sampled_from(CURRENCIES),
    initial=st.integers(min_value=1, max_value=1_000_000),
    steps=steps,
)
def test_a_card_converted_any_number_of_times_never_creates_or_loses_a_minor_unit(
    card_currency, initial, steps
):
    with transaction.atomic():
        card = GiftCard.objects.create(initial_value_cents=initial, balance_cents=0, currency=card_currency)
        card.code_hash, card.last_characters = f"h{card.pk}", "TEST"
        card.save()
        from giftcards.ledger import post

        post(card, Kind.ISSUE, initial, base_cents=initial)
        live: list[Payment] = []
        for action, currency, rate, amount, pick in steps:
            card.refresh_from_db()
            if action == "redeem":
                payment = _redeem(card, currency, rate, amount)
                if payment is not None:
                    live.append(payment)
            elif live:
                payment = live[pick % len(live)]
                payment.refresh_from_db()
                if action == "release" and payment.status == Payment.Status.RESERVED:
                    payments.fail(payment.pk, "not paid")
                elif action == "capture" and payment.status == Payment.Status.RESERVED:
                    payments.capture(payment.pk, source="test")
                elif action == "refund" and payment.refundable_cents:
                    payments.refund(payment.pk, 1 + amount % payment.refundable_cents, reason="test")
            card.refresh_from_db()
            assert card.balance_cents == ledger_sum(card) >= 0
        # Everything still held goes back, and everything spent is refunded in full: the card holds
        # exactly what it was issued with, to the unit.
        for payment in live:
            payment.refresh_from_db()
            if payment.status == Payment.Status.RESERVED:
                payments.fail(payment.pk, "not paid")
            elif payment.refundable_cents:
                payments.refund(payment.pk, payment.refundable_cents, reason="test")
        card.refresh_from_db()
        assert card.balance_cents == ledger_sum(card) == initial
        # Each payment's entries show both sides: the card's amount, and the order's with the rate.
        for entry in card.transactions.filter(kind=Kind.RESERVE).select_related("payment"):
            assert -entry.amount_cents == card_amount(entry.payment)
            if card_currency != entry.payment.currency:
                assert entry.order_amount_cents == entry.payment.amount_cents and entry.rate is not None
        transaction.set_rollback(True)


def test_a_euro_card_pays_a_yen_order_at_the_rate_and_gets_back_exactly_what_it_took():
    # 1 EUR = 163.0435 JPY: €20.00 is worth ¥3,260 (rounded down); ¥1,280 takes €7.86 (rounded up).
    rate = Decimal("163.0435")
    assert card_share(10_000, 2000, rate, "EUR", "JPY") == (3260, 2000)
    assert card_share(1280, 2000, rate, "EUR", "JPY") == (1280, 786)
    assert card_share(0, 2000, rate, "EUR", "JPY") == (0, 0)
    assert card_share(500, 0, rate, "EUR", "JPY") == (0, 0)
