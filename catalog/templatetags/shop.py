from __future__ import annotations

from datetime import date, datetime

from django import template
from django.conf import settings
from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from catalog import pricing
from catalog.currency import (
    RateUnavailable,
    base_price_in,
    current_rate,
    get_active_currency,
    offered_currencies,
    package_price,
)
from catalog.models import Package, format_data
from core.money import format_money

register = template.Library()


@register.filter
def money(cents: int | None, currency: str | None = None) -> str:
    """An amount as it is stored: in `currency` (the base currency by default), never converted.

    Orders, payments and gift cards hold their own currency: pass it. A catalog price shown in
    the visitor's currency is `price` (a package) or `base_price` (any other base amount).
    """
    return format_money(cents, currency)


@register.filter
def price(package: Package) -> str:
    """The package's retail price in the active currency, with its local ending and cost floor.

    Without a fresh rate for that currency the base price is shown (the picker says why).
    """
    currency = get_active_currency()
    try:
        return format_money(package_price(package, currency), currency)
    except RateUnavailable:
        return format_money(package.retail_cents)


@register.filter
def price_per_gb(package: Package) -> str:
    """Per GB of the package's price in the active currency (as `price` shows it)."""
    currency = get_active_currency()
    try:
        cents = package_price(package, currency)
    except RateUnavailable:
        currency, cents = settings.SHOP_CURRENCY, package.retail_cents
    return format_money(pricing.price_per_gb(cents, package.data_mb), currency)


@register.filter
def base_price(cents: int | None) -> str:
    """A base-currency amount that is not one package's price ("from" prices) in the active currency."""
    if cents is None:
        return ""
    currency = get_active_currency()
    try:
        return format_money(base_price_in(cents, currency), currency)
    except RateUnavailable:
        return format_money(cents)


@register.simple_tag(takes_context=True)
def currency_choices(context: template.Context) -> dict:
    """What the currency picker shows: the offered currencies, the visitor's, and whether its
    rate can be used now (when not, prices are in the base currency and the picker says so)."""
    request = context.get("request")
    chosen = getattr(request, "currency", None) or get_active_currency()
    try:
        current_rate(chosen)
        unavailable = None
    except RateUnavailable as exc:
        unavailable = str(exc)
    return {
        "offered": offered_currencies(),
        "chosen": chosen,
        "base": settings.SHOP_CURRENCY,
        "unavailable": unavailable,
        "next": request.get_full_path() if request else "/",
    }


@register.filter
def data_size(mb: int | None) -> str:
    return format_data(mb) if mb else ""


@register.filter(expects_localtime=True)
def long_date(value: date | None) -> str:
    """A date in words, as the page's language writes it: English keeps the shop's "6 December 2026",
    other languages their own long date from Django's locale formats ("6 de diciembre de 2026")."""
    if value is None:
        return ""
    language = translation.get_language() or "en"
    return date_format(value, "j F Y" if language.split("-")[0] == "en" else "DATE_FORMAT")


@register.filter(expects_localtime=True)
def short_datetime(value: datetime | None) -> str:
    """A date and time in figures, as the page's language writes them: English keeps the shop's
    "6 Dec 2026, 20:57", other languages their own ("2026/12/06 20:57"; a fixed "j M Y" gave
    Japanese "6 12月 2026")."""
    if value is None:
        return ""
    language = translation.get_language() or "en"
    return date_format(value, "j M Y, H:i" if language.split("-")[0] == "en" else "SHORT_DATETIME_FORMAT")


@register.filter
def place_list(places) -> str:
    """Destinations as a list in words, in the page's language: "Japan, Vietnam and Thailand"."""
    names = [getattr(p, "local_name", p.name) for p in places]
    if len(names) < 2:
        return "".join(names)
    # Translators: the separator between places in a list, e.g. "Japan, Vietnam and Thailand".
    head = pgettext("list separator", ", ").join(names[:-1])
    # Translators: joins the last place of a list to the others, e.g. "Japan, Vietnam and Thailand".
    return _("%(places)s and %(last)s") % {"places": head, "last": names[-1]}
