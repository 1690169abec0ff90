"""Buying a card (an order line, issued on fulfilment, delivered on its send date) and revoking it
with a one-time code, the unused balance refunded through the Stripe sandbox (PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.utils import timezone

from checkout import cart, services
from checkout.models import LineKind, OrderStatus
from giftcards import services as giftcards
from giftcards.models import GiftCard, Kind, RevokeChallenge, Status
from payments import services as payments
from payments.models import Payment
from payments.providers.stripe_api import gateway

from .conftest import balanced, new_card

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres")]

CODE = re.compile(r"[2-9A-HJ-NP-Z]{4}(?:-[2-9A-HJ-NP-Z]{4}){4}")


@pytest.fixture
def buyer(db):
    return get_user_model().objects.create_user("buyer", "buyer@example.com", "pw-buyer-123")


def buy_card(stripe, buyer, amount: int = 5000, send_on: dt.date | None = None) -> GiftCard:
    """A gift card bought by `buyer` and paid by card in the Stripe sandbox, then fulfilled."""
    line = cart.GiftLine(
        "k", amount, "Ann", "ann@example.com", "Have fun!", send_on.isoformat() if send_on else None, "sunset"
    )
    order = services.place_order(cart.PricedCart([], [], [line]), buyer.email, buyer)
    services.start_payment(order)
    payment = order.payments.get(provider="stripe")
    stripe.control.pay(payment.external_reference)
    assert payments.sync_with_provider(payment, source="test") == "captured"
    assert services.fulfil_order(order.pk).completed
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    return GiftCard.objects.get(order_line__order=order)


def code_in(message) -> str:
    return CODE.search(message.body).group(0)


def test_bought_card_is_issued_on_payment_and_emailed_on_its_send_date(stripe, buyer, no_queue):
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    card = buy_card(stripe, buyer, 5000, send_on=tomorrow)
    line = card.order_line
    assert line.kind == LineKind.GIFTCARD and line.data["recipient_email"] == "ann@example.com"
    assert (card.customer, card.order, card.template_suffix) == (buyer, line.order, "sunset")
    assert balanced(card) == 5000 and card.code_hash is None  # no code until it is sent
    assert card.expires_on and card.expires_on > timezone.localdate()
    assert services.fulfil_order(line.order.pk).done  # again: still one card
    assert GiftCard.objects.count() == 1
    assert giftcards.send_due() == 0 and not mail.outbox  # not yet
    GiftCard.objects.filter(pk=card.pk).update(send_on=timezone.localdate())  # the day has come
    assert giftcards.send_due() == 1
    assert giftcards.send_due() == 0  # once
    to_ann, to_buyer = mail.outbox
    assert to_ann.to == ["ann@example.com"] and "Have fun!" in to_ann.body
    code = code_in(to_ann)
    card.refresh_from_db()
    assert card.sent_at and card.last_characters == code.replace("-", "")[-4:]
    assert code not in to_buyer.body and f"ending {card.last_characters}" in to_buyer.body
    assert giftcards.find_by_code(code, ip="1.2.3.4").pk == card.pk


def test_paid_at_once_when_no_send_date_is_chosen(stripe, buyer, no_queue):
    card = buy_card(stripe, buyer, 2500)
    assert ("giftcards.deliver", card.pk) in [c.args for c in no_queue.call_args_list]
    assert giftcards.deliver(card.pk)
    assert mail.outbox[0].to == ["ann@example.com"]


def test_revoke_with_the_one_time_code_refunds_exactly_the_unused_part(stripe, buyer, package, no_queue):
    card = buy_card(stripe, buyer, 5000)
    giftcards.deliver(card.pk)
    code = code_in(mail.outbox[0])
    # Someone spends part of it.
    spender = giftcards.find_by_code(code, ip="5.6.7.8")
    order = services.place_order(
        cart.PricedCart([cart.CartLine(package, 1)], []), "ann@example.com", gift_cards=[spender.pk]
    )
    assert services.start_payment(order) is None
    unused = 5000 - package.retail_cents
    assert balanced(card) == unused
    mail.outbox.clear()

    assert giftcards.start_revoke(card.pk, buyer) == "We sent a 6-digit code by email to b…@example.com."
    otp = re.search(r"\b(\d{6})\b", mail.outbox[0].body).group(1)
    assert mail.outbox[0].to == ["buyer@example.com"]
    assert giftcards.confirm_revoke(card.pk, buyer, otp) == unused
    card.refresh_from_db()
    assert card.status == Status.REVOKED and not card.enabled and card.revoke_refunded_at
    assert balanced(card) == 0
    assert card.transactions.last().kind == Kind.REVOKE and card.transactions.last().amount_cents == -unused
    bought_with = Payment.objects.get(order=card.order, provider="stripe")
    assert bought_with.refunded_cents == unused
    at_stripe = gateway().client.v1.refunds.list(params={"payment_intent": bought_with.capture_reference})
    assert [r.amount for r in at_stripe.data] == [unused]
    # Still in the buyer's list, as revoked (issue 21: it used to vanish from it).
    assert [c.status for c in GiftCard.objects.bought_by(buyer)] == [Status.REVOKED]
    with pytest.raises(giftcards.GiftCardError):
        giftcards.find_by_code(code, ip="5.6.7.8")
    # Settling again refunds nothing more.
    assert giftcards.settle_revoke_refund(card.pk) == 0
    assert giftcards.retry_revoke_refunds() == 0


def test_a_revoke_refund_that_failed_is_retried_by_the_beat_job(stripe, buyer, no_queue, monkeypatch):
    card = buy_card(stripe, buyer, 3000)
    from giftcards.services import revoking

    def stripe_down(*args, **kwargs):
        raise OSError("Stripe is down")

    monkeypatch.setattr(revoking.payments, "refund", stripe_down)
    with pytest.raises(OSError):
        giftcards.revoke(card.pk, actor="staff ann", reason="Asked by phone")
    card.refresh_from_db()
    assert card.status == Status.REVOKED and card.revoke_refund_cents == 3000 and not card.revoke_refunded_at
    monkeypatch.undo()
    GiftCard.objects.filter(pk=card.pk).update(revoked_at=timezone.now() - dt.timedelta(minutes=5))
    assert giftcards.retry_revoke_refunds() == 1
    card.refresh_from_db()
    assert card.revoke_refunded_at
    assert Payment.objects.get(order=card.order, provider="stripe").refunded_cents == 3000


def test_three_wrong_one_time_codes_lock_the_revoke(stripe, buyer, no_queue, settings):
    card = buy_card(stripe, buyer, 3000)
    giftcards.start_revoke(card.pk, buyer)
    otp = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)
    wrong = f"{(int(otp) + 1) % 10**6:06d}"
    messages = []
    for _ in range(3):
        with pytest.raises(giftcards.GiftCardError) as err:
            giftcards.confirm_revoke(card.pk, buyer, wrong)
        messages.append(str(err.value))
    assert messages[:2] == ["That code is not right. 2 tries left.", "That code is not right. 1 try left."]
    assert messages[2].startswith("Too many wrong codes")
    with pytest.raises(giftcards.GiftCardError, match="Too many wrong codes"):
        giftcards.confirm_revoke(card.pk, buyer, otp)  # even the right one, now
    with pytest.raises(giftcards.GiftCardError, match="Too many wrong codes"):
        giftcards.start_revoke(card.pk, buyer)  # and no new code for a while
    assert balanced(card) == 3000 and GiftCard.objects.get(pk=card.pk).status == Status.ACTIVE
    # After the lock, a new code works.
    RevokeChallenge.objects.update(
        created_at=timezone.now() - dt.timedelta(minutes=settings.GIFTCARD_OTP_LOCK_MINUTES + 1)
    )
    giftcards.start_revoke(card.pk, buyer)
    otp = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)
    assert giftcards.confirm_revoke(card.pk, buyer, otp) == 3000


def test_a_one_time_code_lasts_ten_minutes_and_only_the_buyer_can_revoke(stripe, buyer, no_queue):
    card = buy_card(stripe, buyer, 3000)
    giftcards.start_revoke(card.pk, buyer)
    otp = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)
    RevokeChallenge.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    with pytest.raises(giftcards.GiftCardError, match="expired"):
        giftcards.confirm_revoke(card.pk, buyer, otp)
    stranger = get_user_model().objects.create_user("x", "x@example.com", "pw-x-12345")
    with pytest.raises(GiftCard.DoesNotExist):
        giftcards.start_revoke(card.pk, stranger)
    assert balanced(card) == 3000


def test_a_card_in_an_unpaid_order_cannot_be_revoked_until_released(stripe, buyer, package, no_queue):
    card = buy_card(stripe, buyer, 5000)
    giftcards.deliver(card.pk)
    services.place_order(
        cart.PricedCart([cart.CartLine(package, 1)], []), "ann@example.com", gift_cards=[card.pk]
    )
    with pytest.raises(giftcards.GiftCardError, match="unpaid order"):
        giftcards.start_revoke(card.pk, buyer)


def test_staff_issued_cards_are_revoked_without_a_refund(no_queue):
    card, _ = new_card(1000)
    assert giftcards.revoke(card.pk, actor="staff ann") == 0
    card.refresh_from_db()
    assert card.status == Status.REVOKED and balanced(card) == 0 and card.revoke_refund_cents == 0
    with pytest.raises(giftcards.GiftCardError):
        giftcards.enable(card.pk, actor="staff ann")


def test_an_order_that_bought_a_live_card_is_not_refunded_until_the_card_is_revoked(stripe, buyer, no_queue):
    card = buy_card(stripe, buyer, 2500)
    order = card.order
    with pytest.raises(services.CheckoutError, match="revoke it first"):
        services.refund_order(order.pk, actor="staff")
    assert order.payments.get(provider="stripe").refunded_cents == 0
    assert giftcards.revoke(card.pk, actor="staff") == 2500  # the unused balance, back to the buyer
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED  # nothing captured is left on it
    assert services.refund_order(order.pk, actor="staff") == 0


def test_a_right_code_is_spent_only_by_the_revoke_it_confirms(buyer, package, no_queue):
    """A refused revoke (here: the card is held by an unpaid order) leaves the code usable."""
    card, _ = new_card(5000, customer=buyer)
    giftcards.start_revoke(card.pk, buyer)
    otp = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)
    order = services.place_order(
        cart.PricedCart([cart.CartLine(package, 1)], []), "ann@example.com", gift_cards=[card.pk]
    )
    with pytest.raises(giftcards.GiftCardError, match="unpaid order"):
        giftcards.confirm_revoke(card.pk, buyer, otp)
    assert RevokeChallenge.objects.get().used_at is None
    payments.fail(order.payments.get(provider="giftcard").pk, "abandoned")  # the hold is released
    assert giftcards.confirm_revoke(card.pk, buyer, otp) == 0  # staff-issued: nothing to refund
    card.refresh_from_db()
    assert card.status == Status.REVOKED and balanced(card) == 0
    assert RevokeChallenge.objects.get().used_at is not None
