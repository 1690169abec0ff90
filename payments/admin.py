from django.conf import settings
from django.contrib import admin
from django.utils.translation import gettext_lazy

from core.admin_tools import CsvExportMixin
from core.exports import CsvExport, in_chunks, money_cell
from core.money import format_money

from .models import Payment, PaymentRefund, StripeEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    """Money records come from providers: staff read them, never add, edit or delete."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class PaymentRefundInline(admin.TabularInline):
    model = PaymentRefund
    extra = 0
    can_delete = False
    fields = readonly_fields = ("created_at", "amount", "external_reference", "reason", "actor")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=gettext_lazy("Amount"))
    def amount(self, obj: PaymentRefund) -> str:
        return format_money(obj.amount_cents, obj.payment.currency)


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ("id", "order", "provider", "amount", "refunded", "status", "created_at")
    list_filter = ("provider", "status")
    search_fields = ("order__number", "external_reference", "capture_reference")
    inlines = [PaymentRefundInline]

    list_select_related = ("order",)
    exclude = ("amount_cents", "refunded_cents", "base_amount_cents", "base_refunded_cents")
    readonly_fields = ("amount", "refunded", "base_amount", "base_refunded")

    @admin.display(description=gettext_lazy("Amount"), ordering="amount_cents")
    def amount(self, obj: Payment) -> str:
        return format_money(obj.amount_cents, obj.currency)

    @admin.display(description=gettext_lazy("Refunded"), ordering="refunded_cents")
    def refunded(self, obj: Payment) -> str:
        return format_money(obj.refunded_cents, obj.currency)

    @admin.display(description=gettext_lazy("Amount in the base currency"))
    def base_amount(self, obj: Payment) -> str:
        return format_money(obj.base_amount_cents, settings.SHOP_CURRENCY)

    @admin.display(description=gettext_lazy("Refunded in the base currency"))
    def base_refunded(self, obj: Payment) -> str:
        return format_money(obj.base_refunded_cents, settings.SHOP_CURRENCY)


REFUND_HEADER = [
    "refunded_at",
    "order",
    "provider",
    "payment",
    "amount",
    "currency",
    "reference",
    "reason",
    "by",
]


def refund_rows(queryset):
    for chunk in in_chunks(
        queryset.values(
            "pk",
            "created_at",
            "payment__order__number",
            "payment__provider",
            "payment_id",
            "amount_cents",
            "payment__currency",
            "external_reference",
            "reason",
            "actor",
        )
    ):
        for r in chunk:
            yield [
                r["created_at"],
                r["payment__order__number"],
                r["payment__provider"],
                r["payment_id"],
                money_cell(r["amount_cents"]),
                r["payment__currency"],
                r["external_reference"],
                r["reason"],
                r["actor"],
            ]


@admin.register(PaymentRefund)
class PaymentRefundAdmin(CsvExportMixin, ReadOnlyAdmin):
    """Every refund, as money went back: read only, exportable."""

    list_display = ("created_at", "order", "provider", "amount", "reason", "actor")
    list_filter = ("payment__provider", ("created_at", admin.DateFieldListFilter))
    search_fields = ("payment__order__number", "external_reference", "reason", "actor")
    list_select_related = ("payment__order",)
    date_hierarchy = "created_at"
    exclude = ("amount_cents", "base_amount_cents")
    readonly_fields = ("amount", "base_amount")
    csv_exports = [CsvExport("refunds", "Export refunds (CSV)", REFUND_HEADER, refund_rows)]

    @admin.display(description=gettext_lazy("Order"), ordering="payment__order__number")
    def order(self, obj: PaymentRefund) -> str:
        return obj.payment.order.number

    @admin.display(description=gettext_lazy("Provider"))
    def provider(self, obj: PaymentRefund) -> str:
        return obj.payment.provider

    @admin.display(description=gettext_lazy("Amount"), ordering="amount_cents")
    def amount(self, obj: PaymentRefund) -> str:
        return format_money(obj.amount_cents, obj.payment.currency)

    @admin.display(description=gettext_lazy("Amount in the base currency"))
    def base_amount(self, obj: PaymentRefund) -> str:
        return format_money(obj.base_amount_cents, settings.SHOP_CURRENCY)


@admin.register(StripeEvent)
class StripeEventAdmin(ReadOnlyAdmin):
    list_display = ("received_at", "type", "event_id", "reference")
    search_fields = ("event_id", "reference")
    list_filter = ("type",)
