"""The order's timeline (OrderEvent): the inline on the order page, and every order's timeline in
one list that support filters by kind (one order's emails, or every failed automatic refund)."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.translation import gettext, gettext_lazy

from core.admin_tools import ReadOnlyMixin

from ..events import OrderEventKind
from ..models import Order, OrderEvent
from .display import ReadOnlyInline, when


class OrderEventInline(ReadOnlyInline):
    model = OrderEvent
    verbose_name_plural = gettext_lazy("Timeline")
    fields = ("time", "kind", "change", "message", "actor")
    ordering = ("created_at", "id")

    @admin.display(description=gettext_lazy("When"))
    def time(self, obj: OrderEvent) -> str:
        return when(obj.created_at)

    @admin.display(description=gettext_lazy("Status"))
    def change(self, obj: OrderEvent) -> str:
        return status_change(obj)


def status_change(event: OrderEvent) -> str:
    if not event.to_status:
        return ""
    return f"{event.from_status or '—'} → {event.to_status}"


def timeline_url(order: Order, kind: str = "") -> str:
    """The timeline list showing this order's events (of one kind, if given)."""
    query = {"order__id__exact": order.pk, **({"kind__exact": kind} if kind else {})}
    return f"{reverse('admin:checkout_orderevent_changelist')}?{urlencode(query)}"


def timeline_by_kind(order: Order) -> str:
    """Links to the order's timeline filtered by each kind it holds, with how many of each."""
    counts = dict(order.events.values_list("kind").annotate(n=Count("id")).order_by("kind"))
    if not counts:
        return "—"
    labels = dict(OrderEventKind.choices)
    links = [(timeline_url(order, kind), labels.get(kind, kind), n) for kind, n in counts.items()]
    links.append((timeline_url(order), gettext("Everything"), sum(counts.values())))
    return format_html_join(" · ", '<a href="{}">{} ({})</a>', links)


@admin.register(OrderEvent)
class OrderEventAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("time", "order_number", "kind", "change", "message", "actor")
    list_display_links = ("time",)
    list_filter = ("kind", ("created_at", admin.DateFieldListFilter))
    search_fields = ("order__number", "message", "actor")
    search_help_text = gettext_lazy("Order number, words of the message, or who did it")
    list_select_related = ("order",)
    ordering = ("-created_at", "-id")
    show_full_result_count = False
    list_per_page = 100

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # the timeline is history: shown, never edited

    @admin.display(description=gettext_lazy("When"), ordering="created_at")
    def time(self, obj: OrderEvent) -> str:
        return when(obj.created_at)

    @admin.display(description=gettext_lazy("Order"), ordering="order__number")
    def order_number(self, obj: OrderEvent) -> str:
        url = reverse("admin:checkout_order_change", args=[obj.order_id])
        return format_html('<a href="{}">{}</a>', url, obj.order.number)

    @admin.display(description=gettext_lazy("Status"))
    def change(self, obj: OrderEvent) -> str:
        return status_change(obj)
