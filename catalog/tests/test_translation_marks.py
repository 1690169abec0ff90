"""The catalog's pages speak the page's language: marked strings go through the catalog of
translations, destination names come from CLDR, numbers and dates follow the language.

A small Spanish catalogue is compiled for the test (the shop's own .po files are filled by
translators later), so these tests prove the marks reach gettext, not what the translations say.
"""

from __future__ import annotations

import datetime

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from django.utils import translation

from catalog import content, selectors
from catalog.models import ContentPage, format_data
from catalog.planner import Trip
from catalog.templatetags.shop import long_date, short_datetime

from .factories import DestinationFactory, PackageFactory

pytestmark = pytest.mark.django_db

SPANISH = {
    "Plan your trip": "Planifica tu viaje",
    ("%(counter)s day", "%(counter)s days"): ("%(counter)s día", "%(counter)s días"),
    ("%(days)s day", "%(days)s days"): ("%(days)s día", "%(days)s días"),
    ("%(days)s day, %(data)s", "%(days)s days, %(data)s"): (
        "%(days)s día, %(data)s",
        "%(days)s días, %(data)s",
    ),
    "Refund policy": "Política de reembolso",
    "Not installed? Full refund.": "¿No instalada? Reembolso completo.",
    "Last updated %(date)s.": "Actualizada el %(date)s.",
}


@pytest.fixture
def spanish(tmp_path, settings, clear_cache):
    """A compiled Spanish catalogue with a few of the shop's msgids, on LOCALE_PATHS."""
    catalog = Catalog(locale="es")
    for msgid, msgstr in SPANISH.items():
        if isinstance(msgstr, tuple):  # CLDR gives Spanish a third plural form ("many"): as "other"
            msgstr = msgstr + msgstr[-1:] * (catalog.num_plurals - len(msgstr))
        catalog.add(msgid, msgstr)
    folder = tmp_path / "es" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    with open(folder / "django.mo", "wb") as mo:
        write_mo(mo, catalog)
    settings.LOCALE_PATHS = [tmp_path]  # Django drops its loaded catalogues when this changes
    with translation.override("es"):
        yield


@pytest.fixture
def japan():
    jp = DestinationFactory(name="Japan", code="JP", slug="japan", package_count=1, from_price_cents=499)
    PackageFactory(destination=jp, package_id="esim-japan-30days-1gb-all", days=30, data_mb=1536)
    return jp


def test_destination_page_in_spanish(client, spanish, japan):
    html = client.get("/es/esim/japan/?days=10").content.decode()
    assert "<h1>Japón eSIM</h1>" in html  # CLDR's name, not the catalog's English one
    assert "Planifica tu viaje" in html and "Plan your trip" not in html
    assert "30 días" in html  # the plan card's days, plural form from the catalogue
    assert "1,5 GB" in html  # Spanish decimal comma
    assert "for 10 días" in html  # the trip's label
    assert Trip(10, "5").label == "10 días, 5 GB"


def test_content_page_translated_until_staff_edit_it(client, spanish):
    html = client.get("/es/refund-policy/").content.decode()
    assert "<h1>Política de reembolso</h1>" in html
    assert "<h2>¿No instalada? Reembolso completo.</h2>" in html
    assert "Actualizada el " in html
    ContentPage.objects.filter(slug="refund-policy").update(title="Our refund rules")
    page = ContentPage.objects.get(slug="refund-policy")
    assert content.shown(page).title == "Our refund rules"  # staff's text wins, as typed


def test_content_page_english_is_the_seeded_text_unchanged():
    page = ContentPage.objects.get(slug="terms")
    with translation.override("en"):
        shown = content.shown(page)
    assert (shown.title, shown.summary, shown.body) == (page.title, page.summary, page.body)


def test_numbers_dates_and_trip_labels_follow_the_language():
    with translation.override("de"):
        assert format_data(1536) == "1,5 GB"
        assert long_date(datetime.date(2026, 12, 6)) == "6. Dezember 2026"
    paid = datetime.datetime(2026, 12, 6, 20, 57, tzinfo=datetime.UTC)
    with translation.override("ja"):
        assert long_date(datetime.date(2026, 12, 6)) == "2026年12月6日"
        assert short_datetime(paid) == "2026/12/06 20:57"  # not "6 12月 2026, 20:57"
    assert format_data(1536) == "1.5 GB" and format_data(500) == "500 MB"
    assert long_date(datetime.date(2026, 12, 6)) == "6 December 2026"
    assert short_datetime(paid) == "6 Dec 2026, 20:57"
    assert Trip(1, "unlimited").label == "1 day, unlimited data"
    assert Trip(10, "unsure", "light").label == "10 days, about 3 GB (light use)"


def test_a_to_z_groups_by_the_names_in_the_page_language():
    for name, code in (("Egypt", "EG"), ("Spain", "ES"), ("Germany", "DE")):
        DestinationFactory(name=name, code=code, slug=name.lower())
    with translation.override("fr"):
        letters = [(letter, [d.local_name for d in ds]) for letter, ds in selectors.destinations_by_letter()]
    assert letters == [("A", ["Allemagne"]), ("E", ["Égypte", "Espagne"])]
    letters = [(letter, [d.name for d in ds]) for letter, ds in selectors.destinations_by_letter()]
    assert letters == [("E", ["Egypt"]), ("G", ["Germany"]), ("S", ["Spain"])]
