"""Staff adjusting a customer's store credit by hand (admin), with the reason, in the audit log."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from core import audit

from ..ledger import CreditError, locked, post
from ..models import CreditEntry, Kind


def adjust(
    user, amount_cents: int, *, reason: str, actor, expires_at: dt.datetime | None = None
) -> CreditEntry:
    """Add credit (a grant, expiring as any) or take it away (the oldest grants first), with the
    reason; never below zero. `actor`: the staff member (or their name)."""
    reason = reason.strip()
    if not reason:
        raise CreditError("A reason is required")
    if amount_cents == 0:
        raise CreditError("An adjustment must change the balance")
    with transaction.atomic():
        account = locked(user.pk)
        before = account.balance_cents
        entry = post(
            account,
            Kind.ADJUST,
            amount_cents,
            reason=reason,
            actor=audit.actor_name(actor),
            expires_at=expires_at,
        )
        audit.record(
            actor,
            "storecredit.adjust",
            account,
            {"balance_cents": before},
            {"balance_cents": account.balance_cents},
            note=reason,
        )
    return entry
