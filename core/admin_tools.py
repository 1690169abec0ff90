"""What the shop's admins share: odd input from the address bar answered like any wrong input,
CSV exports of the filtered list, the audit trail on each object, read-only money records, and
money shown as money."""

from __future__ import annotations

from functools import cache

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import ERROR_FLAG, TO_FIELD_VAR, ChangeList
from django.core.exceptions import FieldDoesNotExist, FieldError, ValidationError
from django.db import connection, models
from django.db.models.constants import LOOKUP_SEP
from django.http import Http404, HttpRequest, HttpResponseRedirect
from django.template.loader import render_to_string
from django.urls import path, reverse

from . import audit
from .exports import CsvExport, stream_csv
from .forms import PlainTextMixin
from .text import control_character

# Lookups whose value is compared with the field's own type (an __in or __range value is a list).
_COMPARED = {"exact", "in", "range", "gt", "gte", "lt", "lte"}


def _fits_range(field: models.Field, number: int) -> bool:
    low, high = connection.ops.integer_field_range(field.get_internal_type())
    return (low is None or number >= low) and (high is None or number <= high)


def fits(field: models.Field, raw: str) -> bool:
    """Whether text from the address bar can be some row's value of `field`: no control character
    (PostgreSQL refuses NUL), of the field's type, and a whole number within the column's range
    (SQLite raises OverflowError past 64 bits). Anything else names no row: refuse it before the
    query, as Django refuses a wrong type."""
    if control_character(raw) is not None:
        return False
    try:
        value = field.to_python(raw)
    except (ValidationError, ValueError, TypeError):
        return False
    return not isinstance(field, models.IntegerField) or value is None or _fits_range(field, value)


def _compared_field(model: type[models.Model], key: str) -> tuple[models.Field, str] | None:
    """For a list filter's lookup (`order__id__in`), the field its value is compared with and the
    lookup; None when it is not a field lookup (a SimpleListFilter's own parameter)."""
    opts, field, rest = model._meta, None, []
    parts = key.split(LOOKUP_SEP)
    for i, part in enumerate(parts):
        try:
            field = opts.pk if part == "pk" else opts.get_field(part)
        except FieldDoesNotExist:
            rest = parts[i:]
            break
        if field.is_relation and field.related_model is not None:
            opts = field.related_model._meta
    if field is None or len(rest) > 1:
        return None
    if field.is_relation:
        try:
            field = field.target_field
        except (AttributeError, FieldError):
            return None
    return field, rest[0] if rest else "exact"


def odd_lookup(model: type[models.Model], request: HttpRequest, params: dict[str, list[str]]) -> str | None:
    """Why a change list's query string names no rows at all (None: let Django judge it)."""
    for key, value in request.GET.items():
        if control_character(key) is not None or control_character(value) is not None:
            return f"a control character in {key!r}"
    for key, values in params.items():
        field, lookup = _compared_field(model, key) or (None, "")
        if not isinstance(field, models.IntegerField) or lookup not in _COMPARED:
            continue
        for value in values:
            for part in value.split(",") if lookup in ("in", "range") else [value]:
                try:
                    number = int(part)
                except ValueError:
                    continue  # not a number: Django refuses it itself
                if not _fits_range(field, number):
                    return f"{key}={part} is past the column's range"
    return None


class GuardedChangeList(ChangeList):
    """A change list whose odd filters (see odd_lookup) and dates no calendar has end in the admin's
    own "?e=1" answer, before any query, instead of a server error."""

    def get_queryset(self, request, exclude_parameters=None):
        problem = odd_lookup(self.model, request, self.get_filters_params())
        if problem:
            raise IncorrectLookupParameters(problem)
        try:
            return super().get_queryset(request, exclude_parameters)
        except OverflowError as exc:  # the date drill-down's year, past what a date holds
            raise IncorrectLookupParameters(exc) from exc

    def get_results(self, request) -> None:
        try:
            super().get_results(request)
        except (OverflowError, ValueError) as exc:  # a date lookup's bounds, computed with the query
            raise IncorrectLookupParameters(exc) from exc


@cache
def _guarded(changelist: type[ChangeList]) -> type[ChangeList]:
    if issubclass(changelist, GuardedChangeList):
        return changelist
    return type(changelist.__name__, (GuardedChangeList, changelist), {})


def _plain_text(form: type) -> type:  # not cached: the admin makes a new form class per request
    if issubclass(form, PlainTextMixin):
        return form
    return type(form.__name__, (PlainTextMixin, form), {})


class GuardedInputMixin(admin.ModelAdmin):
    """Every ModelAdmin has it (core.staff_mfa.StaffAdminSite.register adds it, to Django's and the
    apps' own too): ids checked before any view queries with them (an object id that names no row:
    Django's "doesn't exist"; a selection: "not in this list"), the change list guarded, and every
    form's text refusing control characters."""

    def _object_field(self, request: HttpRequest) -> models.Field:
        to_field = request.POST.get(TO_FIELD_VAR, request.GET.get(TO_FIELD_VAR))
        if to_field and self.to_field_allowed(request, to_field):
            return self.opts.get_field(to_field)
        return self.opts.pk

    def _unknown(self, request: HttpRequest, object_id: str | None):
        if object_id is None or fits(self._object_field(request), unquote(object_id)):
            return None
        return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return self._unknown(request, object_id) or super().change_view(
            request, object_id, form_url, extra_context
        )

    def history_view(self, request, object_id, extra_context=None):
        return self._unknown(request, object_id) or super().history_view(request, object_id, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        return self._unknown(request, object_id) or super().delete_view(request, object_id, extra_context)

    def response_action(self, request, queryset):
        if not all(fits(self.opts.pk, value) for value in request.POST.getlist(ACTION_CHECKBOX_NAME)):
            self.message_user(request, "Those items are not in this list: nothing changed.", messages.WARNING)
            return None
        return super().response_action(request, queryset)

    def get_changelist(self, request, **kwargs):
        return _guarded(super().get_changelist(request, **kwargs))

    def get_form(self, request, obj=None, change=False, **kwargs):
        return _plain_text(super().get_form(request, obj, change=change, **kwargs))


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
        try:
            queryset = self.get_changelist_instance(request).get_queryset(request)
        except IncorrectLookupParameters:  # the list's own answer to filters it cannot apply
            info = self.model._meta.app_label, self.model._meta.model_name
            return HttpResponseRedirect(f"{reverse('admin:{}_{}_changelist'.format(*info))}?{ERROR_FLAG}=1")
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
