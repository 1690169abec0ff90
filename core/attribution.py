"""Where a visit came from: the landing URL's campaign parameters and the referring site, kept with
the visit in a signed cookie until an order is placed (`visit_of`; checkout stores it on the order).

The rules, for GET and HEAD requests:
- a landing with any `utm_*` or `ref` parameter starts a new visit (the last campaign touch wins),
  whatever was kept and wherever it came from;
- a landing from another site without parameters (a search result, a link in a blog) is kept only
  when no visit is kept yet: it does not take a sale from the campaign that brought the visitor;
- anything else (an internal navigation, a typed address, a payment page sending the customer back)
  changes nothing and costs two dict lookups, or a parse of the Referer when there is one and no
  visit is kept.

It works with the page caches (docs/architecture.md, "Attribution"): it sits above
`catalog.middleware.PageCacheMiddleware`, so a page served from memory gets the cookie too, and below
`core.middleware.CachePolicyMiddleware`, so the answer that sets it is `private` (no shared cache
keeps it). The caches below it store the page before the cookie is added: what they keep holds
nothing about the visitor, and every visitor's answer gets the visitor's own cookie. nginx sends a
landing to Django (deploy/nginx/nginx.conf.template: `$shop_campaign`, `$shop_arrival`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.http.request import split_domain_port

from .text import plain_text

COOKIE = "visit"
SALT = "core.attribution.visit"
MAX_AGE = 30 * 24 * 3600  # a visit is kept 30 days (as the cookie)
PARAMETERS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "ref")
# The longest each field may be (the order's columns are as long).
LIMITS = {
    "utm_source": 100,
    "utm_medium": 100,
    "utm_campaign": 100,
    "utm_term": 100,
    "utm_content": 100,
    "ref": 64,
    "referrer": 255,
    "landing_path": 255,
}
_VISIT = "_shop_visit"  # this request's visit, once read (or started)


@dataclasses.dataclass(frozen=True, slots=True)
class Visit:
    """What a visit came from; an empty string when it is not known."""

    utm_source: str = ""
    utm_medium: str = ""
    utm_campaign: str = ""
    utm_term: str = ""
    utm_content: str = ""
    ref: str = ""
    referrer: str = ""  # the referring site's host
    landing_path: str = ""

    def __bool__(self) -> bool:
        return any(dataclasses.astuple(self))

    def fields(self) -> dict[str, str]:
        """As the order's fields of the same names."""
        return dataclasses.asdict(self)

    @classmethod
    def cleaned(cls, **values: object) -> Visit:
        """A visit from outside text: plain, cut to each field's length; unknown names ignored."""
        return cls(**{name: plain_text(str(values.get(name) or ""), limit) for name, limit in LIMITS.items()})


FIELDS = tuple(f.name for f in dataclasses.fields(Visit))
NO_VISIT = Visit()


def visit_of(request: HttpRequest) -> Visit:
    """The visit this request belongs to: the one it started, else the one kept, else an empty one."""
    found = getattr(request, _VISIT, None)
    if found is None:
        found = _kept(request)
        setattr(request, _VISIT, found)
    return found


def _kept(request: HttpRequest) -> Visit:
    value = request.COOKIES.get(COOKIE)
    if not value:
        return NO_VISIT
    try:
        data = signing.loads(value, salt=SALT, max_age=MAX_AGE)
    except signing.BadSignature:  # tampered with, expired, or from another secret key
        return NO_VISIT
    return Visit.cleaned(**data) if isinstance(data, dict) else NO_VISIT


def _other_site(request: HttpRequest, referer: str) -> str:
    """The Referer's host when it is another site than ours (and not one ignored), else ""."""
    try:
        host = (urlsplit(referer).hostname or "").lower()
    except ValueError:  # not a URL
        return ""
    if not host:
        return ""
    ours, _ = split_domain_port(request.get_host())
    if host == ours:
        return ""
    if any(host == d or host.endswith("." + d) for d in settings.ATTRIBUTION_IGNORED_REFERRERS):
        return ""
    return host


def _campaign(request: HttpRequest) -> dict[str, str]:
    """The landing URL's campaign parameters that have a value."""
    return {name: request.GET[name] for name in PARAMETERS if request.GET.get(name, "").strip()}


def landing(request: HttpRequest) -> Visit | None:
    """The visit this request starts, or None when it keeps what was kept (the rules above)."""
    if request.method not in ("GET", "HEAD"):
        return None
    query = request.META.get("QUERY_STRING")
    referer = request.META.get("HTTP_REFERER")
    if not query and not referer:
        return None  # most requests, a cached page's among them: nothing more is read
    params = _campaign(request) if query and ("utm_" in query or "ref=" in query) else {}
    if not params:
        # A visit kept (its cookie is there: a tampered one counts too, it only harms its sender),
        # or a click from one of our own pages: nothing to do, and no Referer is parsed.
        if not referer or COOKIE in request.COOKIES or _from_here(request, referer):
            return None
        site = _other_site(request, referer)
        return Visit.cleaned(referrer=site, landing_path=request.path) if site else None
    site = _other_site(request, referer) if referer else ""
    return Visit.cleaned(**params, referrer=site, landing_path=request.path)


def _from_here(request: HttpRequest, referer: str) -> bool:
    """A quick look for the common case, a link on one of our pages: the Referer's host is the
    request's Host header as sent (`_other_site` decides everything else)."""
    parts = referer.split("/", 3)
    return len(parts) > 2 and parts[2].lower() == request.META.get("HTTP_HOST", "").lower()


def keep(response: HttpResponse, visit: Visit) -> None:
    """Set the visit's cookie on the response (which makes it private: core.middleware)."""
    data = {name: value for name, value in visit.fields().items() if value}
    response.set_cookie(
        COOKIE,
        signing.dumps(data, salt=SALT, compress=True),
        max_age=MAX_AGE,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


class AttributionMiddleware:
    """Keeps where the visit came from (the module's rules), on every answer, a cached page's too."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = landing(request)
        if started is None:
            return self.get_response(request)
        setattr(request, _VISIT, started)  # an order placed in this very request gets it too
        response = self.get_response(request)
        keep(response, started)
        return response
