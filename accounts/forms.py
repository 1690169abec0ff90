from __future__ import annotations

from allauth.account.forms import RequestLoginCodeForm
from allauth.account.forms import SignupForm as AllauthSignupForm
from allauth.core import context
from django import forms
from django.utils.translation import gettext_lazy

from core.forms import MoneyField, PlainTextMixin

from . import services


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
        if not user.has_usable_password():
            # An account opened by a sign-in code has no password: being signed in (by a code
            # minutes or days ago) and the box ticked are what it has to confirm with.
            del self.fields["password"]

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(gettext_lazy("That password is not right."))
        return password


class RequestCodeForm(PlainTextMixin, RequestLoginCodeForm):
    """allauth's "email me a sign-in code", which also opens an account for an email that has none.

    allauth alone emails an unknown address "you have no account", so a guest's first sign-in
    would be sign-up, a link, then sign-in. Here the account is made at once (no password, the
    email unverified) and the code sent to it proves the email: allauth verifies it when the
    code is entered, which attaches the guest's purchases (accounts.receivers). Until then the
    account can do nothing. Whether an account existed is not shown: both get the same page.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # "Track your data" in the eSIM email links here with the order's email filled in: the
        # code is sent on the customer's tap, not on the link's GET (mail scanners open links).
        if not self.is_bound and context.request is not None:
            self.initial.setdefault("email", context.request.GET.get("email", "")[:254])

    def clean_email(self) -> str:
        email = super().clean_email()  # allauth's rate limits first: no account past them
        if email and self._user is None:
            self._user = services.open_account(context.request, email)
        return email


class SignupForm(PlainTextMixin, AllauthSignupForm):
    """Sign-up with the email alone: the account has no password until one is set in settings
    (allauth's adapter then saves an unusable one). Signing in is by a code meanwhile."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields.pop("password1", None)
        self.fields.pop("password2", None)


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
