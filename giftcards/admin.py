"""Gift cards in admin: search, the ledger on the card's page, revoke / disable / enable / adjust /
resend, issuing by hand (the code is shown once), and API tokens (shown once, stored hashed)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from core.forms import MoneyField, PlainTextMixin
from core.money import format_money

from . import services
from .models import ApiToken, GiftCard, GiftCardTransaction, Status


# What a bulk action did, for n cards (whole sentences, so each language can say them its way).
def _disabled(n: int) -> str:
    return ngettext("%(count)d gift card(s) disabled.", "%(count)d gift card(s) disabled.", n)


def _enabled(n: int) -> str:
    return ngettext("%(count)d gift card(s) enabled.", "%(count)d gift card(s) enabled.", n)


def _sent(n: int) -> str:
    return ngettext("%(count)d gift card(s) sent.", "%(count)d gift card(s) sent.", n)


def _revoked(n: int) -> str:
    return ngettext("%(count)d gift card(s) revoked.", "%(count)d gift card(s) revoked.", n)


def _actor(request: HttpRequest) -> str:
    return f"staff {request.user.get_username()}"


class TransactionInline(admin.TabularInline):
    model = GiftCardTransaction
    verbose_name_plural = "Ledger"
    extra = 0
    can_delete = False
    fields = readonly_fields = ("created_at", "kind", "amount", "balance_after", "paid_by", "reason", "actor")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("card", "payment__order")

    @admin.display(description=gettext_lazy("Amount"))
    def amount(self, obj: GiftCardTransaction) -> str:
        return format_money(obj.amount_cents, obj.card.currency)

    @admin.display(description=gettext_lazy("Balance after"))
    def balance_after(self, obj: GiftCardTransaction) -> str:
        return format_money(obj.balance_after_cents, obj.card.currency)

    @admin.display(description=gettext_lazy("Payment"))
    def paid_by(self, obj: GiftCardTransaction) -> str:
        payment = obj.payment
        if payment is None:
            return "—"
        order = payment.order  # a lazy reference by name: giftcards never import checkout
        return format_html(
            '<a href="{}">Order {}</a> · {} {}',
            reverse("admin:checkout_order_change", args=[order.pk]),
            order.number,
            payment.provider,
            format_money(payment.amount_cents, payment.currency),
        )

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class IssueForm(PlainTextMixin, forms.ModelForm):
    """Staff issue a card by hand; with a recipient email it is emailed, otherwise the code is shown once."""

    initial_value_cents = MoneyField(
        label=gettext_lazy("Amount"), min_cents=1, help_text=gettext_lazy("Typed as money: 25 or 7.49.")
    )

    class Meta:
        model = GiftCard
        fields = (
            "initial_value_cents",
            "recipient_name",
            "recipient_email",
            "message",
            "send_on",
            "expires_on",
            "template_suffix",
            "note",
        )

    def clean_initial_value_cents(self) -> int:
        try:
            return services.clean_issue_amount(self.cleaned_data["initial_value_cents"])
        except services.FieldError as exc:
            raise forms.ValidationError(exc.message) from None


class ChangeForm(PlainTextMixin, forms.ModelForm):
    class Meta:
        model = GiftCard
        fields = ("expires_on", "template_suffix", "note")


class AdjustForm(PlainTextMixin, forms.Form):
    amount_cents = MoneyField(
        label=gettext_lazy("Change"),
        min_cents=None,
        help_text=gettext_lazy("Typed as money: 5.00 adds, -5.00 takes off."),
    )
    reason = forms.CharField(max_length=500)


class StatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return Status.choices

    def queryset(self, request, queryset):
        return queryset.with_status(self.value()) if self.value() else queryset


@admin.register(GiftCard)
class GiftCardAdmin(admin.ModelAdmin):
    list_display = (
        "__str__",
        "status_label",
        "balance",
        "initial",
        "buyer",
        "recipient_email",
        "order",
        "created_at",
    )
    list_filter = (StatusFilter, "template_suffix", "created_at")
    search_fields = (
        "last_characters",
        "customer__email",
        "recipient_email",
        "recipient_name",
        "order__number",
        "order__email",
    )
    list_select_related = ("customer", "order")
    readonly_fields = (
        "last_characters",
        "status_label",
        "balance",
        "initial",
        "currency",
        "enabled",
        "disabled_at",
        "revoked_at",
        "expired_at",
        "order",
        "order_line",
        "buyer",
        "issued_by",
        "recipient_name",
        "recipient_email",
        "message",
        "send_on",
        "sent_at",
        "revoke_refund",
        "revoke_refunded_at",
        "created_at",
        "updated_at",
    )
    inlines = [TransactionInline]
    actions = ["disable_cards", "enable_cards", "resend_cards", "revoke_cards"]
    change_form_template = "admin/giftcards/giftcard/change_form.html"

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = ChangeForm if obj is not None else IssueForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else ()

    def get_fields(self, request, obj=None):
        if obj is None:
            return IssueForm.Meta.fields
        return (
            "last_characters",
            "status_label",
            "balance",
            "initial",
            "expires_on",
            "template_suffix",
            "note",
            *[
                f
                for f in self.readonly_fields
                if f not in ("last_characters", "status_label", "balance", "initial")
            ],
        )

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # money records: revoke instead

    @admin.display(description=gettext_lazy("Status"))
    def status_label(self, obj: GiftCard) -> str:
        return obj.get_status_display()

    @admin.display(description=gettext_lazy("Balance"), ordering="balance_cents")
    def balance(self, obj: GiftCard) -> str:
        return format_money(obj.balance_cents, obj.currency)

    @admin.display(description=gettext_lazy("Initial value"), ordering="initial_value_cents")
    def initial(self, obj: GiftCard) -> str:
        return format_money(obj.initial_value_cents, obj.currency)

    @admin.display(description=gettext_lazy("Refund owed by a revoke"))
    def revoke_refund(self, obj: GiftCard) -> str:
        return format_money(obj.revoke_refund_cents, obj.currency) if obj.revoke_refund_cents else "—"

    @admin.display(description=gettext_lazy("Customer"), ordering="order__email")
    def buyer(self, obj: GiftCard) -> str:
        """Who bought it: the customer of its order's email (a guest too), as their orders are shown."""
        email = obj.order.email if obj.order_id else (obj.customer.email if obj.customer_id else "")
        if not email:
            return "— (issued by staff)" if obj.issued_by_id else "—"
        try:
            url = reverse("admin:checkout_customer_changelist") + "?" + urlencode({"email": email.lower()})
        except NoReverseMatch:  # pragma: no cover - the customer admin is always installed with the shop
            return email
        return format_html('<a href="{}">{}</a>{}', url, email, "" if obj.customer_id else " (guest)")

    def save_model(self, request, obj: GiftCard, form, change: bool) -> None:
        if change:  # expiry, design, note only
            try:
                services.update(
                    obj.pk, actor=_actor(request), **{f: form.cleaned_data[f] for f in form.changed_data}
                )
            except services.GiftCardError as exc:
                messages.error(request, str(exc))
            return
        data = form.cleaned_data
        card, code = services.issue(
            data["initial_value_cents"],
            actor=_actor(request),
            issued_by=request.user,
            recipient_name=data["recipient_name"],
            recipient_email=data["recipient_email"],
            message=data["message"],
            send_on=data["send_on"],
            expires_on=data["expires_on"],
            template_suffix=data["template_suffix"],
            note=data["note"],
        )
        obj.pk = card.pk
        if code:
            messages.warning(
                request,
                _("The code of this card is %(code)s. Copy it now: it is shown only once.") % {"code": code},
            )
        else:
            messages.info(request, _("The code will be emailed to the recipient on the send date."))

    # --- Actions ---------------------------------------------------------------------------------------

    def _each(self, request, queryset, action, done) -> None:
        """Run `action` on each card; `done(n)` says what happened to n cards."""
        ok = 0
        for card in queryset:
            try:
                action(card.pk)
                ok += 1
            except (services.GiftCardError, OSError) as exc:
                messages.error(request, f"{card}: {exc}")
        if ok:
            messages.success(request, done(ok) % {"count": ok})

    @admin.action(description=gettext_lazy("Disable (a hold, no refund)"))
    def disable_cards(self, request, queryset) -> None:
        self._each(request, queryset, lambda pk: services.disable(pk, actor=_actor(request)), _disabled)

    @admin.action(description=gettext_lazy("Enable"))
    def enable_cards(self, request, queryset) -> None:
        self._each(request, queryset, lambda pk: services.enable(pk, actor=_actor(request)), _enabled)

    @admin.action(description=gettext_lazy("Resend to the recipient (a new code replaces the old one)"))
    def resend_cards(self, request, queryset) -> None:
        self._each(
            request, queryset, lambda pk: services.deliver(pk, force=True, actor=_actor(request)), _sent
        )

    @admin.action(
        description=gettext_lazy("Revoke for good (a bought card's balance is refunded to the buyer)")
    )
    def revoke_cards(self, request, queryset) -> None:
        self._each(
            request,
            queryset,
            lambda pk: services.revoke(pk, actor=_actor(request), reason="Revoked in admin"),
            _revoked,
        )

    # --- Adjust the balance ----------------------------------------------------------------------------

    def get_urls(self):
        return [
            path(
                "<int:card_id>/adjust/",
                self.admin_site.admin_view(self.adjust_view),
                name="giftcards_giftcard_adjust",
            ),
            *super().get_urls(),
        ]

    def adjust_view(self, request: HttpRequest, card_id: int) -> HttpResponse:
        if not self.has_change_permission(request):
            raise PermissionDenied
        card = get_object_or_404(GiftCard, pk=card_id)
        form = AdjustForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.adjust(
                    card.pk,
                    form.cleaned_data["amount_cents"],
                    reason=form.cleaned_data["reason"],
                    actor=_actor(request),
                )
            except services.FieldError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            except services.GiftCardError as exc:
                form.add_error("amount_cents", str(exc))
            else:
                messages.success(request, _("Balance adjusted."))
                return HttpResponseRedirect(reverse("admin:giftcards_giftcard_change", args=[card.pk]))
        return TemplateResponse(
            request,
            "admin/giftcards/giftcard/adjust.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "card": card,
                "balance": format_money(card.balance_cents, card.currency),
                "form": form,
                "title": _("Adjust the balance of %(card)s") % {"card": card},
            },
        )


class TokenForm(PlainTextMixin, forms.ModelForm):
    scopes = forms.MultipleChoiceField(choices=ApiToken.SCOPES, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = ApiToken
        fields = ("name", "scopes", "revoked_at")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    form = TokenForm
    list_display = ("name", "prefix", "scope_list", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("prefix", "created_by", "created_at", "last_used_at")

    @admin.display(description=gettext_lazy("Scopes"))
    def scope_list(self, obj: ApiToken) -> str:
        return ", ".join(obj.scopes or [])

    def save_model(self, request, obj: ApiToken, form, change: bool) -> None:
        # Both audited (the token's secret stays out of the entry).
        if change:
            services.change_api_token(obj, actor=_actor(request))
            return
        obj.created_by = request.user
        token = services.create_api_token(obj, actor=_actor(request))
        messages.warning(
            request, _("The new token is %(token)s. Copy it now: it is shown only once.") % {"token": token}
        )

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # set "revoked at" instead: the row stays for the record
