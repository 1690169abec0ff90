import json

from django.conf import settings
from django.contrib import admin
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from .admin_tools import ReadOnlyMixin
from .models import AuditEntry, OutboxEmail

admin.site.site_header = f"{settings.SHOP_NAME} · admin"
admin.site.site_title = f"{settings.SHOP_NAME} admin"
admin.site.index_title = "Run the shop"
admin.site.enable_nav_sidebar = False  # the order list and its timeline need the width (1280 px)


@admin.register(OutboxEmail)
class OutboxEmailAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Sent emails are a record of what the customer was told: read, never edited or deleted."""

    list_display = ("created_at", "to", "subject")
    search_fields = ("to", "subject")
    readonly_fields = ("created_at", "subject", "from_email", "to", "body_text", "body_html")
    exclude = ("raw",)

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("created_at", "actor", "action", "target", "change")
    list_filter = ("action", "target_type")
    search_fields = ("actor", "action", "target_repr", "target_id", "note")
    date_hierarchy = "created_at"
    readonly_fields = (
        "created_at",
        "actor",
        "action",
        "target_type",
        "target_id",
        "target_repr",
        "before_json",
        "after_json",
        "note",
    )
    exclude = ("before", "after")
    show_full_result_count = False

    @admin.display(description="What", ordering="target_repr")
    def target(self, obj: AuditEntry) -> str:
        return f"{obj.target_repr}" if obj.target_repr else "—"

    @admin.display(description="Before → after")
    def change(self, obj: AuditEntry) -> str:
        keys = list(dict.fromkeys([*obj.before, *obj.after]))[:4]
        if not keys:
            return obj.note[:120]
        return format_html_join(
            mark_safe("<br>"),
            "<code>{}</code>: {} → {}",
            ((k, _short(obj.before.get(k)), _short(obj.after.get(k))) for k in keys),
        )

    @admin.display(description="Before")
    def before_json(self, obj: AuditEntry) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.before, indent=2, sort_keys=True))

    @admin.display(description="After")
    def after_json(self, obj: AuditEntry) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.after, indent=2, sort_keys=True))


def _short(value) -> str:
    text = "—" if value in (None, "") else str(value)
    return text if len(text) <= 60 else text[:57] + "…"
