"""Expiry: what is left of each grant past its `expires_at` leaves the account as an `expire` entry
(breakage for the books). One account at a time, under its row lock; safe to run again."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from ..ledger import locked, post
from ..models import CreditEntry, Kind


def expire_due(now: dt.datetime | None = None) -> int:
    """Expire every grant due by `now`; returns how many grants expired."""
    now = now or timezone.now()
    users = (
        CreditEntry.objects.filter(remaining_cents__gt=0, expires_at__lte=now)
        .values_list("account__user_id", flat=True)
        .distinct()
    )
    return sum(expire_account(user_id, now) for user_id in list(users))


def expire_account(user_id: int, now: dt.datetime) -> int:
    with transaction.atomic():
        account = locked(user_id)
        # Read again under the lock: a checkout may have drawn on a grant meanwhile.
        due = list(
            account.entries.filter(remaining_cents__gt=0, expires_at__lte=now).order_by("expires_at", "id")
        )
        for grant in due:
            post(
                account,
                Kind.EXPIRE,
                -grant.remaining_cents,
                draw=[[grant.pk, grant.remaining_cents]],
                reason=f"Credit of {grant.created_at:%Y-%m-%d} expired",
            )
    return len(due)
