"""The ledger: the only code that changes a card's balance.

Every entry is written with the card's row locked (the caller holds the lock,
inside its transaction), the balance moves by exactly the entry's amount, and
a balance that would go negative is refused here and by the database.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import Q, Sum

from payments.amounts import scaled

from .models import GiftCard, GiftCardTransaction, Kind

# Entries that only hold money for a checkout: the books count the payment, not these.
HELD_KINDS = (Kind.RESERVE, Kind.RELEASE, Kind.CAPTURE)


class GiftCardError(ValueError):
    """A refused gift card action, with a message for whoever asked."""


def locked(card_id: int) -> GiftCard:
    """The card with its row locked until the transaction ends."""
    try:
        return GiftCard.objects.select_for_update().get(pk=card_id)
    except GiftCard.DoesNotExist:
        raise GiftCardError("Gift card not found") from None


def post(
    card: GiftCard,
    kind: str,
    amount_cents: int,
    *,
    payment=None,
    reason: str = "",
    actor: str = "system",
    idempotency_key: str | None = None,
    base_cents: int | None = None,
    order_amount_cents: int | None = None,
    order_currency: str = "",
    rate=None,
) -> GiftCardTransaction:
    """Write one entry on a locked card and move its balance by `amount_cents`.

    `base_cents`: the entry in the shop's base currency (the books' liability); None works it out
    (`_base_of`). `order_amount_cents`, `order_currency`, `rate`: a card paying (or paid back by) an
    order in another currency keeps that amount and the rate beside its own."""
    balance = card.balance_cents + amount_cents
    if balance < 0:
        raise GiftCardError("The gift card's balance is too low")
    if base_cents is None:
        base_cents = _base_of(card, kind, amount_cents)
    card.balance_cents = balance
    card.save(update_fields=["balance_cents", "updated_at"])
    return GiftCardTransaction.objects.create(
        card=card,
        kind=kind,
        amount_cents=amount_cents,
        balance_after_cents=balance,
        payment=payment,
        reason=reason[:500],
        actor=actor[:150],
        idempotency_key=idempotency_key,
        base_amount_cents=base_cents,
        order_amount_cents=order_amount_cents,
        order_currency=order_currency,
        rate=rate,
    )


def _base_of(card: GiftCard, kind: str, amount_cents: int) -> int:
    """An entry's base amount when the caller gives none. A card in the base currency: the amount.
    Another card: an entry that empties it (expiry, revoke) takes its whole base value left, so its
    liability ends at exactly zero; any other at the card's own rate (what its issue was worth)."""
    if card.currency == settings.SHOP_CURRENCY:
        return amount_cents
    if kind in (Kind.EXPIRE, Kind.REVOKE) and card.balance_cents + amount_cents == 0:
        return -book_value(card)
    issued = (
        card.transactions.filter(kind=Kind.ISSUE).values_list("amount_cents", "base_amount_cents").first()
    )
    if not issued or not issued[0]:
        return 0
    sign = -1 if amount_cents < 0 else 1
    return sign * scaled(abs(amount_cents), issued[0], issued[1])


def book_value(card: GiftCard) -> int:
    """What the card owes in the base currency by the books: its entries' base amounts, less what
    its captured payments (and reserves still open) were worth in the base currency."""
    entries = card.transactions.exclude(kind__in=HELD_KINDS).aggregate(s=Sum("base_amount_cents"))["s"] or 0
    held = card.transactions.filter(kind=Kind.RESERVE).exclude(
        Q(payment__gift_card_transactions__kind=Kind.RELEASE)
    )
    spent = held.aggregate(s=Sum("payment__base_amount_cents"))["s"] or 0
    return entries - spent


def ledger_sum(card: GiftCard) -> int:
    return card.transactions.aggregate(s=Sum("amount_cents"))["s"] or 0
