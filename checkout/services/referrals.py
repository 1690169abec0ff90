"""Referrals wired to orders: a friend's order paid with a referral code is recorded, and once it
has passed the refund window it is settled (storecredit's `referrals`: the reward once, or nothing
with the reason) and the referrer is told by email, once.

- `record_paid` runs in `order_state.move`, in the transaction that marks the order paid (beside the
  code's use being counted): the referral exists exactly when the paid order does, once.
- `settle_due` is the beat task's run (`checkout.settle_referrals`). For each due referral checkout
  says what storecredit cannot know: whether the friend's order was refunded (any refund, the
  order refunded, or a refund asked for), and the fingerprints of the cards that paid it. An order
  waiting for staff (requires action) is left for a later run: it may yet be refunded.
- `send_reward_email` tells the referrer in their language; queued after the settle commits, and
  claimed in the cache so two workers never send it twice (`emailed_at` records it).
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.money import format_money
from core.queue import after_commit
from discounts.models import DiscountCode
from discounts.models import Kind as CodeKind
from payments.models import Payment, PaymentRefund
from storecredit.models import Referral, ReferralStatus
from storecredit.services import referrals as credit

from ..events import OrderEventKind
from ..models import Order, OrderEvent, OrderLine, OrderStatus

logger = logging.getLogger(__name__)

BATCH = 500  # referrals settled per run; the rest wait for the next
REWARD_EMAIL_TASK = "checkout.send_referral_email"
# Earned referrals whose email a killed worker left unsent are queued again for this long.
RESEND_WITHIN = dt.timedelta(days=3)


class EmailInProgress(OSError):
    """Another worker is sending this email now: the task retries later."""


def record_paid(order: Order) -> Referral | None:
    """The referral of a (locked) order just paid with a customer's referral code; None for any other
    order. Recording it again returns the first record."""
    if order.discount_code_id is None or order.paid_at is None:
        return None
    code = (
        DiscountCode.objects.filter(pk=order.discount_code_id, kind=CodeKind.REFERRAL, referrer__isnull=False)
        .values("code", "referrer_id")
        .first()
    )
    if code is None:
        return None
    return credit.record(
        referrer_id=code["referrer_id"],
        code=code["code"],
        order_id=order.pk,
        friend_email=order.email,
        friend_id=order.customer_id,
        paid_at=order.paid_at,
    )


def was_refunded(order_id: int) -> bool:
    """Any money given back, or asked to be: the order refunded, a payment refunded in part, a line
    marked refunded, or a refund requested (staff's, even one that has not gone through yet)."""
    payments = Payment.objects.filter(order_id=order_id)
    return (
        Order.objects.filter(pk=order_id, status=OrderStatus.REFUNDED).exists()
        or payments.filter(
            Q(refunded_cents__gt=0)
            | Q(status__in=[Payment.Status.PARTIALLY_REFUNDED, Payment.Status.REFUNDED])
        ).exists()
        or PaymentRefund.objects.filter(payment__order_id=order_id).exists()
        or OrderLine.objects.filter(order_id=order_id)
        .filter(Q(refunded_cents__gt=0) | Q(refunded_at__isnull=False))
        .exists()
        or OrderEvent.objects.filter(
            order_id=order_id, kind__in=[OrderEventKind.REFUND_REQUESTED, OrderEventKind.REFUND]
        ).exists()
    )


def card_fingerprints(order_id: int) -> list[str]:
    """Stripe's fingerprints of the cards that paid the order (kept after each capture)."""
    found = Payment.objects.filter(order_id=order_id, data__has_key="card_fingerprint").values_list(
        "data__card_fingerprint", flat=True
    )
    return sorted({str(f) for f in found if f})


def settle(referral_id: int, now: dt.datetime | None = None) -> Referral:
    """One due referral settled (or left pending while its order waits for staff)."""
    order_id, status = Referral.objects.filter(pk=referral_id).values_list("order_id", "order__status").get()
    refunded = was_refunded(order_id)
    if status == OrderStatus.REQUIRES_ACTION and not refunded:
        return Referral.objects.get(pk=referral_id)
    return credit.settle(
        referral_id, refunded=refunded, card_fingerprints=card_fingerprints(order_id), now=now
    )


def settle_due(now: dt.datetime | None = None) -> dict[str, int]:
    """The beat task's run: every due referral settled, then each earned one's email queued (after
    the settle committed; again for one a killed worker left unsent: the email goes once)."""
    now = now or timezone.now()
    counts = {"earned": 0, "void": 0, "waiting": 0, "emails": 0}
    for referral_id in credit.due(now).values_list("pk", flat=True)[:BATCH]:
        status = settle(referral_id, now).status
        counts[{"earned": "earned", "void": "void"}.get(status, "waiting")] += 1
    unsent = Referral.objects.filter(
        status=ReferralStatus.EARNED, emailed_at__isnull=True, settled_at__gte=now - RESEND_WITHIN
    )
    for referral_id in unsent.values_list("pk", flat=True)[:BATCH]:
        after_commit(REWARD_EMAIL_TASK, referral_id)
        counts["emails"] += 1
    return counts


def friend_name(referral: Referral) -> str:
    """The friend as the referrer may see them: the first name they paid with, else "a friend"."""
    given = (referral.order.customer_name or "").split()
    friend = referral.friend
    first = (
        given[0] if given else (friend.first_name.split()[0] if friend and friend.first_name.strip() else "")
    )
    return first[:40] or _("a friend")


def language_of(user_id: int) -> str:
    """The referrer's saved language (accounts' preferences, read by relation), else the shop's."""
    saved = (
        get_user_model().objects.filter(pk=user_id).values_list("preferences__language", flat=True).first()
    )
    return saved if saved in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def send_reward_email(referral_id: int) -> bool:
    """Tell the referrer they earned the reward: once. True when it was sent now."""
    claim = f"referral-email:{referral_id}"
    if not cache.add(claim, 1, settings.EMAIL_CLAIM_SECONDS):
        raise EmailInProgress(f"referral email {referral_id} is being sent")
    try:
        referral = (
            Referral.objects.select_related("referrer", "reward", "order", "friend")
            .filter(pk=referral_id)
            .first()
        )
        if (
            referral is None
            or referral.status != ReferralStatus.EARNED
            or referral.emailed_at is not None
            or referral.referrer is None
            or not referral.referrer.email
        ):
            return False
        with translation.override(language_of(referral.referrer_id)):
            message = _reward_email(referral)
        message.send()  # OSError when the mail server is down: the task retries
        Referral.objects.filter(pk=referral_id, emailed_at__isnull=True).update(emailed_at=timezone.now())
        return True
    finally:
        cache.delete(claim)


def _reward_email(referral: Referral) -> EmailMultiAlternatives:
    reward = referral.reward
    amount = format_money(reward.amount_cents if reward else settings.REFERRAL_REWARD_CENTS)
    friend = friend_name(referral)
    context = {
        "amount": amount,
        "friend": friend,
        "expires_at": reward.expires_at if reward else None,
        "credit_url": f"{settings.SITE_URL}{reverse('accounts:store_credit')}",
        "SHOP_NAME": settings.SHOP_NAME,
        "SUPPORT_EMAIL": settings.SUPPORT_EMAIL,
    }
    # Translators: the subject of the referrer's email; friend is a first name or "a friend".
    subject = _("You earned %(amount)s store credit: %(friend)s bought their first eSIM") % {
        "amount": amount,
        "friend": friend,
    }
    message = EmailMultiAlternatives(
        subject,
        render_to_string("emails/referral_reward.txt", context),
        settings.DEFAULT_FROM_EMAIL,
        [referral.referrer.email],
    )
    message.attach_alternative(render_to_string("emails/referral_reward.html", context), "text/html")
    return message
