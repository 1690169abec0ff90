"""The catalog sync against the Roamify sandbox over HTTP, into PostgreSQL.

A first sync writes 28,000 packages, which takes most of its time, so TestSync does one (with
the management command) and each of its tests checks one thing on top of it: what arrived,
what an unchanged re-sync, upstream changes and upstream failures do. Re-syncs only compare,
and are quick. The admin and page-cache tests need no sandbox.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count, F, Max, Min, Q
from django.db.models.functions import Mod
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

import roamify
from catalog.cache import bump_catalog_version, catalog_version
from catalog.models import CompatibleDevice, Destination, DestinationAlias, Package, SyncChange, SyncRun
from catalog.pricing import PricingRules, round_to_ending
from catalog.selectors import destination_packages, packages_awaiting_price_review, price_review_admin_url
from catalog.services import reprice, sync_catalog
from checkout import cart
from checkout.services import CheckoutError, place_order
from conftest import need
from core.models import AuditEntry

from .factories import DestinationFactory, PackageFactory

# The sync tests and the catalog journey share the sandbox: one worker runs them all.
pytestmark = pytest.mark.xdist_group("catalog-sync")

PACKAGES_PATH = "/api/esim/packages"

# Wholesale → retail by the rules (35 % markup, at least $1.00 margin, rounded up to .99),
# worked out by hand from the sandbox's seed-1 prices.
EXPECTED_PRICES = {
    "esim-japan-7days-1gb-all": (462, 699),  # 462 × 1.35 = 623.7 → 6.24 → 6.99
    "esim-japan-1days-1gb-all": (409, 599),  # 552.15 → 5.53 → 5.99
    "esim-japan-30days-10gb-all": (2100, 2899),  # 2835 → 28.99
    "esim-japan-14days-100gb-all": (10816, 14699),  # 14601.6 → 146.02 → 146.99
}


@pytest.fixture
def fresh_cache(clear_cache):
    """Each test starts with this process's cache empty."""


def fast_client(sandbox) -> roamify.RoamifyClient:
    """The shop's client settings, with short back-off so failure cases stay quick."""
    return roamify.RoamifyClient(sandbox.base_url, sandbox.token, backoff_base=0.01, backoff_max=0.05)


def writes_during(fn):
    """Run fn; return its result and the tables written to (INSERT/UPDATE/DELETE)."""
    with CaptureQueriesContext(connection) as ctx:
        result = fn()
    written = set()
    for q in ctx.captured_queries:
        sql = q["sql"].lstrip().upper()
        if sql.startswith(("INSERT", "UPDATE", "DELETE")):
            table = sql.split()[2] if sql.startswith(("INSERT", "DELETE")) else sql.split()[1]
            written.add(table.strip('"').lower())
    return result, written


def changed_since(moment) -> set[str]:
    return set(Package.objects.filter(updated_at__gt=moment).values_list("package_id", flat=True))


def page(client, url):
    response = client.get(url)
    return response.status_code, response.get("X-Page-Cache"), response.content.decode()


@pytest.fixture(scope="class")
def first_sync(django_db_setup, django_db_blocker, roamify_sandbox) -> Iterator[FirstSync]:
    """The whole seed-1 catalog, synced once by the management command into an empty database.

    A first sync writes 28,000 packages (most of its time); the tests of the class below share
    this one, each in a transaction rolled back after it. The catalog goes at the class's end.
    """
    need(connection.vendor == "postgresql", "PostgreSQL")
    roamify_sandbox.control.reset()
    out, err = io.StringIO(), io.StringIO()
    with (
        django_db_blocker.unblock(),
        override_settings(ROAMIFY_BASE_URL=roamify_sandbox.base_url, ROAMIFY_API_TOKEN=roamify_sandbox.token),
    ):
        assert not Package.objects.exists() and not SyncRun.objects.exists()
        had_aliases = DestinationAlias.objects.exists()
        version = catalog_version()
        call_command("sync_catalog", stdout=out, stderr=err)
        try:
            yield FirstSync(SyncRun.objects.get(), out.getvalue(), err.getvalue(), version, catalog_version())
        finally:
            SyncChange.objects.all().delete()
            SyncRun.objects.all().delete()
            Package.objects.all().delete()
            Destination.objects.all().delete()
            CompatibleDevice.objects.all().delete()
            if not had_aliases:
                DestinationAlias.objects.all().delete()


@dataclass
class FirstSync:
    run: SyncRun
    out: str
    err: str
    version_before: int
    version_after: int


def change_upstream(control) -> None:
    """A price, two costs under admin overrides, a vanished and an added package."""
    control.update_package("esim-japan-7days-1gb-all", price=5.55)
    control.update_package("esim-japan-30days-10gb-all", price=22.00)  # floor 23.00 < override
    control.update_package("esim-japan-60days-10gb-all", price=24.50)  # floor 25.50 > override
    control.remove_package("esim-japan-10days-512mb-all")
    control.add_package(
        "thailand-esims",
        {
            "packageId": "esim-thailand-9days-7gb-all",
            "package": "7 GB - 9 Days",
            "day": 9,
            "dataAmount": 7168,
            "price": 9.10,
        },
    )


def raise_costs(control) -> None:
    """Three cost rises against the default 20 % review threshold (35 % markup, $1.00 margin)."""
    control.update_package(HELD, price=6.93)  # +50 %: 6.99 → 9.99 (+43 %); the cost + $1 is over 6.99
    control.update_package(REVIEWED, price=25.20)  # +20 %: 28.99 → 34.99 (+20.7 %); 28.99 still pays
    control.update_package(LIVE, price=4.50)  # +10 %: 5.99 → 6.99 (+16.7 %)


HELD = "esim-japan-7days-1gb-all"
REVIEWED = "esim-japan-30days-10gb-all"
LIVE = "esim-japan-1days-1gb-all"

PRICE_URL = "/esim/japan/esim-japan-7days-1gb-all/"
GONE_URL = "/esim/japan/esim-japan-10days-512mb-all/"
STILL_URL = "/esim/france/"  # nothing in France changes


@pytest.mark.usefixtures("postgres", "fresh_cache")
class TestSync:
    """A first sync, then what later syncs do on top of it."""

    def test_the_command_prints_progress_and_a_summary(self, first_sync):
        summary = first_sync.out
        assert "Catalog synced in" in summary
        assert "28000 packages upstream" in summary and "28000 added, 0 changed, 0 deactivated" in summary
        assert "devices updated" in summary
        progress = first_sync.err
        assert "Fetching packages" in progress and "Comparing" in progress and "Writing" in progress
        assert "28000/28000" in progress
        run = SyncRun.objects.get()
        assert run.trigger == "command" and run.status == SyncRun.Status.SUCCEEDED

    def test_a_failed_command_is_an_error_exit_and_still_recorded(self, first_sync, roamify):
        roamify.control.inject_fault(
            "GET",
            PACKAGES_PATH,
            count=None,
            status=401,
            body={"status": "failed", "message": "Invalid token"},
        )
        with pytest.raises(CommandError, match=r"Sync failed.*Invalid token"):
            call_command("sync_catalog", "--quiet-progress", stdout=io.StringIO(), stderr=io.StringIO())
        roamify.control.clear_faults()
        assert SyncRun.objects.filter(status=SyncRun.Status.FAILED).count() == 1
        assert Package.objects.filter(active=True).count() == 28_000

    def test_a_first_sync_brings_the_whole_catalog(self, first_sync):
        run = first_sync.run
        assert run.status == SyncRun.Status.SUCCEEDED, run.error
        assert run.changed_anything
        assert run.upstream_packages == 28_000
        assert run.added == Package.objects.count() == 28_000
        assert Package.objects.filter(active=True).count() >= 27_000
        assert run.changed == run.deactivated == 0
        assert run.changes.filter(kind="added").count() == 28_000
        assert run.destinations_added == Destination.objects.count() >= 190
        assert run.pages >= 5 and run.finished_at is not None and run.duration_ms > 0
        assert SyncRun.objects.get() == run
        assert first_sync.version_after > first_sync.version_before

    def test_retail_prices_follow_the_rules(self, first_sync):
        # A few by hand, then every package at once.
        for package_id, (wholesale, retail) in EXPECTED_PRICES.items():
            pkg = Package.objects.get(package_id=package_id)
            assert (pkg.wholesale_cents, pkg.retail_cents) == (wholesale, retail), package_id
        assert Package.objects.get(package_id="esim-japan-7days-1gb-all").price_per_gb_cents == 699
        assert not Package.objects.filter(retail_cents__lt=F("wholesale_cents") + 100).exists()
        assert not Package.objects.annotate(cents=Mod("retail_cents", 100)).exclude(cents=99).exists()
        # Where 35 % is less than a dollar, the minimum margin decides the price.
        cheap = Package.objects.filter(wholesale_cents__lt=285).order_by("wholesale_cents").first()
        assert cheap is not None  # the seed-1 catalog has 536 of them
        assert cheap.retail_cents == round_to_ending(cheap.wholesale_cents + 100, 99)
        unlimited = Package.objects.filter(is_unlimited=True).first()
        assert unlimited.data_mb is None and unlimited.price_per_gb_cents is None

    def test_destination_summaries_match_their_packages(self, first_sync):
        japan = Destination.objects.get(upstream_id="japan-esims")
        assert (japan.slug, japan.code, japan.geography) == ("japan", "JP", "local")
        assert japan.package_count == 112
        assert japan.from_price_cents == japan.packages.aggregate(m=Min("retail_cents"))["m"]
        wrong = Destination.objects.annotate(
            n=Count("packages", filter=Q(packages__active=True)),
            low=Min("packages__retail_cents", filter=Q(packages__active=True)),
        ).exclude(package_count=F("n"), from_price_cents=F("low"))
        assert list(wrong) == []

    def test_regions_and_global_plans_cover_countries(self, first_sync):
        # Codes may clash (North America vs Namibia).
        japan = Destination.objects.get(upstream_id="japan-esims")
        asia = Destination.objects.get(upstream_id="asia-esims")
        assert asia.geography == "regional" and asia.covers.filter(code="JP").exists()
        assert japan in asia.covers.all() and asia in japan.covered_by.all()
        assert all(d.covers.exists() for d in Destination.objects.exclude(geography="local"))
        north_america = Destination.objects.get(geography="regional", code="NA")
        assert set(north_america.covers.values_list("code", flat=True)) == {"US", "CA", "MX"}
        assert Destination.objects.filter(geography="local", code="NA").exists()  # Namibia

    def test_compatible_devices_come_along(self, first_sync, roamify):
        upstream_models = {d.model for d in fast_client(roamify).compatible_devices()}
        assert first_sync.run.devices == CompatibleDevice.objects.count() == len(upstream_models) > 20
        assert CompatibleDevice.objects.filter(brand="Apple", search_text__contains="iphone").exists()

    def test_an_unchanged_resync_writes_nothing(self, first_sync, roamify):
        before = Package.objects.aggregate(m=Max("updated_at"))["m"]
        dest_before = Destination.objects.aggregate(m=Max("updated_at"))["m"]
        version = catalog_version()
        result, written = writes_during(lambda: sync_catalog(trigger="test"))
        run = result.run
        assert run.status == SyncRun.Status.SUCCEEDED, run.error
        assert run.trigger == "test"
        assert not result.changed_anything
        assert (
            run.added,
            run.changed,
            run.deactivated,
            run.destinations_added,
            run.destinations_changed,
            run.devices,
        ) == (0, 0, 0, 0, 0, 0)
        assert run.upstream_packages == 28_000
        assert written == {"catalog_syncrun"}, written
        assert Package.objects.aggregate(m=Max("updated_at"))["m"] == before
        assert Destination.objects.aggregate(m=Max("updated_at"))["m"] == dest_before
        assert catalog_version() == version

    def test_upstream_changes_are_recorded_and_repriced(self, first_sync, roamify, admin_client):
        # Admin overrides: one stays above cost + margin after the change, one would not.
        kept = Package.objects.get(package_id="esim-japan-30days-10gb-all")  # wholesale 21.00
        squeezed = Package.objects.get(package_id="esim-japan-60days-10gb-all")  # wholesale 21.92
        kept.price_override_cents, squeezed.price_override_cents = 2500, 2400
        Package.objects.bulk_update([kept, squeezed], ["price_override_cents"])
        assert reprice(package_ids=[kept.id, squeezed.id]) == 2
        kept.refresh_from_db()
        assert kept.retail_cents == 2500

        japan = Destination.objects.get(upstream_id="japan-esims")
        thailand = Destination.objects.get(upstream_id="thailand-esims")
        before = Package.objects.aggregate(m=Max("updated_at"))["m"]
        change_upstream(roamify.control)
        version = catalog_version()
        result = sync_catalog(trigger="test")
        run = result.run
        assert run.status == SyncRun.Status.SUCCEEDED, run.error
        assert result.changed_anything
        assert (run.added, run.changed, run.deactivated) == (1, 3, 1)
        # The run says what changed, package by package, with old and new cost and price.
        changes = {(c.package.package_id, c.kind): c for c in run.changes.select_related("package")}
        assert len(changes) == 5
        prices = {
            key: (c.old_cost_cents, c.new_cost_cents, c.old_price_cents, c.new_price_cents, c.override_lifted)
            for key, c in changes.items()
        }
        assert prices[("esim-japan-7days-1gb-all", "changed")] == (462, 555, 699, 799, False)
        assert prices[("esim-japan-30days-10gb-all", "changed")] == (2100, 2200, 2500, 2500, False)
        assert prices[("esim-japan-60days-10gb-all", "changed")] == (2192, 2450, 2400, 2550, True)  # lifted
        assert prices[("esim-japan-10days-512mb-all", "deactivated")][1::2] == (None, None)
        assert prices[("esim-thailand-9days-7gb-all", "added")] == (None, 910, None, 1299, False)
        admin_page = admin_client.get(reverse("admin:catalog_syncrun_change", args=[run.pk])).content.decode()
        assert (
            "esim-japan-60days-10gb-all" in admin_page and "price override lifted by the cost" in admin_page
        )
        assert "$21.92" in admin_page and "$25.50" in admin_page
        lifted = admin_client.get(reverse("admin:catalog_package_changelist"), {"override": "lifted"})
        assert "esim-japan-60days-10gb-all" in lifted.content.decode()
        assert "esim-japan-30days-10gb-all" not in lifted.content.decode()
        assert changed_since(before) == {
            "esim-japan-7days-1gb-all",
            "esim-japan-30days-10gb-all",
            "esim-japan-60days-10gb-all",
            "esim-japan-10days-512mb-all",
            "esim-thailand-9days-7gb-all",
        }
        assert catalog_version() > version

        repriced = Package.objects.get(package_id="esim-japan-7days-1gb-all")
        # 555 × 1.35 = 749.25 → 7.50 → 7.99
        assert (repriced.wholesale_cents, repriced.retail_cents, repriced.price_per_gb_cents) == (
            555,
            799,
            799,
        )
        kept.refresh_from_db()
        squeezed.refresh_from_db()
        assert (kept.wholesale_cents, kept.price_override_cents, kept.retail_cents) == (2200, 2500, 2500)
        assert (squeezed.wholesale_cents, squeezed.price_override_cents, squeezed.retail_cents) == (
            2450,
            2400,
            2550,
        )  # never below cost plus the minimum margin

        gone = Package.objects.get(package_id="esim-japan-10days-512mb-all")  # kept, not deleted
        assert not gone.active and gone.deactivated_at is not None
        japan.refresh_from_db()
        assert japan.package_count == 111
        assert japan.from_price_cents == japan.packages.active().aggregate(m=Min("retail_cents"))["m"]
        added = Package.objects.get(package_id="esim-thailand-9days-7gb-all")
        assert added.active and added.destination == thailand and added.wholesale_cents == 910
        assert added.retail_cents == 1299  # 1228.5 → 12.29 → 12.99
        count_before = thailand.package_count
        thailand.refresh_from_db()
        assert thailand.package_count == count_before + 1

    def test_a_big_price_rise_waits_for_approval(self, first_sync, roamify, admin_client, client):
        session = client.session
        cart.add(session, HELD)
        before_hold = cart.priced(session)  # a cart priced before the sync, checked out after it
        raise_costs(roamify.control)
        run = sync_catalog(trigger="test").run
        assert run.status == SyncRun.Status.SUCCEEDED, run.error
        assert run.changed == 3
        changes = {
            c.package.package_id: (
                c.old_cost_cents,
                c.new_cost_cents,
                c.old_price_cents,
                c.new_price_cents,
                c.proposed_price_cents,
                c.stopped_selling,
            )
            for c in run.changes.select_related("package")
        }
        assert changes == {
            HELD: (462, 693, 699, 699, 999, True),  # the old price stays, and is not sold
            REVIEWED: (2100, 2520, 2899, 2899, 3499, False),  # the old price stays, and sells
            LIVE: (409, 450, 599, 699, None, False),  # under 20 %: live as before
        }
        held, reviewed, live = (Package.objects.get(package_id=pid) for pid in (HELD, REVIEWED, LIVE))
        assert (held.wholesale_cents, held.retail_cents, held.proposed_retail_cents) == (693, 699, 999)
        assert held.held_for_review and held.proposed_at is not None and held.price_per_gb_cents == 699
        assert (reviewed.retail_cents, reviewed.proposed_retail_cents, reviewed.held_for_review) == (
            2899,
            3499,
            False,
        )
        assert (live.retail_cents, live.proposed_retail_cents, live.held_for_review) == (699, None, False)
        assert set(packages_awaiting_price_review()) == {held, reviewed}
        assert packages_awaiting_price_review().count() == 2

        # Held: not listed, no page, not in a cart, and an order priced before cannot be placed.
        japan = Destination.objects.get(upstream_id="japan-esims")
        assert japan.package_count == 111
        assert held not in destination_packages(japan) and reviewed in destination_packages(japan)
        assert client.get(PRICE_URL).status_code == 404
        with pytest.raises(cart.CartError):
            cart.add(client.session, HELD)
        with pytest.raises(CheckoutError, match="no longer sold"):
            place_order(before_hold, "traveller@example.com")
        assert "$28.99" in client.get(reviewed.get_absolute_url()).content.decode()

        # The run's page and the review list show both; the package page has the button.
        run_page = admin_client.get(reverse("admin:catalog_syncrun_change", args=[run.pk])).content.decode()
        assert "2 price rises held for review" in run_page and "not sold until approved" in run_page
        assert "$9.99" in run_page and "$34.99" in run_page
        listing = admin_client.get(price_review_admin_url()).content.decode()
        assert HELD in listing and REVIEWED in listing and LIVE not in listing
        approve = reverse("admin:catalog_package_approve_price", args=[held.pk])
        assert approve in listing
        page_html = admin_client.get(reverse("admin:catalog_package_change", args=[held.pk])).content.decode()
        assert f"{approve}?price=999" in page_html and "Approve the new price, $9.99" in page_html
        assert "Not sold meanwhile" in page_html

        # One click approves (audited); the package sells again at the new price.
        assert admin_client.get(approve).status_code == 405  # a GET changes nothing
        stale = admin_client.post(approve + "?price=899", follow=True)  # a proposal since replaced
        assert "Not approved: a sync has since proposed $9.99" in stale.content.decode()
        assert not AuditEntry.objects.filter(action="package.price_rise_approved").exists()
        response = admin_client.post(
            approve + "?" + urlencode({"price": 999, "next": price_review_admin_url()})
        )
        assert response.status_code == 302 and response["Location"] == price_review_admin_url()
        held.refresh_from_db()
        assert (held.retail_cents, held.proposed_retail_cents, held.held_for_review) == (999, None, False)
        assert held.price_per_gb_cents == 999
        entry = AuditEntry.objects.get(action="package.price_rise_approved", target_id=str(held.pk))
        assert entry.actor == "admin"
        assert entry.before["retail_cents"] == 699 and entry.before["proposed_retail_cents"] == 999
        assert entry.after == {"wholesale_cents": 693, "retail_cents": 999, "held_for_review": False}
        assert "$9.99" in client.get(PRICE_URL).content.decode()
        cart.add(client.session, HELD)
        japan.refresh_from_db()
        assert japan.package_count == 112

        # The list's action approves the rest.
        response = admin_client.post(
            reverse("admin:catalog_package_changelist"),
            {"action": "approve_price_rises_action", "_selected_action": [reviewed.pk, live.pk]},
        )
        assert response.status_code == 302
        reviewed.refresh_from_db()
        assert (reviewed.retail_cents, reviewed.proposed_retail_cents) == (3499, None)
        assert AuditEntry.objects.filter(action="package.price_rise_approved").count() == 2
        assert not packages_awaiting_price_review().exists()

    def test_a_review_stays_open_until_the_cost_falls_back(self, first_sync, roamify):
        raise_costs(roamify.control)
        sync_catalog(trigger="test")
        # An unchanged re-sync leaves the review as it is.
        run = sync_catalog(trigger="test").run
        assert run.changed == 0 and packages_awaiting_price_review().count() == 2
        # The cost falls back: the old price is right again, and the package sells.
        roamify.control.update_package(HELD, price=4.62)
        run = sync_catalog(trigger="test").run
        assert run.changed == 1
        held = Package.objects.get(package_id=HELD)
        assert (held.retail_cents, held.proposed_retail_cents, held.held_for_review) == (699, None, False)
        assert held in Package.objects.active()
        assert list(packages_awaiting_price_review().values_list("package_id", flat=True)) == [REVIEWED]
        # A higher threshold lets the same rise go live.
        with override_settings(PRICE_RISE_REVIEW_PERCENT="50"):
            roamify.control.update_package(HELD, price=6.93)
            sync_catalog(trigger="test")
        held.refresh_from_db()
        assert (held.retail_cents, held.proposed_retail_cents, held.held_for_review) == (999, None, False)

    def test_cached_pages_show_upstream_changes_at_once(self, first_sync, roamify, client):
        # Cache the pages the changes will touch, as an anonymous visitor.
        for url in ("/esim/japan/", PRICE_URL, GONE_URL):
            assert page(client, url)[:2] == (200, "miss")
            assert page(client, url)[:2] == (200, "hit")
        assert "$6.99" in page(client, PRICE_URL)[2]
        assert GONE_URL in page(client, "/esim/japan/")[2]
        # What a shared cache in front (nginx) holds: the pages' ETags, to revalidate with.
        etags = {url: client.get(url)["ETag"] for url in (PRICE_URL, STILL_URL)}
        assert client.get(PRICE_URL, HTTP_IF_NONE_MATCH=etags[PRICE_URL]).status_code == 304

        change_upstream(roamify.control)
        assert sync_catalog(trigger="test").changed_anything

        # The cached anonymous pages show the change at once; a cache revalidating its old copy
        # gets the new page with a new ETag, and a 304 for a page the sync did not change.
        revalidated = client.get(PRICE_URL, HTTP_IF_NONE_MATCH=etags[PRICE_URL])
        assert revalidated.status_code == 200 and revalidated["X-Page-Cache"] == "miss"
        assert revalidated["ETag"] != etags[PRICE_URL] and "public" in revalidated["Cache-Control"]
        assert "$7.99" in revalidated.content.decode() and "$6.99" not in revalidated.content.decode()
        assert client.get(PRICE_URL, HTTP_IF_NONE_MATCH=revalidated["ETag"]).status_code == 304
        unchanged = client.get(STILL_URL, HTTP_IF_NONE_MATCH=etags[STILL_URL])
        assert (unchanged.status_code, unchanged["ETag"]) == (304, etags[STILL_URL])
        status, cache_state, html = page(client, PRICE_URL)
        assert (status, cache_state) == (200, "hit") and "$7.99" in html and "$6.99" not in html
        assert page(client, GONE_URL)[0] == 404
        status, _, html = page(client, "/esim/japan/")
        # 111 packages, one card per data/days pair (unlimited plans differ only in fair use).
        assert status == 200 and GONE_URL not in html and "All 98 plans" in html
        assert page(client, "/esim/thailand/esim-thailand-9days-7gb-all/")[0] == 200

    def test_upstream_failures_change_nothing(self, first_sync, roamify, client):
        control = roamify.control
        assert page(client, PRICE_URL)[:2] == (200, "miss")
        assert page(client, PRICE_URL)[:2] == (200, "hit")
        active = Package.objects.filter(active=True).count()
        version = catalog_version()
        runs = SyncRun.objects.count()
        # 4 pages fetched at once, each tried 1 + 3 times: 50 failures outlast every retry.
        control.inject_fault(
            "GET",
            PACKAGES_PATH,
            count=50,
            status=503,
            body={"status": "failed", "message": "Service Unavailable"},
        )
        result = sync_catalog(trigger="test", client=fast_client(roamify))
        control.clear_faults()
        run = result.run
        assert run.status == SyncRun.Status.FAILED and not result.changed_anything
        assert "UpstreamUnavailable" in run.error and "Service Unavailable" in run.error
        assert run.finished_at is not None and run.duration_ms is not None
        assert (run.added, run.changed, run.deactivated) == (0, 0, 0)
        assert Package.objects.filter(active=True).count() == active
        assert catalog_version() == version and SyncRun.objects.count() == runs + 1

        # An empty catalog is an upstream fault, not a reason to deactivate everything.
        control.inject_fault(
            "GET", PACKAGES_PATH, count=None, status=200, body={"status": "success", "data": {"packages": []}}
        )
        result = sync_catalog(trigger="test", client=fast_client(roamify))
        control.clear_faults()
        run = result.run
        assert run.status == SyncRun.Status.FAILED and "empty catalog" in run.error
        assert run.deactivated == 0
        assert Package.objects.filter(active=True).count() == active
        assert catalog_version() == version
        assert page(client, PRICE_URL)[:2] == (200, "hit")


@pytest.mark.django_db
def test_admin_sync_now_queues_the_task(admin_client, django_capture_on_commit_callbacks, fresh_cache):
    SyncRun.objects.create(
        status=SyncRun.Status.SUCCEEDED, upstream_packages=28_000, added=12, duration_ms=20_500
    )
    changelist = reverse("admin:catalog_syncrun_changelist")
    with mock.patch("catalog.tasks.sync_catalog_task.delay") as delay:
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            response = admin_client.post(reverse("admin:catalog_sync_now"))
        assert response.status_code == 302 and response["Location"] == changelist
        assert len(callbacks) == 1
        delay.assert_called_once_with(trigger="admin")

        delay.reset_mock()
        response = admin_client.get(reverse("admin:catalog_sync_now"))  # a GET queues nothing
        assert response.status_code == 302
        delay.assert_not_called()

    response = admin_client.get(changelist)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Catalog sync queued" in html
    assert "Sync now" in html and reverse("admin:catalog_sync_now") in html
    assert "succeeded" in html and "20.5" in html


@pytest.mark.django_db
def test_admin_sync_now_needs_staff(client):
    with mock.patch("catalog.tasks.sync_catalog_task.delay") as delay:
        response = client.post(reverse("admin:catalog_sync_now"))
    assert response.status_code == 302 and "/login/" in response["Location"]
    delay.assert_not_called()


@pytest.mark.django_db
def test_admin_rejects_an_override_below_cost_plus_margin(admin_client, fresh_cache):
    pkg = PackageFactory(wholesale_cents=300, retail_cents=499)
    url = reverse("admin:catalog_package_change", args=[pkg.id])
    assert admin_client.get(url).status_code == 200

    version = catalog_version()
    response = admin_client.post(url, {"price_override_cents": "3.50", "top_up_capable": "on"})
    assert response.status_code == 200
    assert "Must be at least $4.00 (cost $3.00 plus the minimum margin)." in response.content.decode()
    pkg.refresh_from_db()
    assert pkg.price_override_cents is None and pkg.retail_cents == 499

    floor = PricingRules.from_settings().min_margin_cents + pkg.wholesale_cents
    response = admin_client.post(url, {"price_override_cents": f"{floor / 100:.2f}", "top_up_capable": "on"})
    assert response.status_code == 302
    pkg.refresh_from_db()
    assert pkg.price_override_cents == pkg.retail_cents == 400
    assert catalog_version() > version  # cached pages show the new price

    response = admin_client.post(url, {"price_override_cents": "", "top_up_capable": "on"})
    assert response.status_code == 302
    pkg.refresh_from_db()
    assert pkg.price_override_cents is None and pkg.retail_cents == 499  # back to the rules


@pytest.mark.django_db
def test_page_cache_is_per_scheme_and_host_and_follows_the_version(client, fresh_cache):
    japan = DestinationFactory(name="Japan", code="JP", slug="japan")
    PackageFactory(destination=japan)

    def get(**extra):
        response = client.get("/esim/japan/", **extra)
        assert response.status_code == 200
        return response

    first = get()
    assert first["X-Page-Cache"] == "miss"
    hit = get()
    assert hit["X-Page-Cache"] == "hit" and hit.content == first.content
    assert "Cookie" in hit["Vary"]  # like the rendered page: never shared with a signed-in visitor
    # Pages hold absolute URLs, so another host or scheme is another cache entry.
    other_host = get(HTTP_HOST="localhost")
    assert other_host["X-Page-Cache"] == "miss"
    assert '<link rel="canonical" href="http://localhost/esim/japan/">' in other_host.content.decode()
    https = get(secure=True)
    assert https["X-Page-Cache"] == "miss"
    assert '<link rel="canonical" href="https://testserver/esim/japan/">' in https.content.decode()
    # A visitor with a session never gets (or fills) the shared copy.
    client.cookies["sessionid"] = "x"
    assert "X-Page-Cache" not in get()
    del client.cookies["sessionid"]
    # A version bump (a sync or an admin change) makes every cached page stale at once.
    bump_catalog_version()
    assert get()["X-Page-Cache"] == "miss"
    assert get()["X-Page-Cache"] == "hit"


@pytest.mark.django_db
def test_a_markup_change_renews_a_price_review_or_ends_it(fresh_cache):
    japan = DestinationFactory()
    pkg = PackageFactory(
        destination=japan,
        wholesale_cents=693,
        retail_cents=699,
        price_per_gb_cents=699,
        proposed_retail_cents=999,
        proposed_at=timezone.now(),
        held_for_review=True,
    )
    japan.markup_percent = Decimal("50")
    japan.save()
    assert reprice(destination_ids=[japan.id]) == 1
    pkg.refresh_from_db()
    # 6.93 × 1.5 = 10.40 → 10.99: still over 20 % above 6.99, so a new proposal; the price stays.
    assert (pkg.retail_cents, pkg.proposed_retail_cents, pkg.held_for_review) == (699, 1099, True)
    japan.refresh_from_db()
    assert japan.package_count == 0  # held: not counted, nor in the "from" price

    japan.markup_percent = Decimal("10")
    japan.save()
    assert reprice(destination_ids=[japan.id]) == 1
    pkg.refresh_from_db()
    # 6.93 × 1.1 = 7.63, under cost + $1.00 → 7.99: +14 %, so it goes live and the review ends.
    assert (pkg.retail_cents, pkg.proposed_retail_cents, pkg.proposed_at, pkg.held_for_review) == (
        799,
        None,
        None,
        False,
    )
    assert pkg in Package.objects.active()
    japan.refresh_from_db()
    assert (japan.package_count, japan.from_price_cents) == (1, 799)
