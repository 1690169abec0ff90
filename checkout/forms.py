from __future__ import annotations

import datetime as dt

from django import forms
from django.core.validators import EmailValidator
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.forms import PlainTextMixin

# Plans must be activated within a year of purchase, so a trip later than this
# could never use the eSIM.
TRAVEL_DATE_MAX_DAYS_AHEAD = 365


class PayableEmailValidator(EmailValidator):
    """An address Stripe Checkout accepts: a dotted domain name ending in a TLD-like label.

    Django's own validator also lets through `localhost` and IP literals
    (`a@[127.0.0.1]`), which Stripe refuses, leaving an order nobody can pay.
    """

    message = gettext_lazy("Enter an email address with a full domain name, like name@example.com.")

    def __init__(self) -> None:
        super().__init__(allowlist=[])

    def validate_domain_part(self, domain_part: str) -> bool:
        return bool(self.domain_regex.match(domain_part))


class PayableEmailField(forms.EmailField):
    default_validators = [PayableEmailValidator()]


class CheckoutForm(PlainTextMixin, forms.Form):
    email = PayableEmailField(
        label=gettext_lazy("Email for your eSIM and receipt"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        # The same words as static/js/checkout.js says before the form is sent.
        error_messages={"required": gettext_lazy("Please enter your email address.")},
    )
    travel_date = forms.DateField(
        required=False, label=gettext_lazy("Trip start date"), widget=forms.DateInput(attrs={"type": "date"})
    )
    # Offered to a signed-in buyer only (a guest has no account to keep a card in).
    save_card = forms.BooleanField(required=False, label=gettext_lazy("Save this card for next time"))
    # Marketing consent: never ticked for the buyer; unticked is no answer (checkout.services.marketing).
    offers = forms.BooleanField(
        required=False, label=gettext_lazy("Tell me about offers and deals (you can unsubscribe any time)")
    )

    def __init__(self, *args, needs_travel_date: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if needs_travel_date:
            field = self.fields["travel_date"]
            field.required = True
            first, last = self.travel_date_range()
            field.widget.attrs.update(min=first.isoformat(), max=last.isoformat())
        else:
            del self.fields["travel_date"]

    @staticmethod
    def travel_date_range() -> tuple[dt.date, dt.date]:
        today = timezone.localdate()
        return today, today + dt.timedelta(days=TRAVEL_DATE_MAX_DAYS_AHEAD)

    def clean_travel_date(self) -> dt.date | None:
        value = self.cleaned_data.get("travel_date")
        first, last = self.travel_date_range()
        if value is not None and not first <= value <= last:
            raise forms.ValidationError(
                _(
                    "Choose a trip start date from today to %(last)s: "
                    "a plan must be activated within a year of purchase."
                )
                % {"last": date_format(last, "j F Y")}
            )
        return value
