"""Reads of gift cards: the buyer's list, what applied cards would pay, a card's ledger, and a
customer's cards bought and spent (for checkout's customer page: the caller names the orders, as
giftcards never import checkout)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q, QuerySet

from .models import GiftCard, GiftCardTransaction, Kind
from .services import redemption


@dataclass(frozen=True)
class Redemption:
    card: GiftCard
    amount_cents: int  # what this card would pay now, in the order's currency
    card_amount_cents: int | None = None  # what it takes from the card, in the card's currency
    rate: Decimal | None = None  # order units per card unit, when the card is in another currency

    @property
    def taken_cents(self) -> int:
        return self.amount_cents if self.card_amount_cents is None else self.card_amount_cents


def plan_redemption(
    card_ids: list[int],
    payable_cents: int,
    currency: str | None = None,
    rate_of: Callable[[str], Decimal] | None = None,
) -> list[Redemption]:
    """How the applied cards would pay `payable_cents` (in `currency`), in the order they were applied.

    A card in another currency pays at `rate_of(its currency)` (order units per card unit; it may
    raise the catalog's RateUnavailable), by `redemption.card_share`. A card with nothing left to give
    for this order is still listed (0), so the customer sees why it is not used.
    """
    plan, left = [], payable_cents
    for card in redemption.usable(card_ids):
        if currency is None or card.currency == currency or rate_of is None:
            share = max(0, min(card.balance_cents, left))
            plan.append(Redemption(card, share))
        else:
            rate = rate_of(card.currency)
            share, taken = redemption.card_share(
                max(0, left), card.balance_cents, rate, card.currency, currency
            )
            plan.append(Redemption(card, share, taken, rate))
        left -= share
    return plan


def cards_bought_by(user) -> list[GiftCard]:
    return list(GiftCard.objects.bought_by(user).order_by("-created_at", "-id"))


def ledger(card: GiftCard) -> list[GiftCardTransaction]:
    return list(card.transactions.select_related("payment").order_by("created_at", "id"))


def cards_bought(orders: QuerySet, user_id: int | None = None) -> QuerySet[GiftCard]:
    """Cards bought by these orders (a guest's too), or by this account: newest first.

    `orders`: a queryset of the customer's orders (used as a subquery)."""
    bought = Q(order__in=orders.values("pk"))
    if user_id:
        bought |= Q(customer_id=user_id)
    return GiftCard.objects.filter(bought).select_related("order").order_by("-created_at", "-id")


def cards_spent(orders: QuerySet) -> QuerySet[GiftCardTransaction]:
    """What cards paid for these orders: one entry per paid gift card payment (its capture), newest first.

    The amount is the payment's; what went back on the card is the payment's `refunded_cents`."""
    return (
        GiftCardTransaction.objects.filter(kind=Kind.CAPTURE, payment__order__in=orders.values("pk"))
        .select_related("card", "payment__order")
        .order_by("-created_at", "-id")
    )
