from __future__ import annotations

import itertools

import pytest

from catalog.models import Destination, Package
from catalog.pricing import PricingRules, retail_price
from discounts.models import DiscountCode

_ids = itertools.count(1)


def destination(name: str, region: str, code: str) -> Destination:
    found, _ = Destination.objects.get_or_create(
        upstream_id=f"{name.lower()}-esims",
        defaults={"code": code, "name": name, "slug": name.lower(), "geography": "local", "region": region},
    )
    return found


def package(dest: Destination, wholesale: int = 500, retail: int | None = None) -> Package:
    """A catalog row of our own (no upstream call): a discount is worked out from the catalog."""
    n = next(_ids)
    return Package.objects.create(
        package_id=f"{dest.slug}-test-{n}",
        destination=dest,
        name=f"{dest.name} 1GB {n}",
        days=7,
        data_mb=1024,
        wholesale_cents=wholesale,
        retail_cents=retail or retail_price(wholesale, PricingRules.from_settings()),
        upstream_hash="t",
    )


def code(text: str = "JAPAN10", **fields) -> DiscountCode:
    scope = {k: fields.pop(k) for k in ("destinations", "packages") if k in fields}
    if "percent_off" not in fields and "amount_off_cents" not in fields:
        fields["percent_off"] = 10
    made = DiscountCode.objects.create(code=text, **fields)
    for name, rows in scope.items():
        getattr(made, name).set(rows)
    return made


@pytest.fixture
def japan(db) -> Package:
    """$9.99 (cost $5.00; the floor, cost + $1.00 margin, is $6.00)."""
    return package(destination("Japan", "Asia", "JP"), wholesale=500, retail=999)


@pytest.fixture
def france(db) -> Package:
    return package(destination("France", "Europe", "FR"), wholesale=500, retail=999)
