"""Spending cards: finding one by its code (rate limited), and the ledger side of a payment.

The payment provider (`giftcards.provider`) calls reserve, capture, release
and refund; each runs under the card's row lock and is safe to repeat for
the same payment (or, for refunds, the same idempotency key).
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_DOWN, Decimal

from django.db import IntegrityError, transaction
from django.utils.functional import lazy
from django.utils.translation import gettext as _

from core.money import convert, format_money, minor_digits
from payments.amounts import prorate

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


def card_share(
    payable: int, balance: int, rate: Decimal, card_currency: str, order_currency: str
) -> tuple[int, int]:
    """(what a card pays of an order, what it takes from the card): a card in another currency.

    `rate`: order units per card unit. The whole balance is worth its conversion rounded down (the
    shop never credits a fraction it did not receive); a smaller part takes the card amount rounded
    up, never more than the balance. Whatever is taken goes back exactly on a release or a refund."""
    whole = convert(balance, rate, card_currency, order_currency, ROUND_DOWN)
    if whole <= 0:
        return 0, 0  # worth less than one unit of the order's currency: the card pays nothing
    if payable >= whole:
        return whole, balance
    scale = Decimal(10) ** (minor_digits(card_currency) - minor_digits(order_currency))
    taken = int((Decimal(payable) * scale / rate).to_integral_value(ROUND_CEILING))
    return payable, min(balance, taken)


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
        taken = card_amount(payment)
        if card.currency != payment.data.get("card_currency", payment.currency):
            raise GiftCardError(
                _("Gift card …%(last)s is in %(currency)s.")
                % {"last": card.last_characters, "currency": card.currency}
            )
        if card.balance_cents < taken:
            raise GiftCardError(
                _("Gift card …%(last)s no longer has %(amount)s on it.")
                % {"last": card.last_characters, "amount": format_money(taken, card.currency)}
            )
        return post(
            card,
            Kind.RESERVE,
            -taken,
            payment=payment,
            reason=f"Order {payment.data.get('order_number', '')}",
            base_cents=-payment.base_amount_cents,
            **_order_side(card, payment, payment.amount_cents),
        )


def card_amount(payment) -> int:
    """What the payment takes from its card, in the card's currency: the payment's amount, or, for a
    card paying an order in another currency, the amount converted when the order was placed."""
    if "card_amount_cents" in payment.data:
        return int(payment.data["card_amount_cents"])
    return payment.amount_cents


def _order_side(card: GiftCard, payment, order_amount: int) -> dict:
    """The order's amount and the rate, on an entry of a card paying in another currency."""
    if card.currency == payment.currency:
        return {}
    return {
        "order_amount_cents": order_amount,
        "order_currency": payment.currency,
        "rate": payment.data.get("rate"),
    }


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
        # Exactly what was taken goes back, never converted again at another rate.
        post(
            card,
            Kind.RELEASE,
            -reserved.amount_cents,
            payment=payment,
            reason=f"Order {payment.data.get('order_number', '')} not paid",
            base_cents=-reserved.base_amount_cents,
            **_order_side(card, payment, payment.amount_cents),
        )


def refund(payment, amount_cents: int, idempotency_key: str, *, actor: str = "system") -> str:
    """Money of a refunded order goes back on the card that paid it (the same key: the same entry).

    `actor`: who refunded (the staff member), written on the ledger entry."""
    with transaction.atomic():
        card = locked(payment.data["gift_card_id"])
        done = GiftCardTransaction.objects.filter(idempotency_key=idempotency_key).first()
        if done is not None:
            return f"giftcard-refund-{done.pk}"
        # The card gets back its share of what it paid, in its own currency: slices of the payment on
        # running sums (`prorate`), so a whole refund returns exactly what was taken, to the unit.
        before = payment.refunded_cents
        back = prorate(before, amount_cents, payment.amount_cents, card_amount(payment))
        base = prorate(before, amount_cents, payment.amount_cents, payment.base_amount_cents)
        try:
            with transaction.atomic():
                entry = post(
                    card,
                    Kind.REFUND,
                    back,
                    base_cents=base,
                    **_order_side(card, payment, amount_cents),
                    payment=payment,
                    idempotency_key=idempotency_key,
                    reason=f"Refund of order {payment.data.get('order_number', '')}",
                    actor=actor,
                )
        except IntegrityError:
            raise GiftCardError("This refund is being recorded by another request") from None
    return f"giftcard-refund-{entry.pk}"
