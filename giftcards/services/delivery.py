"""Delivering a card: its code is made and emailed to the recipient on the send date.

The code exists only in that email: the card keeps a keyed hash. The mail
server is never called with the card locked; a short claim in the cache
keeps two workers apart. A send that fails after the code was made leaves
the card unsent, and the next run makes a new code (the old one never
reached anyone), so a card is delivered with exactly one working code.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core import audit

from .. import emails
from ..events import GiftCardAction
from ..ledger import GiftCardError, locked
from ..models import GiftCard, Status
from .issuing import is_due, set_new_code

logger = logging.getLogger(__name__)


class DeliveryInProgress(OSError):
    """Another worker is delivering this card now (the task retries, as for a mail server down)."""


def deliver(card_id: int, *, force: bool = False, actor: str = "system") -> bool:
    """Email the card to its recipient with a new code. `force`: again (staff resend), or before the date."""
    claim = f"giftcard-deliver:{card_id}"
    if not cache.add(claim, 1, settings.EMAIL_CLAIM_SECONDS):
        raise DeliveryInProgress(f"gift card {card_id} is being delivered")
    try:
        with transaction.atomic():
            card = locked(card_id)
            if not card.recipient_email or card.status != Status.ACTIVE:
                if force:
                    raise GiftCardError(_("Only an active card with a recipient email can be sent."))
                return False
            if not force and (card.sent_at or not is_due(card)):
                return False
            code = set_new_code(card)
        # In the language the buyer ordered it in (its links too), not the worker's.
        with translation.override(_language(card)):
            message = emails.card_for_recipient(card, code)
        message.send()  # OSError: the task retries, with a new code
        with transaction.atomic():
            card = locked(card_id)
            card.sent_at = timezone.now()
            card.save(update_fields=["sent_at", "updated_at"])
            if force:  # staff sent it again (a new code replaced the old one)
                audit.record(actor, GiftCardAction.RESEND, card, {}, {"sent_to": card.recipient_email})
    finally:
        cache.delete(claim)
    buyer = card.customer.email if card.customer_id else (card.order.email if card.order_id else "")
    if buyer and buyer.lower() != card.recipient_email.lower():
        try:
            with translation.override(_language(card)):
                notice = emails.delivered_notice(card, buyer)
            notice.send()
        except OSError:  # a courtesy; the card itself went out
            logger.warning("could not tell the buyer gift card %s was delivered", card_id, exc_info=True)
    logger.info("gift card %s delivered to its recipient (%s)", card_id, actor)
    return True


def _language(card: GiftCard) -> str:
    """The language of the order that bought the card (the shop's for a card staff issued)."""
    return card.order.language if card.order_id else settings.LANGUAGE_CODE


def send_due() -> int:
    """The beat job: every card whose send date has come and that has not gone out yet."""
    today = timezone.localdate()
    due = (
        GiftCard.objects.with_status(Status.ACTIVE)
        .filter(sent_at__isnull=True)
        .filter(Q(send_on__isnull=True) | Q(send_on__lte=today))
        .exclude(recipient_email="")
    )
    sent = 0
    for card_id in due.values_list("id", flat=True).order_by("id")[:500]:
        try:
            sent += deliver(card_id)
        except DeliveryInProgress:
            continue
        except OSError:
            logger.warning("could not deliver gift card %s; next run tries again", card_id, exc_info=True)
    return sent
