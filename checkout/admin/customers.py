"""The customer admin: one record per email, with their orders, eSIMs, total spent, gift cards bought and
spent, refunds (`panels.py`) and a staff note."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, F, IntegerField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy

from core import audit
from core.admin_tools import AuditTrailMixin, NoDeleteMixin
from core.money import format_money
from esims.models import Esim
from payments.models import Payment

from .. import selectors
from ..events import AuditAction
from ..models import Customer, Order
from ..services.ordering import GIFT_CARD_PROVIDER
from .display import when
from .forms import CustomerForm
from .panels import CUSTOMER_PANELS


@admin.register(Customer)
class CustomerAdmin(AuditTrailMixin, NoDeleteMixin, admin.ModelAdmin):
    form = CustomerForm
    list_display = ("email", "name", "phone", "orders", "spent", "account", "created_at")
    search_fields = ("email", "name", "phone", "user__first_name", "user__last_name")
    search_help_text = gettext_lazy("Name, email or phone")
    readonly_fields = (
        "email",
        "name",
        "phone",
        "account",
        "orders",
        "spent",
        "order_list",
        "esim_list",
        "panels",
        "audit_trail",
    )
    fields = (
        "email",
        "name",
        "phone",
        "account",
        "orders",
        "spent",
        "note",
        "order_list",
        "esim_list",
        "panels",
        "audit_trail",
    )
    show_full_result_count = False

    def get_queryset(self, request):
        orders = (
            Order.objects.filter(email__iexact=OuterRef("email"))
            .values("email")
            .annotate(n=Count("id"))
            .values("n")
        )
        # Money the customer paid: a gift card spent was paid for when it was bought (counted then).
        spent = (
            Payment.objects.filter(order__email__iexact=OuterRef("email"), status__in=Payment.CAPTURED_STATES)
            .exclude(provider=GIFT_CARD_PROVIDER)
            .values("currency")
            .annotate(s=Sum(F("amount_cents") - F("refunded_cents")))
            .values("s")[:1]
        )
        return (
            super()
            .get_queryset(request)
            .select_related("user")
            .annotate(
                order_count=Coalesce(Subquery(orders[:1], output_field=IntegerField()), Value(0)),
                spent_cents=Coalesce(Subquery(spent, output_field=IntegerField()), Value(0)),
            )
        )

    def has_add_permission(self, request) -> bool:
        return False  # customers come from orders

    @admin.display(description=gettext_lazy("Orders"), ordering="order_count")
    def orders(self, obj: Customer) -> int:
        return getattr(obj, "order_count", 0)

    @admin.display(description=gettext_lazy("Total spent (less refunds)"), ordering="spent_cents")
    def spent(self, obj: Customer) -> str:
        return format_money(getattr(obj, "spent_cents", 0))

    @admin.display(description=gettext_lazy("Account"))
    def account(self, obj: Customer) -> str:
        return "account" if obj.user_id else "guest"

    @admin.display(description=gettext_lazy("Their orders"))
    def order_list(self, obj: Customer) -> str:
        rows = [
            (
                reverse("admin:checkout_order_change", args=[o.pk]),
                o.number,
                o.get_status_display(),
                format_money(o.total_cents, o.currency),
                when(o.created_at),
            )
            for o in selectors.orders_of_customer(obj).order_by("-created_at")[:50]
        ]
        if not rows:
            return "—"
        return format_html(
            "<ul>{}</ul>", format_html_join("", '<li><a href="{}">{}</a> · {} · {} · {}</li>', rows)
        )

    @admin.display(description=gettext_lazy("Their eSIMs"))
    def esim_list(self, obj: Customer) -> str:
        esims = Esim.objects.filter(
            Q(email__iexact=obj.email) | Q(customer_id=obj.user_id)
            if obj.user_id
            else Q(email__iexact=obj.email)
        ).order_by("-created_at")[:50]
        rows = [(e.iccid or e.upstream_esim_id, e.status or "?", e.title) for e in esims]
        if not rows:
            return "—"
        return format_html("<ul>{}</ul>", format_html_join("", "<li><code>{}</code> · {} · {}</li>", rows))

    @admin.display(description=gettext_lazy("Gift cards and refunds"))
    def panels(self, obj: Customer) -> str:
        if not CUSTOMER_PANELS:
            return "—"
        return format_html_join(
            "", "<h3>{}</h3>{}", [(title, panel(obj)) for title, panel in CUSTOMER_PANELS]
        )

    def save_model(self, request, obj, form, change) -> None:
        before = Customer.objects.filter(pk=obj.pk).values("note").first() or {}
        super().save_model(request, obj, form, change)
        if "note" in form.changed_data:
            audit.record(request.user, AuditAction.CUSTOMER_NOTE, obj, before, {"note": obj.note})
