"""Domain actions of the catalog: sync from upstream, repricing.

The sync reads the whole upstream catalog first (pages fetched concurrently),
then compares it with the shop's rows by a hash of what upstream said, and
writes only what changed, in one transaction. Packages that vanish upstream
are deactivated, never deleted: orders point at them. A price rise of more than
PRICE_RISE_REVIEW_PERCENT keeps the old price and waits for staff
(`approve_price_rises`); a package whose kept price is below the new cost plus
the minimum margin is not sold meanwhile.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Min, Q
from django.utils import timezone
from django.utils.text import slugify

import roamify
from core import audit
from core.roamify_client import roamify_client

from .aliases import default_aliases
from .bulk import fast_update
from .cache import bump_catalog_version
from .events import CatalogAction
from .models import CompatibleDevice, Destination, DestinationAlias, Package, SyncChange, SyncRun
from .popularity import starting_popularity
from .pricing import PricingRules, below_floor, needs_review, price_per_gb, retail_price

logger = logging.getLogger(__name__)

Progress = Callable[[str, int, int | None], None]  # (stage, done, total or None)

PACKAGE_FIELDS = [
    "destination_id",
    "name",
    "plan",
    "activation",
    "days",
    "data_mb",
    "is_unlimited",
    "throttle_threshold_mb",
    "throttle_speed_kbps",
    "with_hotspot",
    "with_data_roaming",
    "with_usage_check",
    "travel_date_required",
    "with_calls",
    "call_minutes",
    "with_sms",
    "sms_count",
    "apn",
    "apn_automatic",
    "notes",
    "wholesale_cents",
    "retail_cents",
    "proposed_retail_cents",
    "proposed_at",
    "held_for_review",
    "price_per_gb_cents",
    "active",
    "deactivated_at",
    "upstream_hash",
    "updated_at",
]
DESTINATION_FIELDS = [
    "code",
    "name",
    "geography",
    "region",
    "image_url",
    "signals",
    "upstream_hash",
    "active",
    "updated_at",
]


def _digest(value: object) -> str:
    return hashlib.md5(repr(value).encode(), usedforsecurity=False).hexdigest()


UNLIMITED_COUNT = -1  # calls or SMS with no cap


def _allowance(amount: int | None) -> int | None:
    """Upstream sends "unlimited" minutes or SMS as a huge number (JS MAX_SAFE_INTEGER)."""
    if amount is None or amount < 0:
        return None
    return UNLIMITED_COUNT if amount >= 1_000_000 else amount


def _throttle_mb(throttle: roamify.Throttle | None) -> tuple[int | None, int | None]:
    if throttle is None:
        return None, None
    unit = throttle.threshold_unit.lower()
    factor = {"gb": 1024, "mb": 1, "kb": 1 / 1024}.get(unit, 1)
    speed = throttle.speed * (1000 if throttle.speed_unit.lower() == "mbps" else 1)
    return int(throttle.threshold * factor), int(speed)


@dataclass
class UpstreamCatalog:
    destinations: dict[str, roamify.Destination] = field(default_factory=dict)
    packages: dict[str, roamify.Package] = field(default_factory=dict)
    pages: int = 0


def fetch_upstream_catalog(
    client: roamify.RoamifyClient,
    page_size: int,
    concurrency: int,
    max_pages: int,
    progress: Progress | None = None,
) -> UpstreamCatalog:
    """Every destination and package upstream, pages fetched `concurrency` at a time.

    Stops at the first short page (the documented rule) and works whether
    upstream pages by destination groups or by single packages.
    """
    catalog = UpstreamCatalog()
    next_page = 1
    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        while True:
            if next_page > max_pages:
                raise roamify.PagingError(f"catalog not exhausted after {max_pages} pages")
            window = range(next_page, min(next_page + concurrency, max_pages + 1))
            pages = list(pool.map(lambda p: client.packages_page(p, page_size), window))
            short = False
            for groups in pages:
                catalog.pages += 1
                n_packages = 0
                for group in groups:
                    catalog.destinations.setdefault(group.destination.id, group.destination)
                    for package in group.packages:
                        n_packages += 1
                        catalog.packages.setdefault(package.package_id, package)
                if len(groups) < page_size and n_packages < page_size:
                    short = True
                    break
            if progress:
                progress("fetch", len(catalog.packages), None)
            if short:
                return catalog
            next_page += len(window)


@dataclass
class SyncResult:
    run: SyncRun
    changed_anything: bool


def _package_values(
    pkg: roamify.Package,
    digest: str,
    destination: Destination,
    rules: PricingRules,
    override_cents: int | None,
) -> dict:
    threshold_mb, speed_kbps = _throttle_mb(pkg.throttle)
    retail = retail_price(pkg.price_cents, rules, destination.markup_percent, override_cents)
    return {
        "destination_id": destination.id,
        "name": pkg.name[:200],
        "plan": pkg.plan or "",
        "activation": pkg.activation or "",
        "days": pkg.days or 0,
        "data_mb": None if pkg.is_unlimited else pkg.data_mb,
        "is_unlimited": pkg.is_unlimited,
        "throttle_threshold_mb": threshold_mb,
        "throttle_speed_kbps": speed_kbps,
        "with_hotspot": pkg.with_hotspot,
        "with_data_roaming": pkg.with_data_roaming,
        "with_usage_check": pkg.with_usage_check,
        "travel_date_required": pkg.travel_date_required,
        "with_calls": pkg.with_call,
        "call_minutes": _allowance(pkg.call_amount),
        "with_sms": pkg.with_sms,
        "sms_count": _allowance(pkg.sms_amount),
        "apn": pkg.apn or "",
        "apn_automatic": pkg.apn_automatic,
        "notes": list(pkg.notes),
        "wholesale_cents": pkg.price_cents,
        "retail_cents": retail,
        "proposed_retail_cents": None,
        "proposed_at": None,
        "held_for_review": False,
        "price_per_gb_cents": None if pkg.is_unlimited else price_per_gb(retail, pkg.data_mb),
        "active": True,
        "deactivated_at": None,
        "upstream_hash": digest,
    }


def _unique_slug(wanted: str, code: str, taken: set[str]) -> str:
    slug = slugify(wanted)[:120] or slugify(code) or "destination"
    if slug in taken:
        slug = f"{slug}-{slugify(code)}"
    n = 2
    base = slug
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    taken.add(slug)
    return slug


def _sync_destinations(
    upstream: Iterable[roamify.Destination], now, run: SyncRun
) -> tuple[dict[str, Destination], set[int]]:
    """Create and update destinations; returns them by upstream id, and the ids written."""
    existing = {d.upstream_id: d for d in Destination.objects.all()}
    taken = {d.slug for d in existing.values()}
    new, changed = [], []
    for dest in upstream:
        digest = _digest(dest)
        values = {
            "code": dest.code[:20],
            "name": dest.name[:200],
            "geography": dest.geography or "local",
            "region": (dest.region or "")[:80],
            "image_url": (dest.image_url or "")[:500],
            "signals": [
                {"code": s.code, "name": s.name, "networks": list(s.networks), "carriers": list(s.carriers)}
                for s in dest.signals
            ],
            "upstream_hash": digest,
            "active": True,
            "updated_at": now,
        }
        current = existing.get(dest.id)
        if current is None:
            slug = _unique_slug(dest.slug or dest.name, dest.code, taken)
            obj = Destination(
                upstream_id=dest.id, slug=slug, popularity=starting_popularity(dest.code), **values
            )
            new.append(obj)
        elif current.upstream_hash != digest or not current.active:
            for key, value in values.items():
                setattr(current, key, value)
            changed.append(current)
    if new:
        Destination.objects.bulk_create(new, batch_size=500)
    if changed:
        Destination.objects.bulk_update(changed, DESTINATION_FIELDS, batch_size=500)
    run.destinations_added, run.destinations_changed = len(new), len(changed)
    if new or changed:
        _link_coverage(new + changed)
        return {d.upstream_id: d for d in Destination.objects.all()}, {d.id for d in new + changed}
    return existing, set()


def _link_coverage(destinations: list[Destination]) -> None:
    """Regional and global destinations cover the countries named in their signals."""
    multi = [d for d in destinations if d.geography != "local"]
    if not multi:
        return
    by_code = dict(Destination.objects.filter(geography="local").values_list("code", "id"))
    through = Destination.covers.through
    through.objects.filter(from_destination_id__in=[d.id for d in multi]).delete()
    through.objects.bulk_create(
        [
            through(from_destination_id=d.id, to_destination_id=by_code[s["code"]])
            for d in multi
            for s in d.signals
            if s.get("code") in by_code and by_code[s["code"]] != d.id
        ],
        ignore_conflicts=True,
    )


def _sync_devices(client: roamify.RoamifyClient) -> int:
    devices = client.compatible_devices()
    wanted = {d.model[:300]: d for d in devices}
    have = {
        (m, n, b, o, t)
        for m, n, b, o, t in CompatibleDevice.objects.values_list(
            "model", "name", "brand", "os", "device_type"
        )
    }
    rows = {
        (m, d.name[:300], (d.brand or "")[:80], (d.os or "")[:40], (d.device_type or "")[:40])
        for m, d in wanted.items()
    }
    if rows == have:
        return 0
    CompatibleDevice.objects.all().delete()
    CompatibleDevice.objects.bulk_create(
        [
            CompatibleDevice(
                model=m, name=n, brand=b, os=o, device_type=t, search_text=f"{m} {n} {b}".lower()[:700]
            )
            for m, n, b, o, t in rows
        ],
        batch_size=1000,
    )
    return len(rows)


# How many of upstream's newest eSIMs the sync reads to learn which packages take top-ups.
TOP_UP_SAMPLE = 500


def _sync_top_up_capable(client: roamify.RoamifyClient) -> int:
    """`top_up_capable` as upstream says it: the catalog JSON has no such flag, but every eSIM
    upstream delivers carries `withTopUp`, and its order names its package. The newest eSIM of a
    package decides; packages never sold keep their value. Returns the packages changed."""
    try:
        orders, esims = client.list_orders(limit=TOP_UP_SAMPLE), client.list_esims(limit=TOP_UP_SAMPLE)
    except roamify.RoamifyError as exc:  # the catalog is synced; this waits for the next run
        logger.warning("could not learn top-up support from upstream: %s", exc)
        return 0
    package_of: dict[str, str] = {}
    for order in reversed(orders):  # oldest first: the first order naming an eSIM bought it
        for item in order.items:
            if item.esim_id and item.package_id:
                package_of.setdefault(item.esim_id, item.package_id)
    capable: dict[str, bool] = {}
    for esim in esims:  # newest first
        package_id = package_of.get(esim.id)
        if package_id and package_id not in capable:
            capable[package_id] = esim.with_top_up
    changed = 0
    for value in (True, False):
        ids = [pid for pid, v in capable.items() if v is value]
        changed += (
            Package.objects.filter(package_id__in=ids)
            .exclude(top_up_capable=value)
            .update(top_up_capable=value, updated_at=timezone.now())
        )
    return changed


def refresh_destination_summaries(destination_ids: Iterable[int] | None = None) -> None:
    """Keep each destination's package count and 'from' price in step with its packages."""
    qs = Destination.objects.all()
    if destination_ids is not None:
        qs = qs.filter(id__in=list(destination_ids))
    stats = qs.annotate(
        n=Count("packages", filter=Q(packages__active=True, packages__held_for_review=False)),
        low=Min("packages__retail_cents", filter=Q(packages__active=True, packages__held_for_review=False)),
    )
    updates = []
    for d in stats:
        if d.package_count != d.n or d.from_price_cents != d.low:
            d.package_count, d.from_price_cents = d.n, d.low
            updates.append(d)
    Destination.objects.bulk_update(updates, ["package_count", "from_price_cents"], batch_size=500)


def sync_catalog(
    *,
    trigger: str = "command",
    client: roamify.RoamifyClient | None = None,
    progress: Progress | None = None,
) -> SyncResult:
    """Bring the shop's catalog in line with upstream. Records a SyncRun whatever happens."""
    client = client or roamify_client()
    run = SyncRun.objects.create(trigger=trigger)
    started = time.monotonic()
    try:
        upstream = fetch_upstream_catalog(
            client,
            settings.CATALOG_SYNC_PAGE_SIZE,
            settings.CATALOG_SYNC_CONCURRENCY,
            settings.CATALOG_SYNC_MAX_PAGES,
            progress,
        )
        run.pages, run.upstream_packages = upstream.pages, len(upstream.packages)
        if not upstream.packages:
            # An empty answer is far likelier an upstream fault than a closed shop.
            raise roamify.RoamifyError("upstream returned an empty catalog; nothing changed")
        with transaction.atomic():
            _apply(upstream, run, progress)
        run.devices = _sync_devices(client)
        load_default_aliases(only_if_empty=True)
        run.changed += _sync_top_up_capable(client)
        run.status = SyncRun.Status.SUCCEEDED
    except Exception as exc:
        run.status = SyncRun.Status.FAILED
        run.error = f"{type(exc).__name__}: {exc}"[:2000]
        logger.exception("catalog sync failed")
    finally:
        run.finished_at = timezone.now()
        run.duration_ms = int((time.monotonic() - started) * 1000)
        run.save()
    if run.changed_anything or run.devices:
        bump_catalog_version()
    return SyncResult(run, run.changed_anything)


def _apply(upstream: UpstreamCatalog, run: SyncRun, progress: Progress | None) -> None:
    now = timezone.now()
    rules = PricingRules.from_settings()
    destinations, changed_dests = _sync_destinations(upstream.destinations.values(), now, run)
    existing = {
        row[0]: row[1:]
        for row in Package.objects.values_list(
            "package_id",
            "id",
            "upstream_hash",
            "active",
            "price_override_cents",
            "destination_id",
            "wholesale_cents",
            "retail_cents",
        )
    }
    # Old cost and price of the rows that change, for the run's list of changes.
    prices: dict[int, tuple[int, int]] = {}
    new, changed = [], []
    total = len(upstream.packages)
    for i, (pid, pkg) in enumerate(upstream.packages.items(), 1):
        if progress and i % 2000 == 0:
            progress("compare", i, total)
        dest = destinations[pkg.destination.id] if pkg.destination else None
        if dest is None:
            continue
        current = existing.get(pid)
        digest = _digest(dataclasses.replace(pkg, destination=None))
        if current is None:
            values = _package_values(pkg, digest, dest, rules, None)
            new.append(Package(package_id=pid, updated_at=now, **values))
        else:
            pk, old_digest, active, override, old_dest, old_cost, old_price = current
            if old_digest == digest and active and old_dest == dest.id:
                continue
            values = _package_values(pkg, digest, dest, rules, override)
            _hold_big_rise(values, old_price, rules, now)
            changed.append(Package(id=pk, package_id=pid, updated_at=now, **values))
            prices[pk] = (old_cost, old_price)
    if new:
        Package.objects.bulk_create(new, batch_size=2000)
    if changed:
        fast_update(Package, changed, PACKAGE_FIELDS)
    vanished = [
        pk for pid, (pk, _, active, *_) in existing.items() if active and pid not in upstream.packages
    ]
    if vanished:
        Package.objects.filter(id__in=vanished).update(active=False, deactivated_at=now, updated_at=now)
    run.added, run.changed, run.deactivated = len(new), len(changed), len(vanished)
    _record_changes(run, new, changed, prices, vanished)
    if progress:
        progress("write", total, total)
    if new or changed or vanished or changed_dests:
        touched = {p.destination_id for p in new} | {p.destination_id for p in changed}
        touched |= set(Package.objects.filter(id__in=vanished).values_list("destination_id", flat=True))
        touched |= changed_dests
        refresh_destination_summaries(touched)


def _hold_big_rise(values: dict, old_price: int, rules: PricingRules, now) -> None:
    """A rise over the review percentage keeps the old price and proposes the new one; the package
    is held (not sold) while the kept price is below the new cost plus the minimum margin.
    A smaller rise, or a fall, goes live at once and ends any review still open."""
    price = values["retail_cents"]
    if not needs_review(old_price, price, rules):
        return
    values.update(
        retail_cents=old_price,
        price_per_gb_cents=None if values["is_unlimited"] else price_per_gb(old_price, values["data_mb"]),
        proposed_retail_cents=price,
        proposed_at=now,
        held_for_review=below_floor(old_price, values["wholesale_cents"], rules),
    )


def _record_changes(
    run: SyncRun,
    new: list[Package],
    changed: list[Package],
    old: dict[int, tuple[int, int]],
    vanished: list[int],
) -> None:
    """Each package the run added, changed (old and new cost and price, and a price rise held for
    review) or deactivated."""
    if run.pk is None:
        return
    added_ids = (
        dict(
            Package.objects.filter(package_id__in=[p.package_id for p in new]).values_list("package_id", "id")
        )
        if new
        else {}
    )
    rows = [
        SyncChange(
            run=run,
            package_id=added_ids[p.package_id],
            kind=SyncChange.Kind.ADDED,
            new_cost_cents=p.wholesale_cents,
            new_price_cents=p.retail_cents,
        )
        for p in new
        if p.package_id in added_ids
    ]
    lifted = _lifted_overrides(changed) if changed else set()
    for p in changed:
        old_cost, old_price = old.get(p.id, (None, None))
        rows.append(
            SyncChange(
                run=run,
                package_id=p.id,
                kind=SyncChange.Kind.CHANGED,
                old_cost_cents=old_cost,
                new_cost_cents=p.wholesale_cents,
                old_price_cents=old_price,
                new_price_cents=p.retail_cents,
                override_lifted=p.id in lifted,
                proposed_price_cents=p.proposed_retail_cents,
                stopped_selling=p.held_for_review,
            )
        )
    for pk, cost, price in Package.objects.filter(id__in=vanished).values_list(
        "id", "wholesale_cents", "retail_cents"
    ):
        rows.append(
            SyncChange(
                run=run,
                package_id=pk,
                kind=SyncChange.Kind.DEACTIVATED,
                old_cost_cents=cost,
                old_price_cents=price,
            )
        )
    SyncChange.objects.bulk_create(rows, batch_size=2000)


def _lifted_overrides(changed: list[Package]) -> set[int]:
    """Changed packages whose price override is now below cost plus margin: the price was lifted."""
    return {
        pk
        for pk, override, retail in Package.objects.filter(
            id__in=[p.id for p in changed], price_override_cents__isnull=False
        ).values_list("id", "price_override_cents", "retail_cents")
        if retail > override
    }


def reprice(destination_ids: Iterable[int] | None = None, package_ids: Iterable[int] | None = None) -> int:
    """Recompute retail prices after an admin changed a markup or an override.

    Staff chose the new prices, so they go live; only a package already awaiting a price review
    keeps its price and gets a new proposal (unless the new price is within the review percentage).
    """
    rules = PricingRules.from_settings()
    qs = Package.objects.select_related("destination")
    if destination_ids is not None:
        qs = qs.filter(destination_id__in=list(destination_ids))
    if package_ids is not None:
        qs = qs.filter(id__in=list(package_ids))
    updates = []
    for pkg in qs.only(
        "id",
        "wholesale_cents",
        "price_override_cents",
        "data_mb",
        "is_unlimited",
        "retail_cents",
        "proposed_retail_cents",
        "proposed_at",
        "held_for_review",
        "price_per_gb_cents",
        "destination__markup_percent",
    ):
        retail = retail_price(
            pkg.wholesale_cents, rules, pkg.destination.markup_percent, pkg.price_override_cents
        )
        before = (pkg.retail_cents, pkg.price_per_gb_cents, pkg.proposed_retail_cents, pkg.held_for_review)
        if pkg.proposed_retail_cents is not None and needs_review(pkg.retail_cents, retail, rules):
            pkg.proposed_retail_cents = retail
        else:
            pkg.retail_cents = retail
            pkg.price_per_gb_cents = None if pkg.is_unlimited else price_per_gb(retail, pkg.data_mb)
            pkg.proposed_retail_cents, pkg.proposed_at, pkg.held_for_review = None, None, False
        if (
            pkg.retail_cents,
            pkg.price_per_gb_cents,
            pkg.proposed_retail_cents,
            pkg.held_for_review,
        ) != before:
            updates.append(pkg)
    with transaction.atomic():
        fast_update(
            Package,
            updates,
            ["retail_cents", "price_per_gb_cents", "proposed_retail_cents", "proposed_at", "held_for_review"],
        )
        refresh_destination_summaries({p.destination_id for p in updates})
    if updates:
        bump_catalog_version()
    return len(updates)


def approve_price_rises(
    package_ids: Iterable[int], actor, seen: Mapping[int, int] | None = None
) -> list[Package]:
    """Staff approve the proposed prices: each goes live, its review ends, and a package held for
    being under cost is sold again. One audit entry per package. Returns the packages approved
    (those of `package_ids` still awaiting a review). With `seen` (package id → the proposed price
    staff were shown), a proposal a later sync changed meanwhile is left for another look."""
    with transaction.atomic():
        packages = [
            pkg
            for pkg in Package.objects.awaiting_price_review()
            .select_for_update()
            .filter(id__in=list(package_ids))
            .order_by("id")
            if seen is None or seen.get(pkg.id) == pkg.proposed_retail_cents
        ]
        for pkg in packages:
            before = audit.snapshot(
                pkg, ["wholesale_cents", "retail_cents", "proposed_retail_cents", "held_for_review"]
            )
            pkg.retail_cents = pkg.proposed_retail_cents
            pkg.price_per_gb_cents = None if pkg.is_unlimited else price_per_gb(pkg.retail_cents, pkg.data_mb)
            pkg.proposed_retail_cents, pkg.proposed_at, pkg.held_for_review = None, None, False
            pkg.updated_at = timezone.now()
            audit.record(
                actor,
                CatalogAction.PRICE_RISE_APPROVED,
                pkg,
                before,
                audit.snapshot(pkg, ["wholesale_cents", "retail_cents", "held_for_review"]),
            )
        fast_update(
            Package,
            packages,
            [
                "retail_cents",
                "price_per_gb_cents",
                "proposed_retail_cents",
                "proposed_at",
                "held_for_review",
                "updated_at",
            ],
        )
        refresh_destination_summaries({p.destination_id for p in packages})
    if packages:
        bump_catalog_version()
    return packages


def load_default_aliases(only_if_empty: bool = False) -> int:
    """Add the starting aliases (catalog/aliases.py) that are missing. Returns how many were added.

    With `only_if_empty`, only when there are none at all (a fresh or flushed database), so
    that aliases staff deleted in admin stay deleted after a sync.
    """
    if only_if_empty and DestinationAlias.objects.exists():
        return 0
    before = DestinationAlias.objects.count()
    DestinationAlias.objects.bulk_create(
        [DestinationAlias(alias=a, code=c, geography=g) for a, c, g in default_aliases()],
        ignore_conflicts=True,
    )
    added = DestinationAlias.objects.count() - before
    if added:
        bump_catalog_version()
    return added
