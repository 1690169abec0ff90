"""Forms of the gift card pages: buying one, checking a balance, the revoke's one-time code."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.forms import PlainTextMixin
from core.money import format_money, minor_digits

from . import services
from .models import Template


class PurchaseForm(PlainTextMixin, forms.Form):
    """A gift card to put in the cart: a fixed amount or a custom one, a recipient, a design."""

    CUSTOM = "custom"

    amount = forms.ChoiceField(label=gettext_lazy("Amount"), widget=forms.RadioSelect)
    custom_amount = forms.DecimalField(
        label=gettext_lazy("Custom amount"), required=False, min_value=0, max_digits=9, decimal_places=2
    )
    recipient_name = forms.CharField(label=gettext_lazy("Recipient's name"), max_length=100)
    recipient_email = forms.EmailField(label=gettext_lazy("Recipient's email"), max_length=254)
    message = forms.CharField(
        label=gettext_lazy("Message (optional)"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 500}),
    )
    send_on = forms.DateField(
        label=gettext_lazy("Send on (optional)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    template_suffix = forms.ChoiceField(
        label=gettext_lazy("Design"),
        choices=Template.choices,
        initial=Template.GLOBE,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, currency: str | None = None, per_base=None, **kwargs) -> None:
        """`currency`: the visitor's, with `per_base` its rate: amounts are offered and typed in it."""
        super().__init__(*args, **kwargs)
        self.currency, self.per_base = currency, per_base
        denominations, lower, upper, step = services.amount_limits(currency, per_base)
        self.fields["amount"].choices = [(str(c), format_money(c, currency)) for c in denominations] + [
            (self.CUSTOM, _("Other amount"))
        ]
        self.fields["amount"].initial = (
            str(denominations[min(1, len(denominations) - 1)]) if denominations else self.CUSTOM
        )
        self.fields["custom_amount"].help_text = _("From %(lower)s to %(upper)s, in steps of %(step)s.") % {
            "lower": format_money(lower, currency),
            "upper": format_money(upper, currency),
            "step": format_money(step, currency),
        }
        self.limits = (lower, upper, step)

    def clean_send_on(self):
        try:
            return services.clean_send_on(self.cleaned_data.get("send_on"))
        except services.FieldError as exc:
            raise forms.ValidationError(exc.message) from None

    def clean(self) -> dict:
        data = super().clean()
        choice = data.get("amount")
        if choice == self.CUSTOM:
            custom = data.get("custom_amount")
            if custom is None:
                self.add_error("custom_amount", _("Enter the amount you'd like to give."))
                return data
            scale = 10 ** minor_digits(self.currency or settings.SHOP_CURRENCY)
            cents = int(custom * scale)
            if cents != custom * scale:
                message = (
                    _("Enter an amount in dollars and cents, like 40 or 40.00.")
                    if scale == 100
                    else _("Enter a whole amount, like 4000.")
                )
                self.add_error("custom_amount", message)
                return data
        elif choice:
            cents = int(choice)
        else:
            return data
        try:
            data["amount_cents"] = services.clean_purchase_amount(cents, self.currency, self.per_base)
        except services.FieldError as exc:
            self.add_error("custom_amount" if choice == self.CUSTOM else "amount", exc.message)
        return data

    def line_data(self) -> dict:
        data = self.cleaned_data
        return {
            "amount_cents": data["amount_cents"],
            "recipient_name": data["recipient_name"].strip(),
            "recipient_email": data["recipient_email"],
            "message": data.get("message", "").strip(),
            "send_on": data["send_on"].isoformat() if data.get("send_on") else None,
            "template_suffix": data["template_suffix"],
            "currency": self.currency or settings.SHOP_CURRENCY,
        }


class CodeForm(PlainTextMixin, forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Gift card code"),
        max_length=64,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "autocapitalize": "characters",
                "spellcheck": "false",
                "placeholder": "XXXX-XXXX-XXXX-XXXX-XXXX",
            }
        ),
    )


class OneTimeCodeForm(PlainTextMixin, forms.Form):
    otp = forms.CharField(
        label=gettext_lazy("6-digit code"),
        max_length=12,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9 ]*"}
        ),
    )
