"""Reads of gift cards: the buyer's list, what applied cards would pay, a card's ledger."""

from __future__ import annotations

from dataclasses import dataclass

from .models import GiftCard, GiftCardTransaction
from .services import redemption


@dataclass(frozen=True)
class Redemption:
    card: GiftCard
    amount_cents: int  # what this card would pay now


def plan_redemption(card_ids: list[int], payable_cents: int) -> list[Redemption]:
    """How the applied cards would pay `payable_cents`, in the order they were applied.

    A card with nothing left to give for this order is still listed (0), so
    the customer sees why it is not used.
    """
    plan, left = [], payable_cents
    for card in redemption.usable(card_ids):
        share = max(0, min(card.balance_cents, left))
        plan.append(Redemption(card, share))
        left -= share
    return plan


def cards_bought_by(user) -> list[GiftCard]:
    return list(GiftCard.objects.bought_by(user).order_by("-created_at", "-id"))


def ledger(card: GiftCard) -> list[GiftCardTransaction]:
    return list(card.transactions.select_related("payment").order_by("created_at", "id"))
