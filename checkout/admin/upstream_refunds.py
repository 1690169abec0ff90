"""The cost of eSIMs claimed back from Roamify: its list, and its inline on the order page."""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy

from core.admin_tools import ReadOnlyMixin
from core.money import format_money

from ..models import UpstreamRefund
from .display import ReadOnlyInline, when

CLAIM_BADGE = {"refunded": "ok", "rejected": "bad", "cancelled": "quiet"}


class UpstreamRefundInline(ReadOnlyInline):
    model = UpstreamRefund
    verbose_name_plural = gettext_lazy("Cost claimed back from Roamify")
    fields = ("esim_iccid", "cost", "state", "refund_id", "rejection_reason", "last_error", "created")

    @admin.display(description=gettext_lazy("eSIM"))
    def esim_iccid(self, obj: UpstreamRefund) -> str:
        return obj.esim.iccid or obj.esim.upstream_esim_id

    @admin.display(description=gettext_lazy("Cost"))
    def cost(self, obj: UpstreamRefund) -> str:
        return format_money(obj.cost_cents, obj.currency)

    @admin.display(description=gettext_lazy("Status"))
    def state(self, obj: UpstreamRefund) -> str:
        return format_html(
            '<span class="shop-badge {}">{}</span>',
            CLAIM_BADGE.get(obj.status, "warn"),
            obj.get_status_display(),
        )

    @admin.display(description=gettext_lazy("Filed"))
    def created(self, obj: UpstreamRefund) -> str:
        return when(obj.created_at)


@admin.register(UpstreamRefund)
class UpstreamRefundAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("created_at", "order", "esim", "cost", "status", "refund_id", "rejection_reason")
    list_filter = ("status",)
    search_fields = ("refund_id", "order__number", "esim__iccid", "esim__upstream_esim_id")
    list_select_related = ("order", "esim")
    exclude = ("cost_cents",)  # shown as money
    readonly_fields = ("cost",)

    @admin.display(description=gettext_lazy("Cost"), ordering="cost_cents")
    def cost(self, obj: UpstreamRefund) -> str:
        return format_money(obj.cost_cents, obj.currency)
