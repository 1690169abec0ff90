"""Who may keep a response: never a shared cache, once it is about one visitor.

Catalog pages say `public` themselves (catalog/cache.py). Everything else is
decided here, in one place, so no view can forget:
- pages that show secrets (orders, eSIMs and their activation codes, the
  account, the cart and checkout, admin) are `no-store`;
- a response to a visitor with a session or a flash message, one that sets a
  cookie, or one that holds a CSRF token is `private` (and revalidated), and
  never `public`, whatever the view said.
It composes with views that set their own headers: a view's own `no-store` is
left as it is, and otherwise patch_cache_control only adds directives
(`private` replacing `public`).
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers, patch_cache_control

PERSONAL_COOKIES = (settings.SESSION_COOKIE_NAME, "messages")
# What only a shared cache may use: dropped once a response turns private.
_SHARED_ONLY = ("public", "s-maxage", "stale-while-revalidate")


def is_personal(request: HttpRequest, response: HttpResponse) -> bool:
    return bool(
        response.cookies
        or request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
        or any(c in request.COOKIES for c in PERSONAL_COOKIES)
    )


def _without_shared(response: HttpResponse) -> None:
    directives = [d for d in response.get("Cache-Control", "").split(",") if d.strip()]
    kept = [d.strip() for d in directives if d.split("=", 1)[0].strip().lower() not in _SHARED_ONLY]
    if kept:
        response["Cache-Control"] = ", ".join(kept)
    elif "Cache-Control" in response:
        del response["Cache-Control"]


class CachePolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.no_store_prefixes = tuple(settings.NO_STORE_PATH_PREFIXES)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "no-store" in response.get("Cache-Control", ""):
            _without_shared(response)  # the view said all that is needed: nobody keeps it
        elif request.path.startswith(self.no_store_prefixes):
            _without_shared(response)
            add_never_cache_headers(response)
        elif is_personal(request, response):
            _without_shared(response)
            if "Cache-Control" in response:
                patch_cache_control(response, private=True)
            else:
                patch_cache_control(response, private=True, no_cache=True)
        return response
