from django.contrib import admin

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
    fields = readonly_fields = ("created_at", "amount_cents", "external_reference", "reason", "actor")

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ("id", "order", "provider", "amount", "status", "created_at")
    list_filter = ("provider", "status")
    search_fields = ("order__number", "external_reference", "capture_reference")
    inlines = [PaymentRefundInline]

    @admin.display(description="Amount", ordering="amount_cents")
    def amount(self, obj: Payment) -> str:
        return format_money(obj.amount_cents, obj.currency)


@admin.register(StripeEvent)
class StripeEventAdmin(ReadOnlyAdmin):
    list_display = ("received_at", "type", "event_id", "reference")
    search_fields = ("event_id", "reference")
    list_filter = ("type",)
