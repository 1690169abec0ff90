"""What travellers type, and where it must take them (issue 10, item 1).

Each query runs against the sandbox's real destination list and the starting
aliases, with both fuzzy engines: pg_trgm (PostgreSQL, production) and the
difflib fallback (the SQLite demo).
"""

from __future__ import annotations

import pytest

from catalog import search
from catalog.aliases import default_aliases
from conftest import need

from .world import make_world

pytestmark = pytest.mark.django_db

# query -> the first destination it must give.
FIRST = {
    # Names, any case, accents or not.
    "Japan": "Japan",
    "japan": "Japan",
    "FRANCE": "France",
    "  italy ": "Italy",
    "curacao": "Curaçao",
    "Cote d'Ivoire": "Côte d'Ivoire",
    "reunion": "Réunion",
    "aland": "Åland Islands",
    # Aliases and common names.
    "UK": "United Kingdom",
    "u.k.": "United Kingdom",
    "Great Britain": "United Kingdom",
    "England": "United Kingdom",
    "Scotland": "United Kingdom",
    "Wales": "United Kingdom",
    "USA": "United States",
    "US": "United States",
    "America": "United States",
    "UAE": "United Arab Emirates",
    "Dubai": "United Arab Emirates",
    "Holland": "Netherlands",
    "Bali": "Indonesia",
    "Czech Republic": "Czechia",
    "Czechia": "Czechia",
    "Korea": "South Korea",
    "Turkiye": "Turkey",
    "Türkiye": "Turkey",
    "Burma": "Myanmar",
    "Ivory Coast": "Côte d'Ivoire",
    "Swaziland": "Eswatini",
    "Macau": "Macao",
    "Ceylon": "Sri Lanka",
    "Tokyo": "Japan",
    "Cabo Verde": "Cape Verde",
    "Macedonia": "North Macedonia",
    "Zanzibar": "Tanzania",
    "worldwide": "Global",
    "Scandinavian": "Scandinavia",
    "Middle East": "Middle East & North Africa",
    "Australia and New Zealand": "Australia & New Zealand",
    "Brasil": "Brazil",
    # Typos.
    "japn": "Japan",
    "untied states": "United States",
    "frnace": "France",
    "itlay": "Italy",
    "germny": "Germany",
    "thialand": "Thailand",
    "spian": "Spain",
    "portgual": "Portugal",
    "swizerland": "Switzerland",
    "autralia": "Australia",
    "indonisia": "Indonesia",
    "new zeland": "New Zealand",
    "vietnma": "Vietnam",
    "mexcio": "Mexico",
    "grece": "Greece",
    "untied st": "United States",
    # Prefixes while typing.
    "jap": "Japan",
    "ger": "Germany",
    "united k": "United Kingdom",
    "kor": "South Korea",
    # Exact names never lose to a longer or fuzzy one.
    "Niger": "Niger",
    "Nigeria": "Nigeria",
    "Guinea": "Guinea",
    "Dominica": "Dominica",
    "Ireland": "Ireland",
    "Mali": "Mali",
    "Oman": "Oman",
    "Congo": "Congo",
    "esim for japan": "Japan",
}

# query -> destinations it must never give.
NEVER = {
    "UK": {"Ukraine"},
    "Niger": {"Nigeria"},
    "Guinea": {"Papua New Guinea"},
    "Dominica": {"Dominican Republic"},
    "Ireland": {"United Kingdom"},
    "Oman": {"Romania"},
    "Mali": {"Malta", "Malawi", "Somalia"},
    "India": {"Indonesia"},
}

# several countries -> the first region offered, and the countries understood.
MULTI = {
    "France Italy Spain": ("Europe", ["France", "Italy", "Spain"]),
    "Thailand, Vietnam": ("Southeast Asia", ["Thailand", "Vietnam"]),
    "USA Canada Mexico": ("North America", ["United States", "Canada", "Mexico"]),
    "Japan and South Korea": ("Asia", ["Japan", "South Korea"]),
    "spain & portugal": ("Europe", ["Spain", "Portugal"]),
    "Dubai, Oman": ("Gulf States", ["United Arab Emirates", "Oman"]),
    "UK France": ("Europe", ["United Kingdom", "France"]),
    "Norway Sweden Denmark": ("Scandinavia", ["Norway", "Sweden", "Denmark"]),
    "Croatia + Slovenia": ("Balkans", ["Croatia", "Slovenia"]),
    "Australia New Zealand": ("Australia & New Zealand", ["Australia", "New Zealand"]),
    "frnace italy": ("Europe", ["France", "Italy"]),
    "Kenya Tanzania": ("Africa", ["Kenya", "Tanzania"]),
    "Bosnia and Herzegovina, Serbia": ("Balkans", ["Bosnia and Herzegovina", "Serbia"]),
}

ENGINES = ["trigram", "difflib"]


@pytest.fixture
def world(db, clear_cache):
    return make_world()


def engine_ok(engine: str) -> None:
    from django.db import connection

    if engine == "trigram":
        need(connection.vendor == "postgresql", "PostgreSQL (the trigram engine is pg_trgm)")


def test_the_tables_are_big_enough():
    assert len(FIRST) + len(NEVER) + len(MULTI) >= 60
    assert len(default_aliases()) >= 200


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("query", "expected"), FIRST.items())
def test_first_result(world, engine, query, expected):
    engine_ok(engine)
    found = search.search(query, engine=engine)
    assert found.destinations, f"{query!r} found nothing"
    assert found.destinations[0].name == expected, [d.name for d in found.destinations]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("query", "never"), NEVER.items())
def test_never(world, engine, query, never):
    engine_ok(engine)
    names = {d.name for d in search.search(query, engine=engine).destinations}
    assert not names & never


@pytest.mark.parametrize(("query", "expected"), MULTI.items())
def test_several_countries(world, query, expected):
    region, countries = expected
    found = search.search(query)
    assert found.how == "multi"
    assert [c.name for c in found.countries] == countries
    assert found.regions[0].name == region
    wanted = {c.id for c in found.countries}
    assert all(wanted <= r.covers for r in found.regions)
    assert found.regions[0].country_count == len(found.regions[0].covers) > 1


def test_a_process_keeps_its_index_until_the_catalog_version_moves(world, django_assert_num_queries):
    """Eight languages' names make the index ~140 kB: a search reads the version, not the index."""
    from django.core.cache import cache

    from catalog.cache import bump_catalog_version
    from catalog.models import DestinationAlias

    first = search.get_index()
    cache.delete(search.INDEX_KEY)  # held in this process: the shared copy is not read again
    with django_assert_num_queries(0):
        assert search.get_index() is first
    DestinationAlias.objects.create(alias="Nihon", code="JP", geography="local")
    bump_catalog_version()
    assert search.search("Nihon").destinations[0].name == "Japan"
