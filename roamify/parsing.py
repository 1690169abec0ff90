"""Turn Roamify JSON into the frozen types of ``roamify.types``.

Every function is tolerant: unknown keys are ignored, missing optional keys get
defaults, and only what we cannot sell or track without (ids, prices) raises
``ParseError``. Where sources disagree (units, date formats, shapes) the choice
lives in one constant or helper here so it can be flipped after the first real
call.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from .errors import ParseError
from .types import (
    Apn,
    Country,
    Currency,
    DailyUsage,
    Destination,
    DestinationPackages,
    Device,
    Esim,
    EsimEvent,
    EsimEvents,
    EsimLink,
    EsimProfile,
    ExchangeRate,
    HistoryEntry,
    Money,
    Order,
    OrderItem,
    Package,
    RefundRequest,
    Signal,
    Throttle,
    Usage,
)

logger = logging.getLogger("roamify")

# Unit of usage `allowedData` / `remainingData`. Docs sample and the usage
# webhook say MB, Apidog says KB: flip here once real traffic tells.
USAGE_DATA_UNIT = "MB"
# Unit of `dataUsages[].usage` (per day). Apidog says KB and the docs' sample
# values (10000/day) only make sense as KB.
DAILY_USAGE_UNIT = "KB"

# Unlimited plans report JS Number.MAX_SAFE_INTEGER MB; anything this large
# (a million TB) is a sentinel, not an allowance.
UNLIMITED_DATA_AMOUNT = 9007199254740991
_UNLIMITED_THRESHOLD_MB = 10**12

_MB_PER_UNIT: dict[str, Decimal] = {
    "B": Decimal(1) / Decimal(1024 * 1024),
    "KB": Decimal(1) / Decimal(1024),
    "MB": Decimal(1),
    "GB": Decimal(1024),
    "TB": Decimal(1024 * 1024),
}

# ISO 4217 currencies without minor units.
_ZERO_DECIMAL_CURRENCIES = frozenset({"JPY", "KRW"})

_DATE_COMPACT_RE = re.compile(r"^\d{8}$")


# --------------------------------------------------------------------------- scalars


def to_cents(value: Any, currency: str = "USD") -> int:
    """Major units (JSON number or string) -> integer minor units, exactly.

    Decimal(str(x)) keeps 1.18 as 1.18 (float arithmetic would give 117.99...).
    """
    if value is None or isinstance(value, bool):
        raise ParseError(f"not an amount: {value!r}")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise ParseError(f"not an amount: {value!r}") from exc
    if not amount.is_finite():
        raise ParseError(f"not an amount: {value!r}")
    scale = 1 if currency.upper() in _ZERO_DECIMAL_CURRENCIES else 100
    return int((amount * scale).quantize(Decimal(1), ROUND_HALF_UP))


def from_cents(amount_cents: int, currency: str = "USD") -> int | float:
    """Integer minor units -> the JSON number upstream expects (12.34, or 5 when whole)."""
    scale = 1 if currency.upper() in _ZERO_DECIMAL_CURRENCIES else 100
    major = Decimal(int(amount_cents)) / scale
    if major == major.to_integral_value():
        return int(major)
    # Two decimals at most, so float(...) serialises back to the same digits.
    return float(major)


def parse_datetime(value: Any) -> dt.datetime | None:
    """Unix seconds (int, float, numeric string; ms tolerated) or ISO -> aware UTC.

    0 / empty / missing -> None.
    """
    if value is None or isinstance(value, bool) or value == "":
        return None
    if isinstance(value, str):
        text = value.strip()
        try:
            value = float(text)
        except ValueError:
            try:
                parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                logger.warning("roamify: unparseable timestamp %r", value)
                return None
            if parsed.tzinfo is None:  # upstream is UTC (Unix time everywhere else)
                parsed = parsed.replace(tzinfo=dt.UTC)
            return parsed.astimezone(dt.UTC)
    if not isinstance(value, int | float) or value <= 0:
        return None
    seconds = float(value)
    if seconds > 1e11:  # milliseconds (year 5138 in seconds)
        seconds /= 1000.0
    try:
        return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)
    except (OverflowError, OSError, ValueError):
        logger.warning("roamify: out-of-range timestamp %r", value)
        return None


def parse_day(value: Any) -> dt.date | None:
    """A daily-usage date: ``YYYYMMDD`` (docs) or ``YYYY-MM-DD`` (Apidog, webhook)."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return None
    text = value.strip()
    try:
        if _DATE_COMPACT_RE.match(text):
            return dt.datetime.strptime(text, "%Y%m%d").date()
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        return None


def to_mb(value: Any, unit: str) -> float | None:
    """A data amount in `unit` -> MB (float, since KB figures do not divide evenly)."""
    number = _decimal(value)
    if number is None:
        return None
    factor = _MB_PER_UNIT.get(unit.strip().upper(), Decimal(1))
    return float(number * factor)


def _decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool) or value == "":
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _str(value: Any) -> str | None:
    """Optional string: "" / None -> None; numbers (e.g. an ICCID sent as int) -> str."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return None


def _req_str(raw: Mapping[str, Any], key: str, what: str) -> str:
    value = _str(raw.get(key))
    if value is None:
        raise ParseError(f"{what} without {key!r}", body=dict(raw))
    return value


def _bool(value: Any, default: bool = False) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("true", "1", "yes"):
            return True
        if text in ("false", "0", "no"):
            return False
    return default


def _int(value: Any) -> int | None:
    number = _decimal(value)
    if number is None:
        return None
    return int(number.to_integral_value(ROUND_HALF_UP))


def _amount(value: Any) -> int | None:
    """Call/SMS amounts: -1 (or absent) means "not included"."""
    number = _int(value)
    return None if number is None or number < 0 else number


def _num(value: Any) -> float:
    number = _decimal(value)
    return float(number) if number is not None else 0.0


def _dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _strings(value: Any) -> tuple[str, ...]:
    """`notes`-style arrays: element type undocumented, so stringify non-strings."""
    out: list[str] = []
    for item in _list(value):
        if isinstance(item, str):
            if item.strip():
                out.append(item)
        elif item is not None:
            out.append(json.dumps(item, sort_keys=True, default=str))
    return tuple(out)


def _currency(raw: Mapping[str, Any], default: str = "USD") -> str:
    return (_str(raw.get("currency")) or default).upper()


# --------------------------------------------------------------------------- catalog


def parse_country(raw: Mapping[str, Any]) -> Country:
    return Country(
        code=_req_str(raw, "code", "country"),
        name=_str(raw.get("name")) or "",
        geography=_str(raw.get("geography")),
    )


def parse_signal(raw: Mapping[str, Any]) -> Signal:
    return Signal(
        code=_str(raw.get("code")) or "",
        name=_str(raw.get("name")) or "",
        networks=tuple(s for s in (_str(n) for n in _list(raw.get("networks"))) if s),
        carriers=tuple(s for s in (_str(c) for c in _list(raw.get("carriers"))) if s),
    )


def destination_key(raw: Mapping[str, Any]) -> str:
    """The group's identity for merging pages: its id, else (code, name)."""
    return _str(raw.get("id")) or f"{raw.get('countryCode')}|{raw.get('countryName')}"


def parse_destination(raw: Mapping[str, Any]) -> Destination:
    min_price = raw.get("minPrice")
    max_price = raw.get("maxPrice")
    return Destination(
        id=destination_key(raw),
        name=_str(raw.get("countryName")) or "",
        code=_str(raw.get("countryCode")) or "",
        slug=_str(raw.get("countrySlug")),
        region=_str(raw.get("region")),
        geography=_str(raw.get("geography")),
        min_price_cents=to_cents(min_price) if _decimal(min_price) is not None else None,
        max_price_cents=to_cents(max_price) if _decimal(max_price) is not None else None,
        image_url=_str(raw.get("image")),
        signals=tuple(parse_signal(s) for s in _list(raw.get("signals")) if isinstance(s, dict)),
    )


def parse_throttle(raw: Any) -> Throttle | None:
    if not isinstance(raw, Mapping) or raw.get("throttleSpeed") is None:
        return None
    return Throttle(
        speed=_num(raw.get("throttleSpeed")),
        speed_unit=_str(raw.get("throttleSpeedUnit")) or "",
        threshold=_num(raw.get("throttleThreshold")),
        threshold_unit=_str(raw.get("throttleThresholdUnit")) or "",
    )


def parse_package(raw: Mapping[str, Any], destination: Destination | None = None) -> Package:
    """Both package shapes: flat (catalog, §2.3) and nested apn/data/call/sms (top-ups, §2.16)."""
    package_id = _req_str(raw, "packageId", "package")
    if _decimal(raw.get("price")) is None:
        raise ParseError(f"package {package_id!r} without a price", body=dict(raw))

    apn_raw = raw.get("apn")
    if isinstance(apn_raw, Mapping):
        apn = _str(apn_raw.get("apnName"))
        apn_automatic = _bool(apn_raw.get("apnAutomatic"), True)
    else:
        apn = _str(apn_raw)
        apn_automatic = _bool(raw.get("isAPNAutomatic"), True)

    # Nested blocks when present, else the flat keys on the package itself.
    data = raw["data"] if isinstance(raw.get("data"), Mapping) else raw
    call = raw["call"] if isinstance(raw.get("call"), Mapping) else raw
    sms = raw["sms"] if isinstance(raw.get("sms"), Mapping) else raw

    data_mb_float = to_mb(data.get("dataAmount"), _str(data.get("dataUnit")) or "MB")
    is_unlimited = _bool(data.get("isUnlimited")) or (
        data_mb_float is not None and data_mb_float >= _UNLIMITED_THRESHOLD_MB
    )
    throttle = parse_throttle(raw.get("throttle")) or parse_throttle(data.get("throttle"))
    requirements = _dict(raw.get("requirements"))

    return Package(
        package_id=package_id,
        name=_str(raw.get("package")) or _str(raw.get("name")) or package_id,
        price_cents=to_cents(raw.get("price")),
        currency=_currency(raw),
        plan=_str(raw.get("plan")),
        activation=_str(raw.get("activation")),
        days=_int(raw.get("day", raw.get("days"))),
        is_unlimited=is_unlimited,
        data_mb=None if is_unlimited or data_mb_float is None else round(data_mb_float),
        throttle=throttle,
        apn=apn,
        apn_automatic=apn_automatic,
        with_hotspot=_bool(raw.get("withHotspot")),
        with_data_roaming=_bool(raw.get("withDataRoaming")),
        with_destination_install=_bool(raw.get("withDestinationInstall")),
        with_usage_check=_bool(raw.get("withUsageCheck")),
        with_sms=_bool(sms.get("withSMS")),
        sms_type=_str(sms.get("smsType")),
        sms_amount=_amount(sms.get("smsAmount")),
        sms_unit=_str(sms.get("smsUnit")),
        with_call=_bool(call.get("withCall")),
        call_type=_str(call.get("callType")),
        call_amount=_amount(call.get("callAmount")),
        call_unit=_str(call.get("callUnit")),
        travel_date_required=_bool(requirements.get("travelDate")),
        notes=_strings(raw.get("notes")),
        destination=destination,
    )


def parse_destination_packages(raw: Mapping[str, Any]) -> DestinationPackages:
    """One catalog group. A malformed package is skipped (logged), not fatal to the sync."""
    destination = parse_destination(raw)
    packages: list[Package] = []
    for item in _list(raw.get("packages")):
        if not isinstance(item, Mapping):
            continue
        try:
            packages.append(parse_package(item, destination))
        except ParseError as exc:
            logger.warning("roamify: skipping package in %s: %s", destination.id, exc)
    return DestinationPackages(destination=destination, packages=tuple(packages))


def parse_device(raw: Mapping[str, Any]) -> Device:
    model = _str(raw.get("model")) or _str(raw.get("name")) or ""
    return Device(
        model=model,
        name=_str(raw.get("name")) or model,
        brand=_str(raw.get("brand")),
        os=(_str(raw.get("os")) or "").lower() or None,
        device_type=_str(raw.get("deviceType")),
    )


def parse_balance(raw: Mapping[str, Any]) -> Money:
    currency = _currency(raw)
    return Money(amount_cents=to_cents(raw.get("balance"), currency), currency=currency)


# --------------------------------------------------------------------------- exchange rates


def parse_currency(raw: Any) -> Currency | None:
    """A supported currency: {"code": "EUR", "name": "Euro"}, or a bare "EUR"; None if unreadable."""
    if isinstance(raw, str):
        code, name = raw, None
    else:
        raw = _dict(raw)
        code, name = _str(_first(raw, "code", "currency", "iso")), _str(raw.get("name"))
    code = (code or "").strip().upper()
    if len(code) != 3 or not code.isalpha():
        return None
    return Currency(code=code, name=name)


def parse_rates(raw: Any, source: str) -> list[ExchangeRate]:
    """GET /api/rates: one pair {"source","target","rate","datetime"}, every rate {"source",
    "rates": {code: rate}, "datetime"}, or a list of pairs. Unreadable or non-positive rates are
    left out (never a rate of 0 that would price everything at nothing)."""
    if isinstance(raw, list):
        return [r for item in raw for r in parse_rates(item, source)]
    raw = _dict(raw)
    source = (_str(raw.get("source")) or source).upper()
    stamp = _first(raw, "datetime", "date", "timestamp", "updatedAt")
    at = parse_datetime(stamp)
    pairs: list[tuple[Any, Any]]
    if isinstance(raw.get("rates"), Mapping):
        pairs = list(raw["rates"].items())
    elif isinstance(raw.get("rates"), list):
        return [r for item in raw["rates"] for r in parse_rates({"datetime": stamp, **_dict(item)}, source)]
    else:
        pairs = [(raw.get("target"), raw.get("rate"))]
    found = []
    for target, value in pairs:
        code, rate = (_str(target) or "").upper(), _decimal(value)
        if len(code) == 3 and code.isalpha() and rate is not None and rate > 0:
            found.append(ExchangeRate(source=source, target=code, rate=rate, at=at))
    return found


# --------------------------------------------------------------------------- orders, eSIMs


def parse_profile(raw: Any) -> EsimProfile | None:
    """The `esim` sub-object; None while it is empty (status NEW, before apply)."""
    raw = _dict(raw)
    lpa = _str(raw.get("lpaCode"))
    smdp = _str(raw.get("smdpAddress"))
    code = _str(raw.get("activationCode"))
    if lpa and (smdp is None or code is None):
        parts = lpa.split("$")
        if len(parts) >= 3:
            smdp = smdp or _str(parts[1])
            code = code or _str(parts[2])
    if lpa is None and smdp and code:
        lpa = f"LPA:1${smdp}${code}"
    qr = _str(raw.get("qrCodeUrl"))
    ios = _str(raw.get("iosQuickInstall"))
    android = _str(raw.get("androidQuickInstall"))
    if not any((lpa, smdp, code, qr, ios, android)):
        return None
    return EsimProfile(
        lpa_code=lpa,
        smdp_address=smdp,
        activation_code=code,
        qr_code_url=qr,
        ios_install_url=ios,
        android_install_url=android,
        pin=_str(raw.get("pin")),
        puk=_str(raw.get("puk")),
        number=_str(raw.get("number")),
    )


def parse_apn(raw: Any) -> Apn | None:
    if not isinstance(raw, Mapping):
        return None
    return Apn(
        automatic=_bool(raw.get("apnAutomatic"), True),
        name=_str(raw.get("apnName")),
        username=_str(raw.get("apnUsername")),
        password=_str(raw.get("apnPassword")),
    )


def parse_esim(raw: Mapping[str, Any]) -> Esim:
    data = _dict(raw.get("data"))
    data_mb = to_mb(data.get("dataAmount"), _str(data.get("dataUnit")) or "MB")
    is_unlimited = _bool(data.get("isUnlimited")) or (
        data_mb is not None and data_mb >= _UNLIMITED_THRESHOLD_MB
    )
    return Esim(
        id=_str(raw.get("id")) or _req_str(raw, "esimId", "eSIM"),
        iccid=_str(raw.get("iccid")),
        status=(_str(raw.get("status")) or "UNKNOWN").upper(),
        activation=_str(raw.get("activation")),
        with_top_up=_bool(raw.get("withTopUp")),
        with_hotspot=_bool(raw.get("withHotspot")),
        with_data_roaming=_bool(raw.get("withDataRoaming")),
        with_destination_install=_bool(raw.get("withDestinationInstall")),
        with_usage_check=_bool(raw.get("withUsageCheck")),
        is_unlimited=is_unlimited,
        data_mb=None if is_unlimited or data_mb is None else round(data_mb),
        with_call=_bool(_dict(raw.get("call")).get("withCall")),
        with_sms=_bool(_dict(raw.get("sms")).get("withSMS")),
        profile=parse_profile(raw.get("esim")),
        apn=parse_apn(raw.get("apn")),
        notes=_strings(raw.get("notes")),
        created_at=parse_datetime(raw.get("createdAt")),
        updated_at=parse_datetime(raw.get("updatedAt")),
        expired_at=parse_datetime(raw.get("expiredAt")),
    )


def parse_order_item(raw: Mapping[str, Any]) -> OrderItem:
    currency = _currency(raw)
    price = raw.get("price")
    return OrderItem(
        esim_id=_str(raw.get("esimId")),
        package_id=_str(raw.get("packageId")) or "",
        package_name=_str(raw.get("package")),
        type=_str(raw.get("type")),
        price_cents=to_cents(price, currency) if _decimal(price) is not None else 0,
        currency=currency,
        created_at=parse_datetime(raw.get("createdAt")),
        updated_at=parse_datetime(raw.get("updatedAt")),
    )


def parse_order(raw: Mapping[str, Any]) -> Order:
    currency = _currency(raw)
    total = raw.get("total")
    return Order(
        id=_req_str(raw, "id", "order"),
        reference_id=_str(raw.get("referenceId")),  # absent and "" alike -> None
        status=(_str(raw.get("status")) or "UNKNOWN").upper(),
        total_cents=to_cents(total, currency) if _decimal(total) is not None else 0,
        currency=currency,
        order_type=_str(raw.get("orderType")),
        created_at=parse_datetime(raw.get("createdAt")),
        updated_at=parse_datetime(raw.get("updatedAt")),
        items=tuple(parse_order_item(i) for i in _list(raw.get("items")) if isinstance(i, dict)),
        esims=tuple(parse_esim(e) for e in _list(raw.get("esims")) if isinstance(e, dict)),
    )


def parse_history_entry(raw: Mapping[str, Any]) -> HistoryEntry:
    item = parse_order_item(raw)
    return HistoryEntry(
        esim_id=item.esim_id,
        package_id=item.package_id,
        package_name=item.package_name,
        type=item.type,
        price_cents=item.price_cents,
        currency=item.currency,
        created_at=item.created_at,
        updated_at=item.updated_at,
    )


# --------------------------------------------------------------------------- usage


def parse_usage(raw: Mapping[str, Any]) -> Usage:
    allowed = to_mb(raw.get("allowedData"), USAGE_DATA_UNIT)
    remaining = to_mb(raw.get("remainingData"), USAGE_DATA_UNIT)
    used = allowed - remaining if allowed is not None and remaining is not None else None
    is_unlimited = _bool(raw.get("isUnlimited")) or (
        allowed is not None and allowed >= _UNLIMITED_THRESHOLD_MB
    )
    daily: list[DailyUsage] = []
    for entry in _list(raw.get("dataUsages")):
        if not isinstance(entry, Mapping):
            continue
        day = parse_day(entry.get("date"))
        if day is None:
            logger.warning("roamify: skipping usage day with date %r", entry.get("date"))
            continue
        daily.append(
            DailyUsage(
                date=day,
                used_mb=to_mb(entry.get("usage"), DAILY_USAGE_UNIT) or 0.0,
                location=_str(entry.get("location")),
            )
        )
    return Usage(
        esim_id=_str(raw.get("id")) or _str(raw.get("esimId")),
        iccid=_str(raw.get("iccid")),
        status=_str(raw.get("status")),
        is_unlimited=is_unlimited,
        allowed_data_mb=None if is_unlimited else allowed,
        remaining_data_mb=None if is_unlimited else remaining,
        used_data_mb=used,
        allowed_sms=_int(raw.get("allowedSms")),
        remaining_sms=_int(raw.get("remainingSms")),
        allowed_voice=_int(raw.get("allowedVoice")),
        remaining_voice=_int(raw.get("remainingVoice")),
        started_at=parse_datetime(raw.get("startedAt")),
        expired_at=parse_datetime(raw.get("expiredAt")),
        daily=tuple(sorted(daily, key=lambda d: d.date)),
    )


# --------------------------------------------------------------------------- legacy / extras


def parse_event(raw: Mapping[str, Any]) -> EsimEvent:
    timestamp = parse_datetime(raw.get("timeStamp") or raw.get("timestamp"))
    if timestamp is None:
        timestamp = parse_datetime(raw.get("dateTime"))  # "2025-08-30 04:30:06", UTC assumed
    return EsimEvent(
        status=(_str(raw.get("status")) or "UNKNOWN").upper(),
        iccid=_str(raw.get("iccid")),
        eid=_str(raw.get("eid")),
        timestamp=timestamp,
    )


def parse_events(raw: Mapping[str, Any]) -> EsimEvents:
    events = [parse_event(e) for e in _list(raw.get("events")) if isinstance(e, Mapping)]
    epoch = dt.datetime.min.replace(tzinfo=dt.UTC)
    return EsimEvents(
        iccid=_str(raw.get("iccid")),
        esim_id=_str(raw.get("esimId")),
        reference_id=_str(raw.get("referenceId")),
        events=tuple(sorted(events, key=lambda e: e.timestamp or epoch)),
        locations=tuple(_list(raw.get("locations"))),
    )


def parse_link(raw: Mapping[str, Any]) -> EsimLink:
    return EsimLink(
        link=_req_str(raw, "link", "eSIM link"),
        iccid=_str(raw.get("iccid")),
        esim_id=_str(raw.get("esimId")),
        whatsapp_link=_str(raw.get("whatsappLink")),
        key=_str(raw.get("key")),
        access_code=_str(raw.get("accessCode")),
        created_at=parse_datetime(raw.get("createdAt")),
        updated_at=parse_datetime(raw.get("updatedAt")),
    )


def merge_destination_packages(
    groups: Iterable[DestinationPackages],
) -> list[DestinationPackages]:
    """Merge fragments of the same destination (split across pages), first-seen order,
    dropping packageIds already seen anywhere."""
    order: list[str] = []
    dests: dict[str, Destination] = {}
    packages: dict[str, list[Package]] = {}
    seen: set[str] = set()
    for group in groups:
        key = group.destination.id
        if key not in dests:
            order.append(key)
            dests[key] = group.destination
            packages[key] = []
        for package in group.packages:
            if package.package_id in seen:
                continue
            seen.add(package.package_id)
            packages[key].append(package)
    return [DestinationPackages(dests[k], tuple(packages[k])) for k in order]


# --------------------------------------------------------------------------- refund requests (§2.20)


def _first(raw: Mapping[str, Any], *keys: str) -> Any:
    """The first key present: the object's field names are [ASSUMPTION] until read on the docs
    page, so the camelCase name and the webhook's snake_case name are both read."""
    for key in keys:
        if raw.get(key) not in (None, ""):
            return raw[key]
    return None


def parse_refund_request(raw: Mapping[str, Any]) -> RefundRequest:
    refund_id = _str(_first(raw, "refundId", "refund_id", "id"))
    if refund_id is None:
        raise ParseError("refund request without 'refundId'", body=dict(raw))
    currency = _currency(raw)
    amount = _first(raw, "amount", "refundAmount", "refund_amount")
    return RefundRequest(
        id=refund_id,
        status=(_str(raw.get("status")) or "UNKNOWN").upper(),
        esim_id=_str(_first(raw, "esimId", "esim_id")),
        iccid=_str(raw.get("iccid")),
        order_id=_str(_first(raw, "orderId", "order_id")),
        reason=_str(raw.get("reason")),
        notes=_str(raw.get("notes")),
        amount_cents=to_cents(amount, currency) if _decimal(amount) is not None else None,
        currency=currency,
        rejection_reason=_str(_first(raw, "rejectionReason", "rejection_reason")),
        created_at=parse_datetime(_first(raw, "createdAt", "created_at")),
        updated_at=parse_datetime(_first(raw, "updatedAt", "updated_at")),
    )
