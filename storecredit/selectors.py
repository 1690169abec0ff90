"""Reads of store credit: the account page's, and the figures the books need.

The books' figures are in the base currency (credit's own), over ranges half-open [start, end), and
each takes one aggregate query whatever the number of ranges (one FILTER per range), as
`checkout.books` does. Credit is a liability like gift cards: what accounts hold at a moment, with
the reserves of checkouts not paid yet counted as still owed (credit is spent when its payment is
captured); credit spent is revenue when it pays for a line; expired credit is breakage.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from django.db.models import Q, Sum

from payments.models import Payment

from .models import HELD_KINDS, CreditAccount, CreditEntry, Kind, Referral
from .services.spending import PROVIDER

Range = tuple[dt.datetime, dt.datetime]


def _in(name: str, span: Range) -> Q:
    return Q(**{f"{name}__gte": span[0], f"{name}__lt": span[1]})


def _liability_sums(moments: Mapping[str, dt.datetime]) -> dict:
    return {
        **{
            f"{key}_own": Sum("amount_cents", filter=Q(created_at__lt=at) & ~Q(kind__in=HELD_KINDS))
            for key, at in moments.items()
        },
        **{
            f"{key}_spent": Sum("amount_cents", filter=Q(kind=Kind.RESERVE, payment__captured_at__lt=at))
            for key, at in moments.items()
        },
    }


def _liability(sums: Mapping, key: str) -> int:
    return (sums[f"{key}_own"] or 0) + (sums[f"{key}_spent"] or 0)


def liability_at(moments: Mapping[str, dt.datetime]) -> dict[str, int]:
    """What the accounts owe at each moment: every entry before it but the holds, less the reserves
    whose payment was captured before it (spent then)."""
    sums = CreditEntry.objects.aggregate(**_liability_sums(moments))
    return {key: _liability(sums, key) for key in moments}


@dataclass(frozen=True)
class Issued:
    rewards_cents: int = 0  # referral rewards
    adjusted_cents: int = 0  # staff adjustments, up less down
    refunded_as_credit_cents: int = 0  # refunds of orders paid with credit, given back as credit

    @property
    def total_cents(self) -> int:
        return self.rewards_cents + self.adjusted_cents + self.refunded_as_credit_cents

    @property
    def granted_cents(self) -> int:
        """Credit given without a payment for it (rewards, adjustments): a refund back as credit
        was paid for (it is money of a sale)."""
        return self.rewards_cents + self.adjusted_cents


ISSUED_KINDS = (Kind.REFERRAL, Kind.ADJUST, Kind.REFUND)


def _issued_sums(ranges: Mapping[str, Range]) -> dict:
    return {
        f"{key}_{kind}": Sum("amount_cents", filter=_in("created_at", span) & Q(kind=kind))
        for key, span in ranges.items()
        for kind in ISSUED_KINDS
    }


def _issued(sums: Mapping, key: str) -> Issued:
    return Issued(*(sums[f"{key}_{kind}"] or 0 for kind in ISSUED_KINDS))


def issued(ranges: Mapping[str, Range]) -> dict[str, Issued]:
    """Credit added in each range, by where it came from."""
    sums = CreditEntry.objects.aggregate(**_issued_sums(ranges))
    return {key: _issued(sums, key) for key in ranges}


def spent(ranges: Mapping[str, Range]) -> dict[str, int]:
    """Credit that paid for orders in each range: its payments captured then (base cents)."""
    sums = Payment.objects.filter(provider=PROVIDER).aggregate(
        **{
            f"{key}": Sum("base_amount_cents", filter=_in("captured_at", span))
            for key, span in ranges.items()
        }
    )
    return {key: sums[key] or 0 for key in ranges}


def _breakage_sums(ranges: Mapping[str, Range]) -> dict:
    return {
        f"{key}_expired": Sum("amount_cents", filter=_in("created_at", span) & Q(kind=Kind.EXPIRE))
        for key, span in ranges.items()
    }


def breakage(ranges: Mapping[str, Range]) -> dict[str, int]:
    """Credit that expired in each range (positive cents)."""
    sums = CreditEntry.objects.aggregate(**_breakage_sums(ranges))
    return {key: -(sums[f"{key}_expired"] or 0) for key in ranges}


@dataclass(frozen=True)
class LedgerFigures:
    """The ledger's side of one range in the books (credit spent is the payments': `spent`)."""

    liability_start_cents: int = 0
    liability_end_cents: int = 0
    issued: Issued = Issued()
    breakage_cents: int = 0


def ledger_figures(ranges: Mapping[str, Range]) -> dict[str, LedgerFigures]:
    """`liability_at` each range's start and end, `issued` and `breakage`, in one query."""
    moments = {f"{key}_{edge}": span[i] for key, span in ranges.items() for i, edge in enumerate(("a", "z"))}
    sums = CreditEntry.objects.aggregate(
        **_liability_sums(moments), **_issued_sums(ranges), **_breakage_sums(ranges)
    )
    return {
        key: LedgerFigures(
            _liability(sums, f"{key}_a"),
            _liability(sums, f"{key}_z"),
            _issued(sums, key),
            -(sums[f"{key}_expired"] or 0),
        )
        for key in ranges
    }


# --- The account page ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Statement:
    balance_cents: int
    next_expiry: dt.datetime | None  # when the soonest credit left expires
    next_expiry_cents: int  # how much of it
    entries: list[CreditEntry]


def statement(user) -> Statement:
    """The customer's balance, when the first of it expires, and their history (newest first).
    Only entries that mean something to them: a hold and its capture show as one "spent"."""
    account = CreditAccount.objects.filter(user=user).first()
    if account is None:
        return Statement(0, None, 0, [])
    entries = list(
        account.entries.exclude(kind__in=[Kind.CAPTURE])
        .select_related("payment__order")
        .order_by("-created_at", "-id")
    )
    grants = sorted((e for e in entries if e.remaining_cents > 0), key=lambda e: (e.expires_at, e.pk))
    first = grants[0] if grants else None
    soonest = [g for g in grants if first and g.expires_at.date() == first.expires_at.date()]
    return Statement(
        account.balance_cents,
        first.expires_at if first else None,
        sum(g.remaining_cents for g in soonest),
        entries,
    )


def referrals_made(user) -> list[Referral]:
    """The customer's referrals, newest first, with the friend's order and the reward (one query)."""
    return list(
        Referral.objects.filter(referrer=user)
        .select_related("order", "friend", "reward")
        .order_by("-created_at", "-id")
    )
