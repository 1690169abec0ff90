from django.contrib import admin

from .models import Esim


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
