"""Typed, immutable views of Roamify objects.

Conventions at this boundary (so the rest of the project never sees raw JSON):
- money is an ``int`` of minor units (cents) plus a currency code;
- timestamps are aware UTC datetimes, ``None`` when upstream sends 0/nothing;
- empty strings for optional identifiers become ``None``;
- statuses stay open strings (upstream adds values without notice).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

__all__ = [
    "Apn",
    "Country",
    "Currency",
    "DailyUsage",
    "Destination",
    "DestinationPackages",
    "Device",
    "Esim",
    "EsimEvent",
    "EsimEvents",
    "EsimLink",
    "EsimProfile",
    "ExchangeRate",
    "HistoryEntry",
    "Money",
    "Order",
    "OrderItem",
    "OrderLine",
    "Package",
    "RefundRequest",
    "Signal",
    "Throttle",
    "Usage",
]


@dataclass(frozen=True, slots=True)
class Money:
    amount_cents: int  # minor units of `currency`
    currency: str


@dataclass(frozen=True, slots=True)
class Currency:
    """An entry of GET /api/currencies (the exchange rates module)."""

    code: str  # ISO 4217, upper case
    name: str | None = None


@dataclass(frozen=True, slots=True)
class ExchangeRate:
    """Units of `target` per ONE unit of `source` (major units), from GET /api/rates."""

    source: str
    target: str
    rate: Decimal  # exact as upstream printed it, never a float
    at: dt.datetime | None  # the time upstream says the rate is for; None when it says nothing


@dataclass(frozen=True, slots=True)
class Country:
    """An entry of /api/esim/countries. Codes are not unique: key by (code, name)."""

    code: str
    name: str
    geography: str | None = None  # local | regional | global (absent before 2026)


@dataclass(frozen=True, slots=True)
class Signal:
    """Network coverage of one country inside a destination."""

    code: str
    name: str
    networks: tuple[str, ...] = ()
    carriers: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Destination:
    """A catalog group ("afghanistan-esims"): one country, region or global."""

    id: str
    name: str  # countryName
    code: str  # countryCode (non-ISO for regions, e.g. "AFR")
    slug: str | None = None
    region: str | None = None
    geography: str | None = None
    min_price_cents: int | None = None
    max_price_cents: int | None = None
    image_url: str | None = None
    signals: tuple[Signal, ...] = ()


@dataclass(frozen=True, slots=True)
class Throttle:
    """Fair-use cap of an unlimited plan: `speed` after `threshold` of data."""

    speed: float
    speed_unit: str  # e.g. "kbps"
    threshold: float
    threshold_unit: str  # e.g. "gb"


@dataclass(frozen=True, slots=True)
class Package:
    """A sellable plan, from the catalog (§2.3) or the top-up list (§2.16)."""

    package_id: str
    name: str
    price_cents: int
    currency: str = "USD"  # wholesale prices are USD
    plan: str | None = None  # e.g. "data-only"
    activation: str | None = None  # e.g. "first-use"
    days: int | None = None
    is_unlimited: bool = False
    data_mb: int | None = None  # None when unlimited
    throttle: Throttle | None = None
    apn: str | None = None
    apn_automatic: bool = True
    with_hotspot: bool = False
    with_data_roaming: bool = False
    with_destination_install: bool = False
    with_usage_check: bool = False
    with_sms: bool = False
    sms_type: str | None = None
    sms_amount: int | None = None  # None when not included (upstream -1)
    sms_unit: str | None = None
    with_call: bool = False
    call_type: str | None = None
    call_amount: int | None = None
    call_unit: str | None = None
    travel_date_required: bool = False  # apply needs a start_date
    notes: tuple[str, ...] = ()
    destination: Destination | None = None  # None for top-up packages


@dataclass(frozen=True, slots=True)
class DestinationPackages:
    """One destination group with its packages (as paged by §2.3)."""

    destination: Destination
    packages: tuple[Package, ...] = ()


@dataclass(frozen=True, slots=True)
class Device:
    model: str
    name: str
    brand: str | None = None
    os: str | None = None  # "android" / "ios"
    device_type: str | None = None  # "smartphone", ...


@dataclass(frozen=True, slots=True)
class OrderLine:
    """What to buy: input of create_order / create_instant_order."""

    package_id: str
    quantity: int = 1


@dataclass(frozen=True, slots=True)
class EsimProfile:
    """What the traveller installs. Absent (Esim.profile is None) until apply."""

    lpa_code: str | None = None  # "LPA:1$<smdp>$<code>"
    smdp_address: str | None = None
    activation_code: str | None = None
    qr_code_url: str | None = None
    ios_install_url: str | None = None
    android_install_url: str | None = None  # only since 2026-01
    pin: str | None = None
    puk: str | None = None
    number: str | None = None


@dataclass(frozen=True, slots=True)
class Apn:
    automatic: bool = True
    name: str | None = None
    username: str | None = None
    password: str | None = None


@dataclass(frozen=True, slots=True)
class Esim:
    id: str
    iccid: str | None  # None before apply (upstream "")
    status: str  # NEW, READY, INSTALLED, REVOKED, EXPIRED, UNKNOWN, ...
    activation: str | None = None
    with_top_up: bool = False
    with_hotspot: bool = False
    with_data_roaming: bool = False
    with_destination_install: bool = False
    with_usage_check: bool = False
    is_unlimited: bool = False
    data_mb: int | None = None
    with_call: bool = False
    with_sms: bool = False
    profile: EsimProfile | None = None
    apn: Apn | None = None
    notes: tuple[str, ...] = ()
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    expired_at: dt.datetime | None = None

    @property
    def has_profile(self) -> bool:
        return self.profile is not None and self.profile.lpa_code is not None


@dataclass(frozen=True, slots=True)
class OrderItem:
    esim_id: str | None
    package_id: str
    package_name: str | None = None
    type: str | None = None  # "esim"
    price_cents: int = 0
    currency: str = "USD"
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class Order:
    id: str
    reference_id: str | None  # missing and "" both become None
    status: str  # PENDING, COMPLETED, ARCHIVED, CANCELLED, REFUNDED, REQUIRE_ACTION
    total_cents: int
    currency: str = "USD"
    order_type: str | None = None
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    items: tuple[OrderItem, ...] = ()  # plain / top-up orders and GET order
    esims: tuple[Esim, ...] = ()  # instant orders answer with eSIMs instead of items

    @property
    def total(self) -> Money:
        return Money(self.total_cents, self.currency)

    @property
    def esim_ids(self) -> tuple[str, ...]:
        """eSIM ids from whichever list the answer carried, order kept, no repeats."""
        ids = [e.id for e in self.esims] + [i.esim_id for i in self.items if i.esim_id]
        return tuple(dict.fromkeys(ids))


@dataclass(frozen=True, slots=True)
class DailyUsage:
    date: dt.date
    used_mb: float
    location: str | None = None


@dataclass(frozen=True, slots=True)
class Usage:
    """Usage summary (§2.14) and, from usage_details, the per-day list (§2.15)."""

    esim_id: str | None
    iccid: str | None
    status: str | None
    is_unlimited: bool = False
    allowed_data_mb: float | None = None  # None when unlimited
    remaining_data_mb: float | None = None  # None when unlimited
    used_data_mb: float | None = None  # allowed - remaining (meaningful for unlimited too)
    allowed_sms: int | None = None
    remaining_sms: int | None = None
    allowed_voice: int | None = None
    remaining_voice: int | None = None
    started_at: dt.datetime | None = None
    expired_at: dt.datetime | None = None
    daily: tuple[DailyUsage, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """A package applied to an eSIM (the original, then each top-up)."""

    esim_id: str | None
    package_id: str
    package_name: str | None = None
    type: str | None = None
    price_cents: int = 0
    currency: str = "USD"
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class EsimEvent:
    status: str
    iccid: str | None = None
    eid: str | None = None
    timestamp: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class EsimEvents:
    iccid: str | None
    esim_id: str | None
    reference_id: str | None
    events: tuple[EsimEvent, ...] = ()
    locations: tuple[object, ...] = ()  # shape undocumented; passed through


@dataclass(frozen=True, slots=True)
class EsimLink:
    link: str
    iccid: str | None = None
    esim_id: str | None = None
    whatsapp_link: str | None = None
    key: str | None = None
    access_code: str | None = None
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class RefundRequest:
    """A request to Roamify support to refund one eSIM (§2.20). Statuses stay open strings:
    PENDING, PROCESSING (open), REFUNDED, REJECTED, CANCELLED (decided)."""

    id: str
    status: str
    esim_id: str | None = None
    iccid: str | None = None
    order_id: str | None = None
    reason: str | None = None
    notes: str | None = None
    amount_cents: int | None = None  # what comes back, when upstream says
    currency: str = "USD"
    rejection_reason: str | None = None
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None

    OPEN = ("PENDING", "PROCESSING")

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN
