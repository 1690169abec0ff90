"""Spending cards: finding one by its code (rate limited), and the ledger side of a payment.

The payment provider (`giftcards.provider`) calls reserve, capture, release
and refund; each runs under the card's row lock and is safe to repeat for
the same payment (or, for refunds, the same idempotency key).
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.functional import lazy
from django.utils.translation import gettext as _

from core.money import format_money

from .. import codes, ratelimit
from ..ledger import GiftCardError, locked, post
from ..models import GiftCard, GiftCardTransaction, Kind, Status


# One answer for every failure: unknown, malformed, expired, disabled, revoked or rate limited.
# It tells a guesser nothing, and still tells a customer what to do.
# Lazy: said in the language of whoever reads it.
def _code_refused() -> str:
    return _(
        "We couldn't accept that gift card code. Check it (it looks like %(example)s) "
        "and try again, or try later."
    ) % {"example": codes.EXAMPLE}


CODE_REFUSED = lazy(_code_refused, str)()


def find_by_code(code: str, *, ip: str, user=None) -> GiftCard:
    """The usable card with this code, or GiftCardError(CODE_REFUSED). Failures count towards the limit."""
    if ratelimit.blocked(ip, user):
        raise GiftCardError(CODE_REFUSED)
    normalized = codes.normalize(code)
    card = GiftCard.objects.filter(code_hash=codes.code_hash(normalized)).first() if normalized else None
    if card is None or card.status != Status.ACTIVE:
        ratelimit.record_failure(ip, user)
        raise GiftCardError(CODE_REFUSED)
    return card


def usable(card_ids: list[int]) -> list[GiftCard]:
    """The cards among these that can still pay, in the order given."""
    cards = {c.pk: c for c in GiftCard.objects.filter(pk__in=card_ids)}
    return [cards[i] for i in card_ids if i in cards and cards[i].is_usable]


def reserve(card_id: int, payment) -> GiftCardTransaction:
    """Hold the payment's amount on the card (its balance goes down now)."""
    with transaction.atomic():
        card = locked(card_id)
        done = card.transactions.filter(payment=payment, kind=Kind.RESERVE).first()
        if done is not None:
            return done
        if not card.is_usable:
            raise GiftCardError(
                _("Gift card …%(last)s can't be used any more.") % {"last": card.last_characters}
            )
        if card.currency != payment.currency:
            raise GiftCardError(
                _("Gift card …%(last)s is in %(currency)s.")
                % {"last": card.last_characters, "currency": card.currency}
            )
        if card.balance_cents < payment.amount_cents:
            raise GiftCardError(
                _("Gift card …%(last)s no longer has %(amount)s on it.")
                % {
                    "last": card.last_characters,
                    "amount": format_money(payment.amount_cents, payment.currency),
                }
            )
        return post(
            card,
            Kind.RESERVE,
            -payment.amount_cents,
            payment=payment,
            reason=f"Order {payment.data.get('order_number', '')}",
        )


def capture(payment) -> str:
    """The order is paid: the reserve becomes spent money (the balance does not change again)."""
    with transaction.atomic():
        card = locked(payment.data["gift_card_id"])
        if not card.transactions.filter(payment=payment, kind=Kind.RESERVE).exists():
            raise GiftCardError("Nothing was reserved on the gift card for this payment")
        if not card.transactions.filter(payment=payment, kind=Kind.CAPTURE).exists():
            post(
                card,
                Kind.CAPTURE,
                0,
                payment=payment,
                reason=f"Order {payment.data.get('order_number', '')} paid",
            )
    return f"giftcard-{card.pk}"


def release(payment) -> None:
    """The order will not be paid: what was reserved goes back on the card, once."""
    with transaction.atomic():
        card = locked(payment.data["gift_card_id"])
        reserved = card.transactions.filter(payment=payment, kind=Kind.RESERVE).first()
        if (
            reserved is None
            or card.transactions.filter(payment=payment, kind__in=[Kind.RELEASE, Kind.CAPTURE]).exists()
        ):
            return
        post(
            card,
            Kind.RELEASE,
            -reserved.amount_cents,
            payment=payment,
            reason=f"Order {payment.data.get('order_number', '')} not paid",
        )


def refund(payment, amount_cents: int, idempotency_key: str, *, actor: str = "system") -> str:
    """Money of a refunded order goes back on the card that paid it (the same key: the same entry).

    `actor`: who refunded (the staff member), written on the ledger entry."""
    with transaction.atomic():
        card = locked(payment.data["gift_card_id"])
        done = GiftCardTransaction.objects.filter(idempotency_key=idempotency_key).first()
        if done is not None:
            return f"giftcard-refund-{done.pk}"
        try:
            with transaction.atomic():
                entry = post(
                    card,
                    Kind.REFUND,
                    amount_cents,
                    payment=payment,
                    idempotency_key=idempotency_key,
                    reason=f"Refund of order {payment.data.get('order_number', '')}",
                    actor=actor,
                )
        except IntegrityError:
            raise GiftCardError("This refund is being recorded by another request") from None
    return f"giftcard-refund-{entry.pk}"
