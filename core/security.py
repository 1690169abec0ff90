"""Security helpers: cross-site request protection for forms on cached pages, security headers.

Catalog pages are cached whole for anonymous visitors, so they cannot carry
a per-visitor CSRF token. Their one form (add to cart) is protected the way
modern browsers allow without a token: a cross-site POST is refused when the
browser says so (Sec-Fetch-Site) or when its Origin is not ours.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import asdict
from functools import wraps
from typing import ClassVar
from urllib.parse import urlsplit

from csp.constants import HEADER
from csp.middleware import CheckableLazyObject, CSPMiddleware, PolicyParts
from csp.utils import build_policy
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt


def client_ip(request: HttpRequest) -> str:
    """The visitor's address: REMOTE_ADDR, or behind a proxy the header it sets (CLIENT_IP_HEADER).

    The header's last entry, not its first: a proxy that appends (X-Forwarded-For) keeps
    whatever the client sent in front of what it adds itself.
    """
    header = settings.CLIENT_IP_HEADER
    if header:
        value = request.headers.get(header, "").split(",")[-1].strip()
        if value:
            return value[:64]
    return request.META.get("REMOTE_ADDR", "")[:64]


def limited_address(ip: str) -> str:
    """What a per-visitor limit counts by: the address, or for IPv6 its /64, which one visitor
    usually holds whole (as allauth's RATE_LIMIT_IPV6_PREFIX)."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False).network_address)
    return ip


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
                return HttpResponseForbidden(_("This form must be sent from our own site."))
        return view(request, *args, **kwargs)

    return wrapper


class PermissionsPolicyMiddleware:
    """Sends `Permissions-Policy` (settings.PERMISSIONS_POLICY): browser features the shop never uses
    (camera, microphone, geolocation...) are off for its pages and anything they could embed."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        policy = getattr(settings, "PERMISSIONS_POLICY", "")
        if policy:
            response.headers.setdefault("Permissions-Policy", policy)
        return response


def stripe_checkout_origin() -> str:
    """Where Stripe Checkout's hosted page lives: the browser is redirected there to pay."""
    if settings.STRIPE_CHECKOUT_ORIGIN:
        return settings.STRIPE_CHECKOUT_ORIGIN.rstrip("/")
    if settings.STRIPE_API_BASE:  # the sandbox serves its page beside its API
        parts = urlsplit(settings.STRIPE_API_BASE)
        return f"{parts.scheme}://{parts.netloc}"
    return "https://checkout.stripe.com"


class ShopCSPMiddleware(CSPMiddleware):
    """django-csp's middleware, with Stripe Checkout's origin in form-action, read per response so
    that it follows the settings (the sandbox's port in tests).

    Building the header costs django-csp about 0.3 ms a response, as much as a cached page: a
    response without a per-view change (decorators) or a nonce gets the same header, built once
    per policy and Stripe origin.
    """

    _built: ClassVar[dict[tuple[int, str], str]] = {}

    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponse, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if not report_only:
            update = dict(parts.update or {})
            update["form-action"] = [*update.get("form-action", []), stripe_checkout_origin()]
            parts.update = update
        return parts

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        plain = (
            not any(hasattr(response, name) for name in _PER_VIEW)
            and getattr(request, "_csp_nonce", None) is None
            and not getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None)
            and not (settings.DEBUG and response.status_code in (404, 500))
            and not settings.CONTENT_SECURITY_POLICY.get("EXCLUDE_URL_PREFIXES")
        )
        if not plain:
            return super().process_response(request, response)
        if HEADER not in response:
            key = (id(settings.CONTENT_SECURITY_POLICY), stripe_checkout_origin())
            if key not in self._built:
                self._built[key] = build_policy(**asdict(self.get_policy_parts(request, response)))
            response[HEADER] = self._built[key]
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)  # as django-csp does
        return response


# What a view's csp_* decorators leave on its response (then the header is built for it alone).
_PER_VIEW = (
    "_csp_exempt",
    "_csp_config",
    "_csp_update",
    "_csp_replace",
    "_csp_exempt_ro",
    "_csp_config_ro",
    "_csp_update_ro",
    "_csp_replace_ro",
)
