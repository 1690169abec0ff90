"""Reads for staff: the margin a code would leave on the packages it covers (the admin's preview)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Q

from catalog.models import Package
from catalog.pricing import PricingRules, floor_price


@dataclass(frozen=True)
class PackageMargin:
    package: Package
    price_cents: int  # the retail price, base currency
    discount_cents: int  # what the code takes off one, after the cap
    wanted_cents: int  # what it would take without the cap
    margin_cents: int  # what is left over the cost

    @property
    def capped(self) -> bool:
        return self.discount_cents < self.wanted_cents

    @property
    def sold_cents(self) -> int:
        return self.price_cents - self.discount_cents

    @property
    def margin_percent(self) -> Decimal:
        sold = self.sold_cents
        return (Decimal(self.margin_cents) * 100 / sold).quantize(Decimal("0.1")) if sold else Decimal(0)


@dataclass(frozen=True)
class MarginPreview:
    packages: int = 0
    capped: int = 0
    lowest: PackageMargin | None = None
    examples: list[PackageMargin] = field(default_factory=list)


def covered_packages(destinations, regions: list[str], packages):
    """The packages a code with this scope takes money off (active ones; a top-up is a package too,
    so its line kinds do not narrow them)."""
    scope = Q()
    if destinations:
        scope |= Q(destination__in=destinations)
    if regions:
        scope |= Q(destination__region__in=regions)
    if packages:
        scope |= Q(pk__in=[p.pk for p in packages])
    return Package.objects.active().filter(scope).select_related("destination")


def margin_preview(
    *,
    percent_off: int | None,
    amount_off_cents: int | None,
    destinations=(),
    regions: list[str] = (),
    packages=(),
    examples: int = 5,
) -> MarginPreview:
    """For one of each covered package in the base currency: the lowest margin the code leaves, how
    many packages the floor (cost + minimum margin) would cap, and the packages it leaves least on."""
    rules = PricingRules.from_settings()
    margins = []
    rows = covered_packages(list(destinations), list(regions), list(packages))
    for package in rows.only(
        "id", "package_id", "name", "retail_cents", "wholesale_cents", "destination__name"
    ):
        price = package.retail_cents
        if percent_off:
            wanted = int((Decimal(price) * percent_off / 100).to_integral_value(ROUND_HALF_UP))
        else:
            wanted = min(amount_off_cents or 0, price)
        cut = max(0, min(wanted, price - floor_price(package.wholesale_cents, rules)))
        margins.append(PackageMargin(package, price, cut, wanted, price - cut - package.wholesale_cents))
    if not margins:
        return MarginPreview()
    margins.sort(key=lambda m: (m.margin_cents, m.package.pk))
    return MarginPreview(
        packages=len(margins),
        capped=sum(1 for m in margins if m.capped),
        lowest=margins[0],
        examples=margins[:examples],
    )
