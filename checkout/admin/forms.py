"""Forms of the checkout admin: the refund and note pages of an order, the customer's note."""

from __future__ import annotations

from django import forms

from core.forms import MoneyField

from ..models import Customer


class RefundForm(forms.Form):
    amount = MoneyField(
        required=False,
        min_cents=1,
        label="Amount to refund",
        help_text="Leave it as it is to refund everything that is left.",
    )
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=500,
        label="Reason",
        help_text="Kept in the timeline and the audit log.",
    )
    notify = forms.BooleanField(
        required=False, initial=True, label="Email the customer that the refund is on its way"
    )
    confirm_installed = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, refundable_cents: int, currency: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["amount"].max_cents = refundable_cents
        self.fields["amount"].currency = currency
        self.fields["amount"].widget.currency = currency
        self.fields["amount"].initial = refundable_cents


class NoteForm(forms.Form):
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        max_length=5000,
        label="Note",
        help_text="Shown in the order's timeline with your name.",
    )


class CustomerForm(forms.ModelForm):
    class Meta:
        model = Customer
        fields = ("note",)
