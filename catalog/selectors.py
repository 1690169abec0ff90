"""Read paths of the catalog. Each returns a fixed number of queries, whatever the catalog size."""

from __future__ import annotations

import re
import unicodedata

from django.db.models import Count, Min, Q, QuerySet
from django.urls import reverse

from .devices import Model, known_models
from .models import CompatibleDevice, Destination, Geography, Package
from .planner import Trip


def clean_query(text: str, limit: int = 60) -> str:
    """Visible characters only, spaces folded: a typed query, whatever was sent."""
    visible = "".join(ch if ch.isprintable() else " " for ch in text[: limit * 4])
    return " ".join(visible.split())[:limit]


LIST_FIELDS = ("id", "name", "slug", "code", "geography", "from_price_cents", "package_count")


def popular_destinations(limit: int = 12) -> list[Destination]:
    return list(
        Destination.objects.active()
        .filter(geography=Geography.LOCAL)
        .order_by("-popularity", "name")
        .only(*LIST_FIELDS)[:limit]
    )


def destinations_in(geography: str) -> list[Destination]:
    return list(Destination.objects.active().filter(geography=geography).only(*LIST_FIELDS))


def destinations_by_letter() -> list[tuple[str, list[Destination]]]:
    """Every country A–Z by its name in the page's language, grouped by first letter (the A–Z page).

    English keeps the catalog's own names and order. In another language "Égypte" files under E,
    beside "Espagne", not after Z.
    """
    countries = destinations_in(Geography.LOCAL)
    if all(d.local_name == d.name for d in countries):
        pairs = [(d.name[:1].upper(), d) for d in countries]
    else:
        keyed = sorted(((_sort_key(d.local_name), d) for d in countries), key=lambda kd: kd[0])
        pairs = [(key[:1].upper() if key[:1].isalpha() else d.local_name[:1], d) for key, d in keyed]
    groups: dict[str, list[Destination]] = {}
    for letter, d in pairs:
        groups.setdefault(letter, []).append(d)
    return sorted(groups.items())


def _sort_key(name: str) -> str:
    """A name without accents, case folded: close enough to each language's alphabetical order."""
    return "".join(
        ch for ch in unicodedata.normalize("NFKD", name) if not unicodedata.combining(ch)
    ).casefold()


def multi_country_destinations() -> list[Destination]:
    """Regions, then global plans, each with how many countries it covers (one query)."""
    return list(
        Destination.objects.active()
        .exclude(geography=Geography.LOCAL)
        .annotate(country_count=Count("covers"))
        .only(*LIST_FIELDS)
        .order_by("-geography", "-popularity", "name")  # regions, then global plans
    )


def destination_packages(destination: Destination) -> list[Package]:
    return list(destination.packages.active().order_by("days", "retail_cents", "id"))


def regions_covering(destination: Destination) -> list[Destination]:
    """Regional and global plans that also cover a country, smallest region first."""
    if destination.geography != Geography.LOCAL:
        return []
    # Filter by a subquery: counting "covers" through the covered_by join would count only this country.
    regions = (
        Destination.objects.active()
        .filter(id__in=destination.covered_by.values("id"))
        .annotate(country_count=Count("covers"))
        .only(*LIST_FIELDS)
    )
    return sorted(regions, key=lambda d: (d.country_count, d.name))


def region_prices_for(regions: list[Destination], trip: Trip | None) -> dict[int, int]:
    """The lowest price in each region of a plan that fits the trip (one query, none without a trip)."""
    if not regions or trip is None or not trip.complete:
        return {}
    packages = Package.objects.active().filter(destination__in=regions, days__gte=trip.days)
    need = trip.need_mb
    packages = (
        packages.filter(is_unlimited=True)
        if need is None
        else packages.filter(Q(is_unlimited=True) | Q(data_mb__gte=need))
    )
    return dict(
        packages.values("destination_id")
        .annotate(low=Min("retail_cents"))
        .values_list("destination_id", "low")
    )


def covered_countries(destination: Destination) -> list[Destination]:
    if destination.geography == Geography.LOCAL:
        return []
    return list(
        destination.covers.only(
            "id", "name", "slug", "code", "geography", "active", "package_count"
        ).order_by("name")
    )


def device_models() -> list[Model]:
    """Every known model, upstream's eSIM phones split one per model (one query)."""
    return known_models(list(CompatibleDevice.objects.only("model", "brand", "os")))


PLAN_PATH = re.compile(r"^/esim/[a-z0-9-]+/([A-Za-z0-9._-]+/)?$")


def plan_path(value: str) -> str:
    """A destination or plan page to go back to after a device check; anything else is dropped."""
    return value if PLAN_PATH.match(value or "") else ""


def packages_awaiting_price_review() -> QuerySet[Package]:
    """Packages whose price a sync wanted to raise by more than PRICE_RISE_REVIEW_PERCENT, newest
    first: the old price stays until staff approve (those `held_for_review` are not sold meanwhile).
    `.count()` is one query on a small partial index."""
    return (
        Package.objects.awaiting_price_review().select_related("destination").order_by("-proposed_at", "id")
    )


def price_review_admin_url() -> str:
    """The admin list of packages awaiting a price review, where staff approve them."""
    return reverse("admin:catalog_package_changelist") + "?price_review=awaiting"
