from __future__ import annotations

import pytest

from catalog.models import Destination, Package
from catalog.pricing import PricingRules, retail_price
from core.roamify_client import roamify_client


def make_package(country_code: str = "JP", *, package_id: str | None = None) -> Package:
    """A catalog row for a real sandbox package, so upstream knows its id."""
    if package_id:
        group = roamify_client().packages_page(1, 5, package_id=package_id)[0]
        upstream = group.packages[0]
    else:
        group = roamify_client().packages_page(1, 5, country_code=country_code)[0]
        upstream = next(p for p in group.packages if not p.travel_date_required and not p.is_unlimited)
    dest = group.destination
    destination, _ = Destination.objects.get_or_create(
        upstream_id=dest.id,
        defaults={
            "code": dest.code,
            "name": dest.name,
            "slug": dest.slug or dest.id,
            "geography": dest.geography or "local",
            "package_count": 1,
        },
    )
    retail = retail_price(upstream.price_cents, PricingRules.from_settings())
    return Package.objects.create(
        package_id=upstream.package_id,
        destination=destination,
        name=upstream.name,
        activation=upstream.activation or "",
        days=upstream.days or 1,
        data_mb=upstream.data_mb,
        wholesale_cents=upstream.price_cents,
        retail_cents=retail,
        upstream_hash="t",
        travel_date_required=upstream.travel_date_required,
    )


@pytest.fixture
def package(roamify, db) -> Package:
    return make_package()
