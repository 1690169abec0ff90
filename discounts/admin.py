"""Discount codes in admin: the list with uses and state, money typed as money, and a preview of
the margin a code would leave before it is saved (the Preview button re-renders the form unsaved)."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.admin import helpers
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone

from catalog.models import Destination
from core import audit
from core.admin_tools import AuditTrailMixin, ReadOnlyMixin
from core.forms import MoneyField, PlainTextMixin
from core.money import format_money

from . import selectors
from .models import DiscountCode, DiscountUse, LineKinds


def _regions() -> list[tuple[str, str]]:
    names = Destination.objects.exclude(region="").values_list("region", flat=True).distinct()
    return [(name, name) for name in sorted(set(names))]


class DiscountCodeForm(PlainTextMixin, forms.ModelForm):
    amount_off_cents = MoneyField(
        label="Amount off",
        required=False,
        min_cents=1,
        help_text="In the base currency, typed as money: 5 or 4.99",
    )
    min_spend_cents = MoneyField(
        label="Minimum spend",
        required=False,
        help_text="On the lines the code applies to, before the discount (base currency; empty: none)",
    )
    regions = forms.MultipleChoiceField(choices=_regions, required=False, widget=forms.CheckboxSelectMultiple)
    line_kinds = forms.MultipleChoiceField(
        choices=LineKinds.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Empty: both. Gift cards are never discounted.",
    )

    class Meta:
        model = DiscountCode
        fields = (
            "code",
            "kind",
            "description",
            "active",
            "percent_off",
            "amount_off_cents",
            "valid_from",
            "valid_until",
            "max_uses",
            "max_uses_per_customer",
            "min_spend_cents",
            "first_order_only",
            "destinations",
            "regions",
            "packages",
            "line_kinds",
            "referrer",
        )

    def clean_code(self) -> str:
        code = (self.cleaned_data.get("code") or "").strip().upper()
        taken = DiscountCode.objects.filter(code=code)
        if self.instance.pk:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError("Another code is already called that (codes ignore case).")
        return code

    def clean_min_spend_cents(self) -> int:
        return self.cleaned_data.get("min_spend_cents") or 0

    def clean(self) -> dict:
        data = super().clean()
        percent, amount = data.get("percent_off"), data.get("amount_off_cents")
        if (percent is None) == (amount is None):
            raise forms.ValidationError("Give either a percent off or an amount off (one of them).")
        if percent is not None and not 1 <= percent <= 100:
            self.add_error("percent_off", "Between 1 and 100.")
        start, end = data.get("valid_from"), data.get("valid_until")
        if start and end and end <= start:
            self.add_error("valid_until", "It must end after it starts.")
        if data.get("kind") == "referral" and not data.get("referrer"):
            self.add_error("referrer", "A referral code belongs to the customer who shares it.")
        return data


class StateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("live", "Live"), ("scheduled", "Not started"), ("ended", "Ended"), ("off", "Switched off")]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "live":
            return queryset.filter(active=True).filter(
                Q(valid_from__isnull=True) | Q(valid_from__lte=now),
                Q(valid_until__isnull=True) | Q(valid_until__gt=now),
            )
        if self.value() == "scheduled":
            return queryset.filter(active=True, valid_from__gt=now)
        if self.value() == "ended":
            return queryset.filter(valid_until__lte=now)
        if self.value() == "off":
            return queryset.filter(active=False)
        return queryset


def state_of(code: DiscountCode) -> str:
    now = timezone.now()
    if not code.active:
        return "Switched off"
    if code.valid_until and code.valid_until <= now:
        return "Ended"
    if code.valid_from and code.valid_from > now:
        return "Not started"
    if code.max_uses is not None and code.uses >= code.max_uses:
        return "Used up"
    return "Live"


# What an audit entry keeps of a code (its scope's rows by id, beside).
AUDITED = [f for f in DiscountCodeForm.Meta.fields if f not in ("destinations", "packages", "referrer")]


@admin.register(DiscountCode)
class DiscountCodeAdmin(AuditTrailMixin, admin.ModelAdmin):
    form = DiscountCodeForm
    list_display = ("code", "kind", "off", "uses_of_limit", "validity", "state")
    list_filter = (StateFilter, "kind", "first_order_only")
    search_fields = ("code", "description", "referrer__email")
    # Ids typed or picked in the lookup (autocomplete widgets fail on odd ids when re-rendering).
    raw_id_fields = ("destinations", "packages", "referrer")
    readonly_fields = ("uses", "audit_trail")
    change_form_template = "admin/discounts/discountcode/change_form.html"

    def get_fields(self, request, obj=None):
        return [*self.form.Meta.fields, "uses", "audit_trail"]

    @admin.display(description="Off")
    def off(self, obj: DiscountCode) -> str:
        if obj.percent_off is not None:
            return f"{obj.percent_off} %"
        return format_money(obj.amount_off_cents)

    @admin.display(description="Uses / limit", ordering="uses")
    def uses_of_limit(self, obj: DiscountCode) -> str:
        return f"{obj.uses} / {obj.max_uses if obj.max_uses is not None else '∞'}"

    @admin.display(description="Valid")
    def validity(self, obj: DiscountCode) -> str:
        start = timezone.localtime(obj.valid_from).strftime("%Y-%m-%d %H:%M") if obj.valid_from else "always"
        end = timezone.localtime(obj.valid_until).strftime("%Y-%m-%d %H:%M") if obj.valid_until else "no end"
        return f"{start} → {end}"

    @admin.display(description="State")
    def state(self, obj: DiscountCode) -> str:
        return state_of(obj)

    def changeform_view(self, request: HttpRequest, object_id=None, form_url="", extra_context=None):
        if request.method == "POST" and "_preview" in request.POST:
            return self._preview(request, object_id)
        return super().changeform_view(request, object_id, form_url, extra_context)

    def _preview(self, request: HttpRequest, object_id):
        """The form again, unsaved, with the margin the code would leave on the packages it covers."""
        obj = self.get_object(request, object_id) if object_id else None
        if object_id and (obj is None or not self.has_change_permission(request, obj)):
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not object_id and not self.has_add_permission(request):
            return self._get_obj_does_not_exist_redirect(request, self.opts, "")
        form_class = self.get_form(request, obj, change=obj is not None, fields=None)
        form = form_class(request.POST, request.FILES, instance=obj)
        preview = None
        if form.is_valid():
            data = form.cleaned_data
            preview = selectors.margin_preview(
                percent_off=data.get("percent_off"),
                amount_off_cents=data.get("amount_off_cents"),
                destinations=data.get("destinations") or [],
                regions=data.get("regions") or [],
                packages=data.get("packages") or [],
            )
        fieldsets = self.get_fieldsets(request, obj)
        admin_form = helpers.AdminForm(
            form, list(fieldsets), {}, self.get_readonly_fields(request, obj), model_admin=self
        )
        context = {
            **self.admin_site.each_context(request),
            "title": f"Preview: {form.data.get('code', '')}",
            "subtitle": None,
            "adminform": admin_form,
            "object_id": object_id,
            "original": obj,
            "is_popup": False,
            "to_field": None,
            "media": self.media + admin_form.media,
            "inline_admin_formsets": [],
            "errors": helpers.AdminErrorList(form, []),
            "preserved_filters": self.get_preserved_filters(request),
            "preview": preview,
            "previewed": True,
        }
        return self.render_change_form(request, context, add=obj is None, change=obj is not None, obj=obj)

    def save_related(self, request, form, formsets, change) -> None:
        # Audited here: the scope (destinations, packages) is saved with the related objects.
        before = getattr(form, "_audit_before", None)
        super().save_related(request, form, formsets, change)
        obj = form.instance
        after = {
            **audit.snapshot(obj, AUDITED),
            "destinations": sorted(d.pk for d in obj.destinations.all()),
            "packages": sorted(p.pk for p in obj.packages.all()),
        }
        action = "discount_code.changed" if change else "discount_code.created"
        audit.record(request.user, action, obj, before=before, after=after)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)
        if obj is None or obj.pk is None:
            return form_class
        before = {
            **audit.snapshot(obj, AUDITED),
            "destinations": sorted(d.pk for d in obj.destinations.all()),
            "packages": sorted(p.pk for p in obj.packages.all()),
        }

        class Audited(form_class):
            _audit_before = before

        return Audited


@admin.register(DiscountUse)
class DiscountUseAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("code", "order", "email", "status", "amount", "created_at")
    list_filter = ("status",)
    search_fields = ("code__code", "email", "order__number")
    list_select_related = ("code", "order")
    fields = readonly_fields = (
        "code",
        "order",
        "email",
        "customer",
        "status",
        "amount",
        "base_amount",
        "created_at",
        "counted_at",
        "released_at",
    )

    @admin.display(description="Amount")
    def amount(self, obj: DiscountUse) -> str:
        return format_money(obj.amount_cents, obj.currency)

    @admin.display(description="In the base currency")
    def base_amount(self, obj: DiscountUse) -> str:
        return format_money(obj.base_amount_cents)
