"""Destination and area names in the page's language, from CLDR (issue 20, item 1)."""

from __future__ import annotations

import time

import pytest
from django.utils import translation

from catalog import names
from catalog.models import Destination
from sandboxes.roamify.catalog import destinations

LANGUAGES = ["en", "es", "fr", "de", "it", "pt-br", "ja", "ar"]

# (language, ISO code) -> CLDR's name of the country.
COUNTRIES = {
    ("ja", "JP"): "日本",
    ("ar", "JP"): "اليابان",
    ("es", "JP"): "Japón",
    ("pt-br", "JP"): "Japão",
    ("it", "JP"): "Giappone",
    ("fr", "DE"): "Allemagne",
    ("de", "DE"): "Deutschland",
    ("ja", "DE"): "ドイツ",
    ("ar", "DE"): "ألمانيا",
    ("de", "FR"): "Frankreich",
    ("es", "US"): "Estados Unidos",
    ("it", "US"): "Stati Uniti",
    ("es", "GB"): "Reino Unido",
    ("es", "CH"): "Suiza",
    ("pt-br", "CH"): "Suíça",
    ("fr", "CI"): "Côte d’Ivoire",
    # CLDR's short form, not "RAE de Hong Kong (China)" / "中華人民共和国香港特別行政区".
    ("es", "HK"): "Hong Kong",
    ("de", "HK"): "Hongkong",
    ("ja", "HK"): "香港",
    ("ar", "HK"): "هونغ كونغ",
    ("ja", "MO"): "マカオ",
    # English keeps the catalog's names, which are upstream's.
    ("en", "HK"): "Hong Kong",
    ("en", "TR"): "Turkey",
    ("en", "CD"): "Democratic Republic of the Congo",
}

# (language, the catalog's English name of a regional or global destination) -> its name.
REGIONS = {
    ("es", "Europe"): "Europa",
    ("de", "Europe"): "Europa",
    ("ja", "Europe"): "ヨーロッパ",
    ("ar", "Europe"): "أوروبا",
    ("fr", "Asia"): "Asie",
    ("es", "Latin America"): "Latinoamérica",
    ("pt-br", "North America"): "América do Norte",
    ("de", "Caribbean"): "Karibik",
    ("it", "Southeast Asia"): "Sud-est asiatico",
    ("fr", "Africa"): "Afrique",
    ("es", "Australia & New Zealand"): "Australia y Nueva Zelanda",
    ("ja", "Australia & New Zealand"): "オーストラリア、ニュージーランド",
    ("de", "Global"): "Welt",
    ("ja", "Global"): "世界",
    ("en", "Global"): "Global",
    # No CLDR area: a gettext message, English until the .po says otherwise.
    ("en", "Balkans"): "Balkans",
}

# (language, a country's `region` field) -> the label shown.
AREAS = {
    ("es", "Europe"): "Europa",
    ("fr", "South America"): "Amérique du Sud",
    ("de", "Central America"): "Mittelamerika",
    ("ja", "Oceania"): "オセアニア",
    ("ar", "Africa"): "أفريقيا",
    ("en", "Europe"): "Europe",
}


def country(code: str, name: str = "") -> Destination:
    return Destination(code=code, name=name or code, geography="local", region="Asia")


@pytest.mark.parametrize(("key", "expected"), COUNTRIES.items())
def test_country_names(key, expected):
    language, code = key
    catalog_names = {"HK": "Hong Kong", "TR": "Turkey", "CD": "Democratic Republic of the Congo"}
    with translation.override(language):
        assert country(code, catalog_names.get(code, "")).local_name == expected


@pytest.mark.parametrize(("key", "expected"), REGIONS.items())
def test_region_names(key, expected):
    language, name = key
    geography = "global" if name == "Global" else "regional"
    with translation.override(language):
        assert Destination(code="X", name=name, geography=geography).local_name == expected


@pytest.mark.parametrize(("key", "expected"), AREAS.items())
def test_area_names(key, expected):
    language, region = key
    with translation.override(language):
        assert Destination(code="JP", name="Japan", geography="local", region=region).local_region == expected


@pytest.mark.parametrize("language", LANGUAGES[1:])
def test_every_sandbox_destination_and_area_has_a_name_of_its_language(language):
    """Every country upstream lists has a CLDR name, and every area is one CLDR names or a message."""
    with translation.override(language):
        for d in destinations():
            dest = Destination(code=d.code, name=d.name, geography=d.geography, region=d.region)
            if d.geography == "local":
                assert dest.local_name == names.country_name(d.code, language) is not None, d
            else:
                assert d.name in {*names.M49, *names.LISTS, *names.MESSAGES}, (
                    f"{d.name}: no CLDR area, no message"
                )
            assert d.region in {*names.M49, *names.MESSAGES}, d.region


def test_an_unknown_area_or_code_keeps_the_catalog_name():
    with translation.override("fr"):
        assert (
            Destination(code="ZZZ", name="Pacific Islands", geography="regional").local_name
            == "Pacific Islands"
        )
        assert country("QQ", "Nowhere").local_name == "Nowhere"
        assert Destination(region="Arctic").local_region == "Arctic"


def test_every_name_lists_each_language_once():
    jp = country("JP", "Japan")
    assert names.every_name(jp) == {"Japan", "Japón", "Japon", "Giappone", "Japão", "日本", "اليابان"}


def test_a_page_of_names_costs_microseconds():
    """The home page lists ~200 destinations: a name is a memoised lookup, not a CLDR load."""
    page = [
        Destination(code=d.code, name=d.name, geography=d.geography, region=d.region) for d in destinations()
    ]
    with translation.override("ja"):
        [(d.local_name, d.local_region) for d in page]  # the first page fills the memo
        start = time.perf_counter()
        for _ in range(10):
            [(d.local_name, d.local_region) for d in page]
        per_call = (time.perf_counter() - start) / (10 * 2 * len(page))
    assert per_call < 50e-6, f"{per_call * 1e6:.1f} µs a name"
