"""The gift card emails: the card for its recipient, the buyer's notice, the one-time code, the revoke."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _

from .models import GiftCard


def _context(**extra) -> dict:
    return {
        "SHOP_NAME": settings.SHOP_NAME,
        "SUPPORT_EMAIL": settings.SUPPORT_EMAIL,
        "SITE_URL": settings.SITE_URL,
        **extra,
    }


def _email(to: str, subject: str, template: str, context: dict) -> EmailMultiAlternatives:
    context = _context(**context)
    message = EmailMultiAlternatives(
        subject, render_to_string(f"emails/{template}.txt", context), settings.DEFAULT_FROM_EMAIL, [to]
    )
    message.attach_alternative(render_to_string(f"emails/{template}.html", context), "text/html")
    return message


def _sender_name(card: GiftCard) -> str:
    order = card.order
    if card.customer_id and (card.customer.first_name or card.customer.get_full_name()):
        return card.customer.get_full_name() or card.customer.first_name
    return order.email if order is not None else settings.SHOP_NAME


def card_for_recipient(card: GiftCard, code: str) -> EmailMultiAlternatives:
    from_whom = _sender_name(card)
    return _email(
        card.recipient_email,
        _("%(sender)s sent you a %(shop)s gift card") % {"sender": from_whom, "shop": settings.SHOP_NAME},
        "giftcard_delivery",
        {
            "card": card,
            "code": code,
            "from_whom": from_whom,
            "shop_url": settings.SITE_URL + reverse("catalog:home"),
            "balance_url": settings.SITE_URL + reverse("giftcards:balance"),
        },
    )


def delivered_notice(card: GiftCard, to: str) -> EmailMultiAlternatives:
    return _email(
        to,
        _("Your gift card …%(last)s was delivered") % {"last": card.last_characters},
        "giftcard_delivered",
        {"card": card, "account_url": settings.SITE_URL + reverse("giftcards:account_list")},
    )


def one_time_code(card: GiftCard, to: str, otp: str, minutes: int) -> EmailMultiAlternatives:
    return _email(
        to,
        _("%(code)s is your code to revoke gift card …%(last)s")
        % {"code": otp, "last": card.last_characters or card.pk},
        "giftcard_otp",
        {"card": card, "otp": otp, "minutes": minutes},
    )


def revoked_notice(card: GiftCard, to: str, refund_cents: int) -> EmailMultiAlternatives:
    return _email(
        to,
        _("Gift card …%(last)s revoked: %(shop)s")
        % {"last": card.last_characters or card.pk, "shop": settings.SHOP_NAME},
        "giftcard_revoked",
        {"card": card, "refund_cents": refund_cents},
    )
