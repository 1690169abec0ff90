"""Destination names in the visitor's language, from CLDR's locale data (Babel), not a table of ours."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from babel import Locale, UnknownLocaleError
from django.utils import translation

if TYPE_CHECKING:
    from .models import Destination


@lru_cache(maxsize=32)
def _territories(language: str) -> dict[str, str]:
    try:
        return dict(Locale.parse(translation.to_locale(language)).territories)
    except (UnknownLocaleError, ValueError):
        return {}


def local_name(destination: Destination) -> str:
    language = translation.get_language() or "en"
    code = (destination.code or "").upper()
    # English pages keep the catalog's own names, which travellers already know from upstream.
    if not language.startswith("en") and len(code) == 2 and code.isalpha():
        name = _territories(language).get(code)
        if name:
            return name
    return destination.name


def local_region(destination: Destination) -> str:
    return destination.region
