"""One way to draw a field on the account pages (templates/account/): label, input, help and the
error at the field, tied together for a screen reader (aria-describedby, aria-invalid), and the
first field in error focused when the page comes back, so that on a phone the keyboard opens
where the fix is rather than at the top of the page."""

from __future__ import annotations

from django import template
from django.forms import BoundField
from django.utils.html import format_html

register = template.Library()


def first_error(form) -> str | None:
    return next((f.name for f in form if f.errors), None)


@register.inclusion_tag("account/_field.html")
def account_field(field: BoundField, label: str = "") -> dict:
    described = []
    if field.help_text:
        described.append(f"{field.auto_id}-help")
    if field.errors:
        described.append(f"{field.auto_id}-error")
    attrs: dict[str, str | bool] = {}
    if described:
        attrs["aria-describedby"] = " ".join(described)
    if field.errors:
        attrs["aria-invalid"] = "true"
        if first_error(field.form) == field.name:
            attrs["autofocus"] = True
    return {"field": field, "widget": field.as_widget(attrs=attrs), "label": label or field.label}


@register.simple_tag
def form_errors(form) -> str:
    """The form's own errors (not a field's), announced as an alert."""
    errors = form.non_field_errors()
    if not errors:
        return ""
    return format_html('<div class="form-error" role="alert">{}</div>', " ".join(errors))
