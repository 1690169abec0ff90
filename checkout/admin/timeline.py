"""The order's timeline (OrderEvent): the inline on the order page."""

from __future__ import annotations

from django.contrib import admin

from ..models import OrderEvent
from .display import ReadOnlyInline, when


class OrderEventInline(ReadOnlyInline):
    model = OrderEvent
    verbose_name_plural = "Timeline"
    fields = ("time", "kind", "change", "message", "actor")
    ordering = ("created_at", "id")

    @admin.display(description="When")
    def time(self, obj: OrderEvent) -> str:
        return when(obj.created_at)

    @admin.display(description="Status")
    def change(self, obj: OrderEvent) -> str:
        if not obj.to_status:
            return ""
        return f"{obj.from_status or '—'} → {obj.to_status}"
