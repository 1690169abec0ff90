"""Destination search that understands travellers, in any of the shop's languages.

An in-memory index of the ~250 destinations with their names in every language
(CLDR's, through catalog.names) and aliases (built with three queries, kept in the
cache and rebuilt when the catalog version moves) answers exact names, aliases,
codes, prefixes and several countries at once with no query. Only a query with a
typo asks the database: PostgreSQL's pg_trgm trigram similarity over the catalog's
names and aliases in production (the same trigrams, in memory, over the other
languages' names, which are not rows), a difflib ratio over the index elsewhere
(the SQLite demo). An exact name or alias always wins over a prefix or a fuzzy match.
Scripts written without spaces between words (Japanese, Chinese) and Arabic, whose
article is joined to the noun ("اليابان"), match inside a name from two characters.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db import connection
from django.db.models import Count
from django.db.models.functions import Lower
from django.urls import reverse

from . import names as local_names
from .cache import catalog_version
from .models import Destination, DestinationAlias, Geography

INDEX_KEY = "catalog:search-index"
# Words a traveller adds around destination names: "Thailand and Vietnam", "esim for Japan".
STOP_WORDS = frozenset(
    {
        "and",
        "or",
        "plus",
        "then",
        "to",
        "in",
        "for",
        "esim",
        "esims",
        "sim",
        "trip",
        "the",
        "via",
        "with",
        "data",
        "plan",
        "plans",
        "travel",
        # "and", "or", "for" in the shop's other Latin-script languages: "Japón y Corea".
        "y",
        "e",
        "et",
        "und",
        "o",
        "ou",
        "oder",
        "para",
        "pour",
        "fur",
        "per",
    }
)
TRIGRAM_THRESHOLD = 0.2  # pg_trgm candidates; the final cut-off is FUZZY_MIN below
FUZZY_MIN = 0.7
MAX_PHRASE_WORDS = 5


SUBSTRING_MIN = 3  # a Latin query matches inside a name from three letters ...
SUBSTRING_MIN_DENSE = 2  # ... a Japanese or Arabic one from two ("日本" in "日本国")
# Letters NFD does not split, and Arabic spellings people type interchangeably: the alef
# maqsura for yeh, taa marbuta for heh, Persian keyboards' yeh and kaf, the tatweel.
_FOLD = str.maketrans(
    {
        "ø": "o",
        "æ": "ae",
        "œ": "oe",
        "ł": "l",
        "đ": "d",
        "ð": "d",
        "þ": "th",
        "ı": "i",
        "ى": "ي",
        "ة": "ه",
        "ی": "ي",
        "ک": "ك",
        "ـ": None,
    }
)
_KANA_VOICING = {"\u3099", "\u309a"}  # combining marks that make ト into ド: part of the letter


def normalise(text: str) -> str:
    """Case folded, no accents, no dots or apostrophes: "U.K." -> "uk", "Côte d'Ivoire" -> "cote divoire",
    "ألمانيا" -> "المانيا"; Japanese keeps its kana ("ドイツ"), full-width letters become ASCII."""
    text = unicodedata.normalize("NFD", unicodedata.normalize("NFKC", text).casefold())
    text = "".join(c for c in text if not unicodedata.combining(c) or c in _KANA_VOICING)
    text = unicodedata.normalize("NFC", text).translate(_FOLD)
    text = text.replace("&", " and ")
    text = re.sub(r"[.'’`・]", "", text)
    text = re.sub(r"[\W_]+", " ", text)
    return " ".join(text.split())


def trigrams(text: str) -> set[str]:
    """pg_trgm's trigrams of a normalised text: each word padded with two spaces before, one after."""
    return {f"  {w} "[i : i + 3] for w in text.split() for i in range(len(w) + 1)}


@dataclass(frozen=True)
class Entry:
    id: int
    name: str
    slug: str
    code: str
    geography: str
    popularity: int
    from_price_cents: int | None
    package_count: int
    country_count: int
    covers: frozenset[int] = frozenset()

    @property
    def is_country(self) -> bool:
        return self.geography == Geography.LOCAL

    def get_absolute_url(self) -> str:
        # reverse(), not a path typed here: the page's language prefix (/ja/esim/japan/) with it.
        return reverse("catalog:destination", args=[self.slug])

    def get_geography_display(self) -> str:
        return str(Geography(self.geography).label)

    @property
    def flag(self) -> str:
        return Destination(code=self.code, geography=self.geography).flag

    @property
    def local_name(self) -> str:
        """The name in the page's language, as results show it."""
        return local_names.local_name(self)


@dataclass
class Index:
    version: int
    entries: dict[int, Entry]
    terms: dict[str, set[int]] = field(default_factory=dict)  # normalised name or alias -> ids
    names: dict[str, set[int]] = field(default_factory=dict)  # normalised name -> ids
    codes: dict[str, set[int]] = field(default_factory=dict)  # lower ISO code -> country ids
    # Names in other languages, which are no rows for pg_trgm to search: trigram -> those terms.
    local_grams: dict[str, set[str]] = field(default_factory=dict)


@dataclass
class Match:
    """What a query found: destinations best first, and how."""

    how: str  # exact | multi | prefix | fuzzy | none
    destinations: list[Entry]
    countries: list[Entry] = field(default_factory=list)  # the countries of a several-country query
    terms: dict[int, str] = field(default_factory=dict)  # id -> the alias that matched, to show it

    @property
    def regions(self) -> list[Entry]:
        return [d for d in self.destinations if not d.is_country] if self.how == "multi" else []


def build_index(version: int) -> Index:
    """Three queries: destinations (with country counts), regions' coverage, aliases."""
    rows = (
        Destination.objects.active()
        .annotate(n_covers=Count("covers"))
        .values_list(
            "id",
            "name",
            "slug",
            "code",
            "geography",
            "popularity",
            "from_price_cents",
            "package_count",
            "n_covers",
        )
    )
    base = {r[0]: r for r in rows}
    covers: dict[int, set[int]] = {}
    through = Destination.covers.through.objects.filter(from_destination_id__in=list(base))
    for region_id, country_id in through.values_list("from_destination_id", "to_destination_id"):
        covers.setdefault(region_id, set()).add(country_id)
    entries = {
        i: Entry(
            i,
            name,
            slug,
            code,
            geo,
            pop,
            price,
            n,
            n_covers if geo != Geography.LOCAL else 1,
            frozenset(covers.get(i, ())),
        )
        for i, (_, name, slug, code, geo, pop, price, n, n_covers) in base.items()
    }
    index = Index(version, entries)
    by_key: dict[tuple[str, str], set[int]] = {}
    for e in entries.values():
        key = normalise(e.name)
        index.names.setdefault(key, set()).add(e.id)
        index.terms.setdefault(key, set()).add(e.id)
        by_key.setdefault((e.code.upper(), e.geography), set()).add(e.id)
        if e.is_country:
            index.codes.setdefault(e.code.lower(), set()).add(e.id)
    for alias, code, geo in DestinationAlias.objects.values_list("alias", "code", "geography"):
        ids = by_key.get((code.upper(), geo))
        if ids and (key := normalise(alias)):
            index.terms.setdefault(key, set()).update(ids)
    rows = set(index.terms)
    for e in entries.values():
        for name in local_names.every_name(e):
            if key := normalise(name):
                index.names.setdefault(key, set()).add(e.id)
                index.terms.setdefault(key, set()).add(e.id)
    for term in index.terms.keys() - rows:
        for gram in trigrams(term):
            index.local_grams.setdefault(gram, set()).add(term)
    return index


_held: Index | None = None  # this process's copy, for as long as the catalog version holds


def get_index() -> Index:
    """The index for the current catalog version: one small cache read (the version) when warm.

    With every language's names the pickled index is ~140 kB and took ~18 ms to fetch and
    unpickle on each search, so a process keeps the one it last used; versions restart from
    the clock when the cache is flushed, so a held index never matches a new catalog by chance.
    """
    global _held
    version = catalog_version()
    if _held is not None and _held.version == version:
        return _held
    index = cache.get(INDEX_KEY)
    if index is None or index.version != version:
        index = build_index(version)
        cache.set(INDEX_KEY, index, None)
    _held = index
    return index


def _rank(index: Index, ids: set[int]) -> list[Entry]:
    entries = [index.entries[i] for i in ids]
    return sorted(entries, key=lambda e: (not e.is_country, -e.popularity, e.name))


def _starts_term(index: Index, text: str) -> bool:
    return text in index.terms or any(t.startswith(f"{text} ") for t in index.terms)


def _words(index: Index, q: str) -> list[str]:
    """The query's words, with the "and" some languages join on without a space taken off:
    Japanese と ("日本と韓国", no ja name holds one) and Arabic و before the next name
    ("فرنسا وإيطاليا"), unless the word with it is itself (the start of) a name ("وسط")."""
    if q.isascii():
        return q.split()
    return [
        w[1:] if w[0] == "و" and not _starts_term(index, w) and _starts_term(index, w[1:]) else w
        for w in q.replace("と", " ").split()
    ]


def _segment(index: Index, words: list[str]) -> list[Entry] | None:
    """Countries named in a query like "france italy spain" or "thailand, vietnam"; None if any
    word is not part of a destination name, alias or a filler word."""
    found: list[Entry] = []
    i = 0
    while i < len(words):
        for j in range(min(len(words), i + MAX_PHRASE_WORDS), i, -1):
            ids = index.terms.get(" ".join(words[i:j]))
            if ids:
                break
        else:
            if words[i] in STOP_WORDS:
                i += 1
                continue
            ids, j = _fuzzy_in_memory(index, words[i], whole=True), i + 1
            if not ids or len(words[i]) < 4:
                return None
        countries = [index.entries[k] for k in ids if index.entries[k].is_country]
        if not countries:
            return None
        best = _rank(index, {c.id for c in countries})[0]
        if best not in found:
            found.append(best)
        i = j
    return found


def _fuzzy_in_memory(index: Index, q: str, whole: bool = False) -> set[int]:
    """Ids of the closest names and aliases by difflib ratio (also against the start of a name
    while it is still being typed)."""
    scores = _score_terms(index, q, index.terms, whole)
    if not scores:
        return set()
    best = max(scores.values())
    return {i for i, s in scores.items() if s >= best - 0.05}


def _ratio(q: str, term: str, cutoff: float) -> float:
    """difflib's ratio, or 0 when its cheap upper bounds already fall short of the cutoff
    (as difflib.get_close_matches does): most of ~1,300 names in eight languages stop there."""
    matcher = difflib.SequenceMatcher(None, q, term)
    if matcher.real_quick_ratio() < cutoff or matcher.quick_ratio() < cutoff:
        return 0.0
    return matcher.ratio()


def _score_terms(index: Index, q: str, terms, whole: bool) -> dict[int, float]:
    scores: dict[int, float] = {}
    for term in terms:
        s = _ratio(q, term, FUZZY_MIN)
        if not whole and len(q) >= 4 and len(term) > len(q):
            s = max(s, _ratio(q, term[: len(q)], FUZZY_MIN + 0.05) - 0.05)
        if s >= FUZZY_MIN:
            for i in index.terms[term]:
                scores[i] = max(scores.get(i, 0.0), s)
    return scores


def _fuzzy_trigram(index: Index, q: str) -> dict[int, float]:
    """pg_trgm similarity over names and aliases (two queries), re-scored with the same ratio as
    the fallback so both engines agree on what is close enough."""
    from django.contrib.postgres.search import TrigramSimilarity

    names = (
        Destination.objects.active()
        .annotate(sim=TrigramSimilarity(Lower("name"), q))
        .filter(sim__gte=TRIGRAM_THRESHOLD)
        .order_by("-sim")
        .values_list("name", flat=True)[:20]
    )
    aliases = (
        DestinationAlias.objects.annotate(sim=TrigramSimilarity(Lower("alias"), q))
        .filter(sim__gte=TRIGRAM_THRESHOLD)
        .order_by("-sim")
        .values_list("alias", flat=True)[:20]
    )
    candidates = {normalise(t) for t in [*names, *aliases]} & index.terms.keys()
    return _score_terms(index, q, candidates | _local_candidates(index, q), whole=False)


def _local_candidates(index: Index, q: str) -> set[str]:
    """Other languages' names as similar to q as pg_trgm's threshold asks, by the same measure."""
    mine = trigrams(q)
    shared: dict[str, int] = {}
    for gram in mine:
        for term in index.local_grams.get(gram, ()):
            shared[term] = shared.get(term, 0) + 1
    return {
        term for term, n in shared.items() if n / (len(mine) + len(trigrams(term)) - n) >= TRIGRAM_THRESHOLD
    }


def fuzzy(index: Index, q: str, engine: str | None = None) -> dict[int, float]:
    engine = engine or ("trigram" if connection.vendor == "postgresql" else "difflib")
    if engine == "trigram":
        return _fuzzy_trigram(index, q)
    return _score_terms(index, q, index.terms, whole=False)


def search(query: str, limit: int = 8, engine: str | None = None, index: Index | None = None) -> Match:
    q = normalise(query)
    if not q:
        return Match("none", [])
    index = index or get_index()
    # 1. An exact name or alias wins, alone: "UK" is never Ukraine, "Niger" never Nigeria.
    if ids := index.terms.get(q):
        alias_of = {} if q in index.names else {i: query.strip() for i in ids}
        return Match("exact", _rank(index, ids), terms=alias_of)
    # 2. Several countries: the regional plans that cover them all, smallest region first.
    words = _words(index, q)
    countries = _segment(index, words) if len(words) > 1 else None
    if countries and len(countries) == 1:
        return Match("exact", countries)
    if countries:
        wanted = {c.id for c in countries}
        regions = [e for e in index.entries.values() if not e.is_country and wanted <= e.covers]
        regions.sort(key=lambda e: (e.country_count, e.from_price_cents or 0, e.name))
        return Match("multi", [*regions[:limit], *countries], countries=countries)
    # 3. Names and aliases that start with it, a word that starts with it, then contain it.
    ranked: dict[int, tuple[int, str]] = {}
    least = SUBSTRING_MIN if q.isascii() else SUBSTRING_MIN_DENSE
    for i in index.codes.get(q, ()):
        ranked[i] = (0, "")
    for term, ids in index.terms.items():
        if term.startswith(q):
            level = 1
        elif f" {q}" in f" {term}":
            level = 2
        elif len(q) >= least and q in term:
            level = 3
        else:
            continue
        for i in ids:
            shown = "" if term in index.names else term
            if i not in ranked or ranked[i][0] > level:
                ranked[i] = (level, shown)
    if ranked:
        entries = sorted(
            (index.entries[i] for i in ranked),
            key=lambda e: (ranked[e.id][0], not e.is_country, -e.popularity, e.name),
        )[:limit]
        return Match("prefix", entries, terms={e.id: ranked[e.id][1] for e in entries if ranked[e.id][1]})
    # 4. A typo: the closest names, best first.
    scores = fuzzy(index, q, engine)
    entries = sorted((index.entries[i] for i in scores), key=lambda e: (-scores[e.id], -e.popularity))
    return Match("fuzzy" if entries else "none", entries[:limit])
