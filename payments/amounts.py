"""Amounts that follow another amount in proportion, without creating or losing a minor unit.

A payment of 1,280 yen is worth 800 cents in the base currency; its refunds, however they are split,
must add up to exactly those 800 cents when the whole payment is refunded. Each slice of the amount
is given the difference of two rounded cumulative figures (a telescoping sum), so the slices of any
split add up to the rounded whole, exactly.
"""

from __future__ import annotations


def scaled(done: int, whole: int, other_whole: int) -> int:
    """`other_whole` × done / whole, rounded half up (in integers: no float ever)."""
    if whole <= 0:
        return 0
    return (2 * other_whole * done + whole) // (2 * whole)


def prorate(before: int, amount: int, whole: int, other_whole: int) -> int:
    """The share of `other_whole` for the slice [before, before + amount) of `whole`."""
    return scaled(before + amount, whole, other_whole) - scaled(before, whole, other_whole)
