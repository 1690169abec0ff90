"""The customer's saved cards, for the account pages (accounts may not import payments)."""

from __future__ import annotations

import logging

from payments import cards
from payments.models import SavedCard
from payments.providers import PaymentError

logger = logging.getLogger(__name__)


def cards_of(user) -> list[SavedCard]:
    return cards.cards_of(user)


def card_of(user, card_id: object) -> SavedCard | None:
    """The user's own card with this id; None for anyone else's or a malformed id."""
    text = str(card_id or "")
    if not text.isdigit() or len(text) > 18 or not user.is_authenticated:
        return None
    return SavedCard.objects.filter(pk=int(text), user=user).first()


def remove(card: SavedCard) -> bool:
    """Detach it at Stripe (never charged again), then forget it. False when Stripe can't be
    reached: the card stays listed, and saved, until it can."""
    try:
        cards.remove_card(card)
    except PaymentError:
        logger.warning("could not detach saved card %s", card.pk, exc_info=True)
        return False
    return True
