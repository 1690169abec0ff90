from __future__ import annotations

from django import forms


class CheckoutForm(forms.Form):
    email = forms.EmailField(label="Email for your eSIM and receipt", max_length=254,
                             widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    travel_date = forms.DateField(required=False, label="Trip start date",
                                  widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, needs_travel_date: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if needs_travel_date:
            self.fields["travel_date"].required = True
        else:
            del self.fields["travel_date"]
