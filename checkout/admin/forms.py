"""Forms of the checkout admin: the refund and note pages of an order, the customer's note."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy

from core.forms import MoneyField, PlainTextMixin

from ..models import Customer
from ..services.refunds import DEFAULT_SPLIT_RULE, SplitRule


class RefundForm(PlainTextMixin, forms.Form):
    """Staff pick lines (the page lists them as checkboxes) and/or type an amount for goodwill, choose
    how the money is split, and give a reason. `split` carries back the split the page showed."""

    lines = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, label=gettext_lazy("Lines")
    )
    goodwill = MoneyField(
        required=False,
        min_cents=1,
        label=gettext_lazy("Goodwill amount"),
        help_text=gettext_lazy(
            "Money given back on top of the lines picked (or alone); the customer keeps the eSIMs."
        ),
    )
    rule = forms.ChoiceField(
        choices=SplitRule.choices,
        initial=DEFAULT_SPLIT_RULE,
        widget=forms.RadioSelect,
        label=gettext_lazy("Money goes back to"),
    )
    reason = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=500,
        label=gettext_lazy("Reason"),
        help_text=gettext_lazy("Kept in the timeline and the audit log."),
    )
    notify = forms.BooleanField(
        required=False, initial=True, label=gettext_lazy("Email the customer that the refund is on its way")
    )
    split = forms.CharField(required=False, widget=forms.HiddenInput)
    confirm_installed = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, items: list[str], refundable_cents: int, currency: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["lines"].choices = [(key, key) for key in items]
        self.fields["goodwill"].max_cents = refundable_cents
        self.fields["goodwill"].currency = currency
        self.fields["goodwill"].widget.currency = currency


class NoteForm(PlainTextMixin, forms.Form):
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        max_length=5000,
        label=gettext_lazy("Note"),
        help_text=gettext_lazy("Shown in the order's timeline with your name."),
    )


class CustomerForm(PlainTextMixin, forms.ModelForm):
    class Meta:
        model = Customer
        fields = ("note",)
