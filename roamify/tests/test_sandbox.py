"""The client against the Roamify sandbox over real HTTP (the main tests)."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable
from itertools import islice
from typing import Any, TypeVar

import pytest

from roamify import (
    AuthenticationError,
    InsufficientBalanceError,
    NotFoundError,
    Package,
    ProfilePendingError,
    RoamifyClient,
    UpstreamTimeout,
    UpstreamUnavailable,
    ValidationError,
    parsing,
)

T = TypeVar("T")


def _ref(prefix: str = "T") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def _wait_for(fetch: Callable[[], T | None], timeout: float = 6.0, step: float = 0.1) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(step)


def _plain_packages(client: RoamifyClient, groups: int = 5) -> list[Package]:
    """Limited, usage-checkable packages that need no travel date, from the first groups."""
    out = [
        p
        for group in client.packages_page(1, groups)
        for p in group.packages
        if not p.is_unlimited
        and not p.travel_date_required
        and p.with_usage_check
        and p.data_mb
        and p.price_cents > 0
    ]
    assert out, "no plain package in the first catalog groups"
    return out


@pytest.fixture
def package(roamify: RoamifyClient) -> Package:
    return sorted(_plain_packages(roamify), key=lambda p: (p.price_cents, p.package_id))[0]


def _ledger_for(sandbox: Any, reference: str) -> list[dict[str, Any]]:
    return [e for e in sandbox.control.ledger() if e.get("referenceId") == reference]


# ------------------------------------------------------------------ reads


def test_health_countries_devices_balance(roamify: RoamifyClient) -> None:
    assert roamify.health() is True
    countries = roamify.countries()
    assert len(countries) >= 190
    assert all(c.code and c.name for c in countries)
    regional = roamify.countries(geography="regional")
    assert regional and all(c.geography == "regional" for c in regional)
    assert len(regional) < len(countries)
    devices = roamify.compatible_devices()
    assert devices and all(d.model for d in devices)
    balance = roamify.balance()
    assert balance.currency == "USD" and balance.amount_cents > 0


def test_package_filters(roamify: RoamifyClient, package: Package) -> None:
    dest = package.destination
    assert dest is not None
    by_name = roamify.packages_page(1, 50, country=dest.name)
    assert by_name and all(g.destination.name == dest.name for g in by_name)
    by_id = roamify.packages_page(1, 50, package_id=package.package_id)
    assert [p.package_id for g in by_id for p in g.packages] == [package.package_id]
    assert by_id[0].packages[0] == package
    unlimited = roamify.packages_page(1, 20, is_unlimited=True)
    flat = [p for g in unlimited for p in g.packages]
    assert flat and all(p.is_unlimited and p.data_mb is None for p in flat)
    assert any(p.throttle is not None for p in flat)


# ------------------------------------------------------------------ order -> apply -> eSIM


def test_order_apply_and_lookups(roamify: RoamifyClient, sandbox: Any, package: Package) -> None:
    ref = _ref("ORD")
    before = roamify.balance()
    order = roamify.create_order([(package.package_id, 1)], reference_id=ref)
    assert order.status == "COMPLETED"
    assert order.reference_id == ref
    assert order.total_cents == package.price_cents and order.currency == "USD"
    assert order.created_at is not None and order.created_at.tzinfo is not None
    (item,) = order.items
    assert item.package_id == package.package_id and item.esim_id
    assert roamify.balance().amount_cents == before.amount_cents - package.price_cents

    fresh = roamify.get_esim(esim_id=item.esim_id)
    assert fresh.status == "NEW" and fresh.iccid is None and fresh.profile is None

    assert roamify.get_order(order_id=order.id).id == order.id
    assert roamify.get_order(reference_id=ref).id == order.id
    assert roamify.find_order(ref) is not None
    assert [o.id for o in roamify.list_orders(reference_id=ref)] == [order.id]
    assert order.id in {o.id for o in roamify.list_orders(status="COMPLETED", limit=10)}

    (esim,) = roamify.apply(esim_id=item.esim_id)
    assert esim.id == item.esim_id and esim.status == "READY"
    assert esim.iccid and re.fullmatch(r"89\d{14,20}", esim.iccid)
    profile = esim.profile
    assert profile is not None and profile.lpa_code is not None
    assert profile.lpa_code == f"LPA:1${profile.smdp_address}${profile.activation_code}"
    assert profile.qr_code_url and profile.ios_install_url
    assert profile.ios_install_url.endswith(profile.lpa_code)
    assert roamify.get_esim(iccid=esim.iccid).id == esim.id
    assert esim.id in {e.id for e in roamify.list_esims(status="READY")}
    assert esim.id in {e.id for e in roamify.list_esims(reference_id=ref)}

    (entry,) = _ledger_for(sandbox, ref)
    assert entry["id"] == order.id


def test_apply_by_reference_generates_all_profiles(roamify: RoamifyClient, package: Package) -> None:
    ref = _ref("QTY")
    order = roamify.create_order([(package.package_id, 2)], reference_id=ref)
    assert len(order.esim_ids) == 2
    esims = roamify.apply(reference_id=ref)
    assert {e.id for e in esims} == set(order.esim_ids)
    assert all(e.status == "READY" and e.has_profile for e in esims)


def test_order_without_reference(roamify: RoamifyClient, package: Package) -> None:
    order = roamify.create_order([(package.package_id, 1)])
    assert order.reference_id is None  # "" (sandbox) and missing (production) alike


def test_instant_order(roamify: RoamifyClient, package: Package) -> None:
    ref = _ref("INS")
    order = roamify.create_instant_order([(package.package_id, 1)], reference_id=ref)
    assert order.status == "COMPLETED"
    (esim,) = order.esims
    assert esim.status == "READY" and esim.iccid and esim.has_profile
    found = roamify.find_order(ref)
    assert found is not None and found.id == order.id
    assert found.esim_ids == (esim.id,)


def test_travel_date_package_needs_start_date(roamify: RoamifyClient) -> None:
    travel = next((p for p in roamify.iter_packages(page_size=20) if p.travel_date_required), None)
    assert travel is not None
    order = roamify.create_order([(travel.package_id, 1)], reference_id=_ref("TRV"))
    esim_id = order.esim_ids[0]
    with pytest.raises(ValidationError):
        roamify.apply(esim_id=esim_id)
    (esim,) = roamify.apply(esim_id=esim_id, start_date="2030-07-01")
    assert esim.status == "READY"


# ------------------------------------------------------------------ usage, top-up, history, extras


def test_usage_topup_history_events_link(roamify: RoamifyClient, sandbox: Any, package: Package) -> None:
    ref = _ref("USE")
    (esim,) = roamify.create_instant_order([(package.package_id, 1)], reference_id=ref).esims
    if not esim.with_top_up:  # a few sandbox eSIMs refuse top-ups; pick another package
        candidates = [p for p in _plain_packages(roamify) if p.package_id != package.package_id]
        for other in candidates:
            (esim,) = roamify.create_instant_order([(other.package_id, 1)]).esims
            if esim.with_top_up:
                package = other
                break
    assert esim.with_top_up and esim.iccid
    iccid = esim.iccid

    sandbox.control.esim_action(esim.id, "install")
    sandbox.control.esim_action(esim.id, "activate")
    sandbox.control.esim_action(esim.id, "consume", mb=100)
    assert roamify.get_esim(esim_id=esim.id).status == "INSTALLED"

    usage = roamify.usage(iccid)
    assert usage.iccid == iccid and usage.esim_id == esim.id
    assert usage.allowed_data_mb == package.data_mb
    assert usage.remaining_data_mb == pytest.approx(package.data_mb - 100)
    assert usage.used_data_mb == pytest.approx(100)
    assert usage.started_at is not None

    details = roamify.usage_details(iccid)
    assert details.daily, "usage details without per-day rows"
    assert sum(d.used_mb for d in details.daily) == pytest.approx(100, rel=0.05)

    topups = roamify.topup_packages(iccid)
    assert topups and all(t.destination is None and t.price_cents > 0 for t in topups)
    topup = next(t for t in topups if not t.is_unlimited and t.data_mb)
    topup_ref = _ref("TOP")
    top_order = roamify.create_topup(iccid, topup.package_id, reference_id=topup_ref)
    assert top_order.reference_id == topup_ref
    assert top_order.items and top_order.items[0].package_id == topup.package_id
    after = roamify.usage(iccid)
    assert after.allowed_data_mb == pytest.approx(package.data_mb + topup.data_mb)

    history = roamify.history(iccid)
    assert [h.package_id for h in history] == [package.package_id, topup.package_id]
    assert all(h.created_at is not None for h in history)

    events = roamify.esim_events(esim_id=esim.id)
    statuses = [e.status for e in events.events]
    assert "INSTALLED" in statuses
    link = roamify.create_esim_link(esim_id=esim.id)
    assert link.link.startswith("http") and link.esim_id == esim.id
    assert link.access_code and re.fullmatch(r"\d{4}", link.access_code)


def test_usage_unit_flip(
    roamify: RoamifyClient, sandbox: Any, package: Package, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If upstream turns out to send KB, flipping the one constant keeps MB figures right."""
    (esim,) = roamify.create_instant_order([(package.package_id, 1)]).esims
    assert esim.iccid
    sandbox.control.esim_action(esim.id, "install")
    sandbox.control.esim_action(esim.id, "activate")
    sandbox.control.esim_action(esim.id, "consume", mb=10)
    sandbox.control.set_knobs(usage_unit="KB")
    monkeypatch.setattr(parsing, "USAGE_DATA_UNIT", "KB")
    usage = roamify.usage(esim.iccid)
    assert usage.allowed_data_mb == pytest.approx(package.data_mb)
    assert usage.used_data_mb == pytest.approx(10)


def test_usage_check_not_supported(roamify: RoamifyClient, sandbox: Any) -> None:
    package_id = sandbox.control.special_packages()["noUsageCheck"][0]
    (esim,) = roamify.create_instant_order([(package_id, 1)]).esims
    assert esim.with_usage_check is False and esim.notes  # notes say what to do instead
    assert esim.iccid
    with pytest.raises(ValidationError):
        roamify.usage(esim.iccid)


# ------------------------------------------------------------------ errors


def test_bad_token(sandbox: Any) -> None:
    with (
        RoamifyClient(base_url=sandbox.base_url, token="not-the-token") as client,
        pytest.raises(AuthenticationError) as info,
    ):
        client.balance()
    assert info.value.status_code == 401


def test_token_rotation(roamify: RoamifyClient, sandbox: Any) -> None:
    assert roamify.balance()
    sandbox.control.set_token("rotated-token")
    with pytest.raises(AuthenticationError):
        roamify.balance()
    with RoamifyClient(base_url=sandbox.base_url, token="rotated-token") as client:
        assert client.balance().currency == "USD"


def test_unknown_esim_and_order(roamify: RoamifyClient) -> None:
    with pytest.raises(NotFoundError):
        roamify.get_esim(esim_id=str(uuid.uuid4()))
    with pytest.raises(NotFoundError):
        roamify.get_order(order_id=str(uuid.uuid4()))
    assert roamify.find_order(_ref("NONE")) is None


def test_missing_items_is_a_validation_error(roamify: RoamifyClient, sandbox: Any) -> None:
    with pytest.raises(ValidationError) as info:
        roamify.request("POST", "/api/esim/order", json={"packageId": "x", "quantity": 1})
    assert info.value.status_code == 400
    assert info.value.message == '"items" is required'
    assert sandbox.control.ledger() == []


def test_unknown_package_is_upstream_unavailable(roamify: RoamifyClient, sandbox: Any) -> None:
    ref = _ref("UNK")
    with pytest.raises(UpstreamUnavailable) as info:
        roamify.create_order([("esim-atlantis-7days-1gb-all", 1)], reference_id=ref)
    assert info.value.status_code == 500 and info.value.message == "Unknown error"
    assert _ledger_for(sandbox, ref) == []


def test_insufficient_balance(roamify: RoamifyClient, sandbox: Any, package: Package) -> None:
    sandbox.control.set_balance(0)
    with pytest.raises(InsufficientBalanceError) as info:
        roamify.create_order([(package.package_id, 1)], reference_id=_ref("BAL"))
    assert "balance" in info.value.message.lower()
    with pytest.raises(InsufficientBalanceError):
        roamify.create_instant_order([(package.package_id, 1)], reference_id=_ref("BAL"))
    assert sandbox.control.ledger() == []
    assert roamify.balance().amount_cents == 0


def test_get_500_once_is_retried_transparently(
    roamify: RoamifyClient, sandbox: Any, caplog: pytest.LogCaptureFixture
) -> None:
    sandbox.control.inject_fault("GET", "/api/balance", count=1, status=500)
    with caplog.at_level(logging.DEBUG, logger="roamify"):
        assert roamify.balance().currency == "USD"
    calls = [r.getMessage() for r in caplog.records if "GET /api/balance ->" in r.getMessage()]
    assert len(calls) == 2 and "-> 500" in calls[0] and "-> 200" in calls[1]


def test_get_503_beyond_retries(roamify: RoamifyClient, sandbox: Any) -> None:
    sandbox.control.inject_fault("GET", "/api/esim/countries", count=10, status=503)
    with pytest.raises(UpstreamUnavailable) as info:
        roamify.countries()
    assert info.value.status_code == 503
    sandbox.control.clear_faults()
    assert roamify.countries()


def test_instant_order_timeout_then_find_order(sandbox: Any, package: Package) -> None:
    ref = _ref("SLOW")
    sandbox.control.inject_fault("POST", "/api/esim/order/instant", hang_seconds=2.0, then="create")
    with RoamifyClient(base_url=sandbox.base_url, token=sandbox.token, instant_order_timeout=1.0) as client:
        # The sandbox answers (with the order) after 2 s: a timeout means the client gave up
        # first, on the instant order's own limit, not the default one.
        with pytest.raises(UpstreamTimeout, match=r"order/instant timed out after 1s"):
            client.create_instant_order([(package.package_id, 1)], reference_id=ref)
        # What the fulfilment task does next: look up before ordering again.
        order = _wait_for(lambda: client.find_order(ref), timeout=6.0)
    assert order.reference_id == ref
    # Never retried: the client is synchronous, so a retry would have been made (and ordered
    # again, the fault being spent) before the timeout above was raised.
    assert len(_ledger_for(sandbox, ref)) == 1


def test_instant_order_slow_path_completes_later(
    roamify: RoamifyClient, sandbox: Any, package: Package
) -> None:
    sandbox.control.set_knobs(instant_pending_seconds=0.5)
    ref = _ref("LATE")
    order = roamify.create_instant_order([(package.package_id, 1)], reference_id=ref)
    assert order.status == "PENDING"
    assert all(e.status == "NEW" and e.profile is None for e in order.esims)
    done = _wait_for(lambda: (o := roamify.get_order(reference_id=ref)).status == "COMPLETED" and o)
    esim = roamify.get_esim(esim_id=done.esim_ids[0])
    assert esim.status == "READY" and esim.has_profile


def test_pending_profile_then_poll(roamify: RoamifyClient, sandbox: Any, package: Package) -> None:
    order = roamify.create_order([(package.package_id, 1)], reference_id=_ref("PEND"))
    esim_id = order.esim_ids[0]
    sandbox.control.set_knobs(apply_pending_seconds=1.0)
    with pytest.raises(ProfilePendingError) as info:
        roamify.apply(esim_id=esim_id)
    assert info.value.message == "eSIM is still pending processing"
    # Documented recovery: poll the eSIM by id instead of applying again.
    esim = _wait_for(lambda: (e := roamify.get_esim(esim_id=esim_id)).status == "READY" and e, timeout=6.0)
    assert esim.has_profile and esim.iccid


# ------------------------------------------------------------------ whole catalog


def _catalog_ids(client: RoamifyClient, page_size: int) -> tuple[list[str], int]:
    groups = client.all_packages(page_size=page_size)
    ids = [p.package_id for g in groups for p in g.packages]
    return ids, len(groups)


def test_whole_catalog_paged_by_group(roamify: RoamifyClient, sandbox: Any) -> None:
    expected = sandbox.control.special_packages()
    ids, destinations = _catalog_ids(roamify, page_size=50)
    assert len(ids) == len(set(ids)) == expected["packageCount"] >= 27_000
    assert destinations == expected["groupCount"] >= 190
    again, _ = _catalog_ids(roamify, page_size=50)
    assert again == ids  # deterministic


def test_whole_catalog_paged_by_package(roamify_sandbox_package_paging: Any) -> None:
    sb = roamify_sandbox_package_paging
    sb.control.reset()
    expected = sb.control.special_packages()
    with RoamifyClient(base_url=sb.base_url, token=sb.token, backoff_base=0.01) as client:
        ids, destinations = _catalog_ids(client, page_size=1000)
        # A page size that splits destination groups across pages, over a slice.
        sliced = [p.package_id for p in islice(client.iter_packages(page_size=7), 280)]
    assert len(ids) == len(set(ids)) == expected["packageCount"] >= 27_000
    assert destinations == expected["groupCount"] >= 190
    assert sliced == ids[:280]
