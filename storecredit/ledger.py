"""The ledger: the only code that changes a credit account's balance.

Every entry is written with the account's row locked (the caller holds the lock, inside its
transaction), the balance moves by exactly the entry's amount, and a balance that would go negative
is refused here and by the database. Grants and what is left of them move here too (see models).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from .models import GRANT_KINDS, CreditAccount, CreditEntry, Kind


class CreditError(ValueError):
    """A refused store credit action, with a message for whoever asked."""


def locked(user_id: int) -> CreditAccount:
    """The user's account with its row locked until the transaction ends (made when it has none)."""
    CreditAccount.objects.get_or_create(user_id=user_id)
    return CreditAccount.objects.select_for_update().get(user_id=user_id)


def locked_account(account_id: int) -> CreditAccount:
    """An account by its id, its row locked (expiry: a deleted customer's account has no user)."""
    return CreditAccount.objects.select_for_update().get(pk=account_id)


def expiry_from(moment: dt.datetime | None = None) -> dt.datetime:
    """When a grant made at `moment` (now) expires."""
    return (moment or timezone.now()) + dt.timedelta(days=settings.STORE_CREDIT_EXPIRY_DAYS)


def post(
    account: CreditAccount,
    kind: str,
    amount_cents: int,
    *,
    payment=None,
    reason: str = "",
    actor: str = "system",
    idempotency_key: str | None = None,
    expires_at: dt.datetime | None = None,
    draw: list[list[int]] | None = None,
    order_amount_cents: int | None = None,
    order_currency: str = "",
    rate=None,
) -> CreditEntry:
    """Write one entry on a locked account and move its balance by `amount_cents`.

    A grant (a positive referral reward, adjustment or refund) expires at `expires_at` (default:
    `STORE_CREDIT_EXPIRY_DAYS` from now). A spend draws on the grants that expire first, or on
    `draw` ([[grant id, cents], ...]: an expiry names its grant). A release (positive) puts back
    `draw`, what its reserve drew."""
    balance = account.balance_cents + amount_cents
    if balance < 0:
        raise CreditError("The store credit balance is too low")
    grant = amount_cents > 0 and kind in GRANT_KINDS
    drawn: list[list[int]] = []
    if amount_cents < 0:
        drawn = draw if draw is not None else _oldest_first(account, -amount_cents)
        for grant_id, cents in drawn:
            CreditEntry.objects.filter(pk=grant_id, account=account).update(
                remaining_cents=F("remaining_cents") - cents
            )
    elif kind == Kind.RELEASE and draw:
        for grant_id, cents in draw:
            CreditEntry.objects.filter(pk=grant_id, account=account).update(
                remaining_cents=F("remaining_cents") + cents
            )
        drawn = draw
    account.balance_cents = balance
    account.save(update_fields=["balance_cents", "updated_at"])
    return CreditEntry.objects.create(
        account=account,
        kind=kind,
        amount_cents=amount_cents,
        balance_after_cents=balance,
        expires_at=(expires_at or expiry_from()) if grant else None,
        remaining_cents=amount_cents if grant else 0,
        drawn=drawn,
        payment=payment,
        reason=reason[:500],
        actor=actor[:150],
        idempotency_key=idempotency_key,
        order_amount_cents=order_amount_cents,
        order_currency=order_currency,
        rate=rate,
    )


def _oldest_first(account: CreditAccount, cents: int) -> list[list[int]]:
    """Which grants `cents` of spending comes from: the ones that expire first."""
    out: list[list[int]] = []
    grants = account.entries.filter(remaining_cents__gt=0).order_by("expires_at", "id")
    for grant_id, remaining in grants.values_list("id", "remaining_cents"):
        take = min(cents, remaining)
        out.append([grant_id, take])
        cents -= take
        if cents == 0:
            return out
    raise CreditError("The store credit's grants do not cover this spend")  # the balance says they do


def ledger_sum(account: CreditAccount) -> int:
    return sum(account.entries.values_list("amount_cents", flat=True))
