from __future__ import annotations

from django import template

from ..services import one_tap

register = template.Library()


@register.simple_tag
def one_tap_price(esim, package) -> tuple[int, str]:
    """What a one-tap top-up costs, in the currency it is charged in: (minor units, currency)."""
    return one_tap.price_for(esim, package)
