"""Where travellers go most: a starting rank for the home page's popular list.

Admins can change a destination's popularity in admin; the sync sets it only
for destinations it creates.
"""

POPULAR_CODES = [
    "US",
    "JP",
    "GB",
    "FR",
    "IT",
    "ES",
    "TH",
    "TR",
    "DE",
    "MX",
    "AE",
    "GR",
    "PT",
    "CA",
    "KR",
    "AU",
    "ID",
    "VN",
    "SG",
    "NL",
    "CH",
    "EG",
    "MA",
    "BR",
]


def starting_popularity(code: str) -> int:
    try:
        return len(POPULAR_CODES) - POPULAR_CODES.index(code.upper())
    except ValueError:
        return 0
