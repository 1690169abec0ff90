from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join

from core.money import format_money
from payments.models import Payment
from payments.providers import PaymentError

from . import services
from .models import Order, OrderEvent, OrderLine, OrderStatus


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def get_readonly_fields(self, request, obj=None):
        return self.fields


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    fields = ("kind", "description", "package_id_upstream", "quantity", "unit_price_cents", "total_cents",
              "wholesale_cents", "upstream_order_id", "fulfilled_at")


class PaymentInline(ReadOnlyInline):
    model = Payment
    fields = ("provider", "external_reference", "capture_reference", "amount_cents", "refunded_cents",
              "status", "created_at")


class OrderEventInline(ReadOnlyInline):
    model = OrderEvent
    verbose_name_plural = "Timeline"
    fields = ("created_at", "kind", "from_status", "to_status", "message", "actor")
    ordering = ("created_at", "id")


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ("number", "status_badge", "total", "email", "created_at")
    list_filter = ("status", "lines__kind", ("created_at", admin.DateFieldListFilter))
    search_fields = ("number", "email", "lines__esims__iccid", "lines__esim__iccid", "upstream_order_id",
                     "lines__upstream_order_id", "payments__external_reference",
                     "payments__capture_reference")
    date_hierarchy = "created_at"
    inlines = [OrderLineInline, PaymentInline, OrderEventInline]
    actions = ["retry_fulfilment", "refund", "resend_esim_email"]
    readonly_fields = ("number", "status", "email", "customer", "currency", "total", "travel_date",
                       "action_reason", "upstream_order_id", "delivered_esims", "fulfilment_attempts",
                       "fulfilment_lease_until", "esim_email_sent_at", "receipt_sent_at", "created_at",
                       "paid_at", "completed_at", "updated_at")
    exclude = ("access_token", "total_cents", "checkout_key")
    show_full_result_count = False

    def get_search_results(self, request, queryset, search_term):
        queryset, _ = super().get_search_results(request, queryset, search_term)
        return queryset.distinct(), False

    @admin.display(description="Total", ordering="total_cents")
    def total(self, obj: Order) -> str:
        return format_money(obj.total_cents, obj.currency)

    @admin.display(description="eSIMs delivered")
    def delivered_esims(self, obj: Order) -> str:
        esims = [(e.iccid or e.upstream_esim_id, e.status, e.title) for e in obj.esims]
        if not esims:
            return "—"
        return format_html("<ul>{}</ul>", format_html_join("", "<li>{} · {} · {}</li>", esims))

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj: Order) -> str:
        colour = {"completed": "#146c43", "requires_action": "#b02a37", "refunded": "#4f5863",
                  "cancelled": "#4f5863"}.get(obj.status, "#8a5300")
        return format_html('<strong style="color:{}">{}</strong>', colour, obj.get_status_display())

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # an order's history is kept

    def _each(self, request: HttpRequest, queryset: QuerySet[Order], action, done: str) -> None:
        ok = 0
        for order in queryset:
            try:
                action(order)
                ok += 1
            except (services.CheckoutError, PaymentError) as exc:
                self.message_user(request, f"{order.number}: {exc}", messages.ERROR)
        if ok:
            self.message_user(request, f"{done}: {ok} order(s).", messages.SUCCESS)

    @admin.action(description="Retry fulfilment")
    def retry_fulfilment(self, request, queryset) -> None:
        actor = request.user.get_username()
        self._each(request, queryset, lambda o: services.retry_fulfilment(o.id, actor=actor),
                   "Fulfilment queued")

    @admin.action(description="Refund to the card and close")
    def refund(self, request, queryset) -> None:
        actor = request.user.get_username()
        self._each(request, queryset, lambda o: services.refund_order(o.id, actor=actor,
                                                                         reason=f"Refunded by {actor}"),
                   "Refunded")

    @admin.action(description="Resend the eSIM email")
    def resend_esim_email(self, request, queryset) -> None:
        actor = request.user.get_username()
        self._each(request, queryset,
                   lambda o: services.send_esim_email(o.id, resend=True, actor=actor), "Email resent")


def admin_dashboard() -> dict:
    """What the admin index shows on top: orders needing action and the upstream balance."""
    from django.core.cache import cache

    from core.upstream import roamify_client

    balance = cache.get("admin:upstream_balance")
    if balance is None:
        try:
            money = roamify_client().balance()
            balance = format_money(money.amount_cents, money.currency)
        except Exception as exc:  # the dashboard shows it rather than failing
            balance = f"unavailable ({type(exc).__name__})"
        cache.set("admin:upstream_balance", balance, 60)
    return {
        "needing_action": Order.objects.needing_action().count(),
        "stuck": Order.objects.filter(status__in=[OrderStatus.PAID, OrderStatus.FULFILLING]).count(),
        "upstream_balance": balance,
    }
