"""Search in every language (issue 20, item 2): a traveller types a destination's name in
their own language, on any language's page, and lands on it; results read in the page's
language. Through the real views, on the sandbox's destinations and the starting aliases.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from catalog import names, search

from .world import make_world

pytestmark = pytest.mark.django_db

# (query, the page's language) -> (geography, code) of the destination it must give first.
QUERIES = {
    # Spanish
    ("Japón", "es"): ("local", "JP"),
    ("Japon", "es"): ("local", "JP"),
    ("Estados Unidos", "es"): ("local", "US"),
    ("Reino Unido", "es"): ("local", "GB"),
    ("Suiza", "es"): ("local", "CH"),
    ("alemania", "en"): ("local", "DE"),
    ("Alemnia", "es"): ("local", "DE"),  # typo
    ("Europa", "es"): ("regional", "EU"),
    ("Sudeste asiático", "es"): ("regional", "SEA"),
    # French
    ("Allemagne", "fr"): ("local", "DE"),
    ("Allemange", "fr"): ("local", "DE"),  # typo
    ("États-Unis", "fr"): ("local", "US"),
    ("etats unis", "de"): ("local", "US"),
    ("Royaume-Uni", "fr"): ("local", "GB"),
    ("Suisse", "fr"): ("local", "CH"),
    ("Espagne", "ja"): ("local", "ES"),
    # German
    ("Frankreich", "de"): ("local", "FR"),
    ("Frankriech", "de"): ("local", "FR"),  # typo
    ("Vereinigte Staaten", "de"): ("local", "US"),
    ("Österreich", "de"): ("local", "AT"),
    ("Osterreich", "fr"): ("local", "AT"),
    ("Spanien", "it"): ("local", "ES"),
    ("Türkei", "de"): ("local", "TR"),
    # Italian
    ("Giappone", "it"): ("local", "JP"),
    ("Giapone", "it"): ("local", "JP"),  # typo
    ("Stati Uniti", "it"): ("local", "US"),
    ("Regno Unito", "it"): ("local", "GB"),
    ("Svizzera", "ar"): ("local", "CH"),
    ("Germania", "it"): ("local", "DE"),
    # Portuguese (Brazil)
    ("Japão", "pt-br"): ("local", "JP"),
    ("japao", "pt-br"): ("local", "JP"),
    ("Alemanha", "pt-br"): ("local", "DE"),
    ("Suíça", "pt-br"): ("local", "CH"),
    ("Coreia do Sul", "pt-br"): ("local", "KR"),
    ("Alemahna", "pt-br"): ("local", "DE"),  # typo
    # Japanese: no spaces between words, kana kept whole, half-width kana folded.
    ("日本", "ja"): ("local", "JP"),
    ("日本", "es"): ("local", "JP"),
    ("ドイツ", "ja"): ("local", "DE"),
    ("ﾄﾞｲﾂ", "ja"): ("local", "DE"),
    ("アメリカ", "ja"): ("local", "US"),  # the start of アメリカ合衆国
    ("イギリス", "ja"): ("local", "GB"),
    ("スイス", "ja"): ("local", "CH"),
    ("韓国", "ja"): ("local", "KR"),
    ("香港", "ja"): ("local", "HK"),
    ("ヨーロッパ", "ja"): ("regional", "EU"),
    # Arabic: with or without hamza, with or without the article.
    ("اليابان", "ar"): ("local", "JP"),
    ("يابان", "ar"): ("local", "JP"),
    ("ألمانيا", "ar"): ("local", "DE"),
    ("المانيا", "en"): ("local", "DE"),
    ("فرنسا", "ar"): ("local", "FR"),
    ("الولايات المتحدة", "ar"): ("local", "US"),
    ("المملكة المتحدة", "ar"): ("local", "GB"),
    ("سويسرا", "ar"): ("local", "CH"),
    ("أوروبا", "ar"): ("regional", "EU"),
    ("البوسنة والهرسك", "ar"): ("local", "BA"),  # a name's own "and" is not two countries
    # English and aliases still work on every page.
    ("Japan", "ja"): ("local", "JP"),
    ("UK", "es"): ("local", "GB"),
    ("Dubai", "ar"): ("local", "AE"),
    ("japn", "fr"): ("local", "JP"),  # typo
}

# several countries in one language -> the first region offered.
MULTI = {
    ("Francia Italia España", "es"): ("regional", "EU"),
    ("Japon et Corée du Sud", "fr"): ("regional", "ASIA"),
    ("Norwegen, Schweden und Dänemark", "de"): ("regional", "NORDIC"),
    ("Giappone e Corea del Sud", "it"): ("regional", "ASIA"),
    ("日本と韓国", "ja"): ("regional", "ASIA"),
    ("フランス、イタリア", "ja"): ("regional", "EU"),
    ("فرنسا وإيطاليا", "ar"): ("regional", "EU"),
    ("فرنسا والمملكة المتحدة", "ar"): ("regional", "EU"),
}


@pytest.fixture
def world(db, clear_cache):
    return make_world()


def wanted(world, want: tuple[str, str]):
    (dest,) = [d for d in world.values() if (d.geography, d.code) == want]
    return dest


def expected_url(world, want: tuple[str, str], language: str) -> str:
    """The destination's page in the language searched in (/ja/esim/japan/): never the English one."""
    with translation.override(language):
        return wanted(world, want).get_absolute_url()


def get(client, name: str, language: str, query: str):
    # The language as the shop's URLs will carry it (reverse under override), and as the
    # active language of a request today.
    with translation.override(language):
        return client.get(reverse(name), {"q": query}, HTTP_ACCEPT_LANGUAGE=language)


def test_the_table_covers_every_language():
    assert len(QUERIES) >= 30
    assert {language for _, language in QUERIES} == set(names.language_codes())


@pytest.mark.parametrize(("key", "want"), QUERIES.items(), ids=lambda v: "-".join(v))
def test_suggest_finds_it_and_names_it_in_the_page_language(world, client, key, want):
    query, language = key
    results = get(client, "catalog:suggest", language, query).json()["results"]
    assert results, f"{query!r} found nothing"
    first = results[0]
    assert first["url"] == expected_url(world, want, language), [r["name"] for r in results]
    dest = wanted(world, want)
    assert first["name"] == names.name_in(language, dest.geography, dest.code, dest.name)


@pytest.mark.parametrize(("key", "want"), QUERIES.items(), ids=lambda v: "-".join(v))
def test_search_page_takes_you_there(world, client, key, want):
    query, language = key
    response = get(client, "catalog:search", language, query)
    if response.status_code == 302:
        assert response["Location"] == expected_url(world, want, language)
    else:
        assert response.status_code == 200
        with translation.override(language):
            found = response.context["found"].destinations[0].get_absolute_url()
        assert found == expected_url(world, want, language)


@pytest.mark.parametrize(("key", "want"), QUERIES.items(), ids=lambda v: "-".join(v))
def test_the_demo_engine_agrees(world, key, want):
    """The SQLite demo's difflib engine finds the same first destination as pg_trgm."""
    query, _ = key
    found = search.search(query, engine="difflib")
    assert found.destinations and (found.destinations[0].geography, found.destinations[0].code) == want


@pytest.mark.parametrize(("key", "want"), MULTI.items(), ids=lambda v: "-".join(v))
def test_several_countries_in_another_language(world, key, want):
    query, _ = key
    found = search.search(query)
    assert found.how == "multi", found
    assert (found.regions[0].geography, found.regions[0].code) == want


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Côte d'Ivoire", "cote divoire"),
        ("U.K.", "uk"),
        ("ÉTATS-UNIS", "etats unis"),
        ("Straße", "strasse"),
        ("Færøerne", "faeroerne"),
        ("ドイツ", "ドイツ"),
        ("ﾄﾞｲﾂ", "ドイツ"),
        ("ボスニア・ヘルツェゴビナ", "ボスニアヘルツェゴビナ"),
        ("ＪＡＰＡＮ", "japan"),
        ("أَلْمَانِيَا", "المانيا"),
        ("إيطاليا", "ايطاليا"),
        ("آسيا", "اسيا"),
    ],
)
def test_normalise_folds_case_and_accents_but_keeps_scripts(text, folded):
    assert search.normalise(text) == folded
