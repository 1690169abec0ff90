"""Issuing cards (bought, by staff, by the API): the amounts and dates allowed, the card, its code."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import audit
from core.money import convert, minor_digits
from core.queue import after_commit

from .. import codes
from ..events import GiftCardAction
from ..ledger import GiftCardError, post
from ..models import GiftCard, Kind, Template


class FieldError(GiftCardError):
    """Bad input in one field (the API answers these as `{"errors": [...]}`)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def amount_limits(
    currency: str | None = None, per_base: Decimal | None = None
) -> tuple[list[int], int, int, int]:
    """(denominations, lower, upper, step), in minor units of `currency` (default: the base currency,
    from settings). In another currency (`per_base`: its units per base unit) the settings' amounts are
    converted and rounded to whole units (hundreds of yen) so they look local: €25, ¥4,000."""
    base = (
        list(settings.GIFTCARD_DENOMINATIONS_CENTS),
        settings.GIFTCARD_CUSTOM_MIN_CENTS,
        settings.GIFTCARD_CUSTOM_MAX_CENTS,
        settings.GIFTCARD_CUSTOM_STEP_CENTS,
    )
    if currency in (None, settings.SHOP_CURRENCY) or per_base is None:
        return base
    unit = 100 if minor_digits(currency) == 0 else 10 ** minor_digits(currency)

    def local(cents: int, rounding: str) -> int:
        exact = Decimal(convert(cents, per_base, settings.SHOP_CURRENCY, currency))
        return max(unit, int((exact / unit).to_integral_value(rounding)) * unit)

    denominations, lower, upper, _step = base
    return (
        sorted({local(c, ROUND_HALF_UP) for c in denominations}),
        local(lower, ROUND_CEILING),
        local(upper, ROUND_FLOOR),
        unit,
    )


def clean_purchase_amount(cents: int, currency: str | None = None, per_base: Decimal | None = None) -> int:
    """A fixed denomination, or a custom amount within the limits and on the step (in `currency`)."""
    denominations, lower, upper, step = amount_limits(currency, per_base)
    if cents in denominations:
        return cents
    if not lower <= cents <= upper:
        raise FieldError(
            "amount",
            _("Choose an amount from %(lower)s to %(upper)s.")
            % {"lower": _money(lower, currency), "upper": _money(upper, currency)},
        )
    if cents % step:
        raise FieldError(
            "amount", _("Choose an amount in steps of %(step)s.") % {"step": _money(step, currency)}
        )
    return cents


def clean_issue_amount(cents: int) -> int:
    """Staff and the API may issue any amount from one minor unit up to the upper limit."""
    upper = settings.GIFTCARD_CUSTOM_MAX_CENTS
    if not 1 <= cents <= upper:
        raise FieldError(
            "initial_value_cents",
            _("Choose an amount from %(lower)s to %(upper)s.") % {"lower": _money(1), "upper": _money(upper)},
        )
    return cents


def clean_expiry(expires_on: dt.date | None) -> dt.date | None:
    if expires_on is not None and expires_on < timezone.localdate():
        raise FieldError("expires_on", _("The expiry date can't be in the past."))
    return expires_on


def clean_send_on(send_on: dt.date | None) -> dt.date | None:
    today = timezone.localdate()
    if send_on is not None and not today <= send_on <= today + dt.timedelta(days=365):
        raise FieldError("send_on", _("Choose a send date from today to a year from now."))
    return send_on


def _money(cents: int, currency: str | None = None) -> str:
    from core.money import format_money

    return format_money(cents, currency)


def default_expiry() -> dt.date | None:
    days = settings.GIFTCARD_VALID_DAYS
    return timezone.localdate() + dt.timedelta(days=days) if days else None


def set_new_code(card: GiftCard) -> str:
    """Give a locked card a fresh code (the old one, if any, stops working). Returns it, once."""
    for _attempt in range(5):
        code = codes.new_code()
        normalized = codes.normalize(code)
        card.code_hash = codes.code_hash(normalized)
        card.last_characters = codes.last_characters(normalized)
        try:
            with transaction.atomic():
                card.save(update_fields=["code_hash", "last_characters", "updated_at"])
        except IntegrityError:  # 2**100 codes: a collision is a broken random source, not bad luck
            continue
        return code
    raise GiftCardError("Could not make a unique code")


def issue(
    amount_cents: int,
    *,
    actor: str,
    currency: str | None = None,
    customer=None,
    issued_by=None,
    order=None,
    order_line=None,
    recipient_name: str = "",
    recipient_email: str = "",
    message: str = "",
    send_on: dt.date | None = None,
    template_suffix: str = Template.GLOBE,
    note: str = "",
    expires_on: dt.date | None = None,
) -> tuple[GiftCard, str | None]:
    """A new card with its `issue` entry. Call inside a transaction, or alone.

    A card for a recipient gets its code when it is delivered by email (the
    send date); one without gets it now, returned here to be shown once.
    """
    if template_suffix not in Template.values:
        raise FieldError(
            "template_suffix", _("Choose a design: %(designs)s.") % {"designs": ", ".join(Template.values)}
        )
    with transaction.atomic():
        card = GiftCard.objects.create(
            initial_value_cents=amount_cents,
            balance_cents=0,
            currency=currency or settings.SHOP_CURRENCY,
            customer=customer,
            issued_by=issued_by,
            order=order,
            order_line=order_line,
            recipient_name=recipient_name[:100],
            recipient_email=recipient_email,
            message=message[:500],
            send_on=send_on,
            template_suffix=template_suffix,
            note=note,
            expires_on=expires_on if expires_on is not None or order is None else default_expiry(),
        )
        # A card bought is worth in the base currency what its line was (the order's rate).
        base = order_line.base_total_cents if order_line is not None else None
        post(card, Kind.ISSUE, amount_cents, actor=actor, reason=f"Issued by {actor}", base_cents=base)
        if issued_by is not None:  # by hand (admin or API), not bought
            audit.record(actor, GiftCardAction.ISSUE, card, {}, {"balance_cents": amount_cents}, note=note)
        code = None if recipient_email else set_new_code(card)
        if recipient_email and is_due(card):
            after_commit("giftcards.deliver", card.pk)
    return card, code


def is_due(card: GiftCard) -> bool:
    return card.send_on is None or card.send_on <= timezone.localdate()


def issue_for_line(line) -> GiftCard:
    """Checkout's fulfiller of gift card lines: runs with the order locked; safe to run twice."""
    existing = GiftCard.objects.filter(order_line_id=line.pk).first()
    if existing is not None:
        return existing
    data, order = line.data or {}, line.order
    send_on = dt.date.fromisoformat(data["send_on"]) if data.get("send_on") else None
    card, _created = issue(
        line.total_cents,
        actor=f"order {order.number}",
        currency=order.currency,
        customer=order.customer,
        order=order,
        order_line=line,
        recipient_name=data.get("recipient_name", ""),
        recipient_email=data.get("recipient_email", "") or order.email,
        message=data.get("message", ""),
        send_on=send_on,
        template_suffix=data.get("template_suffix") or Template.GLOBE,
    )
    return card
