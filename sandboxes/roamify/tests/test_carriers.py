"""The sandbox names each country's own networks (issue 10, item 6)."""

from __future__ import annotations

import json

from sandboxes.roamify import catalog
from sandboxes.roamify.catalog import PackageFilter
from sandboxes.roamify.data import COUNTRIES, GENERIC_CARRIERS, MAJOR_CARRIERS

BASE = "http://sandbox.test"


def carriers_by_code() -> dict[str, list[str]]:
    groups = json.loads(catalog.build(1, BASE).page(PackageFilter(), 1, 10_000, "group"))
    return {s["code"]: s["carriers"] for g in groups for s in g["signals"]}


def test_top_destinations_name_their_real_carriers() -> None:
    assert len(MAJOR_CARRIERS) >= 60
    assert {c for c, _, _ in COUNTRIES} >= set(MAJOR_CARRIERS)
    found = carriers_by_code()
    assert set(found["JP"]) <= {"NTT Docomo", "SoftBank", "KDDI au"}
    assert set(found["FR"]) <= {"Orange", "SFR", "Bouygues Telecom", "Free Mobile"}
    for code, carriers in found.items():
        own = MAJOR_CARRIERS.get(code, GENERIC_CARRIERS)
        assert carriers and set(carriers) <= set(own), code
        assert len(carriers) >= min(2, len(own))


def test_carriers_are_deterministic() -> None:
    catalog.build.cache_clear()
    first = carriers_by_code()
    catalog.build.cache_clear()
    assert carriers_by_code() == first
