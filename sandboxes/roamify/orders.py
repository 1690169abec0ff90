"""Orders (§2.6-§2.11): placed, instant and top-up orders with their eSIMs, profiles applied,
lookups, and the ledger of every accepted order. Every mutator validates everything first and only
then changes state, so a rejected call leaves no trace (no debit, no ledger entry, no order)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .balance import Balance
from .base import DAY
from .catalog import money, to_cents
from .config import Config
from .errors import PENDING_MESSAGE, failed, joi, not_found, unknown_error
from .esims import Esim
from .faults import Faults
from .usage import Usage

ORDER_STATUSES = ("PENDING", "COMPLETED", "ARCHIVED", "CANCELLED", "REFUNDED", "REQUIRE_ACTION")


@dataclass
class OrderItem:
    esim_id: str
    package_id: str
    package_name: str
    price_cents: int
    created_at: int
    updated_at: int

    def to_json(self) -> dict[str, Any]:
        return {
            "esimId": self.esim_id,
            "packageId": self.package_id,
            "package": self.package_name,
            "type": "esim",
            "price": money(self.price_cents),
            "currency": "USD",
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
        }


@dataclass
class Order:
    id: str
    reference_id: str
    kind: str  # order | instant | topup
    status: str
    total_cents: int
    created_at: int
    updated_at: int
    lines: list[tuple[str, int]]
    items: list[OrderItem] = field(default_factory=list)


class Orders(Usage, Balance, Faults):
    """Placing an order checks and debits the balance, creates its eSIMs and may be left pending
    by the fault knobs; a top-up adds to an eSIM in use."""

    def __init__(self, config: Config) -> None:
        super().__init__(config)
        self.orders: list[Order] = []
        self.orders_by_id: dict[str, Order] = {}

    # -- lookups ---------------------------------------------------------------
    def newest_order(self, reference_id: str, kinds: tuple[str, ...] = ()) -> Order | None:
        for o in reversed(self.orders):
            if o.reference_id == reference_id and (not kinds or o.kind in kinds):
                return o
        return None

    def get_order(self, order_id: str | None, reference_id: str | None) -> Order:
        o = self.orders_by_id.get(order_id) if order_id is not None else self.newest_order(reference_id or "")
        if o is None:
            raise not_found("Order", "orderId or referenceId")
        return o

    def list_orders(self, status: str | None, limit: int, reference_id: str | None) -> list[Order]:
        out = [
            o
            for o in reversed(self.orders)
            if (status is None or o.status == status)
            and (reference_id is None or o.reference_id == reference_id)
        ]
        return out[:limit]

    # -- placing orders ------------------------------------------------------------
    def create_order(
        self, kind: str, lines: list[tuple[str, int]], reference_id: str | None, start_date: str | None = None
    ) -> Order:
        """`kind` is "order" (eSIMs NEW until apply) or "instant" (eSIMs READY)."""
        self._check_reference(reference_id)
        pkgs = [self._orderable(pid) for pid, _ in lines]
        if (
            kind == "instant"
            and start_date is None
            and any((p.get("requirements") or {}).get("travelDate") for p in pkgs)
        ):
            raise joi('"startDate" is required')
        if start_date is not None:
            self._check_start_date(start_date)
        total = sum(to_cents(p["price"]) * q for p, (_, q) in zip(pkgs, lines, strict=True))
        self._check_funds(total)
        # -- nothing can fail below this line --
        self._debit(total)
        now = self.now()
        order = Order(
            id=self._uuid(),
            reference_id=reference_id or "",
            kind=kind,
            status="COMPLETED",
            total_cents=total,
            created_at=now,
            updated_at=now,
            lines=list(lines),
        )
        esims: list[Esim] = []
        for p, (_, qty) in zip(pkgs, lines, strict=True):
            for _ in range(qty):
                e = self._new_esim(order, p, start_date)
                esims.append(e)
                order.items.append(
                    OrderItem(e.id, p["packageId"], p["package"], to_cents(p["price"]), now, now)
                )
        if kind == "instant":
            if self.knobs.instant_pending_seconds > 0 and self._pending_drawn():
                order.status = "PENDING"  # slow path: finished lazily by tick()
                for e in esims:
                    e.pending_until = self.now_f() + self.knobs.instant_pending_seconds
            else:
                for e in esims:
                    self._make_ready(e)
        self.orders.append(order)
        self.orders_by_id[order.id] = order
        return order

    def create_topup(self, iccid: str, package_id: str, reference_id: str | None) -> Order:
        self._check_reference(reference_id)
        e = self.esim_by_iccid(iccid)
        p = self._orderable(package_id)
        g = self.catalog.group_of(package_id)
        if not e.with_top_up or g is None or g.id != e.group_id:
            raise failed(
                400,
                "Package is not available as a top-up for this eSIM, please make "
                "sure your have provided the correct packageId",
            )
        if e.status == "REVOKED":
            raise failed(400, "eSIM has been revoked, please make sure your have provided the correct iccid")
        if not self.fits_as_topup(e, package_id):  # data on an unlimited eSIM (knob unlimited_takes_data)
            raise failed(
                400,
                "Package is not available as a top-up for this eSIM, please make "
                "sure your have provided the correct packageId",
            )
        price = to_cents(p["price"])
        self._check_funds(price)
        self._debit(price)
        now = self.now()
        order = Order(
            id=self._uuid(),
            reference_id=reference_id or "",
            kind="topup",
            status="COMPLETED",
            total_cents=price,
            created_at=now,
            updated_at=now,
            lines=[(package_id, 1)],
            items=[OrderItem(e.id, package_id, p["package"], price, now, now)],
        )
        self.orders.append(order)
        self.orders_by_id[order.id] = order
        self._add_topup(e, p, now)
        e.history.append(self._history_row(e.id, p, now))
        return order

    def _check_reference(self, reference_id: str | None) -> None:
        if reference_id and self.knobs.unique_reference_ids and self.newest_order(reference_id) is not None:
            raise failed(
                409,
                "Order with the same referenceId already exists, please make sure "
                "your have provided the correct referenceId",
            )

    def _orderable(self, package_id: str) -> dict[str, Any]:
        if package_id.startswith("insurance-"):
            raise failed(
                400,
                "Insurance packages cannot be ordered as eSIMs, please make sure "
                "your have provided the correct packageId",
            )
        p = self.catalog.package(package_id)
        if p is None:
            if self.knobs.unknown_package_status == 500:
                raise unknown_error()
            raise failed(400, "Package not found, please make sure your have provided the correct packageId")
        return p

    def _check_start_date(self, start_date: str) -> None:
        if start_date < self.today():
            raise joi('"startDate" must be greater than or equal to "now"')

    def _new_esim(self, order: Order, p: dict[str, Any], start_date: str | None) -> Esim:
        now = order.created_at
        g = self.catalog.group_of(p["packageId"])
        assert g is not None
        signals = g.header["signals"]
        e = Esim(
            id=self._uuid(),
            order_id=order.id,
            reference_id=order.reference_id,
            package=p,
            group_id=g.id,
            location=signals[0]["name"] if signals else g.header["countryName"],
            with_top_up=p["packageId"] not in self.catalog.no_topup,
            created_at=now,
            updated_at=now,
            expired_at=now + 365 * DAY,
            plan_days=p["day"],
            allowed_mb=p["dataAmount"],
            is_unlimited=bool(p["isUnlimited"]),
            start_date=start_date,
        )
        e.history.append(self._history_row(e.id, p, now))
        self.esims[e.id] = e
        return e

    def _history_row(self, esim_id: str, p: dict[str, Any], now: int) -> dict[str, Any]:
        return {
            "esimId": esim_id,
            "packageId": p["packageId"],
            "package": p["package"],
            "type": "esim",
            "price": p["price"],
            "currency": "USD",
            "createdAt": now,
            "updatedAt": now,
        }

    # -- apply ---------------------------------------------------------------------
    def apply(self, esim_id: str | None, reference_id: str | None, start_date: str | None) -> list[Esim]:
        if reference_id is not None:
            order = self.newest_order(reference_id, ("order", "instant"))
            if order is None:
                raise not_found("Order", "referenceId")
            targets = [self.esims[i.esim_id] for i in order.items]
        else:
            targets = [self.esim_by_id(esim_id or "")]
        fresh = [e for e in targets if e.status == "NEW"]
        needs_date = [
            e for e in fresh if (e.package.get("requirements") or {}).get("travelDate") and not e.start_date
        ]
        if needs_date and start_date is None:
            raise joi('"startDate" is required')
        if start_date is not None and needs_date:
            self._check_start_date(start_date)
        now_f = self.now_f()
        pending = False
        for e in fresh:
            if e.pending_until is None and self.knobs.apply_pending_seconds > 0:
                e.pending_until = now_f + self.knobs.apply_pending_seconds
            if e.pending_until is not None and now_f < e.pending_until:
                pending = True
        if pending:
            raise failed(500, PENDING_MESSAGE)
        for e in fresh:
            if e in needs_date:
                e.start_date = start_date
            self._make_ready(e)
        return targets

    # -- reads shaped for the API ------------------------------------------------------
    def order_json(self, o: Order, with_esims: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": o.id,
            "referenceId": o.reference_id,
            "orderType": "api",
            "status": o.status,
            "total": money(o.total_cents),
            "currency": "USD",
            "createdAt": o.created_at,
            "updatedAt": o.updated_at,
        }
        if with_esims:
            out["esims"] = [self.esim_json(self.esims[i.esim_id]) for i in o.items]
        else:
            out["items"] = [i.to_json() for i in o.items]
        return out

    def ledger(self) -> list[dict[str, Any]]:
        return [
            {
                "id": o.id,
                "referenceId": o.reference_id,
                "kind": o.kind,
                "items": [{"packageId": pid, "quantity": q} for pid, q in o.lines],
                "total": money(o.total_cents),
                "status": o.status,
                "createdAt": o.created_at,
            }
            for o in self.orders
        ]
