from django import template

from catalog.models import format_data
from core.money import format_money

register = template.Library()


@register.filter
def money(cents: int | None, currency: str | None = None) -> str:
    return format_money(cents, currency)


@register.filter
def data_size(mb: int | None) -> str:
    return format_data(mb) if mb else ""
