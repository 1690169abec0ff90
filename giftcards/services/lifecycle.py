"""A card's life after issue: what staff and the API change on it (details, hold, balance), and expiry.

Each change by staff or the API is one transaction under the card's row lock, with its audit entry in
it; the daily expiry takes one transaction per card. A revoked card is closed for good and refuses
them all (revoking is `revoking.py`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import audit
from core.money import format_money

from ..events import GiftCardAction
from ..ledger import GiftCardError, locked, post
from ..models import GiftCard, Kind, Status, Template
from .issuing import FieldError, clean_expiry


def update(card_id: int, *, actor: str, **fields) -> GiftCard:
    """Expiry date, note, design."""
    allowed = {"expires_on", "note", "template_suffix"}
    unknown = set(fields) - allowed
    if unknown:
        raise FieldError(sorted(unknown)[0], _("This field can't be changed."))
    if "expires_on" in fields:
        clean_expiry(fields["expires_on"])
    if "template_suffix" in fields and fields["template_suffix"] not in Template.values:
        raise FieldError(
            "template_suffix", _("Choose a design: %(designs)s.") % {"designs": ", ".join(Template.values)}
        )
    with transaction.atomic():
        card = locked(card_id)
        if card.status == Status.REVOKED:
            raise GiftCardError(_("A revoked gift card can't be changed."))
        if card.expired_at and "expires_on" in fields:
            raise GiftCardError(_("An expired gift card stays expired; issue a new one instead."))
        before = audit.snapshot(card, fields)
        for name, value in fields.items():
            setattr(card, name, value if value is not None or name == "expires_on" else "")
        card.save()
        audit.record(actor, GiftCardAction.UPDATE, card, before, audit.snapshot(card, fields))
    return card


def disable(card_id: int, *, actor: str) -> GiftCard:
    """A reversible hold: the card can't pay until it is enabled again. No refund."""
    return _set_enabled(card_id, False, actor)


def enable(card_id: int, *, actor: str) -> GiftCard:
    return _set_enabled(card_id, True, actor)


def _set_enabled(card_id: int, enabled: bool, actor: str) -> GiftCard:
    with transaction.atomic():
        card = locked(card_id)
        if card.status == Status.REVOKED:
            raise GiftCardError(_("A revoked gift card can't be disabled or enabled."))
        if card.enabled != enabled:
            card.enabled, card.disabled_at = enabled, None if enabled else timezone.now()
            card.save(update_fields=["enabled", "disabled_at", "updated_at"])
            audit.record(
                actor,
                GiftCardAction.ENABLE if enabled else GiftCardAction.DISABLE,
                card,
                {"enabled": not enabled},
                {"enabled": enabled},
            )
    return card


def adjust(card_id: int, amount_cents: int, *, reason: str, actor: str) -> GiftCard:
    """Staff correct a balance, up or down, with a reason for the ledger."""
    if not reason.strip():
        raise FieldError("reason", _("Give a reason for the adjustment."))
    if amount_cents == 0:
        raise FieldError("amount_cents", _("The adjustment can't be zero."))
    with transaction.atomic():
        card = locked(card_id)
        if card.status == Status.REVOKED:
            raise GiftCardError(_("A revoked gift card can't be adjusted."))
        if card.balance_cents + amount_cents > settings.GIFTCARD_CUSTOM_MAX_CENTS * 10:
            raise FieldError("amount_cents", _("That would make the balance implausibly large."))
        if card.balance_cents + amount_cents < 0:
            raise FieldError(
                "amount_cents",
                _("The balance is only %(balance)s.")
                % {"balance": format_money(card.balance_cents, card.currency)},
            )
        before = card.balance_cents
        post(card, Kind.ADJUST, amount_cents, reason=reason.strip(), actor=actor)
        audit.record(
            actor,
            GiftCardAction.ADJUST,
            card,
            {"balance_cents": before},
            {"balance_cents": before + amount_cents},
            note=reason.strip(),
        )
    return card


def expire_cards() -> int:
    """The daily job: close cards past their expiry date, with an `expire` entry for what was left."""
    today = timezone.localdate()
    due = list(
        GiftCard.objects.filter(revoked_at__isnull=True, expires_on__lt=today)
        .exclude(expired_at__isnull=False, balance_cents=0)
        .values_list("id", flat=True)
    )
    for card_id in due:
        with transaction.atomic():
            card = locked(card_id)
            if card.revoked_at or not card.expires_on or card.expires_on >= today:
                continue
            if card.balance_cents:  # money released back onto an expired card expires too
                post(card, Kind.EXPIRE, -card.balance_cents, reason=f"Expired on {card.expires_on}")
            if not card.expired_at:
                card.expired_at = timezone.now()
                card.save(update_fields=["expired_at", "updated_at"])
    return len(due)
