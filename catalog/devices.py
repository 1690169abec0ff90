"""An honest device check: "yes" only for the exact model a traveller typed.

Upstream lists eSIM phones in families ("iPhone 12 / 12 mini / 12 Pro"); they are
split into single models here. A query is compared word by word with each model
("pixel7" and "Pixel 7" are the same words), so "iPhone SE" can no longer match
"iPhone 11 series" and "Pixel 3a" never answers for the Pixel 3. A query that
only starts a model name gets a question ("which one?"), never a yes. Models known
to have no eSIM, and notes on families that mostly have none, are kept here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.utils.text import slugify
from django.utils.translation import gettext_lazy

from .models import CompatibleDevice

# Words that say nothing about the model: brands (the family word says it), network, storage.
BRAND_WORDS = {
    "apple": "Apple",
    "samsung": "Samsung",
    "google": "Google",
    "motorola": "Motorola",
    "xiaomi": "Xiaomi",
    "oppo": "OPPO",
    "huawei": "Huawei",
    "sony": "Sony",
    "oneplus": "OnePlus",
    "nokia": "Nokia",
    "fairphone": "Fairphone",
}
SPELLINGS = {"moto": "motorola", "one plus": "oneplus", "i phone": "iphone", "i pad": "ipad"}
FILLER = re.compile(r"^(\d+ ?(gb|tb)|5g|4g|lte|dual|sim|esim|phone|smartphone|galaxy|the|my)$")

# Models with no eSIM at all: (brand, model name).
NO_ESIM: tuple[tuple[str, str], ...] = (
    ("Apple", "iPhone X"),
    ("Apple", "iPhone 8"),
    ("Apple", "iPhone 8 Plus"),
    ("Apple", "iPhone 7"),
    ("Apple", "iPhone 7 Plus"),
    ("Apple", "iPhone 6s"),
    ("Apple", "iPhone 6s Plus"),
    ("Apple", "iPhone 6"),
    ("Apple", "iPhone SE (2016)"),
    ("Samsung", "Galaxy A05"),
    ("Samsung", "Galaxy A05s"),
    ("Samsung", "Galaxy A12"),
    ("Samsung", "Galaxy A13"),
    ("Samsung", "Galaxy A14"),
    ("Samsung", "Galaxy A15"),
    ("Samsung", "Galaxy A23"),
    ("Samsung", "Galaxy A24"),
    ("Samsung", "Galaxy A25"),
    ("Samsung", "Galaxy A52"),
    ("Samsung", "Galaxy A53"),
    ("Samsung", "Galaxy S10"),
    ("Samsung", "Galaxy S10+"),
    ("Samsung", "Galaxy S9"),
    ("Samsung", "Galaxy Note 10"),
    ("Google", "Pixel 2"),
    ("Google", "Pixel 2 XL"),
    ("Google", "Pixel"),
    ("Huawei", "P30"),
    ("Huawei", "P30 Pro"),
    ("Huawei", "Mate 20"),
    ("Xiaomi", "Redmi Note 12"),
    ("Xiaomi", "Redmi Note 11"),
    ("Xiaomi", "Redmi 13C"),
    ("Motorola", "Moto G54"),
    ("Motorola", "Moto G84"),
    ("Motorola", "Moto E13"),
)

# Families where most models have no eSIM: (brand, query start) -> the plain truth.
FAMILY_NOTES: dict[tuple[str, str], str] = {
    ("Samsung", "a"): gettext_lazy(
        "Most Galaxy A phones do not support eSIM. Of the A series, only the Galaxy A54 and A55 are on "
        "our list of eSIM phones."
    ),
    ("Motorola", "g"): gettext_lazy(
        "Most Moto G phones do not support eSIM. Motorola's eSIM phones on our list are the Razr and "
        "Edge 40 models."
    ),
    ("Motorola", "moto"): gettext_lazy(
        "Most Moto G and Moto E phones do not support eSIM. Motorola's eSIM phones on our list are the "
        "Razr and Edge 40 models."
    ),
    ("Xiaomi", "redmi"): gettext_lazy(
        "Most Redmi and POCO phones do not support eSIM. Xiaomi's eSIM phones on our list are the 12T "
        "Pro, 13, 13 Pro and 14."
    ),
    ("Huawei", ""): gettext_lazy("Most Huawei phones do not support eSIM; the P40 and P40 Pro do."),
    ("Apple", "iphone"): gettext_lazy(
        "Every iPhone from the XR and XS (2018) on supports eSIM. The iPhone X, 8 and older, and the "
        "first iPhone SE (2016), do not."
    ),
}


def words(text: str) -> list[str]:
    """ "iPhone12 mini" -> ["iphone", "12", "mini"]; "Galaxy S23+" -> ["galaxy", "s23", "plus"]."""
    text = text.lower().replace("+", " plus ")
    for wrong, right in SPELLINGS.items():
        text = re.sub(rf"\b{wrong}\b", right, text)
    text = re.sub(r"[()/,._-]", " ", text)
    # A family word glued to its number: "pixel7", "iphone12", "galaxys23" -> split; "a14", "s23" stay.
    text = re.sub(r"\b([a-z]{3,})(\d)", r"\1 \2", text)
    return text.split()


def model_key(text: str) -> tuple[str, ...]:
    return tuple(w for w in words(text) if w not in BRAND_WORDS and not FILLER.match(w))


@dataclass(frozen=True)
class Model:
    brand: str
    name: str  # without the brand: "iPhone 12 mini", "Galaxy S23 Ultra"
    esim: bool
    os: str = ""

    @property
    def full_name(self) -> str:
        if self.brand and not self.name.startswith(self.brand):
            return f"{self.brand} {self.name}"
        return self.name

    @property
    def key(self) -> tuple[str, ...]:
        return model_key(self.name)


def split_family(brand: str, model: str) -> list[str]:
    """ "iPhone 12 / 12 mini / 12 Pro" -> ["iPhone 12", "iPhone 12 mini", "iPhone 12 Pro"]."""
    if model.lower().startswith(brand.lower() + " "):
        model = model[len(brand) + 1 :]
    parts = [p.strip() for p in model.split(" / ") if p.strip()]
    if len(parts) < 2:
        return parts
    first = parts[0].split()
    follow = parts[1].split()[0]
    if follow in first:
        stem = first[: first.index(follow)]
    else:
        numbered = [i for i, w in enumerate(first) if any(ch.isdigit() for ch in w)]
        stem = first[: numbered[0]] if numbered else first[:-1]
    prefix = " ".join(stem)
    return [parts[0], *(f"{prefix} {p}".strip() for p in parts[1:])]


@dataclass
class Answer:
    kind: str  # yes | no | ask | family | unknown
    model: Model | None = None
    choices: list[Model] = field(default_factory=list)
    note: str = ""
    brand: str = ""


def known_models(devices: list[CompatibleDevice]) -> list[Model]:
    """Upstream's eSIM phones split into single models, and the models known to have none."""
    models: dict[tuple[str, ...], Model] = {}
    for d in devices:
        for name in split_family(d.brand, d.model):
            m = Model(d.brand, name, True, d.os)
            models.setdefault(m.key, m)
    for brand, name in NO_ESIM:
        m = Model(brand, name, False, "ios" if brand == "Apple" else "android")
        models.setdefault(m.key, m)  # upstream's yes wins over our list
    return sorted(models.values(), key=lambda m: (m.brand, not m.esim, m.name))


def _brand_of(query_words: list[str], models: list[Model]) -> str:
    for w in query_words:
        if w in BRAND_WORDS:
            return BRAND_WORDS[w]
    families = {
        "iphone": "Apple",
        "ipad": "Apple",
        "galaxy": "Samsung",
        "pixel": "Google",
        "xperia": "Sony",
        "razr": "Motorola",
        "redmi": "Xiaomi",
        "poco": "Xiaomi",
    }
    return next((families[w] for w in query_words if w in families), "")


def check(query: str, models: list[Model]) -> Answer:
    ws = words(query)
    key = model_key(query)
    brand = _brand_of(ws, models)
    if not key:
        return Answer("unknown", note=family_note(brand, key), brand=brand)
    pool = [m for m in models if not brand or m.brand == brand]
    exact = [m for m in pool if m.key == key]
    if exact and not brand and len(key) == 1:
        return Answer("ask", choices=exact)  # "12" alone: which brand's 12?
    if exact:
        return Answer(
            "yes" if exact[0].esim else "no",
            exact[0],
            note=family_note(brand, key) if not exact[0].esim else "",
            brand=exact[0].brand,
        )
    # Only the start of a model name ("iPhone SE", "Pixel 7 P"): ask which one, never say yes.
    starts = [
        m
        for m in pool
        if m.key[: len(key) - 1] == key[:-1]
        and len(m.key) >= len(key)
        and m.key[len(key) - 1].startswith(key[-1])
    ]
    note = family_note(brand, key)
    if starts and len(starts) <= 24:
        return Answer("ask", choices=starts, note=note, brand=brand)
    if note:
        return Answer("family", note=note, brand=brand)
    return Answer("unknown", brand=brand)


def family_note(brand: str, key: tuple[str, ...]) -> str:
    for (b, start), note in FAMILY_NOTES.items():
        if b == brand and (not start or (key and key[0].startswith(start))):
            return str(note)  # in the page's language
    return ""


def brand_notes(brand: str) -> list[str]:
    return list(dict.fromkeys(str(note) for (b, _), note in FAMILY_NOTES.items() if b == brand))


def brands(models: list[Model]) -> list[tuple[str, str, int]]:
    """(brand, slug, number of eSIM models) for the browsable list."""
    counts: dict[str, int] = {}
    for m in models:
        counts[m.brand] = counts.get(m.brand, 0) + (1 if m.esim else 0)
    return [(b, slugify(b), n) for b, n in sorted(counts.items())]
