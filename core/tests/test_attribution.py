"""Attribution: where a visit came from, kept in a signed cookie by core.attribution's rules, on
every answer (a page from the memory or Redis cache too), and never stored by a cache with it."""

from __future__ import annotations

import hashlib
from unittest import mock

import pytest
from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.http import HttpResponse
from django.test import Client, RequestFactory

from catalog.cache import PAGE_KEY_PREFIX, local_pages
from catalog.tests.factories import DestinationFactory, PackageFactory
from core import attribution
from core.attribution import COOKIE, AttributionMiddleware, Visit, visit_of

pytestmark = pytest.mark.django_db

OURS = "http://testserver"
NEWSLETTER = Visit(utm_source="newsletter", utm_campaign="japan", landing_path="/")


def kept_cookie(visit: Visit) -> str:
    response = HttpResponse()
    attribution.keep(response, visit)
    return response.cookies[COOKIE].value


def run(url: str, *, referer: str = "", kept: Visit | None = None, method: str = "get") -> HttpResponse:
    """The middleware alone, around a view that says nothing about the visit."""
    headers = {"HTTP_REFERER": referer} if referer else {}
    request = getattr(RequestFactory(), method)(url, **headers)
    if kept is not None:
        request.COOKIES[COOKIE] = kept_cookie(kept)
    return AttributionMiddleware(lambda r: HttpResponse("page"))(request)


def set_visit(response: HttpResponse) -> Visit | None:
    """The visit the response keeps, read back as the next request would, or None if it sets none."""
    if COOKIE not in response.cookies:
        return None
    request = RequestFactory().get("/")
    request.COOKIES[COOKIE] = response.cookies[COOKIE].value
    return visit_of(request)


EARLIER = Visit(utm_source="blog", utm_campaign="spring", landing_path="/esim/france/")

RULES = [
    # (what happens, url, Referer, a visit kept, the visit kept after: None = unchanged, no cookie)
    ("a campaign landing", "/?utm_source=newsletter&utm_campaign=japan", "", None, NEWSLETTER),
    (
        "every parameter, from a site",
        "/esim/japan/?utm_source=fb&utm_medium=social&utm_campaign=jp&utm_term=esim&utm_content=a&ref=ANNA7",
        "https://m.facebook.com/story",
        None,
        Visit("fb", "social", "jp", "esim", "a", "ANNA7", "m.facebook.com", "/esim/japan/"),
    ),
    ("a share link's ref alone", "/?ref=ANNA7", "", None, Visit(ref="ANNA7", landing_path="/")),
    ("the last campaign wins", "/?utm_source=newsletter&utm_campaign=japan", "", EARLIER, NEWSLETTER),
    (
        "a campaign link on our own pages still counts",
        "/?utm_source=newsletter&utm_campaign=japan",
        f"{OURS}/esim/japan/",
        EARLIER,
        NEWSLETTER,
    ),
    (
        "another site, nothing kept",
        "/esim/japan/",
        "https://www.google.com/",
        None,
        Visit(referrer="www.google.com", landing_path="/esim/japan/"),
    ),
    ("another site does not replace a campaign", "/esim/japan/", "https://www.google.com/", EARLIER, None),
    ("an internal navigation", "/esim/japan/", f"{OURS}/", EARLIER, None),
    ("an internal navigation, nothing kept", "/esim/japan/", f"{OURS}/", None, None),
    ("our host in another case or with a port", "/esim/japan/", "HTTP://TestServer:443/x", None, None),
    ("a typed address", "/esim/japan/", "", EARLIER, None),
    ("other parameters only", "/esim/japan/?days=7&data=5", "", None, None),
    ("an empty parameter", "/?utm_source=&ref=", "", None, None),
    (
        "the payment page sending the customer back",
        "/orders/RE-X/",
        "https://checkout.stripe.com/c/pay",
        None,
        None,
    ),
    ("a Referer that is no URL", "/", "::not a url", None, None),
]


@pytest.mark.parametrize(("what", "url", "referer", "kept", "after"), RULES, ids=[r[0] for r in RULES])
def test_the_rules(what, url, referer, kept, after):
    assert set_visit(run(url, referer=referer, kept=kept)) == after


def test_a_post_never_changes_it():
    assert set_visit(run("/cart/add/?utm_source=x", referer="https://evil.example/", method="post")) is None


def test_values_are_plain_and_length_limited():
    response = run("/?utm_source=news%00letter%1b%0a&utm_campaign=" + "j" * 500 + "&ref=%20ANNA7%20")
    visit = set_visit(response)
    assert visit.utm_source == "newsletter" and visit.ref == "ANNA7"
    assert visit.utm_campaign == "j" * attribution.LIMITS["utm_campaign"]
    assert len(response.cookies[COOKIE].value) < 1500  # every field at its longest still fits a cookie


def test_the_cookie_is_signed_http_only_lax_and_lasts_30_days():
    morsel = run("/?utm_source=newsletter").cookies[COOKIE]
    assert morsel["httponly"] and morsel["samesite"] == "Lax" and morsel["max-age"] == 30 * 24 * 3600
    assert morsel["secure"] == (True if settings.SESSION_COOKIE_SECURE else "")
    forged = RequestFactory().get("/")
    forged.COOKIES[COOKIE] = signing.dumps({"utm_source": "forged"}, salt="another salt")
    assert visit_of(forged) == Visit()
    expired = RequestFactory().get("/")
    expired.COOKIES[COOKIE] = kept_cookie(NEWSLETTER)
    with mock.patch.object(attribution, "MAX_AGE", -1):
        assert visit_of(expired) == Visit()


def test_visit_of_reads_the_visit_this_request_started():
    seen = []
    request = RequestFactory().get("/?utm_source=newsletter&utm_campaign=japan")
    AttributionMiddleware(lambda r: seen.append(visit_of(r)) or HttpResponse())(request)
    assert seen == [NEWSLETTER]
    assert visit_of(RequestFactory().get("/")) == Visit() and not Visit()


def test_a_request_without_parameters_or_referer_reads_nothing_more():
    """The cost on a cached hit without parameters: no query parsing, no cookie, no signature."""
    request = RequestFactory().get("/esim/japan/")
    with (
        mock.patch.object(attribution, "_kept", side_effect=AssertionError("the cookie was read")),
        mock.patch.object(attribution, "_other_site", side_effect=AssertionError("the Referer was parsed")),
    ):
        response = AttributionMiddleware(lambda r: HttpResponse())(request)
        assert not response.cookies
        internal = RequestFactory().get("/esim/japan/", HTTP_REFERER=f"{OURS}/", HTTP_HOST="testserver")
        assert not AttributionMiddleware(lambda r: HttpResponse())(internal).cookies
    assert "GET" not in request.__dict__  # the query was never parsed


def test_it_sits_below_the_cache_policy_and_above_the_page_cache():
    order = settings.MIDDLEWARE
    here = order.index("core.attribution.AttributionMiddleware")
    assert order.index("core.middleware.CachePolicyMiddleware") < here
    assert here < order.index("catalog.middleware.PageCacheMiddleware")
    assert here < order.index("django.contrib.sessions.middleware.SessionMiddleware")


# -- with the page caches (the memory and Redis layers; nginx: tests/deploy/test_boot.py) -------------


@pytest.fixture
def home(clear_cache):
    local_pages.clear()
    japan = DestinationFactory(name="Japan", code="JP", slug="japan", from_price_cents=499)
    PackageFactory(destination=japan, package_id="esim-japan-7days-1gb-all", retail_cents=499)
    yield
    local_pages.clear()


LANDING = "/?utm_source=newsletter&utm_campaign=japan"


def test_every_answer_from_every_layer_carries_its_visitors_cookie_and_is_private(home):
    answers = []
    for layer, referer in (
        ("miss", "https://mail.example/"),
        ("redis", ""),
        ("memory", "https://x.example/"),
    ):
        if layer == "redis":
            local_pages.clear()
        headers = {"HTTP_REFERER": referer} if referer else {}
        with mock.patch.object(
            cache,
            "get_many",
            side_effect=AssertionError("the Redis layer was asked") if layer == "memory" else cache.get_many,
        ):
            answers.append(Client().get(LANDING, **headers))  # a new visitor each time
    rendered, from_redis, from_memory = answers
    assert [a["X-Page-Cache"] for a in answers] == ["miss", "hit", "hit"]
    assert rendered.content == from_redis.content == from_memory.content
    # Each visitor's own visit: the referrer is the request's, never the one the page was stored with.
    assert set_visit(rendered) == Visit(**{**NEWSLETTER.fields(), "referrer": "mail.example"})
    assert set_visit(from_redis) == NEWSLETTER
    assert set_visit(from_memory) == Visit(**{**NEWSLETTER.fields(), "referrer": "x.example"})
    for answer in answers:
        directives = {d.strip().split("=")[0] for d in answer["Cache-Control"].split(",")}
        assert "private" in directives and not directives & {"public", "s-maxage"}, answer["Cache-Control"]


def test_the_caches_keep_the_page_never_the_cookie(home):
    Client().get(LANDING, HTTP_REFERER="https://mail.example/")
    (url,) = [url for url in local_pages._pages if "utm_source=newsletter" in url]
    held = local_pages._pages[url]
    assert not any(name.lower() == "set-cookie" for name, _ in held.headers)
    assert b"mail.example" not in held.page.body
    _, in_redis = cache.get(PAGE_KEY_PREFIX + hashlib.md5(url.encode(), usedforsecurity=False).hexdigest())
    assert in_redis == held.page  # the page as anyone gets it: no cookie, nothing of the visitor


def test_pages_without_parameters_stay_public_and_set_no_cookie(home):
    visitor = Client()
    landing = visitor.get(LANDING)
    assert COOKIE in landing.cookies
    for url in ("/", "/esim/japan/"):
        again = visitor.get(url, HTTP_REFERER=f"{OURS}/")  # the visitor keeps browsing, cookie and all
        assert again.status_code == 200 and COOKIE not in again.cookies
        assert again["Cache-Control"].startswith("public"), again["Cache-Control"]
    first_from_a_search = Client().get("/esim/japan/", HTTP_REFERER="https://www.google.com/")
    assert set_visit(first_from_a_search).referrer == "www.google.com"
    assert "private" in first_from_a_search["Cache-Control"]
    assert Client().get("/esim/japan/")["X-Page-Cache"] == "hit"  # stored all the same, without it
