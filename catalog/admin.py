from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, ExpressionWrapper, F, IntegerField, Q
from django.http import HttpRequest, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from core import audit
from core.admin_tools import AuditTrailMixin, CsvExportMixin, NoDeleteMixin
from core.exports import CsvExport, in_chunks, money_cell
from core.forms import MoneyField, PlainTextMixin
from core.money import format_money

from .cache import bump_catalog_version
from .events import CatalogAction
from .models import CompatibleDevice, ContentPage, Destination, DestinationAlias, Package, SyncChange, SyncRun
from .pricing import PricingRules, floor_price
from .selectors import price_review_admin_url
from .services import approve_price_rises, reprice
from .tasks import sync_catalog_task


@admin.register(Destination)
class DestinationAdmin(AuditTrailMixin, admin.ModelAdmin):
    list_display = (
        "name",
        "code",
        "geography",
        "region",
        "package_count",
        "from_price",
        "markup_percent",
        "popularity",
        "active",
    )
    list_filter = ("geography", "active", "region")
    list_editable = ("popularity",)
    search_fields = ("name", "code", "upstream_id", "slug")
    readonly_fields = (
        "upstream_id",
        "code",
        "name",
        "geography",
        "region",
        "image_url",
        "signals",
        "package_count",
        "from_price",
        "upstream_hash",
        "created_at",
        "updated_at",
        "audit_trail",
    )
    fields = (
        "name",
        "code",
        "slug",
        "geography",
        "region",
        "markup_percent",
        "popularity",
        "active",
        "package_count",
        "from_price",
        "upstream_id",
        "image_url",
        "signals",
        "created_at",
        "updated_at",
        "audit_trail",
    )
    filter_horizontal = ()

    @admin.display(description=gettext_lazy("From"), ordering="from_price_cents")
    def from_price(self, obj: Destination) -> str:
        return format_money(obj.from_price_cents)

    def has_add_permission(self, request) -> bool:
        return False  # destinations come from upstream

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # packages and orders point at them; untick "active" instead

    def save_model(self, request, obj, form, change) -> None:
        watched = [f for f in ("markup_percent", "active", "popularity", "slug") if f in form.changed_data]
        before = {f: form.initial.get(f) for f in watched}
        super().save_model(request, obj, form, change)
        if watched:
            audit.record(
                request.user, CatalogAction.DESTINATION_CHANGE, obj, before, audit.snapshot(obj, watched)
            )
        if "markup_percent" in form.changed_data:
            n = reprice(destination_ids=[obj.id])
            messages.info(
                request,
                ngettext("Repriced %(n)s package in %(name)s.", "Repriced %(n)s packages in %(name)s.", n)
                % {"n": n, "name": obj.name},
            )
        else:
            bump_catalog_version()


class PackageAdminForm(PlainTextMixin, forms.ModelForm):
    price_override_cents = MoneyField(
        required=False,
        min_cents=None,
        label=gettext_lazy("Price override"),
        help_text=gettext_lazy(
            "A fixed retail price, typed as money (7.49). Leave empty to price by markup. Never below cost "
            "plus the minimum margin."
        ),
    )

    class Meta:
        model = Package
        fields = ("price_override_cents", "top_up_capable")

    def clean_price_override_cents(self) -> int | None:
        value = self.cleaned_data.get("price_override_cents")
        if value is not None:
            floor = floor_price(self.instance.wholesale_cents, PricingRules.from_settings())
            if value < floor:
                raise forms.ValidationError(
                    _("Must be at least %(floor)s (cost %(cost)s plus the minimum margin).")
                    % {"floor": format_money(floor), "cost": format_money(self.instance.wholesale_cents)}
                )
        return value


class OverrideLiftedFilter(admin.SimpleListFilter):
    """Price overrides a cost rise made too low: the shop sells at cost plus margin instead."""

    title = gettext_lazy("price override")
    parameter_name = "override"

    def lookups(self, request, model_admin):
        return (("set", _("Has an override")), ("lifted", _("Lifted by a cost rise")))

    def queryset(self, request, queryset):
        if self.value() == "set":
            return queryset.filter(price_override_cents__isnull=False)
        if self.value() == "lifted":
            return queryset.filter(
                price_override_cents__isnull=False, retail_cents__gt=F("price_override_cents")
            )
        return queryset


class PriceReviewFilter(admin.SimpleListFilter):
    """Price rises a sync held for staff (`catalog.selectors.price_review_admin_url` links here)."""

    title = gettext_lazy("price review")
    parameter_name = "price_review"

    def lookups(self, request, model_admin):
        return (("awaiting", _("Awaiting approval")), ("held", _("Not sold until approved")))

    def queryset(self, request, queryset):
        if self.value() == "awaiting":
            return queryset.filter(proposed_retail_cents__isnull=False)
        if self.value() == "held":
            return queryset.filter(proposed_retail_cents__isnull=False, held_for_review=True)
        return queryset


def _rise(old_cents: int, new_cents: int) -> str:
    return f"+{(new_cents - old_cents) * 100 / old_cents:.0f}%" if old_cents else ""


PACKAGE_HEADER = [
    "package_id",
    "name",
    "destination",
    "days",
    "data_mb",
    "unlimited",
    "cost",
    "price",
    "price_override",
    "margin",
    "active",
]


def package_rows(queryset):
    for chunk in in_chunks(
        queryset.values(
            "pk",
            "package_id",
            "name",
            "destination__name",
            "days",
            "data_mb",
            "is_unlimited",
            "wholesale_cents",
            "retail_cents",
            "price_override_cents",
            "active",
        )
    ):
        for p in chunk:
            yield [
                p["package_id"],
                p["name"],
                p["destination__name"],
                p["days"],
                p["data_mb"] or "",
                p["is_unlimited"],
                money_cell(p["wholesale_cents"]),
                money_cell(p["retail_cents"]),
                money_cell(p["price_override_cents"]),
                money_cell(p["retail_cents"] - p["wholesale_cents"]),
                p["active"],
            ]


@admin.register(Package)
class PackageAdmin(AuditTrailMixin, CsvExportMixin, admin.ModelAdmin):
    form = PackageAdminForm
    list_display = (
        "package_id",
        "name",
        "destination",
        "days",
        "data",
        "wholesale",
        "retail",
        "margin",
        "override",
        "price_review",
        "active",
    )
    list_filter = (
        PriceReviewFilter,
        "destination__geography",
        "active",
        OverrideLiftedFilter,
        "is_unlimited",
        "with_hotspot",
        "travel_date_required",
    )
    search_fields = ("package_id", "name", "destination__name")
    list_select_related = ("destination",)
    readonly_fields = (
        "package_id",
        "destination",
        "name",
        "plan",
        "activation",
        "days",
        "data_mb",
        "is_unlimited",
        "throttle_threshold_mb",
        "throttle_speed_kbps",
        "with_hotspot",
        "with_usage_check",
        "travel_date_required",
        "apn",
        "notes",
        "wholesale",
        "retail",
        "margin",
        "override_state",
        "price_review_state",
        "price_per_gb",
        "active",
        "created_at",
        "updated_at",
        "deactivated_at",
        "audit_trail",
    )
    exclude = (
        "wholesale_cents",
        "retail_cents",
        "price_per_gb_cents",
        "proposed_retail_cents",
        "proposed_at",
        "held_for_review",
    )
    show_full_result_count = False
    csv_exports = [CsvExport("packages", gettext_lazy("Export packages (CSV)"), PACKAGE_HEADER, package_rows)]
    actions = ["approve_price_rises_action"]

    def get_list_display(self, request: HttpRequest):
        """The review list (`?price_review=`) shows what the decision needs, so it fits a desk."""
        if request.GET.get(PriceReviewFilter.parameter_name):
            return ("package_id", "name", "wholesale", "retail", "margin", "price_review")
        return super().get_list_display(request)

    @admin.display(description=gettext_lazy("Price review"), ordering="proposed_retail_cents")
    def price_review(self, obj: Package) -> str:
        """The proposed price, and a one-click Approve (a button of the list's own form)."""
        if obj.proposed_retail_cents is None:
            return ""
        url = reverse("admin:catalog_package_approve_price", args=[obj.pk])
        held = (
            format_html(' <span class="shop-badge bad">{}</span>', _("not sold"))
            if obj.held_for_review
            else ""
        )
        return format_html(
            '<span class="shop-badge warn">{} {}</span>{} '
            '<button type="submit" class="button" formaction="{}?{}" formmethod="post" '
            'aria-label="{}">{}</button>',
            format_money(obj.proposed_retail_cents),
            _rise(obj.retail_cents, obj.proposed_retail_cents),
            held,
            url,
            urlencode({"price": obj.proposed_retail_cents, "next": price_review_admin_url()}),
            _("Approve %(price)s for %(package)s")
            % {"price": format_money(obj.proposed_retail_cents), "package": obj.package_id},
            _("Approve"),
        )

    @admin.display(description=gettext_lazy("Price review"))
    def price_review_state(self, obj: Package) -> str:
        if obj.proposed_retail_cents is None:
            return _("None open.")
        state = _(
            "A sync on %(when)s proposed %(proposed)s (%(rise)s) for the cost of %(cost)s; it sells at "
            "%(price)s until approved."
        ) % {
            "when": f"{obj.proposed_at:%Y-%m-%d %H:%M}",
            "proposed": format_money(obj.proposed_retail_cents),
            "rise": _rise(obj.retail_cents, obj.proposed_retail_cents),
            "cost": format_money(obj.wholesale_cents),
            "price": format_money(obj.retail_cents),
        }
        if obj.held_for_review:
            state += " " + _("Not sold meanwhile: that price is below cost plus the minimum margin.")
        return state

    @admin.action(description=gettext_lazy("Approve the proposed prices"), permissions=["change"])
    def approve_price_rises_action(self, request: HttpRequest, queryset) -> None:
        approved = approve_price_rises(queryset.values_list("id", flat=True), actor=request.user)
        self._approved_message(request, approved)

    def _approved_message(self, request: HttpRequest, approved: list[Package]) -> None:
        if not approved:
            self.message_user(request, _("None of those packages awaits a price review."), messages.WARNING)
            return
        names = ", ".join(
            _("%(package)s at %(price)s") % {"package": p.package_id, "price": format_money(p.retail_cents)}
            for p in approved[:5]
        )
        if len(approved) > 5:
            message = _("Approved %(count)s: %(names)s and %(more)s more.") % {
                "count": len(approved),
                "names": names,
                "more": len(approved) - 5,
            }
        else:
            message = _("Approved %(count)s: %(names)s.") % {"count": len(approved), "names": names}
        self.message_user(request, message, messages.SUCCESS)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<int:package_id>/approve-price/",
                view(self.approve_price_view),
                name="catalog_package_approve_price",
            ),
            *super().get_urls(),
        ]

    def approve_price_view(self, request: HttpRequest, package_id: int) -> HttpResponseRedirect:
        """The Approve button (list row or package page): POST only, audited by the service."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        package = get_object_or_404(Package, pk=package_id)
        if not self.has_change_permission(request, package):
            raise PermissionDenied
        # The price the button showed: a proposal changed since by a sync is not approved unseen.
        seen = request.GET.get("price", "")
        seen_cents = int(seen) if seen.isascii() and seen.isdigit() else None  # "²" is a digit to isdigit()
        approved = approve_price_rises(
            [package.pk],
            actor=request.user,
            seen={package.pk: seen_cents} if seen_cents is not None else None,
        )
        if approved or package.proposed_retail_cents is None or seen_cents is None:
            self._approved_message(request, approved)
        else:
            self.message_user(
                request,
                _("Not approved: a sync has since proposed %(price)s for %(package)s. Please look again.")
                % {"price": format_money(package.proposed_retail_cents), "package": package.package_id},
                messages.WARNING,
            )
        back = request.GET.get("next", "")
        if not url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
            back = reverse("admin:catalog_package_change", args=[package.pk])
        return HttpResponseRedirect(back)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        package = Package.objects.filter(pk=object_id).only("proposed_retail_cents").first()
        extra_context = extra_context or {}
        if package is not None and package.proposed_retail_cents is not None:
            extra_context["approve_price"] = (
                reverse("admin:catalog_package_approve_price", args=[package.pk])
                + f"?price={package.proposed_retail_cents}",
                format_money(package.proposed_retail_cents),
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                margin_cents=ExpressionWrapper(
                    F("retail_cents") - F("wholesale_cents"), output_field=IntegerField()
                )
            )
        )

    @admin.display(description=gettext_lazy("Margin"), ordering="margin_cents")
    def margin(self, obj: Package) -> str:
        margin = obj.retail_cents - obj.wholesale_cents
        share = margin * 100 / obj.retail_cents if obj.retail_cents else 0
        return f"{format_money(margin)} ({share:.0f}%)"

    @admin.display(description=gettext_lazy("Override"), ordering="price_override_cents")
    def override(self, obj: Package) -> str:
        if obj.price_override_cents is None:
            return "—"
        if obj.retail_cents > obj.price_override_cents:
            return format_html(
                '<span class="shop-badge bad" title="{}">{} · {}</span>',
                _("A cost rise lifted the price above the override"),
                format_money(obj.price_override_cents),
                _("lifted"),
            )
        return format_money(obj.price_override_cents)

    @admin.display(description=gettext_lazy("Price override state"))
    def override_state(self, obj: Package) -> str:
        if obj.price_override_cents is None:
            return _("No override: priced by markup.")
        if obj.retail_cents > obj.price_override_cents:
            return _(
                "Lifted: the override %(override)s is below cost plus the minimum margin since the cost rose "
                "to %(cost)s; it sells at %(price)s."
            ) % {
                "override": format_money(obj.price_override_cents),
                "cost": format_money(obj.wholesale_cents),
                "price": format_money(obj.retail_cents),
            }
        return _("Sells at the override, %(override)s.") % {
            "override": format_money(obj.price_override_cents)
        }

    @admin.display(description=gettext_lazy("Price per GB"))
    def price_per_gb(self, obj: Package) -> str:
        return format_money(obj.price_per_gb_cents) if obj.price_per_gb_cents else "—"

    @admin.display(description=gettext_lazy("Data"))
    def data(self, obj: Package) -> str:
        return obj.data_label

    @admin.display(description=gettext_lazy("Cost"), ordering="wholesale_cents")
    def wholesale(self, obj: Package) -> str:
        return format_money(obj.wholesale_cents)

    @admin.display(description=gettext_lazy("Price"), ordering="retail_cents")
    def retail(self, obj: Package) -> str:
        return format_money(obj.retail_cents)

    def has_add_permission(self, request) -> bool:
        return False  # packages come from upstream

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # orders point at them; the sync deactivates instead

    def save_model(self, request, obj, form, change) -> None:
        retail = Package.objects.filter(pk=obj.pk).values_list("retail_cents", flat=True).first()
        before = {"price_override_cents": form.initial.get("price_override_cents"), "retail_cents": retail}
        super().save_model(request, obj, form, change)
        reprice(package_ids=[obj.id])
        obj.refresh_from_db()
        if form.changed_data:
            audit.record(
                request.user,
                CatalogAction.PRICE_OVERRIDE,
                obj,
                before,
                {
                    "price_override_cents": obj.price_override_cents,
                    "retail_cents": obj.retail_cents,
                    "top_up_capable": obj.top_up_capable,
                },
            )


def money_column(field: str, label):
    """An admin column showing an amount in cents as money ("—" when empty)."""

    @admin.display(description=label, ordering=field)
    def column(self, obj) -> str:
        return format_money(getattr(obj, field)) or "—"

    return column


class ProposedPriceFilter(admin.SimpleListFilter):
    title = gettext_lazy("price review")
    parameter_name = "proposed"

    def lookups(self, request, model_admin):
        return (("yes", _("Price rise held for review")),)

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(proposed_price_cents__isnull=False)
        return queryset


@admin.register(SyncChange)
class SyncChangeAdmin(NoDeleteMixin, admin.ModelAdmin):
    """Every package a sync added, changed or deactivated (a run's page shows the first 200)."""

    list_display = (
        "run",
        "kind",
        "package_link",
        "old_cost",
        "new_cost",
        "old_price",
        "new_price",
        "proposed_price",
        "flag",
    )
    list_filter = ("kind", ProposedPriceFilter, "override_lifted", "stopped_selling", "run")
    search_fields = ("package__package_id", "package__name")
    list_select_related = ("package", "run")
    show_full_result_count = False
    exclude = (  # shown as money below
        "old_cost_cents",
        "new_cost_cents",
        "old_price_cents",
        "new_price_cents",
        "proposed_price_cents",
    )
    readonly_fields = ("old_cost", "new_cost", "old_price", "new_price", "proposed_price")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=gettext_lazy("Package"))
    def package_link(self, obj: SyncChange) -> str:
        url = reverse("admin:catalog_package_change", args=[obj.package_id])
        return format_html('<a href="{}">{}</a>', url, obj.package.package_id)

    old_cost = money_column("old_cost_cents", gettext_lazy("Old cost"))
    new_cost = money_column("new_cost_cents", gettext_lazy("New cost"))
    old_price = money_column("old_price_cents", gettext_lazy("Old price"))
    new_price = money_column("new_price_cents", gettext_lazy("New price"))
    proposed_price = money_column("proposed_price_cents", gettext_lazy("Proposed price"))

    @admin.display(description="")
    def flag(self, obj: SyncChange) -> str:
        flags = []
        if obj.override_lifted:
            flags.append(("bad", _("price override lifted by the cost")))
        if obj.proposed_price_cents is not None:
            flags.append(
                (
                    "warn",
                    _("rise of %(rise)s held for review")
                    % {"rise": _rise(obj.old_price_cents or 0, obj.proposed_price_cents)},
                )
            )
        if obj.stopped_selling:
            flags.append(("bad", _("not sold until approved")))
        return format_html_join(" ", '<span class="shop-badge {}">{}</span>', flags)


SHOWN_CHANGES = 200


@admin.register(SyncRun)
class SyncRunAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_display = (
        "started_at",
        "status",
        "trigger",
        "upstream_packages",
        "added",
        "changed",
        "deactivated",
        "lifted",
        "reviews",
        "destinations_added",
        "devices",
        "seconds",
    )
    list_filter = ("status", "trigger")
    change_list_template = "admin/catalog/syncrun/change_list.html"
    readonly_fields = (
        "started_at",
        "finished_at",
        "status",
        "trigger",
        "pages",
        "upstream_packages",
        "destinations_added",
        "destinations_changed",
        "added",
        "changed",
        "deactivated",
        "devices",
        "duration_ms",
        "error",
        "what_changed",
    )

    @admin.display(description=gettext_lazy("What changed"))
    def what_changed(self, obj: SyncRun) -> str:
        # Price rises held for review first: they wait for staff.
        changes = list(
            obj.changes.select_related("package").order_by(
                F("proposed_price_cents").asc(nulls_last=True), "kind", "id"
            )[: SHOWN_CHANGES + 1]
        )
        if not changes:
            return _("Nothing.")
        held = ""
        if getattr(obj, "review_count", 0):
            held = format_html(
                "<p>{}</p>",
                format_html(
                    ngettext(
                        "{} price rise held for review: the old price stays until approved in "
                        '<a href="{}">packages awaiting a price review</a> (<a href="{}">this run\'s</a>).',
                        "{} price rises held for review: the old prices stay until approved in "
                        '<a href="{}">packages awaiting a price review</a> (<a href="{}">this run\'s</a>).',
                        obj.review_count,
                    ),
                    obj.review_count,
                    price_review_admin_url(),
                    reverse("admin:catalog_syncchange_changelist") + f"?run__id__exact={obj.pk}&proposed=yes",
                ),
            )
        shown = SyncChangeAdmin(SyncChange, self.admin_site)
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            [
                (
                    c.kind,
                    shown.package_link(c),
                    shown.old_cost(c),
                    shown.new_cost(c),
                    shown.old_price(c),
                    shown.new_price(c),
                    shown.proposed_price(c),
                    shown.flag(c),
                )
                for c in changes[:SHOWN_CHANGES]
            ],
        )
        more = ""
        if len(changes) > SHOWN_CHANGES:
            url = reverse("admin:catalog_syncchange_changelist") + f"?run__id__exact={obj.pk}"
            more = format_html('<p><a href="{}">{}</a></p>', url, _("All changes of this run"))
        heads = format_html_join(
            "",
            '<th scope="col">{}</th>',
            [
                (_("Change"),),
                (_("Package"),),
                (_("Old cost"),),
                (_("New cost"),),
                (_("Old price"),),
                (_("New price"),),
                (_("Proposed price"),),
                ("",),
            ],
        )
        return format_html(
            '{}<table class="sync-changes"><thead><tr>{}</tr></thead><tbody>{}</tbody></table>{}',
            held,
            heads,
            rows,
            more,
        )

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                lifted_count=Count("changes", filter=Q(changes__override_lifted=True)),
                review_count=Count("changes", filter=Q(changes__proposed_price_cents__isnull=False)),
            )
        )

    @admin.display(description=gettext_lazy("Overrides lifted"), ordering="lifted_count")
    def lifted(self, obj: SyncRun) -> int:
        return getattr(obj, "lifted_count", 0)

    @admin.display(description=gettext_lazy("Price rises held"), ordering="review_count")
    def reviews(self, obj: SyncRun) -> int:
        return getattr(obj, "review_count", 0)

    @admin.display(description=gettext_lazy("Duration (s)"), ordering="duration_ms")
    def seconds(self, obj: SyncRun) -> str:
        return f"{obj.duration_ms / 1000:.1f}" if obj.duration_ms is not None else "…"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def get_urls(self):
        return [
            path("sync-now/", self.admin_site.admin_view(self.sync_now), name="catalog_sync_now"),
            *super().get_urls(),
        ]

    def sync_now(self, request: HttpRequest) -> HttpResponseRedirect:
        if request.method == "POST":
            audit.record(
                request.user,
                CatalogAction.SYNC_STARTED,
                None,
                {},
                {"trigger": "admin"},
                note="Sync now pressed in admin",
            )
            transaction.on_commit(lambda: sync_catalog_task.delay(trigger="admin"))
            self.message_user(
                request, _("Catalog sync queued; it appears in this list when it starts."), messages.SUCCESS
            )
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

    @admin.display(description=gettext_lazy("Destination"))
    def destination(self, obj: DestinationAlias) -> str:
        found = Destination.objects.filter(code__iexact=obj.code, geography=obj.geography).first()
        return found.name if found else _("— no such destination —")


@admin.register(ContentPage)
class ContentPageAdmin(BumpsCatalogVersion):
    list_display = ("title", "slug", "updated_at")
    readonly_fields = ("updated_at",)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # the footer, checkout and plan pages link to them
