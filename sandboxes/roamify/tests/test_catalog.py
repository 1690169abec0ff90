"""Catalog generator: deterministic, big enough, the §2.3 shape, fast."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys

from sandboxes._process import REPO_ROOT
from sandboxes.roamify import catalog
from sandboxes.roamify.catalog import MAX_SAFE_INTEGER, PackageFilter
from sandboxes.roamify.esims import luhn_digit, luhn_ok

BASE = "http://sandbox.test"
PACKAGE_KEYS = [
    "packageId",
    "package",
    "plan",
    "activation",
    "day",
    "price",
    "isUnlimited",
    "isAPNAutomatic",
    "apn",
    "dataAmount",
    "dataUnit",
    "callType",
    "callAmount",
    "callUnit",
    "smsType",
    "smsAmount",
    "smsUnit",
    "withSMS",
    "withCall",
    "withHotspot",
    "withDataRoaming",
    "withDestinationInstall",
    "withUsageCheck",
    "withThrottle",
    "throttle",
    "requirements",
    "notes",
]
GROUP_KEYS = [
    "id",
    "countryName",
    "countryCode",
    "countrySlug",
    "region",
    "geography",
    "minPrice",
    "maxPrice",
    "image",
    "signals",
    "packages",
]


def everything(cat: catalog.Catalog) -> list[dict]:
    return json.loads(cat.page(PackageFilter(), 1, 10_000, "group"))


def test_same_seed_same_catalog_other_seed_differs() -> None:
    fresh = catalog.build.__wrapped__(1, BASE)  # bypass the cache: really generate again
    cached = catalog.build(1, BASE)
    assert [(g.header, g.packages) for g in fresh.groups] == [(g.header, g.packages) for g in cached.groups]
    other = catalog.build.__wrapped__(2, BASE)
    assert [g.packages for g in other.groups] != [g.packages for g in fresh.groups]


def test_same_seed_same_hash_in_another_process() -> None:
    # A separate interpreter has a different hash() salt: catches any reliance on it.
    code = (
        "import hashlib; from sandboxes.roamify import catalog as c; "
        f"print(hashlib.sha256(c.build(1, {BASE!r}).page(c.PackageFilter(), 1, 10000, "
        "'group')).hexdigest())"
    )
    env = {**os.environ, "PYTHONHASHSEED": "random", "PYTHONPATH": str(REPO_ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO_ROOT,
        check=True,
        timeout=60,
    ).stdout.strip()
    local = catalog.build(1, BASE).page(PackageFilter(), 1, 10_000, "group")
    assert out == hashlib.sha256(local).hexdigest()


def test_counts_and_shape() -> None:
    groups = everything(catalog.build(1, BASE))
    ids = [p["packageId"] for g in groups for p in g["packages"]]
    assert len(ids) == len(set(ids)) >= 27_000
    assert len(groups) >= 190
    geos = [g["geography"] for g in groups]
    assert geos.count("regional") >= 10 and geos.count("global") >= 3
    assert len({g["id"] for g in groups}) == len(groups)
    for g in groups:
        assert list(g) == GROUP_KEYS
        assert g["id"] == f"{g['countrySlug']}-esims"
        assert g["image"].startswith(BASE + "/images/flags/")
        prices = [p["price"] for p in g["packages"]]
        assert (g["minPrice"], g["maxPrice"]) == (min(prices), max(prices))
        if g["geography"] != "local":
            assert len(g["signals"]) > 1
        for p in g["packages"]:
            assert list(p) == PACKAGE_KEYS
            assert re.fullmatch(rf"esim-{g['countrySlug']}-\d+days-[a-z0-9-]+-all", p["packageId"])
            assert p["price"] == round(p["price"], 2) and p["price"] > 0
    pkgs = [p for g in groups for p in g["packages"]]
    assert 25 <= sum(p["requirements"]["travelDate"] for p in pkgs) <= 35
    unlimited = [p for p in pkgs if p["isUnlimited"]]
    assert len(unlimited) > 1000
    assert all(p["dataAmount"] == MAX_SAFE_INTEGER and p["withThrottle"] and p["throttle"] for p in unlimited)
    no_usage = [p for p in pkgs if not p["withUsageCheck"]]
    assert no_usage and all(p["notes"] for p in no_usage)
    assert {p["day"] for p in pkgs} == set(catalog.DAYS)


def test_prices_are_realistic() -> None:
    groups = everything(catalog.build(1, BASE))
    one_gb_week = [
        p["price"]
        for g in groups
        if g["geography"] == "local"
        for p in g["packages"]
        if p["packageId"].endswith("-7days-1gb-all")
    ]
    assert one_gb_week
    median = sorted(one_gb_week)[len(one_gb_week) // 2]
    assert 3 <= median <= 6


def test_filters_and_package_paging() -> None:
    cat = catalog.build(1, BASE)
    japan = json.loads(cat.page(PackageFilter(country="Japan", days=7), 1, 50, "group"))
    assert [g["id"] for g in japan] == ["japan-esims"]
    assert {p["day"] for p in japan[0]["packages"]} == {7}
    unl = json.loads(cat.page(PackageFilter(is_unlimited=True, gbs=1), 1, 500, "group"))
    assert all(p["isUnlimited"] for g in unl for p in g["packages"])
    rows = json.loads(cat.page(PackageFilter(gbs=0.5), 1, 500, "group"))
    assert all(p["dataAmount"] == 512 for g in rows for p in g["packages"])
    # package mode: pages of exactly pageSize packages, groups split across pages
    seen: list[str] = []
    page = 1
    while True:
        rows = json.loads(cat.page(PackageFilter(), page, 777, "package"))
        n = sum(len(g["packages"]) for g in rows)
        seen += [p["packageId"] for g in rows for p in g["packages"]]
        if n < 777:
            break
        page += 1
    assert len(seen) == len(set(seen)) == cat.package_count()


def test_copy_on_write_edits_leave_pristine_alone() -> None:
    pristine = catalog.build(1, BASE)
    live = pristine.copy()
    pid = "esim-japan-7days-1gb-all"
    assert live.package(pid) is not None
    live.update_package(pid, {"price": 99.999})
    assert live.package(pid)["price"] == 100  # type: ignore[index]
    assert pristine.package(pid)["price"] != 100  # type: ignore[index]
    live.remove_package(pid)
    assert live.package(pid) is None and pristine.package(pid) is not None
    added = live.add_package(
        "japan-esims", {"packageId": "esim-japan-2days-7gb-all", "price": 7, "day": 2, "dataAmount": 7168}
    )
    assert list(added) == PACKAGE_KEYS
    assert live.group("japan-esims").header["maxPrice"] >= 7  # type: ignore[union-attr]


def test_luhn() -> None:
    assert luhn_digit("7992739871") == "3"
    assert luhn_ok("79927398713") and not luhn_ok("79927398710")
