"""What the shop's admins share: CSV exports of the filtered list, the audit trail on each
object, read-only money records, and money shown as money."""

from __future__ import annotations

from django.contrib import admin
from django.http import Http404, HttpRequest
from django.template.loader import render_to_string
from django.urls import path

from . import audit
from .exports import CsvExport, stream_csv


class CsvExportMixin(admin.ModelAdmin):
    """Adds "Export CSV" buttons to the change list; each exports the list as filtered and searched."""

    csv_exports: list[CsvExport] = []
    change_list_template = "admin/shop_change_list.html"

    def get_urls(self):
        info = self.model._meta.app_label, self.model._meta.model_name
        return [
            path(
                "export/<slug:slug>/",
                self.admin_site.admin_view(self.export_csv),
                name="{}_{}_export".format(*info),
            ),
            *super().get_urls(),
        ]

    def export_csv(self, request: HttpRequest, slug: str):
        if not self.has_view_permission(request):
            raise Http404
        export = next((e for e in self.csv_exports if e.slug == slug), None)
        if export is None:
            raise Http404
        request.shop_export = True  # admins may skip list-only annotations for exports
        queryset = self.get_changelist_instance(request).get_queryset(request)
        audit.record(
            request.user,
            "export",
            None,
            after={"export": slug, "filters": dict(request.GET)},
            note=f"Exported {export.label}",
        )
        return stream_csv(f"{self.model._meta.model_name}-{slug}", export.header, export.rows(queryset))

    def changelist_view(self, request, extra_context=None):
        query = request.GET.urlencode()
        extra_context = {
            **(extra_context or {}),
            "csv_exports": [
                (e.label, f"export/{e.slug}/" + (f"?{query}" if query else "")) for e in self.csv_exports
            ],
        }
        return super().changelist_view(request, extra_context)


class AuditTrailMixin(admin.ModelAdmin):
    """Shows the object's audit entries on its page (add "audit_trail" to readonly_fields)."""

    @admin.display(description="Audit trail")
    def audit_trail(self, obj) -> str:
        if obj is None or obj.pk is None:
            return "—"
        entries = list(audit.entries_for(obj)[:50])
        return render_to_string("admin/_audit_trail.html", {"entries": entries})  # escaped by the template


class NoDeleteMixin:
    """For records the shop keeps for good: no delete button, no "delete selected" action."""

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyMixin(NoDeleteMixin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
