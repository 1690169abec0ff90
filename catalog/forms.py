from __future__ import annotations

from django import forms

DATA_CHOICES = [("", "Any data"), ("1", "1 GB+"), ("3", "3 GB+"), ("5", "5 GB+"),
                ("10", "10 GB+"), ("20", "20 GB+")]
DAYS_CHOICES = [("", "Any length"), ("1-7", "Up to a week"), ("8-15", "8–15 days"),
                ("16-30", "16–30 days"), ("31-", "Over 30 days")]
SORT_CHOICES = [("price", "Lowest price"), ("price_per_gb", "Best price per GB"),
                ("data", "Most data"), ("days", "Longest validity")]


class PackageFilterForm(forms.Form):
    """Filters on a destination page; bad values fall back to no filter."""

    data = forms.ChoiceField(choices=DATA_CHOICES, required=False, label="Data")
    days = forms.ChoiceField(choices=DAYS_CHOICES, required=False, label="Validity")
    unlimited = forms.BooleanField(required=False, label="Unlimited only")
    sort = forms.ChoiceField(choices=SORT_CHOICES, required=False, label="Sort by")

    def cleaned_or_defaults(self) -> dict:
        if self.is_valid():
            return self.cleaned_data
        # Keep the valid fields, drop the bad ones: a tampered URL gets a normal page.
        return {name: self.cleaned_data.get(name) for name in self.fields if name not in self.errors}


class DeviceCheckForm(forms.Form):
    q = forms.CharField(max_length=100, required=False, label="Your phone or tablet model",
                        widget=forms.TextInput(attrs={"placeholder": "e.g. iPhone 13 or Galaxy S22",
                                                      "autocomplete": "off"}))
