"""Whole-page caching of anonymous catalog pages, invalidated by a catalog version.

A sync that changes anything bumps the version, so every cached page is
stale at once without scanning keys. Visitors with a session (a cart, a
sign-in, a flash message) always get a fresh page.

Three layers keep a page, nearest first:
- this process's memory (`local_pages`, served by `catalog.middleware.PageCacheMiddleware`
  before the session, CSRF and auth middleware run), checked against a catalog version
  read from the cache at most once per CATALOG_VERSION_CHECK_SECONDS;
- the shared cache (Redis): one MGET reads the version and the page;
- any HTTP cache in front (nginx, a CDN): pages are sent `public` with `s-maxage`,
  `stale-while-revalidate` and a strong ETag, and a conditional GET whose
  If-None-Match still matches gets a 304 from either layer above, without rendering.

Pages are stored gzip-compressed as well, once, and sent so to clients that accept it.
They hold no secret (no CSRF token, nothing about a visitor), so compression leaks nothing.
"""

from __future__ import annotations

import gzip
import hashlib
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.utils.cache import patch_vary_headers
from django.utils.http import parse_etags

from core.metrics.counters import PAGE_CACHE_HIT, PAGE_CACHE_MISS
from core.middleware import PERSONAL_COOKIES

VERSION_KEY = "catalog:version"
# Bumped when what is stored changes shape, so older entries are never read.
PAGE_KEY_PREFIX = "page2:"
VARY = ("Cookie", "Accept-Encoding")
_ACCEPTS_GZIP = re.compile(r"\bgzip\b")  # as django.middleware.gzip reads Accept-Encoding


def catalog_version() -> int:
    version = cache.get(VERSION_KEY)
    if version is None:
        # A new starting point each time the key is missing (a flushed or fresh cache), so a
        # page a process still holds in memory from before can never match it by chance.
        cache.add(VERSION_KEY, time.time_ns() // 1000, timeout=None)
        version = cache.get(VERSION_KEY, 1)
    return int(version)


def bump_catalog_version() -> None:
    try:
        version = cache.incr(VERSION_KEY)
        # The file and database caches' incr (Django's BaseCache.incr) writes the value back
        # with the default timeout: the version would vanish 5 minutes later and a new starting
        # point would empty the page cache for nothing.
        cache.touch(VERSION_KEY, None)
    except ValueError:
        version = time.time_ns() // 1000
        cache.set(VERSION_KEY, version, timeout=None)
    _saw_version(int(version))


# -- the version as this process last read it ----------------------------------------------

_seen: tuple[int | None, float] = (None, 0.0)


def _saw_version(version: int) -> None:
    global _seen
    _seen = (version, time.monotonic())


def current_version() -> int:
    """The catalog version, read from the cache at most once per CATALOG_VERSION_CHECK_SECONDS.

    So a page held in memory usually costs no cache round trip; a sync in another process
    reaches this one at most that long after it bumped the version.
    """
    version, read_at = _seen
    if version is not None and time.monotonic() - read_at < settings.CATALOG_VERSION_CHECK_SECONDS:
        return version
    version = catalog_version()
    _saw_version(version)
    return version


# -- a stored page and how it is sent -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Page:
    status: int
    content_type: str
    body: bytes
    gzipped: bytes
    etag: str  # strong, quoted: a hash of the body, so it changes exactly when the page does

    @classmethod
    def of(cls, response: HttpResponse) -> Page:
        body = response.content
        digest = hashlib.blake2b(body, digest_size=16).hexdigest()
        return cls(
            response.status_code,
            response["Content-Type"],
            body,
            gzip.compress(body, compresslevel=6, mtime=0),
            f'"{digest}"',
        )

    def etag_for(self, gzipped: bool) -> str:
        # Each content coding is its own representation, with its own strong ETag.
        return f'{self.etag[:-1]}-gz"' if gzipped else self.etag

    @property
    def size(self) -> int:
        return len(self.body) + len(self.gzipped)


def accepts_gzip(request: HttpRequest) -> bool:
    return bool(_ACCEPTS_GZIP.search(request.META.get("HTTP_ACCEPT_ENCODING", "")))


def _not_modified(request: HttpRequest, etag: str) -> bool:
    header = request.META.get("HTTP_IF_NONE_MATCH")
    if not header:
        return False
    tags = parse_etags(header)
    # If-None-Match compares weakly (RFC 9110 13.1.2).
    return "*" in tags or etag in (t.removeprefix("W/") for t in tags)


def cache_control() -> str:
    return (
        f"public, max-age={settings.CATALOG_BROWSER_MAX_AGE_SECONDS}, "
        f"s-maxage={settings.CATALOG_EDGE_MAX_AGE_SECONDS}, "
        f"stale-while-revalidate={settings.CATALOG_STALE_WHILE_REVALIDATE_SECONDS}"
    )


def send(
    page: Page,
    request: HttpRequest,
    state: str,
    response: HttpResponse | None = None,
    headers: Iterable[tuple[str, str]] = (),
) -> HttpResponse:
    """The page as this request should get it: 304, gzip or plain, with the cache headers.

    `response` is the freshly rendered one on a miss (kept, so tests still see its context);
    `headers` are what the middleware below the page cache added when the page was stored.
    """
    (PAGE_CACHE_HIT if state == "hit" else PAGE_CACHE_MISS).inc()  # every layer's answers pass here
    gzipped = accepts_gzip(request)
    etag = page.etag_for(gzipped) if page.status == 200 else None
    if etag and _not_modified(request, etag):
        response = HttpResponseNotModified()
    else:
        body = page.gzipped if gzipped else page.body
        if response is None:
            response = HttpResponse(body, status=page.status, content_type=page.content_type)
            for name, value in headers:
                response[name] = value
            # CommonMiddleware, below a memory hit, would have said it; without it the body is chunked.
            response["Content-Length"] = str(len(body))
        elif gzipped:
            response.content = body
        if gzipped:
            response["Content-Encoding"] = "gzip"
    if etag:
        response["ETag"] = etag
    response["Cache-Control"] = cache_control()
    patch_vary_headers(response, VARY)
    response["X-Page-Cache"] = state
    return response


# -- this process's pages ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Held:
    version: int
    expires: float
    page: Page
    headers: tuple[tuple[str, str], ...]


class LocalPages:
    """A least-recently-used set of pages in this process's memory, bounded in bytes."""

    def __init__(self) -> None:
        self._pages: OrderedDict[str, _Held] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: str, version: Callable[[], int]) -> _Held | None:
        """The page held for key if it is at the current version (asked only when one is held)."""
        held = self._pages.get(key)
        if held is None:
            return None
        if held.expires < time.monotonic() or held.version != version():
            self._drop(key)
            return None
        with self._lock:
            if key in self._pages:
                self._pages.move_to_end(key)
        return held

    def put(self, key: str, version: int, page: Page, headers: tuple[tuple[str, str], ...]) -> None:
        limit = settings.CATALOG_PAGE_MEMORY_BYTES
        if page.size > limit // 4:
            return  # one page never pushes out most of the others
        held = _Held(version, time.monotonic() + settings.CATALOG_PAGE_CACHE_SECONDS, page, headers)
        with self._lock:
            old = self._pages.pop(key, None)
            if old is not None:
                self._bytes -= old.page.size
            self._pages[key] = held
            self._bytes += page.size
            while self._bytes > limit and self._pages:
                _, evicted = self._pages.popitem(last=False)
                self._bytes -= evicted.page.size

    def _drop(self, key: str) -> None:
        with self._lock:
            old = self._pages.pop(key, None)
            if old is not None:
                self._bytes -= old.page.size

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._pages)


local_pages = LocalPages()


# -- the view decorator -----------------------------------------------------------------------


def cacheable(request: HttpRequest) -> bool:
    return request.method in ("GET", "HEAD") and not any(c in request.COOKIES for c in PERSONAL_COOKIES)


def page_url(request: HttpRequest) -> str:
    """What a stored page is kept under: its URL and the currency its prices are in.

    Scheme and host too: pages hold absolute URLs (the canonical link). The language is in the
    URL; the currency is not (a cookie or Accept-Language picks it: catalog/currency.py), so it
    is part of the key and a page is never served in another visitor's currency.
    """
    currency = getattr(request, "currency", None) or settings.SHOP_CURRENCY
    return f"{request.build_absolute_uri()} {currency}"


def _storable(request: HttpRequest, response: HttpResponse) -> bool:
    # A page that asked for a CSRF token holds one: it is this visitor's, never shared.
    return (
        response.status_code in (200, 404)
        and not response.streaming
        and not response.cookies
        and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
    )


def cache_anonymous_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Serve anonymous GETs from the cache, with HTTP caching headers for caches in front.

    The version and the page are read together (one MGET on Redis), and each
    page carries the catalog version it was rendered at: a page from before
    the last bump is a miss and gets rendered again. The response carries the
    page (`response.catalog_page`) for PageCacheMiddleware to keep in memory.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not cacheable(request):
            return view(request, *args, **kwargs)
        url = page_url(request)
        key = PAGE_KEY_PREFIX + hashlib.md5(url.encode(), usedforsecurity=False).hexdigest()
        found = cache.get_many([VERSION_KEY, key])
        version = found.get(VERSION_KEY)
        version = catalog_version() if version is None else int(version)
        _saw_version(version)
        hit = found.get(key)
        if hit is not None and hit[0] == version:
            response = send(hit[1], request, "hit")
            response.catalog_page = (version, hit[1])
            return response
        rendered = view(request, *args, **kwargs)
        if hasattr(rendered, "render") and callable(rendered.render):
            rendered.render()
        if not _storable(request, rendered):
            return rendered
        page = Page.of(rendered)
        cache.set(key, (version, page), settings.CATALOG_PAGE_CACHE_SECONDS)
        response = send(page, request, "miss", response=rendered)
        response.catalog_page = (version, page)
        return response

    return wrapper
