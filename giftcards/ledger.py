"""The ledger: the only code that changes a card's balance.

Every entry is written with the card's row locked (the caller holds the lock,
inside its transaction), the balance moves by exactly the entry's amount, and
a balance that would go negative is refused here and by the database.
"""

from __future__ import annotations

from django.db.models import Sum

from .models import GiftCard, GiftCardTransaction


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
) -> GiftCardTransaction:
    """Write one entry on a locked card and move its balance by `amount_cents`."""
    balance = card.balance_cents + amount_cents
    if balance < 0:
        raise GiftCardError("The gift card's balance is too low")
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
    )


def ledger_sum(card: GiftCard) -> int:
    return card.transactions.aggregate(s=Sum("amount_cents"))["s"] or 0
