"""Discount codes: found by their code (guesses limited), a use reserved with the order, released
or counted with it, and each customer's referral code."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from . import ratelimit
from .models import DiscountCode, DiscountUse, Kind, normalize
from .rules import Buyer, Refused

# The cart's code, kept in the session (the cart and the share link both write it).
SESSION_KEY = "cart_discount_code"
# No 0/O, 1/I/L: a referral code is read out and typed.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def unknown() -> Refused:
    return Refused(_("That code isn't valid. Please check it and try again."), lasting=True)


def too_many_tries() -> Refused:
    return Refused(_("Too many wrong codes. Please wait an hour before trying another."), lasting=True)


def _with_scope():
    return DiscountCode.objects.select_related("referrer").prefetch_related("destinations", "packages")


def find(code: str, *, ip: str, user=None) -> DiscountCode:
    """The code as typed into the cart, or Refused. An unknown or switched-off code counts towards
    the guess limit; once blocked, nothing is looked up."""
    if ratelimit.blocked(ip, user):
        raise too_many_tries()
    normalized = normalize(code)
    found = _with_scope().filter(code=normalized).first() if normalized else None
    if found is None or not found.active:
        ratelimit.record_failure(ip, user)
        raise unknown()
    return found


def by_code(code: str) -> DiscountCode | None:
    """The cart's code (found once already: no guess counted), with what it is scoped to."""
    normalized = normalize(code)
    return _with_scope().filter(code=normalized).first() if normalized else None


def buyer(code: DiscountCode, email: str, user=None, *, has_paid_order: bool = False) -> Buyer:
    """The buyer as the code's rules see them: their uses of it so far (by email or account)."""
    email = (email or "").strip().lower()
    user_id = user.pk if user is not None and getattr(user, "is_authenticated", False) else None
    who = Q(email=email) if email else Q()
    if user_id is not None:
        who = who | Q(customer_id=user_id) if email else Q(customer_id=user_id)
    uses = 0
    if email or user_id is not None:
        live = code.use_records.exclude(status=DiscountUse.Status.RELEASED)
        uses = live.filter(who).count()
    return Buyer(email=email, user_id=user_id, uses=uses, has_paid_order=has_paid_order)


def locked(code: str) -> DiscountCode:
    """The code under its row lock (in the caller's transaction), with its scope; Refused if gone."""
    normalized = normalize(code)
    found = DiscountCode.objects.select_for_update().filter(code=normalized).first() if normalized else None
    if found is None:
        raise unknown()
    return _with_scope().get(pk=found.pk)


def reserve(code: DiscountCode, order, *, amount_cents: int, base_amount_cents: int) -> DiscountUse:
    """One use of the locked `code` for `order` (its rules checked under the same lock)."""
    updated = (
        DiscountCode.objects.filter(pk=code.pk)
        .filter(Q(max_uses__isnull=True) | Q(uses__lt=F("max_uses")))
        .update(uses=F("uses") + 1)
    )
    if not updated:  # the lock makes this the rule's own check again: never over the limit
        raise Refused(_("This code has no uses left."), lasting=True)
    return DiscountUse.objects.create(
        code=code,
        order=order,
        email=order.email.lower(),
        customer=order.customer,
        amount_cents=amount_cents,
        currency=order.currency,
        base_amount_cents=base_amount_cents,
    )


def release(order_id: int) -> bool:
    """The order was cancelled unpaid: its use no longer counts. Once; False when there was none."""
    with transaction.atomic():
        use = (
            DiscountUse.objects.select_for_update()
            .filter(order_id=order_id, status=DiscountUse.Status.RESERVED)
            .first()
        )
        if use is None:
            return False
        DiscountCode.objects.filter(pk=use.code_id, uses__gt=0).update(uses=F("uses") - 1)
        use.status, use.released_at = DiscountUse.Status.RELEASED, timezone.now()
        use.save(update_fields=["status", "released_at"])
    return True


def count(order_id: int) -> bool:
    """The order was paid: its use is counted for good. A use released when the order was cancelled
    and money came after all (staff took it) counts again, past the limit if need be: the order
    stands at the price it was placed at. False when there was nothing to count."""
    now = timezone.now()
    with transaction.atomic():
        use = DiscountUse.objects.select_for_update().filter(order_id=order_id).first()
        if use is None or use.status == DiscountUse.Status.COUNTED:
            return False
        if use.status == DiscountUse.Status.RELEASED:
            DiscountCode.objects.filter(pk=use.code_id).update(uses=F("uses") + 1)
        use.status, use.counted_at = DiscountUse.Status.COUNTED, now
        use.save(update_fields=["status", "counted_at"])
    return True


def share_code_for(user) -> DiscountCode:
    """The customer's referral code, made the first time it is asked for (once, whoever races):
    a first order's percent off for a friend, once per customer, no total limit."""
    existing = DiscountCode.objects.filter(kind=Kind.REFERRAL, referrer=user).first()
    if existing is not None:
        return existing
    for _attempt in range(5):
        code = "".join(secrets.choice(ALPHABET) for _ in range(8))
        try:
            with transaction.atomic():
                return DiscountCode.objects.create(
                    code=code,
                    kind=Kind.REFERRAL,
                    description=f"Referral code of {user.email}",
                    percent_off=settings.REFERRAL_FRIEND_DISCOUNT_PERCENT,
                    first_order_only=True,
                    max_uses_per_customer=1,
                    referrer=user,
                )
        except IntegrityError:
            existing = DiscountCode.objects.filter(kind=Kind.REFERRAL, referrer=user).first()
            if existing is not None:  # another request made it first
                return existing
            # the random code was taken: try another
    raise RuntimeError("could not make a referral code")
