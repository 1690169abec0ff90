from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.admin_tools import ReadOnlyMixin
from core.money import format_money

from . import selectors, usage
from .models import Esim, LowDataAlert, PartnerBalance, RoamifyEvent


@admin.register(Esim)
class EsimAdmin(admin.ModelAdmin):
    list_display = ("iccid", "title", "status", "refund_state", "email", "customer", "created_at")
    search_fields = ("iccid", "upstream_esim_id", "upstream_order_id", "email")
    list_filter = ("status", "refund_state")
    raw_id_fields = ("customer",)
    readonly_fields = ["data_usage", "orders", *[f.name for f in Esim._meta.fields]]
    actions = None  # no "delete selected": a sold eSIM stays on the books

    def get_fields(self, request, obj=None):
        return [
            "refund_state",
            "data_usage",
            "orders",
            *[f.name for f in Esim._meta.fields if f.name not in ("id", "refund_state")],
        ]

    @admin.display(description=gettext_lazy("Data used and left"))
    def data_usage(self, obj: Esim) -> str:
        """From the usage cache (fetched from Roamify when the cache has none), as support decides on it."""
        if not obj.iccid:
            return "—"
        snapshot = selectors.usage_of(obj)
        if not snapshot:
            return usage.summary(snapshot)
        return _("%(usage)s · as of %(when)s") % {
            "usage": usage.summary(snapshot),
            "when": f"{localtime(snapshot.fetched_at):%Y-%m-%d %H:%M}",
        }

    @admin.display(description=gettext_lazy("Orders and top-ups"))
    def orders(self, obj: Esim) -> str:
        """The order that bought it and the top-up orders for it (checkout's lines point at the eSIM:
        read through those relations by name, so esims import nothing of checkout)."""
        bought = [(line.order, _("bought it")) for line in obj.order_lines.select_related("order")]
        topped = [
            (line.order, _("top-up: %(line)s") % {"line": line.description})
            for line in obj.topup_lines.select_related("order")
        ]
        rows = [
            (
                reverse("admin:checkout_order_change", args=[order.pk]),
                order.number,
                what,
                order.get_status_display(),
            )
            for order, what in bought + topped
        ]
        if not rows:
            return "—"
        return format_html(
            "<ul>{}</ul>", format_html_join("", '<li><a href="{}">{}</a> · {} · {}</li>', rows)
        )

    def has_add_permission(self, request) -> bool:
        return False  # eSIMs come from upstream

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # a sold eSIM stays on the books


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(RoamifyEvent)
class RoamifyEventAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """What Roamify told us, as received: the record behind each eSIM's status. Never deleted, one by
    one or in bulk (no delete permission, so no "delete selected" action)."""

    list_display = ("received_at", "category", "event_type", "iccid", "processed_at")
    list_filter = ("category", "event_type")
    search_fields = ("iccid", "digest")
    date_hierarchy = "received_at"


@admin.register(LowDataAlert)
class LowDataAlertAdmin(_ReadOnly):
    list_display = (
        "created_at",
        "esim",
        "threshold",
        "percent_used",
        "allowance_key",
        "skipped",
        "email_sent_at",
    )
    list_filter = ("threshold", "skipped")
    search_fields = ("esim__iccid", "esim__email")
    raw_id_fields = ("esim",)


@admin.register(PartnerBalance)
class PartnerBalanceAdmin(_ReadOnly):
    list_display = ("__str__", "source", "checked_at", "alerted_at", "alert_sent_at")
    exclude = ("balance_cents", "daily_cost_cents")  # shown as money below
    readonly_fields = ("balance", "daily_cost")

    @admin.display(description=gettext_lazy("Balance"))
    def balance(self, obj: PartnerBalance) -> str:
        return format_money(obj.balance_cents, obj.currency)

    @admin.display(description=gettext_lazy("Cost per day (last 7 days' pace)"))
    def daily_cost(self, obj: PartnerBalance) -> str:
        return format_money(obj.daily_cost_cents, obj.currency) if obj.daily_cost_cents is not None else "-"
