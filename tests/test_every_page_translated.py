"""Every customer page, in every language, signed out and in, shows no English sentence.

The pages come from the URL resolver (tests/urlsweep.py), so a page added later is swept too. A
piece of text counts as untranslated when the English page shows the very same words and they
are words (two or more of them), not a name, a number, a code or a brand on ALLOWED.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.test import Client

from checkout.tests.conftest import make_package

from . import urlsweep
from .test_url_privacy import make_world

pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("url-sweep")]

OTHER_LANGUAGES = [code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]

# Text that is the same in every language: names of brands, products and languages.
ALLOWED = {
    settings.SHOP_NAME,
    *(name for _code, name in settings.LANGUAGES),
    "Apple Pay",
    "Google Pay",
    "Google Wallet",
    "Roamify",
    "Stripe",
    "Hotspot / tethering",  # Italian says it so too
}
# Product words in device names ("Apple iPhone 15 Pro Max"), the same in every language.
PRODUCT_WORDS = {
    "Apple",
    "iPhone",
    "iPad",
    "Samsung",
    "Galaxy",
    "Google",
    "Pixel",
    "Plus",
    "Pro",
    "Max",
    "Mini",
}
ATTRIBUTES = {"alt", "title", "aria-label", "placeholder"}
WORD = re.compile(r"[A-Za-z][a-z]+")
# A host name or an email address (an SM-DP+ address, the shop's support address): no words.
ADDRESS = re.compile(r"^\S+[.@]\S+$")


class _Text(HTMLParser):
    """The text a visitor reads or hears: text nodes (not scripts or styles) and labelling attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.pieces: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "template"):
            self._skip += 1
        for name, value in attrs:
            if name in ATTRIBUTES and value:
                self._add(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style", "template") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self._add(data)

    def _add(self, text: str) -> None:
        text = " ".join(text.split())
        if text:
            self.pieces.append(text)


def text_of(html: str) -> set[str]:
    parser = _Text()
    parser.feed(html)
    return set(parser.pieces)


def english_words(piece: str, known: set[str]) -> bool:
    """Words a translation should have changed: two or more, and not a name we know."""
    if ADDRESS.match(piece):
        return False
    for name in known:
        piece = piece.replace(name, " ")
    return len([w for w in WORD.findall(piece) if w not in PRODUCT_WORDS]) >= 2


def _pages(client: Client, path: str) -> dict[str, set[str]]:
    """The text of `path` in English and in each other language (only HTML pages that render)."""
    english = client.get(path, follow=True)
    if english.status_code != 200 or "text/html" not in english.get("Content-Type", ""):
        return {}
    found = {"en": text_of(english.content.decode())}
    for language in OTHER_LANGUAGES:
        page = client.get(f"/{language}{path}", follow=True)
        assert page.status_code == 200, (language, path, page.status_code)
        found[language] = text_of(page.content.decode())
    return found


@pytest.fixture
def shop(roamify):
    package = make_package()
    world = make_world("alice@example.com", package)
    return package, world


def test_no_english_on_any_page_in_any_other_language(shop):
    package, world = shop
    known = ALLOWED | {
        package.destination.name,
        package.name,
        world.email,
        world.order_number,
        world.iccid,
    }
    signed_in = Client()
    signed_in.force_login(world.user)
    problems: list[str] = []
    swept = 0
    for who, client in (("signed out", Client()), ("signed in", signed_in)):
        for path in urlsweep.customer_page_paths(package, world):
            pages = _pages(client, path)
            if not pages:
                continue
            swept += 1
            english = {p for p in pages.pop("en") if english_words(p, known)}
            for language, pieces in pages.items():
                for piece in sorted(english & pieces):
                    problems.append(f"{who} /{language}{path}: {piece!r}")
    assert swept >= 40, f"only {swept} pages rendered: is the sweep still finding them?"
    assert not problems, f"{len(problems)} untranslated:\n" + "\n".join(problems[:3000])


def test_the_sweep_sees_english_left_on_a_page():
    """The detector is awake: an English sentence left on a Spanish page is found."""
    english = text_of("<p>Your eSIM is ready</p><p>Japan</p><img alt='QR code to install'>")
    spanish = text_of("<p>Tu eSIM está lista</p><p>Japón</p><img alt='QR code to install'>")
    left = {p for p in english & spanish if english_words(p, set())}
    assert left == {"QR code to install"}
    assert not english_words("smdp.sandbox.roamify.invalid", set())
    assert not english_words("✗ Apple iPhone SE (2016)", set())
