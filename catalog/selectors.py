"""Read paths of the catalog. Each returns a fixed number of queries, whatever the catalog size."""

from __future__ import annotations

from django.db.models import F, Q, QuerySet

from .models import CompatibleDevice, Destination, Geography, Package


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


def search_destinations(query: str, limit: int = 50) -> list[Destination]:
    """Countries and regions whose name starts with, then contains, the query."""
    query = clean_query(query)
    if not query:
        return []
    matches = list(
        Destination.objects.active()
        .filter(Q(name__icontains=query) | Q(code__iexact=query))
        .only(*LIST_FIELDS)[: limit * 2]
    )
    q = query.lower()
    matches.sort(key=lambda d: (d.code.lower() != q and not d.name.lower().startswith(q),
                                d.geography != Geography.LOCAL, d.name))
    return matches[:limit]


def package_list(destination: Destination, filters: dict) -> QuerySet[Package]:
    packages = destination.packages.active()
    if filters.get("unlimited"):
        packages = packages.filter(is_unlimited=True)
    if data := filters.get("data"):
        packages = packages.filter(Q(is_unlimited=True) | Q(data_mb__gte=int(data) * 1024))
    if days := filters.get("days"):
        low, _, high = days.partition("-")
        packages = packages.filter(days__gte=int(low))
        if high:
            packages = packages.filter(days__lte=int(high))
    order = {
        "price_per_gb": [F("price_per_gb_cents").asc(nulls_last=True), "retail_cents"],
        "data": [F("is_unlimited").desc(), F("data_mb").desc(nulls_last=True), "retail_cents"],
        "days": ["-days", "retail_cents"],
    }.get(filters.get("sort") or "price", ["retail_cents", "days"])
    return packages.order_by(*order, "id")


def regions_covering(destination: Destination) -> list[Destination]:
    if destination.geography != Geography.LOCAL:
        return []
    return list(destination.covered_by.active().only(*LIST_FIELDS).order_by("geography", "name"))


def covered_countries(destination: Destination) -> list[Destination]:
    if destination.geography == Geography.LOCAL:
        return []
    return list(destination.covers.only("id", "name", "slug", "code", "geography", "active",
                                        "package_count").order_by("name"))


def find_devices(query: str, limit: int = 10) -> list[CompatibleDevice]:
    words = clean_query(query).lower().replace("-", " ").split()[:6]
    if not words:
        return []
    devices = CompatibleDevice.objects.all()
    for word in words:
        devices = devices.filter(search_text__contains=word)
    return list(devices[:limit])
