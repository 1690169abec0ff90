"""Names travellers type that are not the catalog's name for a destination.

The starting set, loaded by a data migration (and again by the sync when the table
is empty, e.g. a flushed test database); staff edit them in admin afterwards.
Keys are ISO codes for countries and upstream codes for regions, so they survive
a re-sync. Names that only differ by accents ("Curacao") need no alias: the
search folds accents.
"""

from __future__ import annotations

COUNTRY_ALIASES: dict[str, tuple[str, ...]] = {
    "GB": ("UK", "U.K.", "Great Britain", "Britain", "England", "Scotland", "Wales", "Northern Ireland",
           "London", "Edinburgh"),
    "US": ("USA", "U.S.A.", "US", "U.S.", "America", "United States of America", "the States",
           "New York", "Hawaii", "California", "Florida", "Las Vegas"),
    "AE": ("UAE", "U.A.E.", "Dubai", "Abu Dhabi", "Emirates"),
    "NL": ("Holland", "The Netherlands", "Amsterdam"),
    "ID": ("Bali", "Jakarta", "Lombok"),
    "CZ": ("Czech Republic", "Czech", "Prague"),
    "KR": ("Korea", "Republic of Korea", "Seoul"),
    "TR": ("Türkiye", "Istanbul"),
    "CN": ("Mainland China", "PRC", "Beijing", "Shanghai"),
    "HK": ("Hongkong",),
    "MO": ("Macau",),
    "TW": ("Taipei",),
    "TH": ("Bangkok", "Phuket", "Chiang Mai"),
    "VN": ("Viet Nam", "Hanoi", "Ho Chi Minh City", "Saigon"),
    "JP": ("Nippon", "Tokyo", "Osaka", "Kyoto"),
    "FR": ("Paris", "Nice", "Corsica"),
    "IT": ("Italia", "Rome", "Milan", "Venice", "Florence", "Sicily"),
    "ES": ("España", "Barcelona", "Madrid", "Canary Islands", "Tenerife", "Mallorca", "Ibiza"),
    "DE": ("Deutschland", "Berlin", "Munich"),
    "PT": ("Lisbon", "Porto", "Madeira", "Azores"),
    "GR": ("Hellas", "Athens", "Santorini", "Crete"),
    "CH": ("Swiss", "Schweiz", "Zurich", "Geneva"),
    "AT": ("Österreich", "Vienna"),
    "MX": ("Cancun", "Mexico City"),
    "CA": ("Toronto", "Vancouver", "Montreal"),
    "AU": ("Sydney", "Melbourne"),
    "NZ": ("Aotearoa", "Auckland"),
    "EG": ("Cairo",),
    "MA": ("Marrakech", "Marrakesh"),
    "ZA": ("Cape Town", "Johannesburg"),
    "KE": ("Nairobi",),
    "TZ": ("Zanzibar", "Kilimanjaro"),
    "IN": ("Bharat", "Goa", "Delhi", "Mumbai"),
    "LK": ("Ceylon",),
    "MM": ("Burma",),
    "SZ": ("Swaziland",),
    "CI": ("Ivory Coast",),
    "CD": ("DRC", "DR Congo", "Congo-Kinshasa"),
    "CG": ("Republic of the Congo", "Congo-Brazzaville"),
    "CV": ("Cabo Verde",),
    "MK": ("Macedonia",),
    "TL": ("East Timor",),
    "PS": ("Palestinian Territories", "West Bank"),
    "BA": ("Bosnia",),
    "VC": ("St Vincent",),
    "KN": ("St Kitts", "Saint Kitts"),
    "LC": ("St Lucia",),
    "VI": ("USVI",),
    "VG": ("BVI",),
    "TC": ("Turks and Caicos",),
    "TT": ("Trinidad", "Tobago"),
    "AG": ("Antigua",),
    "IE": ("Eire", "Dublin"),
    "IS": ("Reykjavik",),
    "PH": ("Manila", "Boracay"),
    "MY": ("Kuala Lumpur",),
    "KH": ("Angkor", "Siem Reap"),
    "LA": ("Lao",),
    "FO": ("Faroes", "Faeroe Islands"),
    "PF": ("Tahiti", "Bora Bora"),
    "SA": ("KSA", "Saudi"),
    "QA": ("Doha",),
    "DO": ("Punta Cana",),
    "BS": ("The Bahamas",),
    "GM": ("The Gambia",),
    "MV": ("Maldive Islands",),
    "SC": ("Seychelle Islands",),
    "HR": ("Hrvatska", "Dubrovnik", "Split"),
    "IL": ("Tel Aviv", "Jerusalem"),
    "JO": ("Petra",),
    "PE": ("Machu Picchu", "Lima"),
    "AR": ("Buenos Aires",),
    "BR": ("Brasil", "Rio de Janeiro"),
    "CO": ("Bogota", "Cartagena"),
    "CR": ("San Jose Costa Rica",),
    "SG": ("Singapura",),
    "HU": ("Budapest",),
    "PL": ("Krakow", "Warsaw"),
    "BE": ("Brussels",),
    "DK": ("Copenhagen",),
    "SE": ("Stockholm",),
    "NO": ("Oslo",),
    "FI": ("Helsinki",),
    "GL": ("Kalaallit Nunaat",),
}

# Upstream codes of regional and global destinations.
REGION_ALIASES: dict[tuple[str, str], tuple[str, ...]] = {
    ("EU", "regional"): ("EU", "European Union", "Schengen", "Eurotrip"),
    ("SEA", "regional"): ("SE Asia", "South East Asia", "South-East Asia"),
    ("GCC", "regional"): ("Gulf", "GCC", "Persian Gulf"),
    ("NORDIC", "regional"): ("Nordics", "Nordic countries", "Scandinavian"),
    ("OCE", "regional"): ("ANZ", "Australia and New Zealand", "Oceania"),
    ("LATAM", "regional"): ("South America", "Central America", "LATAM"),
    ("MENA", "regional"): ("Middle East", "North Africa", "MENA"),
    ("BALKANS", "regional"): ("Balkan", "Western Balkans"),
    ("CARIB", "regional"): ("Caribbean islands", "West Indies"),
    ("GLB", "global"): ("Worldwide", "World", "International", "Around the world"),
}


def default_aliases() -> list[tuple[str, str, str]]:
    """(alias, code, geography) rows of the starting set."""
    rows = [(alias, code, "local") for code, names in COUNTRY_ALIASES.items() for alias in names]
    rows += [(alias, code, geo) for (code, geo), names in REGION_ALIASES.items() for alias in names]
    return rows
