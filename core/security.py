"""Cross-site request protection for forms on cached pages.

Catalog pages are cached whole for anonymous visitors, so they cannot carry
a per-visitor CSRF token. Their one form (add to cart) is protected the way
modern browsers allow without a token: a cross-site POST is refused when the
browser says so (Sec-Fetch-Site) or when its Origin is not ours.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt


def _origin_allowed(request: HttpRequest, origin: str) -> bool:
    if origin == "null":
        return False
    host = urlsplit(origin).netloc
    trusted = {urlsplit(o).netloc for o in settings.CSRF_TRUSTED_ORIGINS}
    return host == request.get_host() or host in trusted


def same_origin_post(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @csrf_exempt
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method == "POST":
            site = request.headers.get("Sec-Fetch-Site")
            origin = request.headers.get("Origin")
            if site == "cross-site" or (origin and not _origin_allowed(request, origin)):
                return HttpResponseForbidden("This form must be sent from our own site.")
        return view(request, *args, **kwargs)

    return wrapper
