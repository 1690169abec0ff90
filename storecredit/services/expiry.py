"""Expiry: what is left of each grant past its `expires_at` leaves as an `expire` entry (breakage
for the books). One account at a time, under its row lock; safe to run again."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from ..ledger import locked_account, post
from ..models import CreditAccount, CreditEntry, Kind


def expire_due(now: dt.datetime | None = None) -> int:
    """Expire every grant due by `now`; returns how many grants expired."""
    now = now or timezone.now()
    accounts = (
        CreditEntry.objects.filter(remaining_cents__gt=0, expires_at__lte=now)
        .values_list("account_id", flat=True)
        .distinct()
    )
    return sum(expire_account(account_id, now) for account_id in list(accounts))


def expire_account(account_id: int, now: dt.datetime, *, why: str = "") -> int:
    """Expire the account's grants due by `now` (`why`: the entries' reason instead of their date)."""
    with transaction.atomic():
        account = locked_account(account_id)
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
                reason=why or f"Credit of {grant.created_at:%Y-%m-%d} expired",
            )
    return len(due)


def close_account(user) -> int:
    """The customer deletes their account: what is left of their credit is forfeited (expired now,
    breakage for the books); the ledger stays, detached from the user. Credit held for a checkout
    still open goes back to its grants if released, and expires on their own day."""
    account = CreditAccount.objects.filter(user=user).first()
    if account is None:
        return 0
    return expire_account(account.pk, dt.datetime(9999, 1, 1, tzinfo=dt.UTC), why="Account deleted")
