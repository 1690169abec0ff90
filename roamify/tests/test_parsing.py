"""Parsing of every response shape in the spec, without HTTP."""

from __future__ import annotations

import copy
import datetime as dt

import pytest

from roamify import errors, parsing
from roamify.errors import (
    AuthenticationError,
    ConflictError,
    InsufficientBalanceError,
    NotFoundError,
    ParseError,
    ProfilePendingError,
    RoamifyError,
    UpstreamUnavailable,
    ValidationError,
    error_from_response,
    extract_message,
)
from roamify.parsing import (
    merge_destination_packages,
    parse_day,
    parse_destination_packages,
    parse_esim,
    parse_events,
    parse_order,
    parse_package,
    parse_usage,
    to_cents,
)
from roamify.types import Throttle

from .samples import (
    CATALOG_GROUP,
    ESIM_NEW,
    ESIM_READY,
    TOPUP_PACKAGE,
    UNLIMITED_PACKAGE,
    USAGE_DETAILS,
    order,
)

UTC = dt.UTC


# ------------------------------------------------------------------ scalars


@pytest.mark.parametrize(
    ("value", "cents"),
    [
        (1.18, 118),
        (3723.35, 372335),
        (5, 500),
        ("0.29", 29),
        (0.1 + 0.2, 30),  # float noise does not leak into cents
        (0.005, 1),  # half up
        (2.675, 268),  # float(2.675) is 2.67499..., str() keeps 2.675
        (0, 0),
    ],
)
def test_to_cents_is_exact(value: object, cents: int) -> None:
    assert to_cents(value) == cents


@pytest.mark.parametrize("value", [None, True, "abc", "NaN", float("inf")])
def test_to_cents_rejects_non_amounts(value: object) -> None:
    with pytest.raises(ParseError):
        to_cents(value)


def test_zero_decimal_currency() -> None:
    assert to_cents(1000, "JPY") == 1000
    assert parsing.from_cents(1000, "JPY") == 1000
    assert parsing.from_cents(1234, "USD") == 12.34
    assert parsing.from_cents(500, "USD") == 5


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1731837535, dt.datetime(2024, 11, 17, 9, 58, 55, tzinfo=UTC)),
        ("1731837535", dt.datetime(2024, 11, 17, 9, 58, 55, tzinfo=UTC)),
        (1731837535000, dt.datetime(2024, 11, 17, 9, 58, 55, tzinfo=UTC)),  # ms tolerated
        ("2025-08-30 04:30:06", dt.datetime(2025, 8, 30, 4, 30, 6, tzinfo=UTC)),
        ("2025-08-30T04:30:06Z", dt.datetime(2025, 8, 30, 4, 30, 6, tzinfo=UTC)),
        (0, None),
        (None, None),
        ("", None),
        ("garbage", None),
    ],
)
def test_parse_datetime(value: object, expected: dt.datetime | None) -> None:
    parsed = parsing.parse_datetime(value)
    assert parsed == expected
    if parsed is not None:
        assert parsed.tzinfo is not None and parsed.utcoffset() == dt.timedelta(0)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("20250102", dt.date(2025, 1, 2)),
        ("2025-01-02", dt.date(2025, 1, 2)),
        (20250102, dt.date(2025, 1, 2)),
        ("2025-13-40", None),
        (None, None),
    ],
)
def test_parse_day_both_formats(value: object, expected: dt.date | None) -> None:
    assert parse_day(value) == expected


# ------------------------------------------------------------------ catalog


def test_catalog_group_and_limited_package() -> None:
    group = parse_destination_packages(CATALOG_GROUP)
    d = group.destination
    assert (d.id, d.name, d.code, d.slug, d.region, d.geography) == (
        "afghanistan-esims",
        "Afghanistan",
        "AF",
        "afghanistan",
        "Asia",
        "local",
    )
    assert (d.min_price_cents, d.max_price_cents) == (500, 500)
    assert d.signals[0].networks == ("3G", "4G") and d.signals[0].carriers == ("MTN",)
    (p,) = group.packages
    assert p.package_id == "esim-afghanistan-7days-1gb-all"
    assert p.name == "1 GB - 7 Days"
    assert (p.plan, p.activation, p.days, p.price_cents, p.currency) == (
        "data-only",
        "first-use",
        7,
        500,
        "USD",
    )
    assert (p.is_unlimited, p.data_mb, p.throttle) == (False, 1024, None)
    assert (p.apn, p.apn_automatic) == ("globaldata", True)
    assert p.with_hotspot and p.with_data_roaming and p.with_usage_check
    assert not p.with_destination_install
    assert (p.with_sms, p.sms_amount, p.sms_unit) == (False, None, None)
    assert (p.with_call, p.call_amount, p.call_type) == (False, None, "all")
    assert p.travel_date_required is False
    assert p.notes == ()
    assert p.destination is d


def test_unlimited_package_with_throttle() -> None:
    p = parse_package(UNLIMITED_PACKAGE)
    assert p.is_unlimited is True
    assert p.data_mb is None
    assert p.throttle == Throttle(speed=128, speed_unit="kbps", threshold=2, threshold_unit="gb")
    assert p.apn is None  # "" -> None
    assert p.price_cents == 2349
    assert p.travel_date_required is True
    assert p.notes == ("Check usage in the carrier app",)
    assert p.destination is None


def test_old_package_shape_and_unknown_fields() -> None:
    raw = copy.deepcopy(CATALOG_GROUP["packages"][0])
    for key in ("throttle", "withThrottle", "requirements", "withUsageCheck", "notes"):
        del raw[key]
    raw["brandNewField"] = {"x": 1}
    raw["smsAmount"] = 100
    raw["smsUnit"] = "sms"
    raw["withSMS"] = True
    p = parse_package(raw)
    assert p.throttle is None and p.travel_date_required is False and p.with_usage_check is False
    assert (p.with_sms, p.sms_amount, p.sms_unit) == (True, 100, "sms")


def test_sentinel_amount_means_unlimited_even_without_flag() -> None:
    raw = {**UNLIMITED_PACKAGE, "isUnlimited": False}
    assert parse_package(raw).is_unlimited is True


def test_gb_unit_is_converted() -> None:
    raw = {**CATALOG_GROUP["packages"][0], "dataAmount": 3, "dataUnit": "GB"}
    assert parse_package(raw).data_mb == 3072


def test_topup_shape_normalises_to_the_catalog_package() -> None:
    nested = parse_package(TOPUP_PACKAGE)
    flat = parse_package({**CATALOG_GROUP["packages"][0], "packageId": TOPUP_PACKAGE["packageId"]})
    assert nested == flat


def test_package_without_price_or_id_is_rejected_and_skipped_in_groups() -> None:
    with pytest.raises(ParseError):
        parse_package({"packageId": "x"})
    with pytest.raises(ParseError):
        parse_package({"price": 1})
    group = copy.deepcopy(CATALOG_GROUP)
    group["packages"].append({"packageId": "broken"})
    assert len(parse_destination_packages(group).packages) == 1


def test_merge_groups_split_across_pages() -> None:
    a = copy.deepcopy(CATALOG_GROUP)
    b = copy.deepcopy(CATALOG_GROUP)
    b["packages"][0]["packageId"] = "esim-afghanistan-30days-3gb-all"
    c = copy.deepcopy(CATALOG_GROUP)  # duplicate of a
    other = {**copy.deepcopy(CATALOG_GROUP), "id": "albania-esims", "countryName": "Albania"}
    other["packages"][0]["packageId"] = "esim-albania-7days-1gb-all"
    merged = merge_destination_packages(parse_destination_packages(g) for g in (a, other, b, c))
    assert [g.destination.id for g in merged] == ["afghanistan-esims", "albania-esims"]
    assert [p.package_id for p in merged[0].packages] == [
        "esim-afghanistan-7days-1gb-all",
        "esim-afghanistan-30days-3gb-all",
    ]


# ------------------------------------------------------------------ orders and eSIMs


@pytest.mark.parametrize(("raw_ref", "expected"), [(None, None), ("", None), ("ref-1", "ref-1")])
def test_order_reference_missing_and_empty_are_none(raw_ref: str | None, expected: str | None) -> None:
    raw = order()
    if raw_ref is None:
        del raw["referenceId"]  # production omits the key
    else:
        raw["referenceId"] = raw_ref
    assert parse_order(raw).reference_id == expected


def test_order_fields() -> None:
    o = parse_order(order(total=1.18, extra="ignored"))
    assert o.id == "67bbabb7-e893-410a-b0a8-4fa62d347b6c"
    assert (o.status, o.total_cents, o.currency, o.order_type) == ("COMPLETED", 118, "USD", "api")
    assert o.created_at == dt.datetime(2024, 11, 17, 9, 58, 55, tzinfo=UTC)
    assert o.updated_at == dt.datetime(2024, 11, 17, 9, 58, 59, tzinfo=UTC)
    (item,) = o.items
    assert item.esim_id == "b06036c5-eadc-4f88-aa31-8c207fec91ec"
    assert (item.package_id, item.package_name, item.type, item.price_cents) == (
        "esim-cambodia-7days-1gb-all",
        "1 GB - 7 Days",
        "esim",
        500,
    )
    assert o.esims == ()
    assert o.esim_ids == ("b06036c5-eadc-4f88-aa31-8c207fec91ec",)
    assert o.total.amount_cents == 118


def test_instant_order_has_esims_instead_of_items() -> None:
    raw = order(esims=[ESIM_READY])
    del raw["items"]
    o = parse_order(raw)
    assert o.items == ()
    assert o.esims[0].iccid == "894000000000029365"
    assert o.esim_ids == (ESIM_READY["id"],)


def test_order_without_id_is_a_parse_error() -> None:
    with pytest.raises(ParseError):
        parse_order({"status": "COMPLETED"})


def test_ready_esim() -> None:
    e = parse_esim(ESIM_READY)
    assert (e.id, e.iccid, e.status, e.activation) == (
        "b06036c5-eadc-4f88-aa31-8c207fec91ec",
        "894000000000029365",
        "READY",
        "first-use",
    )
    assert e.with_top_up and e.with_hotspot and e.with_usage_check and not e.is_unlimited
    assert e.has_profile
    p = e.profile
    assert p is not None
    assert (p.lpa_code, p.smdp_address, p.activation_code) == (
        "LPA:1$lpa.roamify.com$TEST",
        "lpa.roamify.com",
        "TEST",
    )
    assert p.ios_install_url and p.ios_install_url.startswith("https://esimsetup.apple.com/")
    assert p.android_install_url and "android" in p.android_install_url
    assert (p.pin, p.puk, p.number) == (None, None, None)
    assert e.apn is not None and e.apn.automatic and e.apn.name is None
    assert e.created_at == dt.datetime.fromtimestamp(1731837539, UTC)
    assert e.expired_at == dt.datetime.fromtimestamp(1763373985, UTC)


def test_android_link_is_optional_and_lpa_parts_are_derived() -> None:
    raw = copy.deepcopy(ESIM_READY)
    del raw["esim"]["androidQuickInstall"]
    del raw["esim"]["smdpAddress"]
    del raw["esim"]["activationCode"]
    p = parse_esim(raw).profile
    assert p is not None
    assert p.android_install_url is None
    assert (p.smdp_address, p.activation_code) == ("lpa.roamify.com", "TEST")


def test_new_esim_has_no_iccid_and_no_profile() -> None:
    e = parse_esim(ESIM_NEW)
    assert e.status == "NEW"
    assert e.iccid is None
    assert e.profile is None and not e.has_profile
    assert e.expired_at is None
    raw = copy.deepcopy(ESIM_NEW)
    raw["esim"] = {}
    assert parse_esim(raw).profile is None
    del raw["esim"]
    assert parse_esim(raw).profile is None


# ------------------------------------------------------------------ usage


def test_usage_details_both_date_formats() -> None:
    u = parse_usage(USAGE_DETAILS)
    assert (u.esim_id, u.iccid, u.status) == (
        USAGE_DETAILS["id"],
        "894000000000029365",
        "INSTALLED",
    )
    assert (u.allowed_data_mb, u.remaining_data_mb, u.used_data_mb) == (1024, 924, 100)
    assert u.is_unlimited is False
    assert u.started_at == dt.datetime.fromtimestamp(1732442794, UTC)
    assert [d.date for d in u.daily] == [dt.date(2025, 1, 1), dt.date(2025, 1, 2)]  # sorted
    assert [d.used_mb for d in u.daily] == [20.0, 10.0]  # KB -> MB
    assert u.daily[1].location == "United Kingdom"


def test_usage_unit_is_one_constant(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parsing, "USAGE_DATA_UNIT", "KB")
    u = parse_usage({"allowedData": 1048576, "remainingData": 524288})
    assert (u.allowed_data_mb, u.remaining_data_mb) == (1024, 512)


def test_usage_unlimited_and_not_started() -> None:
    u = parse_usage(
        {"allowedData": 9007199254740991, "remainingData": 9007199254740991 - 300, "startedAt": 0}
    )
    assert u.is_unlimited
    assert u.allowed_data_mb is None and u.remaining_data_mb is None
    assert u.used_data_mb == 300
    assert u.started_at is None and u.daily == ()


# ------------------------------------------------------------------ events


def test_events_not_enveloped() -> None:
    ev = parse_events(
        {
            "iccid": "8901",
            "esimId": "e-1",
            "referenceId": "",
            "events": [
                {
                    "iccid": "8901",
                    "eid": "8904903200",
                    "status": "installed",
                    "dateTime": "2025-08-30 04:31:06",
                },
                {
                    "iccid": "8901",
                    "eid": "8904903200",
                    "status": "DOWNLOADED",
                    "timeStamp": 1756528206,
                },
            ],
            "locations": [],
        }
    )
    assert ev.reference_id is None
    assert [e.status for e in ev.events] == ["DOWNLOADED", "INSTALLED"]


# ------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"error": '"items" is required'}, '"items" is required'),
        ({"message": "Unknown error", "status": "failed"}, "Unknown error"),
        (
            {"message": "Already refunded", "status": "failed", "code": "ALREADY"},
            "Already refunded",
        ),
        ({"status": "failed", "data": {"message": "nested"}}, "nested"),
        ({"message": "first", "error": "second", "data": {"message": "third"}}, "first"),
        ({"error": "second", "data": {"message": "third"}}, "second"),
        ({"message": "", "error": "second"}, "second"),
        ("<html>Bad gateway</html>", "<html>Bad gateway</html>"),
        ({}, "fallback"),
        (None, "fallback"),
    ],
)
def test_message_extraction_order(body: object, message: str) -> None:
    assert extract_message(body, default="fallback") == message


@pytest.mark.parametrize(
    ("status", "body", "cls"),
    [
        (400, {"error": '"items" is required'}, ValidationError),
        (422, {"message": "eSIM already refunded", "status": "failed"}, ValidationError),
        (401, {"message": "Unauthorized"}, AuthenticationError),
        (403, {"message": "Feature not enabled"}, AuthenticationError),
        (404, {"status": "failed", "message": "eSIM not found"}, NotFoundError),
        (
            409,
            {"status": "failed", "message": "Insufficient partner balance, please recharge it"},
            InsufficientBalanceError,
        ),
        (409, {"status": "failed", "message": "Partner balance too low"}, InsufficientBalanceError),
        (400, {"error": "Insufficient balance"}, InsufficientBalanceError),
        (409, {"status": "failed", "message": "Order with the same referenceId"}, ConflictError),
        (500, {"message": "Unknown error", "status": "failed"}, UpstreamUnavailable),
        (503, "Service Unavailable", UpstreamUnavailable),
        (429, {}, UpstreamUnavailable),
        (
            500,
            {"status": "failed", "message": "eSIM is still pending processing"},
            ProfilePendingError,
        ),
        (400, {"error": "eSIM is still pending processing"}, ProfilePendingError),
        (418, {}, RoamifyError),
    ],
)
def test_error_classification(status: int, body: object, cls: type[RoamifyError]) -> None:
    err = error_from_response(status, body)
    assert type(err) is cls
    assert err.status_code == status
    assert err.body == body


def test_error_carries_message_and_timeout_is_unavailable() -> None:
    err = error_from_response(400, {"error": '"items" is required'})
    assert err.message == '"items" is required'
    assert str(err) == '"items" is required (HTTP 400)'
    assert issubclass(errors.UpstreamTimeout, UpstreamUnavailable)
