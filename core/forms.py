"""What the shop's forms share: text without control characters, and money typed as money ("7.49"),
stored as integer cents, errors in money."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.utils.html import format_html
from django.utils.translation import gettext as _

from .money import SYMBOLS, cents_to_text, format_money, parse_money
from .text import PlainTextValidator


class PlainTextMixin:
    """Every text field of the form refuses control characters (core.text, the shop's one rule for
    typed text): one line of text, or several (tab, newline, CR) where its widget is a Textarea.
    Each of the shop's forms has it (core/tests/test_plain_text.py checks), and every admin form
    (core.admin_tools). Passwords are left alone: never shown, never stored as typed."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():  # type: ignore[attr-defined]
            if isinstance(field, forms.CharField) and not isinstance(field.widget, forms.PasswordInput):
                rule = PlainTextValidator(multiline=isinstance(field.widget, forms.Textarea))
                # It refuses NUL too: one message instead of Django's and this one.
                field.validators = [
                    v for v in field.validators if not isinstance(v, ProhibitNullCharactersValidator)
                ]
                field.validators.append(rule)


class MoneyInput(forms.TextInput):
    """A text box showing cents as "7.49", with the currency symbol before it."""

    def __init__(self, attrs=None, currency: str | None = None) -> None:
        super().__init__(
            {
                "inputmode": "decimal",
                "autocomplete": "off",
                "size": 10,
                "placeholder": "0.00",
                **(attrs or {}),
            }
        )
        self.currency = currency

    def format_value(self, value):
        if isinstance(value, int):
            return cents_to_text(value, self.currency)
        return super().format_value(value)

    def render(self, name, value, attrs=None, renderer=None):
        currency = self.currency or settings.SHOP_CURRENCY
        box = super().render(name, value, attrs, renderer)
        return format_html(
            '<span class="money-input"><span class="money-symbol" aria-hidden="true">{}</span>{}</span>',
            SYMBOLS.get(currency, currency),
            box,
        )


class MoneyField(forms.Field):
    """Cents in, cents out; the text in between is money. Limits (`min_cents`, `max_cents`) read as money."""

    widget = MoneyInput

    def __init__(
        self,
        *,
        min_cents: int | None = 0,
        max_cents: int | None = None,
        currency: str | None = None,
        **kwargs,
    ) -> None:
        self.min_cents, self.max_cents, self.currency = min_cents, max_cents, currency
        kwargs.setdefault("widget", MoneyInput(currency=currency))
        super().__init__(**kwargs)

    def to_python(self, value) -> int | None:
        if value in self.empty_values:
            return None
        if isinstance(value, int):
            return value
        try:
            return parse_money(value, self.currency)
        except ValueError as exc:
            raise ValidationError(str(exc), code="invalid") from exc

    def validate(self, value) -> None:
        super().validate(value)
        if value is None:
            return
        if self.min_cents is not None and value < self.min_cents:
            raise ValidationError(
                _("Must be at least %(amount)s.") % {"amount": format_money(self.min_cents, self.currency)},
                code="min_value",
            )
        if self.max_cents is not None and value > self.max_cents:
            raise ValidationError(
                _("Must be at most %(amount)s.") % {"amount": format_money(self.max_cents, self.currency)},
                code="max_value",
            )
