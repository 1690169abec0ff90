from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import path, reverse

from core.money import format_money

from .cache import bump_catalog_version
from .models import CompatibleDevice, ContentPage, Destination, DestinationAlias, Package, SyncRun
from .pricing import PricingRules, floor_price
from .services import reprice
from .tasks import sync_catalog_task


@admin.register(Destination)
class DestinationAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "geography", "region", "package_count", "from_price",
                    "markup_percent", "popularity", "active")
    list_filter = ("geography", "active", "region")
    list_editable = ("popularity",)
    search_fields = ("name", "code", "upstream_id", "slug")
    readonly_fields = ("upstream_id", "code", "name", "geography", "region", "image_url", "signals",
                       "package_count", "from_price_cents", "upstream_hash", "created_at", "updated_at")
    fields = ("name", "code", "slug", "geography", "region", "markup_percent", "popularity", "active",
              "package_count", "from_price_cents", "upstream_id", "image_url", "signals",
              "created_at", "updated_at")
    filter_horizontal = ()

    @admin.display(description="From", ordering="from_price_cents")
    def from_price(self, obj: Destination) -> str:
        return format_money(obj.from_price_cents)

    def has_add_permission(self, request) -> bool:
        return False  # destinations come from upstream

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # packages and orders point at them; untick "active" instead

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        if "markup_percent" in form.changed_data:
            n = reprice(destination_ids=[obj.id])
            messages.info(request, f"Repriced {n} packages in {obj.name}.")
        else:
            bump_catalog_version()


class PackageAdminForm(forms.ModelForm):
    class Meta:
        model = Package
        fields = ("price_override_cents", "top_up_capable")

    def clean_price_override_cents(self) -> int | None:
        value = self.cleaned_data.get("price_override_cents")
        if value is not None:
            floor = floor_price(self.instance.wholesale_cents, PricingRules.from_settings())
            if value < floor:
                raise forms.ValidationError(
                    f"Must be at least {format_money(floor)} (cost plus the minimum margin)."
                )
        return value


@admin.register(Package)
class PackageAdmin(admin.ModelAdmin):
    form = PackageAdminForm
    list_display = ("package_id", "name", "destination", "days", "data", "wholesale", "retail",
                    "price_override_cents", "active")
    list_filter = ("destination__geography", "active", "is_unlimited", "with_hotspot",
                   "travel_date_required")
    search_fields = ("package_id", "name", "destination__name")
    list_select_related = ("destination",)
    readonly_fields = ("package_id", "destination", "name", "plan", "activation", "days", "data_mb",
                       "is_unlimited", "throttle_threshold_mb", "throttle_speed_kbps", "with_hotspot",
                       "with_usage_check", "travel_date_required", "apn", "notes", "wholesale_cents",
                       "retail_cents", "price_per_gb_cents", "active", "created_at", "updated_at",
                       "deactivated_at")
    show_full_result_count = False

    @admin.display(description="Data")
    def data(self, obj: Package) -> str:
        return obj.data_label

    @admin.display(description="Cost", ordering="wholesale_cents")
    def wholesale(self, obj: Package) -> str:
        return format_money(obj.wholesale_cents)

    @admin.display(description="Price", ordering="retail_cents")
    def retail(self, obj: Package) -> str:
        return format_money(obj.retail_cents)

    def has_add_permission(self, request) -> bool:
        return False  # packages come from upstream

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # orders point at them; the sync deactivates instead

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        reprice(package_ids=[obj.id])


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin):
    list_display = ("started_at", "status", "trigger", "upstream_packages", "added", "changed",
                    "deactivated", "destinations_added", "devices", "seconds")
    list_filter = ("status", "trigger")
    change_list_template = "admin/catalog/syncrun/change_list.html"

    @admin.display(description="Duration (s)", ordering="duration_ms")
    def seconds(self, obj: SyncRun) -> str:
        return f"{obj.duration_ms / 1000:.1f}" if obj.duration_ms is not None else "…"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def get_urls(self):
        return [path("sync-now/", self.admin_site.admin_view(self.sync_now), name="catalog_sync_now"),
                *super().get_urls()]

    def sync_now(self, request: HttpRequest) -> HttpResponseRedirect:
        if request.method == "POST":
            transaction.on_commit(lambda: sync_catalog_task.delay(trigger="admin"))
            self.message_user(request, "Catalog sync queued; it appears in this list when it starts.",
                              messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:catalog_syncrun_changelist"))


@admin.register(CompatibleDevice)
class CompatibleDeviceAdmin(admin.ModelAdmin):
    list_display = ("name", "brand", "os", "device_type")
    list_filter = ("brand", "os")
    search_fields = ("name", "model")

    def has_add_permission(self, request) -> bool:
        return False  # the list comes from upstream with each sync


class BumpsCatalogVersion(admin.ModelAdmin):
    """Cached pages and the search index follow these rows: a change refreshes them."""

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        bump_catalog_version()

    def delete_model(self, request, obj) -> None:
        super().delete_model(request, obj)
        bump_catalog_version()

    def delete_queryset(self, request, queryset) -> None:
        super().delete_queryset(request, queryset)
        bump_catalog_version()


@admin.register(DestinationAlias)
class DestinationAliasAdmin(BumpsCatalogVersion):
    list_display = ("alias", "code", "geography", "destination")
    list_filter = ("geography",)
    search_fields = ("alias", "code")

    @admin.display(description="Destination")
    def destination(self, obj: DestinationAlias) -> str:
        found = Destination.objects.filter(code__iexact=obj.code, geography=obj.geography).first()
        return found.name if found else "— no such destination —"


@admin.register(ContentPage)
class ContentPageAdmin(BumpsCatalogVersion):
    list_display = ("title", "slug", "updated_at")
    readonly_fields = ("updated_at",)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # the footer, checkout and plan pages link to them
