"""Languages in URLs (issue 20): prefixes, hreflang, the switcher, the first visit's redirect, the
sitemap, a customer's saved language, the order's language in its emails, the admin's language.

Our .po files are not translated yet, so a page's language is read from what does not wait for
them: `<html lang>`, the links it holds, and strings Django itself translates.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.utils import timezone, translation

from accounts.models import Preferences
from catalog.cache import local_pages
from catalog.tests.factories import DestinationFactory, PackageFactory
from checkout import cart, services
from checkout.models import Order

pytestmark = pytest.mark.django_db

CODES = ["en", "es", "fr", "de", "it", "pt-br", "ja", "ar"]


@pytest.fixture
def japan(clear_cache):
    local_pages.clear()
    destination = DestinationFactory(name="Japan", code="JP", slug="japan")
    PackageFactory(destination=destination, package_id="esim-japan-7days-1gb-all")
    return destination


def html_lang(page: str) -> tuple[str, str | None]:
    found = re.search(r'<html lang="([^"]+)"(?: dir="([^"]+)")?>', page)
    assert found, page[:200]
    return found.group(1), found.group(2)


@pytest.mark.parametrize("code", CODES)
def test_each_language_has_its_own_urls(client, japan, code):
    prefix = "" if code == "en" else f"/{code}"
    page = client.get(f"{prefix}/esim/japan/")
    assert page.status_code == 200
    assert html_lang(page.content.decode()) == (code, "rtl" if code == "ar" else None)
    assert page["Content-Language"] == code
    # Its links stay in its language.
    assert f'action="{prefix}/search/"' in page.content.decode()


def test_a_prefixed_page_is_in_that_language_and_english_is_unprefixed(client, japan):
    # Django's own catalog translates "Sign in" nowhere; its form errors it does: use a 404's lang.
    assert html_lang(client.get("/es/").content.decode())[0] == "es"
    assert html_lang(client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode())[0] == "en"
    assert client.get("/en/esim/japan/").status_code == 404  # English has one address only
    assert client.get("/xx/esim/japan/").status_code == 404


def test_every_customer_page_has_the_full_absolute_hreflang_set(client, japan):
    page = client.get("/fr/esim/japan/").content.decode()
    links = dict(re.findall(r'<link rel="alternate" hreflang="([^"]+)" href="([^"]+)">', page))
    expected = {code: f"http://testserver{'' if code == 'en' else '/' + code}/esim/japan/" for code in CODES}
    assert links == {**expected, "x-default": "http://testserver/esim/japan/"}


def test_a_page_not_in_every_language_has_no_alternates(client, japan):
    page = client.get("/es/esim/nowhere/")
    assert page.status_code == 404 and 'hreflang="' not in page.content.decode()


def test_the_switcher_is_a_plain_form_in_the_header_and_footer(client, japan):
    page = client.get("/de/esim/japan/").content.decode()
    forms = re.findall(
        r'<form class="language-switch[^"]*" action="/i18n/setlang/" method="post">(.*?)</form>', page, re.S
    )
    assert len(forms) == 2
    for form in forms:
        assert '<input type="hidden" name="next" value="/de/esim/japan/">' in form
        assert '<option value="de" lang="de" selected>Deutsch</option>' in form
        assert '<option value="ja" lang="ja">日本語</option>' in form and "العربية" in form
        assert re.search(r'<label for="language-\w+"', form) and '<button type="submit">' in form


def test_a_missing_pages_switcher_goes_home(client, japan):
    page = client.get("/es/orders/RE-SECRET/receipt/").content.decode()
    assert "RE-SECRET" not in page and '<input type="hidden" name="next" value="/">' in page


def test_switching_keeps_the_page_and_sets_the_cookie(client, japan):
    to_french = client.post("/i18n/setlang/", {"language": "fr", "next": "/esim/japan/?days=7"})
    assert to_french.status_code == 302 and to_french["Location"] == "/fr/esim/japan/?days=7"
    assert client.cookies["django_language"].value == "fr"
    back = client.post("/i18n/setlang/", {"language": "en", "next": "/fr/esim/japan/?days=7"})
    assert back["Location"] == "/esim/japan/?days=7"
    to_arabic = client.post("/i18n/setlang/", {"language": "ar", "next": "/fr/esim/japan/"})
    assert to_arabic["Location"] == "/ar/esim/japan/"


def test_the_switcher_refuses_a_cross_site_post(client, japan):
    refused = client.post(
        "/i18n/setlang/", {"language": "fr", "next": "/"}, HTTP_ORIGIN="https://evil.example"
    )
    assert refused.status_code == 403
    assert client.post("/i18n/setlang/", {"language": "fr", "next": "https://evil.example/"})["Location"] in (
        "/",
        "/fr/",
    )


def test_the_first_visit_to_home_goes_to_the_browsers_language_once(client, japan):
    # An English home page held in memory and in the cache must not answer the first visit.
    for _ in range(2):
        assert client.get("/").status_code == 200
    assert client.get("/")["X-Page-Cache"] == "hit"
    client.cookies.clear()
    first = client.get("/", HTTP_ACCEPT_LANGUAGE="ja-JP,ja;q=0.9,en;q=0.5")
    assert first.status_code == 302 and first["Location"] == "/ja/"
    assert "Accept-Language" in first["Vary"] and "private" in first["Cache-Control"]
    assert client.cookies["django_language"].value == "ja"
    # Now the visitor has a language cookie: / is the English home page, however the browser asks.
    again = client.get("/", HTTP_ACCEPT_LANGUAGE="ja-JP,ja;q=0.9")
    assert again.status_code == 200 and html_lang(again.content.decode())[0] == "en"
    # Brazilian Portuguese, and a plain "pt", go to pt-br; English or an unknown language stay.
    client.cookies.clear()
    assert client.get("/", HTTP_ACCEPT_LANGUAGE="pt-BR")["Location"] == "/pt-br/"
    client.cookies.clear()
    assert client.get("/", HTTP_ACCEPT_LANGUAGE="pt")["Location"] == "/pt-br/"
    for header in ("en-GB,en;q=0.9", "zh-CN", ""):
        client.cookies.clear()
        home = client.get("/", HTTP_ACCEPT_LANGUAGE=header)
        assert home.status_code == 200 and "Accept-Language" in home["Vary"]
        assert "django_language" not in home.cookies


def test_other_pages_never_redirect_nor_vary_on_the_browser_language(client, japan):
    # A visitor who has picked a currency: nothing on the page depends on the browser's language.
    # (Without the currency cookie the page varies, for the currency's default: en-GB → GBP.)
    client.cookies["currency"] = "USD"
    page = client.get("/esim/japan/", HTTP_ACCEPT_LANGUAGE="es")
    assert page.status_code == 200 and html_lang(page.content.decode())[0] == "en"
    assert "Accept-Language" not in page["Vary"]  # one English copy at the edge


def test_the_sitemap_lists_every_language_with_alternates(client, japan):
    sitemap = client.get("/sitemap-destinations.xml").content.decode()
    locations = re.findall(r"<loc>([^<]+)</loc>", sitemap)
    assert sorted(locations) == sorted(
        f"http://testserver{'' if c == 'en' else '/' + c}/esim/japan/" for c in CODES
    )
    assert 'hreflang="x-default" href="http://testserver/esim/japan/"' in sitemap
    assert 'hreflang="pt-br" href="http://testserver/pt-br/esim/japan/"' in sitemap
    packages = client.get("/sitemap-packages.xml").content.decode()
    assert "http://testserver/ja/esim/japan/esim-japan-7days-1gb-all/" in packages


def _customer(email: str = "ana@example.com"):
    from allauth.account.models import EmailAddress

    user = get_user_model().objects.create_user(username=email, email=email, password="pw-12345678")
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


def test_a_signed_in_customers_language_is_saved_and_used_at_the_next_sign_in(client, japan):
    user = _customer()
    client.force_login(user)
    switched = client.post("/i18n/setlang/", {"language": "es", "next": "/account/"})
    assert switched["Location"] == "/es/account/"
    assert Preferences.objects.get(user=user).language == "es"
    assert client.get("/account/")["Location"] == "/es/account/"  # English views go to Spanish

    elsewhere = client.__class__()
    assert elsewhere.get("/account/").status_code == 302  # to sign in
    signed_in = elsewhere.post("/accounts/login/", {"login": user.email, "password": "pw-12345678"})
    assert signed_in.status_code == 302, signed_in.content[:300]
    landing = elsewhere.get("/account/")
    assert landing.status_code == 302 and landing["Location"] == "/es/account/"
    assert html_lang(elsewhere.get("/es/account/").content.decode())[0] == "es"
    # An explicit choice of English is kept too.
    elsewhere.post("/i18n/setlang/", {"language": "en", "next": "/es/account/"})
    assert elsewhere.get("/account/").status_code == 200


def test_an_anonymous_visitor_saves_nothing(client, japan):
    client.post("/i18n/setlang/", {"language": "it", "next": "/"})
    assert not Preferences.objects.exists()


def test_an_order_keeps_its_language_and_its_emails_speak_it(japan):
    package = japan.packages.get()
    with translation.override("es"):
        order = services.place_order(cart.PricedCart([cart.CartLine(package, 1)], []), "ana@example.com")
    assert Order.objects.get(pk=order.pk).language == "es"
    english = services.place_order(cart.PricedCart([cart.CartLine(package, 1)], []), "bo@example.com")
    assert english.language == "en"

    Order.objects.filter(pk__in=[order.pk, english.pk]).update(paid_at=timezone.now())
    mail.outbox.clear()
    # Sent from a worker, whatever its own language: the order's.
    with translation.override("de"):
        assert services.send_receipt(order.pk) and services.send_receipt(english.pk)
    spanish, plain = mail.outbox
    spanish_html = spanish.alternatives[0][0]
    assert html_lang(spanish_html)[0] == "es"
    assert f"/es/orders/{order.number}/?t=" in spanish.body and "/es/orders/" in spanish_html
    assert html_lang(plain.alternatives[0][0])[0] == "en"
    assert f"http://testserver/orders/{english.number}/" in plain.body or "/orders/" in plain.body
    assert "/de/" not in spanish.body + plain.body


def test_the_admin_follows_the_staff_members_browser(admin_client):
    german = admin_client.get("/admin/", HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9")
    assert german.status_code == 200
    body = german.content.decode()
    assert html_lang(body)[0] == "de" and "Abmelden" in body  # Django's own German: "Log out"
    assert "Accept-Language" in german["Vary"]
    assert "Déconnexion" in admin_client.get("/admin/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Log out" in admin_client.get("/admin/").content.decode()  # no preference: the shop's
    # Their saved language (the switcher, signed in) wins over the browser's.
    admin_client.post("/i18n/setlang/", {"language": "ja", "next": "/"})
    assert html_lang(admin_client.get("/admin/", HTTP_ACCEPT_LANGUAGE="de").content.decode())[0] == "ja"


def test_signing_in_to_the_admin_asks_in_the_staff_members_language(client):
    to_sign_in = client.get("/admin/login/", HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9")
    assert to_sign_in["Location"].startswith("/de/accounts/login/")
