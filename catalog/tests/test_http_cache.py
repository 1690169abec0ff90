"""The HTTP caching contract of anonymous catalog pages, for nginx or any CDN in front.

Public pages: `Cache-Control: public, max-age, s-maxage, stale-while-revalidate`, a strong
ETag, `Vary: Cookie, Accept-Encoding`, no cookie; a matching If-None-Match gets 304. Anyone
with a session gets their own page, private. See catalog/cache.py and core/middleware.py.
"""

from __future__ import annotations

import gzip
import re
import time
from unittest import mock

import pytest
from django.core.cache import cache
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.test import RequestFactory

from catalog import cache as page_cache
from catalog.cache import bump_catalog_version, local_pages
from catalog.models import ContentPage, Package

from .factories import DestinationFactory, DeviceFactory, PackageFactory

pytestmark = pytest.mark.django_db

CACHED_PAGES = {
    "home": "/",
    "A-Z": "/destinations/",
    "destination": "/esim/japan/",
    "destination with a trip": "/esim/japan/?days=10&data=5",
    "package": "/esim/japan/esim-japan-7days-1gb-all/",
    "device check": "/devices/",
    "device check with a phone": "/devices/?q=phone",
    "device brand": "/devices/acme/",
    "how it works": "/how-it-works/",
    "content page": "/terms/",
}
STRONG_ETAG = re.compile(r'^"[0-9a-f]{32}(-gz)?"$')


@pytest.fixture(autouse=True)
def _fresh_cache(clear_cache):
    local_pages.clear()


@pytest.fixture
def japan():
    jp = DestinationFactory(name="Japan", code="JP", slug="japan", from_price_cents=499)
    PackageFactory(destination=jp, package_id="esim-japan-7days-1gb-all", retail_cents=499)
    PackageFactory(
        destination=jp,
        package_id="esim-japan-30days-10gb-all",
        days=30,
        data_mb=10240,
        retail_cents=2499,
        name="10 GB - 30 Days",
    )
    DeviceFactory(brand="Acme")
    ContentPage.objects.get_or_create(slug="terms", defaults={"title": "Terms", "body": "Our terms."})
    return jp


def from_each_layer(client, url: str, **headers) -> list:
    """The page rendered, then from Redis, then from this process's memory (no Redis read)."""
    rendered = client.get(url, **headers)
    local_pages.clear()
    from_redis = client.get(url, **headers)
    with mock.patch.object(cache, "get_many", side_effect=AssertionError("the Redis layer was asked")):
        from_memory = client.get(url, **headers)
    return [rendered, from_redis, from_memory]


def cache_control(response) -> dict[str, str | bool]:
    out: dict[str, str | bool] = {}
    for part in response.get("Cache-Control", "").split(","):
        if part.strip():
            name, _, value = part.strip().partition("=")
            out[name.lower()] = value or True
    return out


@pytest.mark.parametrize("url", CACHED_PAGES.values(), ids=CACHED_PAGES.keys())
def test_each_cached_page_type_carries_the_shared_cache_contract(client, japan, url, settings):
    settings.CATALOG_BROWSER_MAX_AGE_SECONDS = 45
    settings.CATALOG_EDGE_MAX_AGE_SECONDS = 120
    settings.CATALOG_STALE_WHILE_REVALIDATE_SECONDS = 15
    responses = from_each_layer(client, url)
    for response, state in zip(responses, ("miss", "hit", "hit"), strict=True):
        assert response.status_code == 200 and response["X-Page-Cache"] == state
        assert response.content == responses[0].content and response["ETag"] == responses[0]["ETag"]
        assert cache_control(response) == {
            "public": True,
            "max-age": "45",
            "s-maxage": "120",
            "stale-while-revalidate": "15",
        }
        assert STRONG_ETAG.match(response["ETag"]) and not response["ETag"].endswith('-gz"')
        vary = {v.strip() for v in response["Vary"].split(",")}
        assert {"Cookie", "Accept-Encoding"} <= vary
        assert not response.cookies, response.cookies  # a public response never sets one
        assert "csrfmiddlewaretoken" not in response.content.decode()


def test_if_none_match_gets_304_without_rendering(client, japan, django_assert_num_queries):
    first = client.get("/esim/japan/")
    etag = first["ETag"]
    with django_assert_num_queries(0):
        _, *revalidated = from_each_layer(client, "/esim/japan/", HTTP_IF_NONE_MATCH=etag)
    for response in revalidated:  # from Redis, then from this process's memory
        assert response.status_code == 304 and response.content == b""
        assert response["ETag"] == etag and "public" in response["Cache-Control"]
    # Several tags, weak or not, as caches send them; one that does not match gets the page.
    assert client.get("/esim/japan/", HTTP_IF_NONE_MATCH=f'"other", W/{etag}').status_code == 304
    other = client.get("/esim/japan/", HTTP_IF_NONE_MATCH='"0123"')
    assert other.status_code == 200 and other.content == first.content
    # Another page's ETag is not this one's.
    assert client.get("/", HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_a_changed_page_gets_a_new_etag_and_an_unchanged_one_keeps_it(client, japan):
    before = {url: client.get(url)["ETag"] for url in ("/esim/japan/", "/how-it-works/")}
    Package.objects.filter(package_id="esim-japan-7days-1gb-all").update(retail_cents=599)
    bump_catalog_version()  # what a sync that changed a price does
    changed = client.get("/esim/japan/", HTTP_IF_NONE_MATCH=before["/esim/japan/"])
    assert changed.status_code == 200 and "$5.99" in changed.content.decode()
    assert changed["ETag"] != before["/esim/japan/"] and STRONG_ETAG.match(changed["ETag"])
    unchanged = client.get("/how-it-works/", HTTP_IF_NONE_MATCH=before["/how-it-works/"])
    assert unchanged.status_code == 304 and unchanged["X-Page-Cache"] == "miss"  # rendered anew, same body


def test_gzip_is_sent_to_clients_that_accept_it_with_its_own_etag(client, japan):
    plain = client.get("/esim/japan/")
    for zipped in from_each_layer(client, "/esim/japan/", HTTP_ACCEPT_ENCODING="br, gzip, deflate"):
        assert zipped["Content-Encoding"] == "gzip"
        assert gzip.decompress(zipped.content) == plain.content
        assert len(zipped.content) < len(plain.content) / 3
        assert zipped["ETag"] == plain["ETag"][:-1] + '-gz"'
        assert zipped["Content-Length"] == str(len(zipped.content))
    # Each representation revalidates against its own tag.
    assert (
        client.get("/esim/japan/", HTTP_ACCEPT_ENCODING="gzip", HTTP_IF_NONE_MATCH=zipped["ETag"]).status_code
        == 304
    )
    assert (
        client.get("/esim/japan/", HTTP_ACCEPT_ENCODING="gzip", HTTP_IF_NONE_MATCH=plain["ETag"]).status_code
        == 200
    )
    assert "Content-Encoding" not in client.get("/esim/japan/")


def test_a_memory_hit_costs_no_cache_round_trip_within_the_version_interval(client, japan, settings):
    settings.CATALOG_VERSION_CHECK_SECONDS = 60
    first = client.get("/esim/japan/")
    assert client.get("/esim/japan/")["X-Page-Cache"] == "hit"  # stored in memory on the way out
    with (
        mock.patch.object(cache, "get", side_effect=AssertionError("cache read")),
        mock.patch.object(cache, "get_many", side_effect=AssertionError("cache read")),
    ):
        hit = client.get("/esim/japan/")
    assert hit["X-Page-Cache"] == "hit" and hit.content == first.content
    assert hit["X-Frame-Options"] == first["X-Frame-Options"]  # what inner middleware added is kept
    for header in ("Content-Security-Policy", "Permissions-Policy", "Referrer-Policy"):
        assert hit[header] == first[header]  # every page's security headers, hits included
    # A bump in this process is seen at once; one in another process once the interval is up.
    Package.objects.filter(package_id="esim-japan-7days-1gb-all").update(retail_cents=599)
    cache.incr(page_cache.VERSION_KEY)  # another process's sync
    assert "$4.99" in client.get("/esim/japan/").content.decode()
    settings.CATALOG_VERSION_CHECK_SECONDS = 0
    fresh = client.get("/esim/japan/")
    assert fresh["X-Page-Cache"] == "miss" and "$5.99" in fresh.content.decode()


def test_pages_the_memory_does_not_hold_cost_no_cache_round_trip_there(client, japan):
    # The version is read only for a URL held in memory: /robots.txt never is.
    with (
        mock.patch.object(cache, "get", side_effect=AssertionError("cache read")),
        mock.patch.object(cache, "get_many", side_effect=AssertionError("cache read")),
    ):
        assert client.get("/robots.txt").status_code == 200


def test_memory_is_bounded_and_forgets_the_oldest_pages(japan, settings):
    settings.CATALOG_PAGE_MEMORY_BYTES = 40_000
    pages = page_cache.LocalPages()
    page = page_cache.Page(200, "text/html", b"x" * 9000, b"y" * 1000, '"e"')
    for n in range(6):
        pages.put(f"/p{n}", 1, page, ())
    assert len(pages) == 4 and pages.get("/p0", lambda: 1) is None and pages.get("/p5", lambda: 1)
    assert pages.get("/p5", lambda: 2) is None and len(pages) == 3  # another version: a miss, dropped
    pages.put("/big", 1, page_cache.Page(200, "text/html", b"x" * 20_000, b"", '"b"'), ())
    assert pages.get("/big", lambda: 1) is None  # a page too big for memory stays in Redis only


def test_a_page_that_holds_a_csrf_token_is_never_stored():
    @page_cache.cache_anonymous_page
    def tokened(request):
        return HttpResponse(f"token {get_token(request)}")

    response = tokened(RequestFactory().get("/tokened/"))
    assert "X-Page-Cache" not in response and "Cache-Control" not in response
    assert getattr(response, "catalog_page", None) is None


@pytest.mark.parametrize(
    "backend",
    ["django.core.cache.backends.filebased.FileBasedCache", "django.core.cache.backends.locmem.LocMemCache"],
)
def test_a_bumped_catalog_version_lasts_on_every_cache_backend(backend, settings, tmp_path):
    # The demo's file cache once kept a bumped version for 5 minutes only (BaseCache.incr writes
    # the default timeout), so the page cache started over for nothing.
    settings.CACHES = {"default": {"BACKEND": backend, "LOCATION": str(tmp_path / "cache")}}
    version = page_cache.catalog_version()
    bump_catalog_version()
    with mock.patch("time.time", return_value=time.time() + 400):
        assert page_cache.catalog_version() == version + 1
