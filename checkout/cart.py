"""The cart, kept in the session: package ids and quantities, priced on every read.

Prices are never taken from the browser: each view of the cart prices its
lines from the catalog, and an order freezes them when it is placed.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase

from catalog.models import Package
from esims.models import Esim

SESSION_KEY = "cart"
TOKEN_KEY = "cart_token"
TOPUP_PREFIX = "topup:"  # a top-up line's key: topup:<eSIM id>:<package id>


class CartError(ValueError):
    """Bad cart input, with a message for the customer."""


@dataclass(frozen=True)
class CartLine:
    package: Package
    quantity: int
    esim: Esim | None = None  # set for a top-up of one of the customer's eSIMs

    @property
    def total_cents(self) -> int:
        return self.package.retail_cents * self.quantity

    @property
    def key(self) -> str:
        """What the cart's forms name this line by."""
        return _topup_key(self.esim.pk, self.package.package_id) if self.esim else self.package.package_id


def _topup_key(esim_id: int, package_id: str) -> str:
    return f"{TOPUP_PREFIX}{esim_id}:{package_id}"


def _parse_topup_key(key: str) -> tuple[int, str] | None:
    if not key.startswith(TOPUP_PREFIX):
        return None
    esim_id, _, package_id = key[len(TOPUP_PREFIX):].partition(":")
    return (int(esim_id), package_id) if esim_id.isdigit() and package_id else None


@dataclass(frozen=True)
class PricedCart:
    lines: list[CartLine]
    removed: list[str]  # packages no longer sold, dropped from the cart

    @property
    def total_cents(self) -> int:
        return sum(line.total_cents for line in self.lines)

    @property
    def count(self) -> int:
        return sum(line.quantity for line in self.lines)

    def __bool__(self) -> bool:
        return bool(self.lines)


def _raw(session: SessionBase) -> dict[str, int]:
    raw = session.get(SESSION_KEY)
    return dict(raw) if isinstance(raw, dict) else {}


def _save(session: SessionBase, lines: dict[str, int]) -> None:
    session[SESSION_KEY] = lines
    if TOKEN_KEY not in session:
        session[TOKEN_KEY] = secrets.token_urlsafe(18)
    session.modified = True


def token(session: SessionBase) -> str | None:
    """This cart's own token, new with each cart: one order per cart, however often it is submitted."""
    return session.get(TOKEN_KEY)


def parse_quantity(value: object) -> int:
    try:
        quantity = int(str(value).strip())
    except (TypeError, ValueError):
        raise CartError("Please choose a quantity between 1 and "
                        f"{settings.CART_MAX_QUANTITY}.") from None
    if not 1 <= quantity <= settings.CART_MAX_QUANTITY:
        raise CartError(f"Please choose a quantity between 1 and {settings.CART_MAX_QUANTITY}.")
    return quantity


def add(session: SessionBase, package_id: str, quantity: object = 1) -> Package:
    qty = parse_quantity(quantity)
    package = Package.objects.active().filter(package_id=str(package_id)[:160]).first()
    if package is None:
        raise CartError("Sorry, that plan is not available any more.")
    lines = _raw(session)
    new_qty = lines.get(package.package_id, 0) + qty
    if new_qty > settings.CART_MAX_QUANTITY:
        raise CartError(f"You can buy at most {settings.CART_MAX_QUANTITY} of one plan per order.")
    if package.package_id not in lines and len(lines) >= settings.CART_MAX_LINES:
        raise CartError(f"Your cart can hold {settings.CART_MAX_LINES} different plans at most.")
    lines[package.package_id] = new_qty
    _save(session, lines)
    return package


def add_topup(session: SessionBase, esim: Esim, package: Package) -> None:
    """A top-up of `esim` (one per package and eSIM). The caller has checked that the eSIM is the
    customer's and that upstream accepts the package for it; placing the order checks again."""
    lines = _raw(session)
    key = _topup_key(esim.pk, package.package_id)
    if key in lines:
        return
    if len(lines) >= settings.CART_MAX_LINES:
        raise CartError(f"Your cart can hold {settings.CART_MAX_LINES} different plans at most.")
    lines[key] = 1
    _save(session, lines)


def set_quantity(session: SessionBase, package_id: str, quantity: object) -> None:
    lines = _raw(session)
    if package_id not in lines:
        raise CartError("That plan is not in your cart.")
    if _parse_topup_key(package_id) and parse_quantity(quantity) != 1:
        raise CartError("A top-up is bought one at a time for its eSIM.")
    lines[package_id] = parse_quantity(quantity)
    _save(session, lines)


def remove(session: SessionBase, package_id: str) -> None:
    lines = _raw(session)
    lines.pop(package_id, None)
    _save(session, lines)


def clear(session: SessionBase) -> None:
    session.pop(SESSION_KEY, None)
    session.pop(TOKEN_KEY, None)


def count(session: SessionBase) -> int:
    return sum(q for q in _raw(session).values() if isinstance(q, int))


def priced(session: SessionBase) -> PricedCart:
    raw = _raw(session)
    if not raw:
        return PricedCart([], [])
    topups = {key: parsed for key in raw if (parsed := _parse_topup_key(key))}
    wanted = [key for key in raw if key not in topups] + [pid for _, pid in topups.values()]
    packages = {
        p.package_id: p
        for p in Package.objects.active().filter(package_id__in=wanted).select_related("destination")
    }
    esims = {e.pk: e for e in Esim.objects.filter(pk__in=[i for i, _ in topups.values()])} if topups else {}
    lines, removed = [], []
    for package_id, qty in raw.items():
        esim_id, pid = topups.get(package_id, (None, package_id))
        esim = esims.get(esim_id) if esim_id else None
        if pid in packages and isinstance(qty, int) and qty > 0 and (esim_id is None or esim):
            lines.append(CartLine(packages[pid], qty, esim))
        else:
            removed.append(package_id)
    if removed:
        _save(session, {k: v for k, v in raw.items() if k not in removed})
    return PricedCart(lines, removed)
