"""The sandbox's mutable world: balance, clock, orders, eSIMs, refunds, faults, knobs.

Pure Python with no I/O so it can be unit tested directly. Every public mutator
validates everything first and only then changes state, so a rejected call leaves
no trace (no debit, no ledger entry, no order). Time-driven transitions (pending
profiles, slow instant orders, expiry) are evaluated lazily by `tick()`.
"""

from __future__ import annotations

import random
import string
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote

from . import catalog as catalog_mod
from .catalog import MAX_SAFE_INTEGER, Catalog, money, to_cents
from .errors import PENDING_MESSAGE, ApiError, ControlError, failed, joi, not_found, unknown_error

DEFAULT_TOKEN = "sandbox-roamify-token"
DEFAULT_SMDP = "smdp.sandbox.roamify.invalid"
DAY = 86_400
ORDER_STATUSES = ("PENDING", "COMPLETED", "ARCHIVED", "CANCELLED", "REFUNDED", "REQUIRE_ACTION")
ESIM_STATUSES = ("NEW", "READY", "INSTALLED", "REVOKED", "EXPIRED", "UNKNOWN")
USAGE_THRESHOLDS = (25, 50, 75, 90, 100)
ESIM_ACTIONS = ("install", "activate", "consume", "expire", "revoke")
# §2.20 refund requests: statuses documented; the reason list is [ASSUMPTION] until read on the docs.
REFUND_STATUSES = ("PENDING", "PROCESSING", "REFUNDED", "REJECTED", "CANCELLED")
REFUND_OPEN = ("PENDING", "PROCESSING")
REFUND_REASONS = (
    "NOT_INSTALLED",
    "CUSTOMER_REQUEST",
    "SERVICE_ISSUE",
    "WRONG_PACKAGE",
    "DUPLICATE_ORDER",
    "OTHER",
)
REFUND_ACTIONS = ("process", "approve", "reject")


@dataclass
class Config:
    """Start-up configuration (CLI); `reset` returns the world to exactly this."""

    seed: int = 1
    token: str = DEFAULT_TOKEN
    host: str = "127.0.0.1"
    port: int = 8100
    public_url: str | None = None
    latency: str = "zero"
    page_mode: str = "group"
    unique_reference_ids: bool = False
    usage_unit: str = "MB"
    balance: float = 100_000.0
    webhook_url: str | None = None
    webhook_secret: str = ""
    allow_bare_token: bool = False
    unknown_package_status: int = 500
    smdp_address: str = DEFAULT_SMDP
    low_balance_threshold: float = 100.0

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")


@dataclass
class Knobs:
    """Behaviour switches the control API may change at run time."""

    apply_pending_seconds: float = 0.0
    instant_pending_seconds: float = 0.0
    latency: str = "zero"
    page_mode: str = "group"
    usage_unit: str = "MB"
    unique_reference_ids: bool = False
    unknown_package_status: int = 500
    allow_bare_token: bool = False
    low_balance_threshold: float = 100.0
    # Share of instant orders that come back pending when instant_pending_seconds > 0
    # (1: all of them, the default; less draws from the seeded fault RNG).
    instant_pending_rate: float = 1.0

    CHOICES = {
        "latency": ("zero", "realistic"),
        "page_mode": ("group", "package"),
        "usage_unit": ("MB", "KB"),
        "unknown_package_status": (500, 400),
    }

    @classmethod
    def from_config(cls, c: Config) -> Knobs:
        return cls(
            latency=c.latency,
            page_mode=c.page_mode,
            usage_unit=c.usage_unit,
            unique_reference_ids=c.unique_reference_ids,
            unknown_package_status=c.unknown_package_status,
            allow_bare_token=c.allow_bare_token,
            low_balance_threshold=c.low_balance_threshold,
        )

    def update(self, values: dict[str, Any]) -> None:
        known = {f.name: f for f in fields(self)}
        staged: dict[str, Any] = {}
        for key, value in values.items():
            if key not in known:
                raise ControlError(400, f"unknown knob {key!r}; known: {sorted(known)}")
            current = getattr(self, key)
            if isinstance(current, bool):
                ok = isinstance(value, bool)
            elif isinstance(current, float):
                ok = isinstance(value, int | float) and not isinstance(value, bool) and value >= 0
                value = float(value) if ok else value
            else:
                ok = value in self.CHOICES.get(key, ())
            if ok and key.endswith("_rate"):
                ok = value <= 1
            if not ok:
                raise ControlError(400, f"bad value for {key}: {value!r}")
            staged[key] = value
        for key, value in staged.items():
            setattr(self, key, value)

    def to_json(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass
class Fault:
    method: str
    path: str
    remaining: int | None  # None: until cleared
    status: int | None = None
    body: Any = None
    hang_seconds: float = 0.0
    then: str = "create"  # with hang_seconds: run the real handler first ("create") or not
    latency_ms: float | None = None
    probability: float | None = None  # None: every matching call; else that share of them (seeded)
    name: str | None = None  # what the injected-faults counter calls it

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        if self.status is not None:
            what = f"status {self.status}"
        else:
            what = "hang" if self.hang_seconds else "latency"
        return f"{what} {self.method} {self.path}"

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "probability": self.probability,
            "method": self.method,
            "path": self.path,
            "count": self.remaining,
            "status": self.status,
            "body": self.body,
            "hang_seconds": self.hang_seconds,
            "then": self.then,
            "latency_ms": self.latency_ms,
        }


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


@dataclass
class Esim:
    id: str
    order_id: str
    reference_id: str
    package: dict[str, Any]  # snapshot at order time: later catalog edits don't touch it
    group_id: str
    location: str
    with_top_up: bool
    created_at: int
    updated_at: int
    expired_at: int
    plan_days: int
    allowed_mb: int
    is_unlimited: bool
    status: str = "NEW"
    iccid: str = ""
    activation_code: str = ""
    eid: str = ""
    pending_until: float | None = None
    start_date: str | None = None
    installed: bool = False
    started_at: int = 0
    used_kb: int = 0
    daily: dict[str, int] = field(default_factory=dict)
    thresholds_sent: set[int] = field(default_factory=set)
    events: list[dict[str, Any]] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    link: dict[str, Any] | None = None

    @property
    def allowed_kb(self) -> int:
        return self.allowed_mb * 1024


@dataclass
class RefundRequest:
    id: str
    esim_id: str
    iccid: str
    order_id: str
    reason: str
    notes: str
    amount_cents: int
    status: str
    created_at: int
    updated_at: int
    rejection_reason: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "refundId": self.id,
            "status": self.status,
            "productType": "esim",
            "esimId": self.esim_id,
            "iccid": self.iccid,
            "orderId": self.order_id,
            "reason": self.reason,
            "notes": self.notes,
            "amount": money(self.amount_cents),
            "currency": "USD",
            "rejectionReason": self.rejection_reason or None,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
        }


# (url, secret, envelope) -> None; the HTTP layer queues the signed POST.
EmitFn = Callable[[str, str, dict[str, Any]], None]


def luhn_digit(digits: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:  # rightmost payload digit gets doubled once the check digit is appended
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return str((10 - total % 10) % 10)


def luhn_ok(number: str) -> bool:
    return number.isdigit() and luhn_digit(number[:-1]) == number[-1]


class World:
    """All mutable sandbox state. Replace the whole object to reset."""

    def __init__(self, config: Config, emit: EmitFn | None = None) -> None:
        self.config = config
        self.base_url = config.base_url
        self.catalog: Catalog = catalog_mod.build(config.seed, self.base_url).copy()
        self.knobs = Knobs.from_config(config)
        self.token = config.token
        self.webhook_url = config.webhook_url
        self.webhook_secret = config.webhook_secret
        self.emit_fn = emit
        self.clock_offset = 0.0
        self.balance_cents = to_cents(config.balance)
        # String seeds hash via sha512, so ids are stable across processes.
        self.rng = random.Random(f"roamify-state-{config.seed}")
        self.orders: list[Order] = []
        self.orders_by_id: dict[str, Order] = {}
        self.esims: dict[str, Esim] = {}
        self.esims_by_iccid: dict[str, Esim] = {}
        self.links: dict[str, str] = {}  # link key -> esimId
        self.refunds: dict[str, RefundRequest] = {}  # refundId -> request, oldest first
        self.faults: list[Fault] = []
        # Probabilistic faults and pending profiles draw from their own seeded RNG, so they
        # neither shift the ids above nor change from run to run.
        self.fault_rng = random.Random(f"roamify-faults-{config.seed}")
        self.injected: dict[str, int] = {}  # fault label (or "pending") -> times injected
        self.sent: list[dict[str, Any]] = []  # webhook envelopes, for unit tests

    # -- clock and ids -------------------------------------------------------
    def now_f(self) -> float:
        return time.time() + self.clock_offset

    def now(self) -> int:
        return int(self.now_f())

    def today(self) -> str:
        return datetime.fromtimestamp(self.now(), UTC).strftime("%Y-%m-%d")

    def advance(self, seconds: float) -> int:
        self.clock_offset += seconds
        self.tick()
        return self.now()

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _digits(self, n: int) -> str:
        return "".join(self.rng.choice(string.digits) for _ in range(n))

    def _new_iccid(self) -> str:
        while True:
            body = "8901" + self._digits(14)
            iccid = body + luhn_digit(body)
            if iccid not in self.esims_by_iccid:
                return iccid

    def _activation_code(self) -> str:
        alphabet = string.ascii_uppercase + string.digits
        return "-".join("".join(self.rng.choice(alphabet) for _ in range(4)) for _ in range(5))

    # -- webhooks ------------------------------------------------------------
    def _emit(
        self, category: str, event_type: str, data: dict[str, Any], event_id: str | None = None
    ) -> None:
        envelope = {"event_category": category, "event_type": event_type, "data": data}
        if event_id:
            envelope = {"event_id": event_id, **envelope}
        self.sent.append(envelope)
        if self.webhook_url and self.emit_fn is not None:
            self.emit_fn(self.webhook_url, self.webhook_secret, envelope)

    def _status_data(self, e: Esim, status: str) -> dict[str, Any]:
        return {
            "timestamp": self.now(),
            "iccid": e.iccid,
            "esim_id": e.id,
            "reference_id": e.reference_id,
            "start": e.started_at,
            "end": e.expired_at,
            "status": status,
        }

    def _emit_status(self, e: Esim, status: str) -> None:
        self._emit("esim", "status", self._status_data(e, status))

    def _emit_usage(self, e: Esim) -> None:
        p = e.package
        data = self._status_data(e, e.status)
        data.update(
            {
                "package_id": p["packageId"],
                "package_name": p["package"],
                "data_units": "MB",
                "voice_units": "minutes",
                "sms_units": "sms",
                "usage_data": {
                    "isUnlimited": e.is_unlimited,
                    "allowed_data": e.allowed_mb,
                    "remaining_data": _num(e.allowed_mb - e.used_kb / 1024),
                    "allowed_sms": 0,
                    "remaining_sms": 0,
                    "allowed_voice": 0,
                    "remaining_voice": 0,
                },
                "usage_list": [
                    {"date": d, "data_used": _num(kb / 1024), "location": e.location}
                    for d, kb in sorted(e.daily.items())
                ],
            }
        )
        self._emit("esim", "usage", data)

    def _partner_data(self) -> dict[str, Any]:
        threshold = to_cents(self.knobs.low_balance_threshold)
        start = max(to_cents(self.config.balance), 1)
        return {
            "timestamp": self.now(),
            "balance": money(self.balance_cents),
            "threshold": money(threshold),
            "threshold_percentage": round(threshold * 100 / start, 2),
            "currency": "USD",
        }

    # -- balance -------------------------------------------------------------
    def _check_funds(self, cents: int) -> None:
        if cents > self.balance_cents:
            self._emit("partner", "insufficient_balance", self._partner_data())
            raise failed(409, "Insufficient partner balance, please recharge it first before placing order")

    def _debit(self, cents: int) -> None:
        before = self.balance_cents
        self.balance_cents -= cents
        threshold = to_cents(self.knobs.low_balance_threshold)
        if before >= threshold > self.balance_cents:
            self._emit("partner", "low_balance", self._partner_data())

    def set_balance(self, amount: float) -> None:
        cents = to_cents(amount)
        raised = cents > self.balance_cents
        self.balance_cents = cents
        if raised:
            self._emit("partner", "top_up", self._partner_data())

    # -- time-driven transitions -----------------------------------------------
    def tick(self) -> None:
        now_f = self.now_f()
        now = int(now_f)
        for e in self.esims.values():
            if e.status == "NEW" and e.pending_until is not None and now_f >= e.pending_until:
                self._make_ready(e)
            elif e.status in ("READY", "INSTALLED") and e.expired_at <= now:
                self._set_expired(e)
        for o in self.orders:
            if o.status == "PENDING" and all(self.esims[i.esim_id].status != "NEW" for i in o.items):
                o.status = "COMPLETED"
                o.updated_at = now
                for i in o.items:
                    i.updated_at = now

    # -- lookups ---------------------------------------------------------------
    def esim_by_id(self, esim_id: str) -> Esim:
        e = self.esims.get(esim_id)
        if e is None:
            raise not_found("eSIM", "esimId")
        return e

    def esim_by_iccid(self, iccid: str) -> Esim:
        e = self.esims_by_iccid.get(iccid)
        if e is None:
            raise not_found("eSIM", "iccid")
        return e

    def find_esim(self, iccid: str | None, esim_id: str | None) -> Esim:
        e = self.esims_by_iccid.get(iccid or "") if iccid else self.esims.get(esim_id or "")
        if e is None:
            raise not_found("eSIM", "iccid or esimId")
        return e

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

    def list_esims(self, status: str | None, limit: int, reference_id: str | None) -> list[Esim]:
        out = [
            e
            for e in reversed(self.esims.values())
            if (status is None or e.status == status)
            and (reference_id is None or e.reference_id == reference_id)
        ]
        return out[:limit]

    # -- orders ----------------------------------------------------------------
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

    def _make_ready(self, e: Esim) -> None:
        now = self.now()
        e.status = "READY"
        e.iccid = self._new_iccid()
        e.activation_code = self._activation_code()
        e.pending_until = None
        e.updated_at = now
        self.esims_by_iccid[e.iccid] = e
        self._event(e, "NEW")

    def _event(self, e: Esim, status: str) -> None:
        ts = self.now()
        e.events.append(
            {
                "iccid": e.iccid,
                "eid": e.eid,
                "status": status,
                "timeStamp": ts,
                "dateTime": datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S"),
            }
        )

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

    def _check_start_date(self, start_date: str) -> None:
        if start_date < self.today():
            raise joi('"startDate" must be greater than or equal to "now"')

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
        # Allowance and validity grow; an eSIM expired by time or data comes back.
        if p["isUnlimited"]:
            e.is_unlimited, e.allowed_mb = True, MAX_SAFE_INTEGER
        elif not e.is_unlimited:
            e.allowed_mb += p["dataAmount"]
        if e.started_at:
            e.expired_at = max(e.expired_at, now) + p["day"] * DAY
        else:
            e.plan_days += p["day"]
        if e.status == "EXPIRED":
            e.status = "INSTALLED" if e.installed else "READY"
            if not e.started_at:
                e.expired_at = now + 365 * DAY
        pct = self._used_pct(e)
        e.thresholds_sent = {t for t in e.thresholds_sent if t <= pct}
        e.updated_at = now
        e.history.append(self._history_row(e.id, p, now))
        return order

    # -- apply -------------------------------------------------------------------
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

    # -- eSIM lifecycle (control API) ----------------------------------------------
    def esim_action(self, key: str, action: str, body: dict[str, Any]) -> Esim:
        e = self.esims.get(key) or self.esims_by_iccid.get(key)
        if e is None:
            raise ControlError(404, f"eSIM {key} not found")
        if action not in ESIM_ACTIONS:
            raise ControlError(404, f"unknown action {action!r}; one of {list(ESIM_ACTIONS)}")
        self.tick()
        getattr(self, f"_do_{action}")(e, body)
        return e

    def _require(self, e: Esim, *statuses: str) -> None:
        if e.status not in statuses:
            raise ControlError(409, f"eSIM {e.id} is {e.status}; needs {' or '.join(statuses)}")

    def _do_install(self, e: Esim, body: dict[str, Any]) -> None:
        self._require(e, "READY")
        e.status, e.installed, e.updated_at = "INSTALLED", True, self.now()
        e.eid = "89049032" + self._digits(24)
        self._event(e, "DOWNLOADED")
        self._event(e, "INSTALLED")
        self._emit_status(e, "INSTALLED")

    def _do_activate(self, e: Esim, body: dict[str, Any]) -> None:
        if e.status == "READY":
            self._do_install(e, body)
        self._require(e, "INSTALLED")
        if e.started_at:
            raise ControlError(409, f"eSIM {e.id} is already activated")
        now = self.now()
        e.started_at, e.updated_at = now, now
        e.expired_at = now + e.plan_days * DAY
        self._event(e, "ACTIVATED")
        self._emit_status(e, "ACTIVATED")

    def _do_consume(self, e: Esim, body: dict[str, Any]) -> None:
        mb = body.get("mb")
        if not isinstance(mb, int | float) or isinstance(mb, bool) or mb <= 0:
            raise ControlError(400, '"mb" must be a positive number')
        day = body.get("date", self.today())
        try:
            date.fromisoformat(day)
        except (TypeError, ValueError):
            raise ControlError(400, '"date" must be YYYY-MM-DD') from None
        if e.status in ("READY", "INSTALLED") and not e.started_at:
            self._do_activate(e, body)  # first use is activation
        self._require(e, "INSTALLED")
        kb = round(mb * 1024)
        if not e.is_unlimited:
            kb = min(kb, e.allowed_kb - e.used_kb)
        e.used_kb += kb
        e.daily[day] = e.daily.get(day, 0) + kb
        if isinstance(body.get("location"), str):
            e.location = body["location"]
        e.updated_at = self.now()
        if e.is_unlimited:
            return
        pct = self._used_pct(e)
        crossed = [t for t in USAGE_THRESHOLDS if t <= pct and t not in e.thresholds_sent]
        for t in crossed:
            e.thresholds_sent.add(t)
            self._emit_usage(e)
        if e.used_kb >= e.allowed_kb:
            self._set_expired(e)

    def _used_pct(self, e: Esim) -> float:
        return 0.0 if e.is_unlimited else e.used_kb * 100 / max(e.allowed_kb, 1)

    def _do_expire(self, e: Esim, body: dict[str, Any]) -> None:
        self._require(e, "READY", "INSTALLED")
        e.expired_at = self.now()
        self._set_expired(e)

    def _set_expired(self, e: Esim) -> None:
        e.status, e.updated_at = "EXPIRED", self.now()
        self._emit_status(e, "EXPIRED")

    def _do_revoke(self, e: Esim, body: dict[str, Any]) -> None:
        if e.status == "REVOKED":
            raise ControlError(409, f"eSIM {e.id} is already REVOKED")
        e.status, e.updated_at = "REVOKED", self.now()
        self._emit_status(e, "REVOKED")

    # -- reads shaped for the API --------------------------------------------------
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

    def esim_json(self, e: Esim) -> dict[str, Any]:
        p = e.package
        ready = e.status != "NEW"
        smdp = self.config.smdp_address
        lpa = f"LPA:1${smdp}${e.activation_code}" if ready else ""
        auto_apn = bool(p["isAPNAutomatic"])
        return {
            "id": e.id,
            "iccid": e.iccid,
            "status": e.status,
            "activation": p["activation"],
            "withTopUp": e.with_top_up,
            "withHotspot": p["withHotspot"],
            "withDataRoaming": p["withDataRoaming"],
            "withDestinationInstall": p["withDestinationInstall"],
            "withUsageCheck": p["withUsageCheck"],
            "esim": {
                "lpaCode": lpa,
                "smdpAddress": smdp if ready else "",
                "activationCode": e.activation_code,
                "qrCodeUrl": f"{self.base_url}/qr/{e.id}.png" if ready else "",
                "pin": "",
                "puk": "",
                "number": "",
                "iosQuickInstall": (
                    f"https://esimsetup.apple.com/esim_qrcode_provisioning?carddata={lpa}" if ready else ""
                ),
                "androidQuickInstall": (
                    f"https://esimsetup.android.com/esim_qrcode_provisioning?carddata={lpa}" if ready else ""
                ),
            },
            "apn": {
                "apnAutomatic": auto_apn,
                "apnName": "" if auto_apn else p["apn"],
                "apnUsername": "",
                "apnPassword": "",
            },
            "data": {"isUnlimited": e.is_unlimited},
            "call": {"withCall": p["withCall"], "callType": p["callType"]},
            "sms": {"withSMS": p["withSMS"], "smsType": p["smsType"]},
            "notes": p["notes"],
            "createdAt": e.created_at,
            "updatedAt": e.updated_at,
            "expiredAt": e.expired_at,
        }

    def lpa(self, e: Esim) -> str:
        return f"LPA:1${self.config.smdp_address}${e.activation_code}"

    def usage_json(self, e: Esim, details: bool) -> dict[str, Any]:
        p = e.package
        if not p["withUsageCheck"]:
            raise failed(
                400,
                "Usage check is not supported for this eSIM, please make sure "
                "your have read the notes of the eSIM",
            )
        per_mb = 1024 if self.knobs.usage_unit == "KB" else 1
        if e.is_unlimited:
            allowed = MAX_SAFE_INTEGER
            remaining = _num(MAX_SAFE_INTEGER - e.used_kb * per_mb / 1024)
        else:
            allowed = e.allowed_mb * per_mb
            remaining = _num((e.allowed_kb - e.used_kb) * per_mb / 1024)
        sms = p["smsAmount"] if p["withSMS"] else 0
        voice = p["callAmount"] if p["withCall"] else 0
        out: dict[str, Any] = {
            "id": e.id,
            "iccid": e.iccid,
            "status": e.status,
            "startedAt": e.started_at,
            "expiredAt": e.expired_at if e.started_at else 0,
            "allowedData": allowed,
            "remainingData": remaining,
            "allowedSms": sms,
            "remainingSms": sms,
            "allowedVoice": voice,
            "remainingVoice": voice,
        }
        if details:
            out["dataUsages"] = [
                {"date": d, "usage": kb, "location": e.location} for d, kb in sorted(e.daily.items())
            ]
        return out

    def topup_packages(self, e: Esim) -> list[dict[str, Any]]:
        if not e.with_top_up or e.status == "REVOKED":
            return []
        g = self.catalog.group(e.group_id)
        return [] if g is None else list(g.packages)

    def events_json(self, e: Esim) -> dict[str, Any]:
        return {
            "iccid": e.iccid,
            "esimId": e.id,
            "referenceId": e.reference_id,
            "events": list(e.events),
            "locations": [],
        }

    def make_link(self, e: Esim) -> dict[str, Any]:
        if e.status == "NEW":
            raise failed(
                400,
                "eSIM profile is not ready yet, please make sure your have "
                "provided the correct iccid or esimId",
            )
        if e.link is None:
            alphabet = string.ascii_letters + string.digits
            key = "".join(self.rng.choice(alphabet) for _ in range(12))
            url = f"{self.base_url}/link/{key}"
            now = self.now()
            e.link = {
                "iccid": e.iccid,
                "esimId": e.id,
                "link": url,
                "whatsappLink": "https://wa.me/?text=" + quote(url, safe=""),
                "key": key,
                "accessCode": self._digits(4),
                "createdAt": now,
                "updatedAt": now,
            }
            self.links[key] = e.id
        return e.link

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

    # -- refund requests (§2.20) ----------------------------------------------------
    def _esim_price_cents(self, e: Esim) -> int:
        order = self.orders_by_id.get(e.order_id)
        for item in order.items if order else ():
            if item.esim_id == e.id:
                return item.price_cents
        return to_cents(e.package.get("price", 0))

    def create_refund(self, iccid: str | None, esim_id: str | None, reason: str, notes: str) -> RefundRequest:
        """One open request per eSIM (409 names it); an eSIM refunded already is refused (422)."""
        e = self.find_esim(iccid, esim_id)
        for r in self.refunds.values():
            if r.esim_id != e.id:
                continue
            if r.status == "REFUNDED":
                raise failed(422, "eSIM has already been refunded")
            if r.status in REFUND_OPEN:
                raise ApiError(
                    409,
                    {
                        "status": "failed",
                        "refundId": r.id,
                        "message": "eSIM already has an open refund request",
                    },
                )
        now = self.now()
        r = RefundRequest(
            id=self._uuid(),
            esim_id=e.id,
            iccid=e.iccid,
            order_id=e.order_id,
            reason=reason,
            notes=notes,
            amount_cents=self._esim_price_cents(e),
            status="PENDING",
            created_at=now,
            updated_at=now,
        )
        self.refunds[r.id] = r
        return r

    def refund(self, refund_id: str) -> RefundRequest:
        r = self.refunds.get(refund_id)
        if r is None:
            raise not_found("Refund request", "refundId")
        return r

    def list_refunds(
        self, status: str | None, esim_id: str | None, iccid: str | None, limit: int
    ) -> list[RefundRequest]:
        found = [
            r
            for r in reversed(self.refunds.values())
            if (status is None or r.status == status)
            and (esim_id is None or r.esim_id == esim_id)
            and (iccid is None or r.iccid == iccid)
        ]
        return found[:limit]

    def cancel_refund(self, refund_id: str) -> RefundRequest:
        r = self.refund(refund_id)
        if r.status not in REFUND_OPEN:
            raise failed(409, f"Refund request is {r.status} and can no longer be cancelled")
        r.status, r.updated_at = "CANCELLED", self.now()  # no webhook on cancel (docs)
        return r

    def refund_action(self, refund_id: str, action: str, body: dict[str, Any]) -> RefundRequest:
        """Roamify support deciding (control API): process, approve (money back), reject (with a reason)."""
        r = self.refunds.get(refund_id)
        if r is None:
            raise ControlError(404, f"refund request {refund_id} not found")
        if action not in REFUND_ACTIONS:
            raise ControlError(404, f"unknown action {action!r}; one of {list(REFUND_ACTIONS)}")
        if r.status not in REFUND_OPEN:
            raise ControlError(409, f"refund request {r.id} is {r.status}")
        r.updated_at = self.now()
        if action == "process":
            r.status = "PROCESSING"  # no webhook (docs)
            return r
        if action == "approve":
            r.status = "REFUNDED"
            self.balance_cents += r.amount_cents  # a balance-paid order is refunded to the balance
        else:
            reason = body.get("reason", "Not eligible for a refund")
            if not isinstance(reason, str) or not reason.strip():
                raise ControlError(400, "reason must be a non-empty string")
            r.status, r.rejection_reason = "REJECTED", reason.strip()[:500]
        event_type = r.status.lower()
        self._emit(
            "refund",
            event_type,
            {
                "timestamp": r.updated_at,
                "refund_id": r.id,
                "status": r.status,
                "product_type": "esim",
                "esim_id": r.esim_id,
                "iccid": r.iccid,
                "order_id": r.order_id,
                "amount": money(r.amount_cents),
                "currency": "USD",
                "rejection_reason": r.rejection_reason or None,
            },
            event_id=f"rfd_{r.id}_{event_type}",
        )
        return r

    # -- faults --------------------------------------------------------------------
    def _pending_drawn(self) -> bool:
        rate = self.knobs.instant_pending_rate
        if rate < 1 and self.fault_rng.random() >= rate:
            return False
        if rate < 1:
            self.injected["pending"] = self.injected.get("pending", 0) + 1
        return True

    def take_fault(self, method: str, path: str) -> Fault | None:
        for f in self.faults:
            if f.method in (method, "*") and f.path in (path, "*"):
                if f.probability is not None and self.fault_rng.random() >= f.probability:
                    continue  # not this time; a later fault in the list may still match
                self.injected[f.label] = self.injected.get(f.label, 0) + 1
                if f.remaining is not None:
                    f.remaining -= 1
                    if f.remaining <= 0:
                        self.faults.remove(f)
                return f
        return None


def _num(x: float) -> int | float:
    """Whole numbers as ints, the rest to 2 decimals (MB figures can be fractional)."""
    r = round(x, 2)
    return int(r) if r == int(r) else r
