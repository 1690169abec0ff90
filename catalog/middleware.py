"""Serve anonymous catalog pages from this process's memory, before the rest of the stack.

It sits above the session, CSRF, auth and messages middleware: for a visitor
with no session or message cookie those would do nothing for a cached page
(nothing to load, no token to set), so a hit skips them, URL resolving and the
view. It only ever serves URLs that `cache_anonymous_page` handed it, at the
catalog version they were rendered at (see catalog/cache.py).

Middleware that adds a header for each request (a request id, metrics) belongs
above this one, or a hit will not pass through it.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers

from .cache import cacheable, current_version, local_pages, page_url, send
from .currency import COOKIE, activate, deactivate, get_currency

# Headers `send` sets itself, or that belong to one response only.
_NOT_KEPT = frozenset(
    {
        "content-type",
        "content-length",
        "content-encoding",
        "etag",
        "cache-control",
        "vary",
        "set-cookie",
        "date",
        "x-page-cache",
        "x-request-id",
    }
)


class PageCacheMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not cacheable(request):
            return self.get_response(request)
        url = page_url(request)
        # Only a URL held in memory costs a look at the version: other pages pay nothing here.
        held = local_pages.get(url, current_version)
        if held is not None:
            return send(held.page, request, "hit", headers=held.headers)
        response = self.get_response(request)
        stored = getattr(response, "catalog_page", None)
        if stored is not None and not response.cookies:
            version, page = stored
            headers = tuple((k, v) for k, v in response.items() if k.lower() not in _NOT_KEPT)
            local_pages.put(url, version, page, headers)
        return response


class CurrencyMiddleware:
    """Sets `request.currency` and makes it the active currency while the request is served.

    Above PageCacheMiddleware: the page caches key on the currency. When the cookie did not
    decide it, the page depended on Accept-Language too, and says so (`Vary`), so a cache in
    front keeps the visitors of different regions apart.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.currency = currency = get_currency(request)
        token = activate(currency)
        try:
            response = self.get_response(request)
        finally:
            deactivate(token)
        if (request.COOKIES.get(COOKIE) or "").upper() != currency:
            patch_vary_headers(response, ("Accept-Language",))
        return response
