"""Store credit in admin: each account with its ledger, a staff adjustment (reason required, in the
audit log), and referrals with how they were settled."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.forms import MoneyField, PlainTextMixin
from core.money import format_money

from .ledger import CreditError
from .models import CreditAccount, CreditEntry, Referral
from .services import staff


def _money(cents: int) -> str:
    return format_money(cents, settings.SHOP_CURRENCY)


class EntryInline(admin.TabularInline):
    model = CreditEntry
    verbose_name_plural = "Ledger"
    extra = 0
    can_delete = False
    fields = readonly_fields = (
        "created_at",
        "kind",
        "amount",
        "balance_after",
        "left",
        "expires_at",
        "payment",
        "reason",
        "actor",
    )

    @admin.display(description=gettext_lazy("Amount"))
    def amount(self, obj: CreditEntry) -> str:
        return _money(obj.amount_cents)

    @admin.display(description=gettext_lazy("Balance after"))
    def balance_after(self, obj: CreditEntry) -> str:
        return _money(obj.balance_after_cents)

    @admin.display(description="Left of this grant")
    def left(self, obj: CreditEntry) -> str:
        return _money(obj.remaining_cents) if obj.expires_at else "—"

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class AdjustForm(PlainTextMixin, forms.Form):
    amount_cents = MoneyField(
        label=gettext_lazy("Change"),
        min_cents=None,
        help_text=gettext_lazy("Typed as money: 5.00 adds, -5.00 takes off."),
    )
    reason = forms.CharField(max_length=500)


@admin.register(CreditAccount)
class CreditAccountAdmin(admin.ModelAdmin):
    list_display = ("user", "balance", "updated_at")
    search_fields = ("user__email",)
    readonly_fields = ("user", "balance", "created_at", "updated_at")
    fields = readonly_fields
    inlines = [EntryInline]

    @admin.display(description=gettext_lazy("Balance"))
    def balance(self, obj: CreditAccount) -> str:
        return _money(obj.balance_cents)

    def has_add_permission(self, request) -> bool:
        return False  # an account is made when credit is first given

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_urls(self):
        return [
            path(
                "<int:account_id>/adjust/",
                self.admin_site.admin_view(self.adjust_view),
                name="storecredit_creditaccount_adjust",
            ),
            *super().get_urls(),
        ]

    def adjust_view(self, request: HttpRequest, account_id: int) -> HttpResponse:
        if not self.has_change_permission(request):
            raise PermissionDenied
        account = get_object_or_404(CreditAccount.objects.select_related("user"), pk=account_id)
        form = AdjustForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                staff.adjust(
                    account.user,
                    form.cleaned_data["amount_cents"],
                    reason=form.cleaned_data["reason"],
                    actor=request.user,
                )
            except CreditError as exc:
                form.add_error("amount_cents", str(exc))
            else:
                messages.success(request, _("Balance adjusted."))
                return HttpResponseRedirect(
                    reverse("admin:storecredit_creditaccount_change", args=[account.pk])
                )
        return TemplateResponse(
            request,
            "admin/giftcards/giftcard/adjust.html",  # the same page as a gift card's adjustment
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "balance": _money(account.balance_cents),
                "form": form,
                "title": _("Adjust the store credit of %(user)s") % {"user": account.user},
            },
        )


@admin.register(Referral)
class ReferralAdmin(admin.ModelAdmin):
    list_display = ("referrer", "friend_email", "order", "status", "void_reason", "due_at", "settled_at")
    list_filter = ("status",)
    search_fields = ("referrer__email", "friend_email", "code")
    readonly_fields = [f.name for f in Referral._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
