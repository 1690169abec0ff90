"""Gift cards as a payment, on PostgreSQL: reserve when the order is placed, capture when it is
paid, release when it is not, refund back onto the card; the race for one card's money; mixed
payments with the Stripe sandbox."""

from __future__ import annotations

import datetime as dt
import threading
from unittest import mock

import pytest
from django.db import connection
from django.utils import timezone

from checkout import cart, services
from checkout.models import Order, OrderStatus
from giftcards.models import Kind
from payments import services as payments
from payments.models import Payment

from .conftest import balanced, new_card

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres")]


def priced(package, quantity: int = 1, gifts: list[cart.GiftLine] = ()) -> cart.PricedCart:
    return cart.PricedCart([cart.CartLine(package, quantity)] if package else [], [], list(gifts))


def place(package, cards, quantity: int = 1, email: str = "traveller@example.com") -> Order:
    return services.place_order(priced(package, quantity), email, gift_cards=[c.pk for c in cards])


def by_provider(order: Order, provider: str) -> list[Payment]:
    return list(order.payments.filter(provider=provider).order_by("id"))


def test_fifty_concurrent_redemptions_of_one_card_exactly_one_wins(package, no_queue):
    card, _ = new_card(package.retail_cents)  # pays for exactly one order
    barrier = threading.Barrier(50)
    won, lost, errors = [], [], []

    def redeem(i: int) -> None:
        try:
            barrier.wait()
            won.append(place(package, [card], email=f"t{i}@example.com"))
        except services.CheckoutError as exc:
            lost.append(str(exc))
        except Exception as exc:
            errors.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=redeem, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]
    assert len(won) == 1 and len(lost) == 49
    assert balanced(card) == 0
    assert card.transactions.filter(kind=Kind.RESERVE).count() == 1
    winner = won[0]
    assert by_provider(winner, "giftcard")[0].status == Payment.Status.RESERVED
    # Losers were refused before an order existed, or their order was cancelled when the reserve failed.
    assert not Order.objects.exclude(pk=winner.pk).exclude(status=OrderStatus.CANCELLED).exists()
    assert all("gift card" in message.lower() for message in lost)
    assert Payment.objects.filter(status=Payment.Status.RESERVED).count() == 1
    # The winner is paid in full by the card, with no card payment page at all.
    assert services.start_payment(winner) is None
    winner.refresh_from_db()
    assert winner.status == OrderStatus.PAID
    assert balanced(card) == 0
    assert list(card.transactions.values_list("kind", flat=True)) == [Kind.ISSUE, Kind.RESERVE, Kind.CAPTURE]


def test_two_cards_on_one_order(package, no_queue):
    total = package.retail_cents * 2
    small, _ = new_card(total // 3)
    big, _ = new_card(total)
    order = place(package, [small, big], quantity=2)
    gifts = by_provider(order, "giftcard")
    assert [p.amount_cents for p in gifts] == [total // 3, total - total // 3]
    assert all(p.status == Payment.Status.RESERVED for p in gifts)
    assert balanced(small) == 0 and balanced(big) == total // 3
    assert services.start_payment(order) is None
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert not by_provider(order, "stripe")
    assert all(p.status == Payment.Status.CAPTURED for p in by_provider(order, "giftcard"))
    assert [c.args[0] for c in no_queue.call_args_list].count("checkout.fulfil_order") == 1
    assert balanced(small) == 0 and balanced(big) == total // 3


def test_card_plus_stripe_then_a_refund_puts_the_card_part_back(package, stripe, no_queue):
    card, _ = new_card(package.retail_cents // 2)
    order = place(package, [card])
    url = services.start_payment(order)
    assert "/pay/" in url
    stripe_payment = by_provider(order, "stripe")[0]
    rest = order.total_cents - package.retail_cents // 2
    assert stripe_payment.amount_cents == rest
    session = stripe.control.sessions()[-1]
    assert session["amount_total"] == rest
    assert stripe.control.pay(stripe_payment.external_reference)["outcome"] == "paid"
    assert payments.sync_with_provider(stripe_payment, source="test") == "captured"
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert by_provider(order, "giftcard")[0].status == Payment.Status.CAPTURED
    assert balanced(card) == 0

    refunded = services.refund_order(order.pk, actor="staff", reason="Customer asked")
    assert refunded == order.total_cents
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED
    assert balanced(card) == package.retail_cents // 2  # the card part is back on the card
    assert card.transactions.last().kind == Kind.REFUND
    assert by_provider(order, "stripe")[0].refunded_cents == rest
    # A second refund does nothing more, to Stripe or to the card.
    assert services.refund_order(order.pk, actor="staff") == 0
    assert balanced(card) == package.retail_cents // 2


def test_partial_refund_is_idempotent_on_the_card(package, no_queue):
    card, _ = new_card(package.retail_cents)
    order = place(package, [card])
    services.start_payment(order)
    payment = by_provider(order, "giftcard")[0]
    assert payments.refund(payment.pk, 100, reason="part") == 100
    payment.refresh_from_db()
    # The provider asked again with the same key (a retry after a crash) adds nothing.
    from giftcards.provider import GiftCardProvider

    GiftCardProvider().refund(payment, 100, f"refund-{payment.pk}-0-100")
    assert balanced(card) == 100


def test_an_expired_checkout_releases_the_card(package, stripe, no_queue):
    card, _ = new_card(package.retail_cents // 2)
    order = place(package, [card])
    services.start_payment(order)
    stripe_payment = by_provider(order, "stripe")[0]
    assert balanced(card) == 0
    payments.fail(stripe_payment.pk, "Checkout session expired")  # what the expired webhook does
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert by_provider(order, "giftcard")[0].status == Payment.Status.CANCELLED
    assert balanced(card) == package.retail_cents // 2
    assert card.transactions.last().kind == Kind.RELEASE
    payments.fail(by_provider(order, "giftcard")[0].pk, "again")  # released once only
    assert balanced(card) == package.retail_cents // 2


def test_the_reconciler_releases_an_abandoned_unpaid_order(package, settings, no_queue):
    card, _ = new_card(package.retail_cents // 2)
    order = place(package, [card])  # the card payment page never opened
    old = timezone.now() - dt.timedelta(minutes=settings.CHECKOUT_SESSION_MINUTES + 1)
    Payment.objects.filter(order=order).update(created_at=old)
    assert services.reconcile_orders()["holds_released"] == 1
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert balanced(card) == package.retail_cents // 2


def test_a_gift_card_cannot_pay_for_a_gift_card(package, stripe, no_queue):
    card, _ = new_card(10000)
    gift = cart.GiftLine("k1", 5000, "Ann", "ann@example.com")
    order = services.place_order(priced(package, gifts=[gift]), "buyer@example.com", gift_cards=[card.pk])
    assert order.total_cents == package.retail_cents + 5000
    assert by_provider(order, "giftcard")[0].amount_cents == package.retail_cents  # the eSIM only
    services.start_payment(order)
    assert by_provider(order, "stripe")[0].amount_cents == 5000
    only_gift = services.place_order(priced(None, gifts=[gift]), "buyer@example.com", gift_cards=[card.pk])
    assert not by_provider(only_gift, "giftcard")
    assert balanced(card) == 10000 - package.retail_cents


def test_a_card_spent_elsewhere_cancels_the_order_and_the_cart_can_be_sent_again(package, no_queue):
    from giftcards import selectors
    from giftcards import services as giftcards

    card, _ = new_card(package.retail_cents)
    other, _ = new_card(package.retail_cents // 2)
    real_plan = selectors.plan_redemption

    def spent_meanwhile(card_ids, payable, *currency_and_rates):
        plan = real_plan(card_ids, payable, *currency_and_rates)
        giftcards.adjust(card.pk, -package.retail_cents, reason="Spent in another checkout", actor="t")
        return plan

    with (
        mock.patch("checkout.services.ordering.giftcard_selectors.plan_redemption", spent_meanwhile),
        pytest.raises(services.CheckoutError, match="no longer has"),
    ):
        services.place_order(
            priced(package), "t@example.com", gift_cards=[other.pk, card.pk], checkout_key="cart-1"
        )
    cancelled = Order.objects.get(email="t@example.com")
    assert cancelled.status == OrderStatus.CANCELLED and cancelled.checkout_key is None
    assert balanced(other) == package.retail_cents // 2  # its reserve was released
    assert balanced(card) == 0
    again = services.place_order(
        priced(package), "t@example.com", gift_cards=[other.pk], checkout_key="cart-1"
    )
    assert again.pk != cancelled.pk and again.status == OrderStatus.PENDING_PAYMENT


def test_disabled_or_revoked_cards_cannot_be_reserved(package, no_queue):
    from giftcards import services as giftcards

    card, _ = new_card(package.retail_cents)
    giftcards.disable(card.pk, actor="t")
    with pytest.raises(services.CheckoutError, match="can no longer be used"):
        place(package, [card])
    revoked, _ = new_card(package.retail_cents)
    giftcards.revoke(revoked.pk, actor="t")
    with pytest.raises(services.CheckoutError, match="can no longer be used"):
        place(package, [revoked])
    used_up, _ = new_card(100)
    giftcards.adjust(used_up.pk, -100, reason="spent", actor="t")
    with pytest.raises(services.CheckoutError, match="has no balance left"):
        place(package, [used_up])
    assert not Order.objects.exists()  # refused before any order was placed
    assert balanced(card) == package.retail_cents
