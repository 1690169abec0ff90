"""Whole-page caching of anonymous catalog pages, invalidated by a catalog version.

A sync that changes anything bumps the version, so every cached page is
stale at once without scanning keys. Visitors with a session (a cart, a
sign-in, a flash message) always get a fresh page.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers

from core.metrics import PAGE_CACHE_HIT, PAGE_CACHE_MISS

VERSION_KEY = "catalog:version"
PERSONAL_COOKIES = (settings.SESSION_COOKIE_NAME, "messages")


def catalog_version() -> int:
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, 1, timeout=None)
        version = cache.get(VERSION_KEY, 1)
    return int(version)


def bump_catalog_version() -> None:
    try:
        cache.incr(VERSION_KEY)
    except ValueError:
        cache.set(VERSION_KEY, 2, timeout=None)


def _cacheable(request: HttpRequest) -> bool:
    return request.method in ("GET", "HEAD") and not any(c in request.COOKIES for c in PERSONAL_COOKIES)


def cache_anonymous_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Serve anonymous GETs from the cache; a hit costs one cache round trip.

    The version and the page are read together (one MGET on Redis), and each
    page carries the catalog version it was rendered at: a page from before
    the last bump is a miss and gets rendered again.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not _cacheable(request):
            return view(request, *args, **kwargs)
        # Scheme and host too: pages hold absolute URLs (the canonical link).
        digest = hashlib.md5(request.build_absolute_uri().encode(), usedforsecurity=False).hexdigest()
        key = f"page:{digest}"
        found = cache.get_many([VERSION_KEY, key])
        version = found.get(VERSION_KEY)
        if version is None:
            version = catalog_version()
        hit = found.get(key)
        if hit is not None and hit[0] == int(version):
            PAGE_CACHE_HIT.inc()
            _, status, content_type, content = hit
            response = HttpResponse(content, status=status, content_type=content_type)
            response["X-Page-Cache"] = "hit"
            patch_vary_headers(response, ("Cookie",))  # as the rendered page says
            return response
        PAGE_CACHE_MISS.inc()
        response = view(request, *args, **kwargs)
        if response.status_code in (200, 404) and not response.streaming and not response.cookies:
            if hasattr(response, "render") and callable(response.render):
                response.render()
            cache.set(
                key,
                (int(version), response.status_code, response["Content-Type"], response.content),
                settings.CATALOG_PAGE_CACHE_SECONDS,
            )
            response["X-Page-Cache"] = "miss"
        return response

    return wrapper
