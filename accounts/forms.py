from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy

from core.forms import MoneyField, PlainTextMixin


class DeleteAccountForm(PlainTextMixin, forms.Form):
    password = forms.CharField(
        label=gettext_lazy("Your password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    confirm = forms.BooleanField(
        label=gettext_lazy("I understand that my account is deleted for good"), required=True
    )

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(gettext_lazy("That password is not right."))
        return password


class AutoTopupForm(PlainTextMixin, forms.Form):
    """Automatic top-up of one eSIM: which top-up, when, with which card, and the monthly limits."""

    package = forms.ChoiceField(label=gettext_lazy("Top-up to buy"))
    card = forms.TypedChoiceField(label=gettext_lazy("Card"), coerce=int)
    below_mb = forms.IntegerField(
        label=gettext_lazy("When data left is below (MB)"), min_value=1, max_value=100_000, required=False
    )
    below_days = forms.IntegerField(
        label=gettext_lazy("Or when fewer days are left than"), min_value=1, max_value=60, required=False
    )
    max_per_month = forms.IntegerField(
        label=gettext_lazy("At most, top-ups a month"), min_value=1, max_value=10
    )

    def __init__(self, *args, offers, cards, currency: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.offers = {p.package_id: p for p in offers}
        self.cards = {c.pk: c for c in cards}
        self.currency = currency
        self.fields["package"].choices = [(p.package_id, p.name) for p in offers]
        self.fields["card"].choices = [(c.pk, str(c)) for c in cards]
        self.fields["max_amount"] = MoneyField(
            label=gettext_lazy("At most, spent a month"), currency=currency, min_cents=1
        )

    def clean(self) -> dict:
        data = super().clean()
        if not data.get("below_mb") and not data.get("below_days"):
            raise forms.ValidationError(gettext_lazy("Say when to top up: data left, days left, or both."))
        return data
