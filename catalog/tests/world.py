"""The sandbox's ~208 real destinations as catalog rows (no HTTP, no packages): for search tests."""

from __future__ import annotations

from catalog.models import Destination
from catalog.popularity import starting_popularity
from catalog.services import load_default_aliases
from sandboxes.roamify.catalog import destinations


def make_world() -> dict[str, Destination]:
    """Every sandbox destination, regions linked to their countries; returns them by name."""
    dests = destinations()
    Destination.objects.bulk_create(
        [
            Destination(
                upstream_id=f"{d.slug}-esims",
                code=d.code,
                name=d.name,
                slug=d.slug,
                geography=d.geography,
                region=d.region,
                package_count=10,
                from_price_cents=300 + 10 * len(d.covers),
                popularity=starting_popularity(d.code),
            )
            for d in dests
        ]
    )
    by_slug = {d.slug: d for d in Destination.objects.all()}
    country = {d.code: by_slug[d.slug] for d in dests if d.geography == "local"}
    through = Destination.covers.through
    through.objects.bulk_create(
        [
            through(from_destination_id=by_slug[d.slug].id, to_destination_id=country[c].id)
            for d in dests
            if d.geography != "local"
            for c in d.covers
            if c in country
        ]
    )
    load_default_aliases()
    return {d.name: d for d in by_slug.values()}
