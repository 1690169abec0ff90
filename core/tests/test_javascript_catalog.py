"""The JavaScript's strings (core/javascript_catalog.py): each language's own catalog, cacheable.

Reads the compiled catalogs (locale/*/LC_MESSAGES/djangojs.mo): `make test` compiles them.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

pytestmark = pytest.mark.django_db


def catalog(client, language: str, **headers):
    # Under i18n_patterns the address carries the language (/ar/jsi18n/); the override makes
    # the test independent of how the language is chosen.
    with translation.override(language):
        return client.get(reverse("javascript_catalog"), headers=headers)


def test_arabic_catalog_has_the_strings_and_arabic_plurals(client):
    response = catalog(client, "ar")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    body = response.content.decode()
    # "No matches" in Arabic (the view writes non-ASCII as \u escapes).
    assert "\\u0644\\u0627 \\u062a\\u0648\\u062c\\u062f \\u0646\\u062a\\u0627\\u0626\\u062c" in body, (
        "no Arabic catalog: is locale/ar/LC_MESSAGES/djangojs.mo compiled (compilemessages)?"
    )
    # Arabic has six plural forms: the catalog carries the rule that picks one by number.
    assert "n==0 ? 0 : n==1 ? 1 : n==2 ? 2" in body


@pytest.mark.parametrize("language", ["es", "fr", "de", "it", "pt-br", "ja", "ar"])
def test_every_language_translates_every_javascript_string(client, language):
    body = catalog(client, language).content.decode()
    for msgid in (
        '"No matches"',
        '"%(kind)s \\u00b7 from %(price)s"',
        '"%(count)s plan covers these countries"',
        '"%(count)s suggestion"',
    ):
        assert msgid in body, f"{msgid} is not translated in {language}"


def test_english_catalog_is_empty(client):
    body = catalog(client, "en").content.decode()
    assert "No matches" not in body and "\\u0644" not in body


def test_catalog_may_be_kept_and_revalidates_cheaply(client):
    first = catalog(client, "ar")
    cache_control = {d.strip() for d in first["Cache-Control"].split(",")}
    assert cache_control == {"public", "max-age=3600"}
    again = catalog(client, "ar", if_modified_since=first["Last-Modified"])
    assert again.status_code == 304
