from django.contrib import admin

from .models import OutboxEmail


@admin.register(OutboxEmail)
class OutboxEmailAdmin(admin.ModelAdmin):
    list_display = ("created_at", "to", "subject")
    search_fields = ("to", "subject")
    readonly_fields = ("created_at", "subject", "from_email", "to", "body_text", "body_html")
    exclude = ("raw",)

    def has_add_permission(self, request) -> bool:
        return False
