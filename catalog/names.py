"""Destination names in the visitor's language, from CLDR's locale data (Babel), not a table of ours.

A country is its ISO code's CLDR name. A region or the continent a country lies in is
CLDR's name of the UN M49 area when one means the same place (Europe 150, Southeast
Asia 035, ...), a list of CLDR country names when the region is just those countries
("Australia & New Zealand"), and a gettext message only where CLDR has no such area
(the Balkans, the Gulf States, the Middle East). English pages keep the catalog's own
names, which travellers already know from upstream. Every answer is memoised per
language, so a page of ~200 destinations pays a dict lookup each.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Protocol

from babel import Locale, UnknownLocaleError
from babel.dates import get_timezone_location
from babel.lists import format_list
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy, pgettext_lazy

# Upstream's English area names -> the M49 code CLDR names them by. Matched by name, not
# by upstream code: the same area comes both as a regional destination ("Europe", code EU)
# and as a country's `region` field, and upstream codes are not unique ("NA").
M49 = {
    "Europe": "150",
    "Africa": "002",
    "Asia": "142",
    "Oceania": "009",
    "Latin America": "419",
    # 003 is the continent (CLDR's "North America"); 021 "Northern America" leaves out Mexico.
    "North America": "003",
    "Central America": "013",
    "South America": "005",
    "Caribbean": "029",
    "Southeast Asia": "035",
    # The whole world: "Global" upstream, CLDR's "world" (Mundo, Monde, Welt, 世界, العالم).
    "Global": "001",
    "World": "001",
}

# Regions that are only a few countries: CLDR's names of each, joined by CLDR's list pattern
# ("Australia y Nueva Zelanda"). M49's 053 is "Australasia", which nobody searches for.
LISTS = {
    "Australia & New Zealand": ("AU", "NZ"),
}

# Areas CLDR has no name for. "Middle East" is not M49's 145 "Western Asia": that one takes
# in Turkey and the Caucasus and leaves out Egypt and Iran, so its name would mislead.
MESSAGES = {
    "Middle East": pgettext_lazy("area", "Middle East"),
    "Middle East & North Africa": pgettext_lazy("area", "Middle East & North Africa"),
    "Balkans": pgettext_lazy("area", "Balkans"),
    # Translators: the six Gulf Cooperation Council countries (Saudi Arabia, UAE, Qatar, ...).
    "Gulf States": pgettext_lazy("area", "Gulf States"),
    "Scandinavia": pgettext_lazy("area", "Scandinavia"),
    # Translators: a plan for more countries than "Global"; translate "Global" as you would alone.
    "Global Plus": gettext_lazy("Global Plus"),
    # Translators: a worldwide plan valid for one year.
    "Global One Year": gettext_lazy("Global One Year"),
}

# Territories whose CLDR name is an administrative title ("RAE de Hong Kong (China)",
# "中華人民共和国香港特別行政区"). CLDR's short alternative ("Hong Kong", "香港") is dropped
# by Babel's importer, but the same short name is CLDR's exemplar city of the territory's
# only time zone, which Babel keeps.
SHORT_BY_ZONE = {"HK": "Asia/Hong_Kong", "MO": "Asia/Macau"}


class Named(Protocol):
    code: str
    name: str
    geography: str


class Placed(Protocol):
    region: str


def language_codes() -> list[str]:
    """The shop's languages as Django spells them ("pt-br")."""
    return [code for code, _ in settings.LANGUAGES]


@lru_cache(maxsize=32)
def _locale(language: str) -> Locale | None:
    try:
        return Locale.parse(translation.to_locale(language))
    except (UnknownLocaleError, ValueError):
        return None


@lru_cache(maxsize=32)
def _territories(language: str) -> dict[str, str]:
    locale = _locale(language)
    if locale is None:
        return {}
    names = dict(locale.territories)
    for code, zone in SHORT_BY_ZONE.items():
        names[code] = get_timezone_location(zone, locale=locale, return_city=True)
    return names


def country_name(code: str, language: str) -> str | None:
    """CLDR's name of an ISO 3166 country in a language, or None."""
    return _territories(language).get(code.upper())


def _area(name: str, language: str) -> str:
    if code := M49.get(name):
        return _territories(language).get(code) or name
    if codes := LISTS.get(name):
        names = [_territories(language).get(c) for c in codes]
        if all(names) and (locale := _locale(language)):
            return format_list(names, locale=locale)
        return name
    if message := MESSAGES.get(name):
        with translation.override(language):
            return str(message)
    return name


@lru_cache(maxsize=8192)
def name_in(language: str, geography: str, code: str, name: str) -> str:
    """A destination's name in `language` (a Django language code)."""
    if language.startswith("en"):
        return name
    if geography == "local":
        if len(code) == 2 and code.isalpha():
            return country_name(code, language) or name
        return name
    return _area(name, language)


@lru_cache(maxsize=1024)
def area_in(language: str, name: str) -> str:
    """A continent or area label (a country's `region`) in `language`."""
    return name if language.startswith("en") or not name else _area(name, language)


def _active() -> str:
    return translation.get_language() or settings.LANGUAGE_CODE


def local_name(destination: Named) -> str:
    """The destination's name in the active language (a Destination or a search Entry)."""
    return name_in(_active(), destination.geography, destination.code or "", destination.name)


def local_region(destination: Placed) -> str:
    """The continent or area a destination lies in, in the active language."""
    return area_in(_active(), destination.region)


def every_name(destination: Named) -> set[str]:
    """The destination's name in each of the shop's languages: what search understands."""
    return {
        name_in(lang, destination.geography, destination.code or "", destination.name)
        for lang in language_codes()
    }
