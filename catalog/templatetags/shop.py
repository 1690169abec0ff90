from datetime import date

from django import template
from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from catalog.models import format_data
from core.money import format_money

register = template.Library()


@register.filter
def money(cents: int | None, currency: str | None = None) -> str:
    return format_money(cents, currency)


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
