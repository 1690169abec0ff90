from django.contrib import admin

from core.money import format_money

from .models import Esim, LowDataAlert, PartnerBalance, RoamifyEvent


@admin.register(Esim)
class EsimAdmin(admin.ModelAdmin):
    list_display = ("iccid", "title", "status", "email", "customer", "created_at")
    search_fields = ("iccid", "upstream_esim_id", "upstream_order_id", "email")
    list_filter = ("status",)
    raw_id_fields = ("customer",)
    readonly_fields = [f.name for f in Esim._meta.fields]
    actions = None  # no "delete selected": a sold eSIM stays on the books

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
class RoamifyEventAdmin(_ReadOnly):
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
    exclude = ("balance_cents",)  # shown as money below
    readonly_fields = ("balance",)

    @admin.display(description="Balance")
    def balance(self, obj: PartnerBalance) -> str:
        return format_money(obj.balance_cents, obj.currency)
