"""Revoking a card: its unused balance goes back through Stripe to the payment that bought it.

The buyer confirms with a one-time code (six digits, ten minutes, three
tries; too many wrong codes lock the revoke for a while; codes sent are
limited per card, per address they go to and per visitor). The code is spent
in the revoke's own transaction. The ledger's `revoke` entry is written
first, under the card's lock, so the money can't be spent while the refund
is on its way; the refund itself is made after the lock is released and is
retried by a beat job until it is done.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core import audit, cache_windows
from core.security import limited_address
from payments import services as payments
from payments.models import Payment, PaymentRefund

from .. import codes, emails, otp
from ..events import GiftCardAction
from ..ledger import GiftCardError, locked, post
from ..models import GiftCard, Kind, RevokeChallenge, Status

logger = logging.getLogger(__name__)

CARD_PROVIDER = "stripe"


def _refund_reason(card: GiftCard) -> str:
    return f"Gift card #{card.pk} revoked"


def card_payments(card: GiftCard) -> list[Payment]:
    """The card payments of the order that bought the card, newest first."""
    if not card.order_id:
        return []
    return list(
        Payment.objects.captured()
        .filter(order_id=card.order_id, provider=CARD_PROVIDER)
        .order_by("-created_at", "-id")
    )


def open_reservations(card: GiftCard) -> int:
    return card.transactions.filter(kind=Kind.RESERVE, payment__status=Payment.Status.RESERVED).count()


def revoke_blocker(card: GiftCard, *, by_buyer: bool = True) -> str | None:
    """Why the card can't be revoked now, or None. Staff may also close expired and used-up cards."""
    if card.status == Status.REVOKED:
        return _("This gift card is already revoked.")
    if by_buyer and card.status == Status.EXPIRED:
        return _("This gift card has expired.")
    if by_buyer and card.balance_cents == 0 and not open_reservations(card):
        return _("This gift card is used up: there is nothing left to give back.")
    if open_reservations(card):
        return _("This gift card is being used in an unpaid order right now. Please try again later.")
    if card.order_id and sum(p.refundable_cents for p in card_payments(card)) < card.balance_cents:
        return _("The payment for this card can't take the refund. Please contact support.")
    return None


# --- The buyer's one-time code ---------------------------------------------------------------------


def _lock_until(card: GiftCard, user) -> dt.datetime | None:
    since = timezone.now() - dt.timedelta(minutes=settings.GIFTCARD_OTP_LOCK_MINUTES)
    failed = (
        RevokeChallenge.objects.filter(
            card=card, user=user, created_at__gte=since, failed_attempts__gte=settings.GIFTCARD_OTP_TRIES
        )
        .order_by("-created_at")
        .first()
    )
    return failed.created_at + dt.timedelta(minutes=settings.GIFTCARD_OTP_LOCK_MINUTES) if failed else None


def _locked_message(until: dt.datetime) -> str:
    minutes = max(1, int((until - timezone.now()).total_seconds() // 60) + 1)
    return ngettext(
        "Too many wrong codes. For your safety, try again in %(minutes)d minute.",
        "Too many wrong codes. For your safety, try again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}


def buyer_card(card_id: int, user) -> GiftCard:
    card = GiftCard.objects.bought_by(user).filter(pk=card_id).first()
    if card is None:
        raise GiftCard.DoesNotExist
    return card


def _too_many_sends(card: GiftCard, user, ip: str | None) -> bool:
    """Counts one more code for the card, the address it goes to and the visitor asking (the
    view's client_ip; None from no request); whether one of them is past its limit."""
    recipient = hashlib.sha256(user.email.strip().lower().encode()).hexdigest()[:32]
    limits = {
        f"giftcard-otp:card:{card.pk}": settings.GIFTCARD_OTP_SENDS_PER_CARD,
        f"giftcard-otp:email:{recipient}": settings.GIFTCARD_OTP_SENDS_PER_EMAIL,
    }
    if ip is not None:
        limits[f"giftcard-otp:ip:{limited_address(ip)}"] = settings.GIFTCARD_OTP_SENDS_PER_IP
    return cache_windows.over_limits(limits, settings.GIFTCARD_OTP_SEND_WINDOW_SECONDS)


def start_revoke(card_id: int, user, *, ip: str | None = None) -> str:
    """Send the buyer a one-time code. Returns the sentence that says where it went (`OtpSender.describe`)."""
    card = buyer_card(card_id, user)
    blocker = revoke_blocker(card)
    if blocker:
        raise GiftCardError(blocker)
    until = _lock_until(card, user)
    if until:
        raise GiftCardError(_locked_message(until))
    if _too_many_sends(card, user, ip):
        raise GiftCardError(_("Too many codes were sent. Please try again later."))
    code = codes.new_otp()
    with transaction.atomic():
        now = timezone.now()
        RevokeChallenge.objects.filter(card=card, user=user, used_at__isnull=True, expires_at__gt=now).update(
            expires_at=now
        )  # one live code at a time
        challenge = RevokeChallenge.objects.create(
            card=card,
            user=user,
            code_hash="-",
            expires_at=now + dt.timedelta(minutes=settings.GIFTCARD_OTP_MINUTES),
        )
        challenge.code_hash = codes.otp_hash(challenge.pk, code)
        challenge.save(update_fields=["code_hash"])
    sender = otp.sender()
    try:
        sender.send(user=user, card=card, code=code, minutes=settings.GIFTCARD_OTP_MINUTES)
    except OSError:
        RevokeChallenge.objects.filter(pk=challenge.pk).update(expires_at=timezone.now())
        raise GiftCardError(_("We couldn't send the code just now. Please try again in a moment.")) from None
    return sender.describe(user)


def confirm_revoke(card_id: int, user, code: str) -> int:
    """Check the one-time code; when right, revoke. Returns the cents refunded."""
    card = buyer_card(card_id, user)
    actor = f"buyer {user.email}"
    wrong = None
    with transaction.atomic():
        challenge = (
            RevokeChallenge.objects.select_for_update()
            .filter(card=card, user=user, used_at__isnull=True)
            .order_by("-created_at", "-id")
            .first()
        )
        tries = settings.GIFTCARD_OTP_TRIES
        if challenge is not None and challenge.failed_attempts >= tries:
            raise GiftCardError(
                _locked_message(
                    challenge.created_at + dt.timedelta(minutes=settings.GIFTCARD_OTP_LOCK_MINUTES)
                )
            )
        if challenge is None or challenge.expires_at <= timezone.now():
            raise GiftCardError(_("That code has expired. Ask for a new one."))
        given = "".join(str(code or "").split())[:6]
        if not (
            given.isdigit()
            and len(given) == 6
            and hmac.compare_digest(codes.otp_hash(challenge.pk, given), challenge.code_hash)
        ):
            challenge.failed_attempts += 1
            challenge.save(update_fields=["failed_attempts"])
            left = tries - challenge.failed_attempts
            wrong = (
                ngettext(
                    "That code is not right. %(left)d try left.",
                    "That code is not right. %(left)d tries left.",
                    left,
                )
                % {"left": left}
                if left
                else _locked_message(
                    challenge.created_at + dt.timedelta(minutes=settings.GIFTCARD_OTP_LOCK_MINUTES)
                )
            )
        else:
            # Spent by the revoke it confirms, in this transaction: a refused revoke (the card is
            # held by an unpaid order) leaves the code to be used once the hold is gone.
            challenge.used_at = timezone.now()
            challenge.save(update_fields=["used_at"])
            revoked = _disable_for_good(card.pk, actor=actor, reason="Revoked by the buyer", by_buyer=True)
    if wrong:  # raised after the commit: the wrong try counts
        raise GiftCardError(wrong)
    return _refund_and_tell(revoked, actor=actor)


# --- The revoke itself -------------------------------------------------------------------------------


def revoke(card_id: int, *, actor: str, reason: str = "", by_buyer: bool = False) -> int:
    """Disable the card for good and refund its balance to the payment that bought it (if bought)."""
    with transaction.atomic():
        card = _disable_for_good(card_id, actor=actor, reason=reason, by_buyer=by_buyer)
    return _refund_and_tell(card, actor=actor)


def _disable_for_good(card_id: int, *, actor: str, reason: str, by_buyer: bool) -> GiftCard:
    """The revoke's ledger entry and the card disabled, under its lock (the caller's transaction)."""
    card = locked(card_id)
    blocker = revoke_blocker(card, by_buyer=by_buyer)
    if blocker:
        raise GiftCardError(blocker)
    amount = card.balance_cents
    if amount:
        post(card, Kind.REVOKE, -amount, actor=actor, reason=reason or "Revoked")
    now = timezone.now()
    card.revoked_at, card.enabled, card.disabled_at = now, False, card.disabled_at or now
    card.revoke_refund_cents = amount if card.order_id else 0
    card.save()
    audit.record(
        actor,
        GiftCardAction.REVOKE,
        card,
        {"balance_cents": amount},
        {"balance_cents": 0, "refund_cents": card.revoke_refund_cents},
        note=reason,
    )
    return card


def _refund_and_tell(card: GiftCard, *, actor: str) -> int:
    """After the commit, with no lock held: the refund through Stripe, and the buyer's email."""
    refunded = settle_revoke_refund(card.pk, actor=actor)
    buyer = card.customer.email if card.customer_id else (card.order.email if card.order_id else "")
    if buyer:
        try:
            emails.revoked_notice(card, buyer, card.revoke_refund_cents).send()
        except OSError:
            logger.warning("could not email the revoke of gift card %s", card.pk, exc_info=True)
    return refunded


def settle_revoke_refund(card_id: int, *, actor: str = "system") -> int:
    """Refund what a revoke owes through Stripe. Safe to repeat: what was refunded is counted first."""
    card = GiftCard.objects.get(pk=card_id)
    if not card.revoked_at or card.revoke_refunded_at or not card.revoke_refund_cents:
        return 0
    reason = _refund_reason(card)

    def done() -> int:
        return (
            PaymentRefund.objects.filter(payment__order_id=card.order_id, reason=reason).aggregate(
                s=Sum("amount_cents")
            )["s"]
            or 0
        )

    refunded = 0
    for payment in card_payments(card):
        left = card.revoke_refund_cents - done()
        if left <= 0:
            break
        refunded += payments.refund(
            payment.pk, min(left, payment.refundable_cents), reason=reason, actor=actor
        )
    if done() >= card.revoke_refund_cents:
        GiftCard.objects.filter(pk=card_id).update(revoke_refunded_at=timezone.now())
    return refunded


def retry_revoke_refunds() -> int:
    """The beat job: revokes whose refund did not go through (Stripe down) are tried again."""
    stale = timezone.now() - dt.timedelta(minutes=1)
    waiting = GiftCard.objects.filter(
        revoked_at__lt=stale, revoke_refunded_at__isnull=True, revoke_refund_cents__gt=0
    ).values_list("id", flat=True)
    settled = 0
    for card_id in waiting[:200]:
        try:
            settled += bool(settle_revoke_refund(card_id))
        except Exception:
            logger.warning("refund of revoked gift card %s failed; will retry", card_id, exc_info=True)
    return settled
