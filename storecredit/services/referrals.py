"""Referrals: a friend's order placed through a referrer's code, and the credit it earns.

`record` keeps one referral per order when the friend's order is paid; it is due once the order has
passed the refund window (`REFERRAL_REWARD_AFTER_SECONDS`: `REFUND_WINDOW_DAYS` unless a demo
shortens it). `settle` then earns the referrer
`REFERRAL_REWARD_CENTS` of credit, once, or voids the referral with the reason: the order was
refunded (any refund), the referrer referred themselves (the same account, the same email, or a
card the referrer paid with: Stripe's card fingerprint), or the referrer's monthly cap
(`REFERRAL_MONTHLY_CAP` earned per calendar month) is reached. Checkout calls these; this module
never imports checkout.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from payments.models import Payment

from ..ledger import locked, post
from ..models import Kind, Referral, ReferralStatus

REFUNDED = "The friend's order was refunded"
SAME_ACCOUNT = "Self-referral: the same account"
SAME_EMAIL = "Self-referral: the same email"
SAME_CARD = "Self-referral: a card the referrer paid with"
CAPPED = "The referrer's monthly cap was reached"
NO_REFERRER = "The referrer deleted their account"


def record(
    *,
    referrer_id: int,
    code: str,
    order_id: int,
    friend_email: str,
    paid_at: dt.datetime,
    friend_id: int | None = None,
    card_fingerprint: str = "",
) -> Referral:
    """The referral of a paid order (the same order again: the first record)."""
    existing = Referral.objects.filter(order_id=order_id).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return Referral.objects.create(
                referrer_id=referrer_id,
                code=code[:64],
                order_id=order_id,
                friend_email=friend_email,
                friend_id=friend_id,
                card_fingerprint=card_fingerprint[:64],
                due_at=paid_at + dt.timedelta(seconds=settings.REFERRAL_REWARD_AFTER_SECONDS),
            )
    except IntegrityError:  # a concurrent record of the same order won
        return Referral.objects.get(order_id=order_id)


def due(now: dt.datetime | None = None) -> QuerySet[Referral]:
    """Referrals whose friend's order has passed the refund window and that are not settled yet."""
    return Referral.objects.filter(status=ReferralStatus.PENDING, due_at__lte=now or timezone.now()).order_by(
        "due_at", "id"
    )


def settle(
    referral_id: int,
    *,
    refunded: bool,
    card_fingerprints: Iterable[str] = (),
    now: dt.datetime | None = None,
) -> Referral:
    """Earn the reward once, or void the referral with its reason. `refunded`: any refund of the
    friend's order; `card_fingerprints`: of every card that paid it (checkout knows both). Not due
    yet, or settled already: returned as it is."""
    now = now or timezone.now()
    referrer_id = Referral.objects.values_list("referrer_id", flat=True).get(pk=referral_id)
    if referrer_id is None:  # the referrer deleted their account: nobody to pay
        return _void_without_referrer(referral_id, now)
    with transaction.atomic():
        # The referrer's account first: it serialises every settle of theirs, so the cap is exact.
        account = locked(referrer_id)
        referral = Referral.objects.select_for_update().get(pk=referral_id)
        if referral.status != ReferralStatus.PENDING or referral.due_at > now:
            return referral
        reason = _void_reason(referral, refunded, card_fingerprints, now)
        referral.settled_at = now
        if reason:
            referral.status, referral.void_reason = ReferralStatus.VOID, reason
        else:
            referral.status = ReferralStatus.EARNED
            referral.reward = post(
                account,
                Kind.REFERRAL,
                settings.REFERRAL_REWARD_CENTS,
                reason=f"Referral of order {referral.order_id}",
            )
        referral.save(update_fields=["status", "void_reason", "settled_at", "reward"])
    return referral


def _void_without_referrer(referral_id: int, now: dt.datetime) -> Referral:
    with transaction.atomic():
        referral = Referral.objects.select_for_update().get(pk=referral_id)
        if referral.status == ReferralStatus.PENDING and referral.due_at <= now:
            referral.status, referral.void_reason, referral.settled_at = ReferralStatus.VOID, NO_REFERRER, now
            referral.save(update_fields=["status", "void_reason", "settled_at"])
    return referral


def _void_reason(
    referral: Referral, refunded: bool, card_fingerprints: Iterable[str], now: dt.datetime
) -> str:
    if refunded:
        return REFUNDED
    referrer = get_user_model().objects.get(pk=referral.referrer_id)
    if referral.friend_id is not None and referral.friend_id == referrer.pk:
        return SAME_ACCOUNT
    if referral.friend_email.strip().casefold() == (referrer.email or "").strip().casefold():
        return SAME_EMAIL
    fingerprints = {f for f in (referral.card_fingerprint, *card_fingerprints) if f}
    fingerprints = fingerprints or {_fingerprint_of(referral.order_id)} - {""}
    if (
        fingerprints
        and fingerprints_of(referrer).filter(data__card_fingerprint__in=list(fingerprints)).exists()
    ):
        return SAME_CARD
    month = timezone.localtime(now).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    earned = Referral.objects.filter(
        referrer_id=referrer.pk, status=ReferralStatus.EARNED, settled_at__gte=month
    ).count()
    if earned >= settings.REFERRAL_MONTHLY_CAP:
        return CAPPED
    return ""


def fingerprints_of(referrer) -> QuerySet[Payment]:
    """Payments of the referrer's own orders (by account or by email), where their cards are named."""
    return Payment.objects.filter(
        Q(order__customer_id=referrer.pk) | Q(order__email__iexact=referrer.email or "-"),
        data__has_key="card_fingerprint",
    )


def _fingerprint_of(order_id: int) -> str:
    """The card fingerprint of the friend's order, if its card payment kept one."""
    found = (
        Payment.objects.filter(order_id=order_id, data__has_key="card_fingerprint")
        .values_list("data__card_fingerprint", flat=True)
        .first()
    )
    return str(found or "")
