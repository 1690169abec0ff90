from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy

from core.forms import PlainTextMixin

from .planner import DATA_CHOICES, DAY_CHOICES, USAGE, Trip


class TripForm(PlainTextMixin, forms.Form):
    """The trip planner on a destination page; a GET form, so bad values just mean no trip."""

    days = forms.TypedChoiceField(
        choices=[(str(n), f"{n}") for n in DAY_CHOICES],
        coerce=int,
        required=False,
        widget=forms.RadioSelect,
        label=gettext_lazy("How many days?"),
    )
    data = forms.ChoiceField(
        choices=DATA_CHOICES, required=False, widget=forms.RadioSelect, label=gettext_lazy("How much data?")
    )
    use = forms.ChoiceField(
        choices=[(k, v[1]) for k, v in USAGE.items()],
        required=False,
        widget=forms.RadioSelect,
        label=gettext_lazy("How do you use your phone?"),
    )

    def trip(self) -> Trip | None:
        if not self.is_valid() or not self.cleaned_data.get("days"):
            return None
        data = self.cleaned_data.get("data") or ""
        return Trip(self.cleaned_data["days"], data, self.cleaned_data.get("use") or "medium")
