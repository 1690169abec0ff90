"""The customer-facing URL patterns, read from the URL resolver, and how to fill each one.

Shared by the privacy sweep (tests/test_url_privacy.py) and the accessibility sweep
(tests/e2e/test_accessibility.py): a pattern added later is found by both, and a pattern
neither knows how to fill fails them until it is added to FILLERS or PUBLIC below.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.urls import URLPattern, URLResolver, get_resolver

# Not customer pages: the owner's admin, the JSON API (its own tests check every token and
# scope), static files.
EXCLUDED_PREFIXES = ("admin/", "api/", "static/", "media/")


@dataclass(frozen=True)
class Route:
    route: str  # the full pattern text, e.g. "account/esims/<int:pk>/"
    name: str  # namespaced, e.g. "accounts:esim_detail"
    params: tuple[str, ...] = field(default=())


def _params(pattern) -> tuple[str, ...]:
    converters = getattr(pattern.pattern, "converters", None)
    if converters:
        return tuple(converters)
    return tuple(re.compile(str(pattern.pattern)).groupindex)


def _text(pattern) -> str:
    return str(pattern.pattern).lstrip("^").rstrip("$")


def _walk(patterns, prefix: str = "", namespace: str = "", params: tuple[str, ...] = ()) -> Iterator[Route]:
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = namespace + (f"{p.namespace}:" if p.namespace else "")
            yield from _walk(p.url_patterns, prefix + _text(p), ns, params + _params(p))
        elif isinstance(p, URLPattern):
            yield Route(prefix + _text(p), namespace + (p.name or ""), params + _params(p))


def customer_routes() -> list[Route]:
    """Every customer-facing pattern (with or without parameters), in resolver order."""
    seen: set[str] = set()
    routes = []
    for route in _walk(get_resolver().url_patterns):
        if route.route.startswith(EXCLUDED_PREFIXES) or route.route in seen:
            continue
        seen.add(route.route)
        routes.append(route)
    return routes


def private_routes() -> list[Route]:
    """The patterns with an id or a token: someone's data may be behind them."""
    return [r for r in customer_routes() if r.params and r.name not in PUBLIC]


# Patterns with parameters whose pages show the catalog or fixed content, nobody's data.
PUBLIC = {
    "sitemap": {"section": "destinations"},
    "catalog:destination": {"slug": "<destination>"},
    "catalog:package": {"slug": "<destination>", "package_id": "<package>"},
    "catalog:device_brand": {"brand": "apple"},
    "catalog:page": {"slug": "terms"},
}

# How to fill each private pattern from one customer's data (see World in the tests): the
# name of the World attribute that holds each parameter's value.
FILLERS: dict[str, dict[str, str]] = {
    "account_confirm_email": {"key": "email_key"},
    "account_reset_password_from_key": {"uidb36": "uidb36", "key": "reset_key"},
    "accounts:esim_detail": {"pk": "esim_pk"},
    "accounts:esim_refresh": {"pk": "esim_pk"},
    "accounts:esim_topup": {"pk": "esim_pk"},
    "accounts:esim_share": {"pk": "esim_pk"},
    "accounts:order_receipt": {"number": "order_number"},
    "accounts:signed_topups": {"token": "topup_token"},
    "accounts:shared_install": {"token": "install_token"},
    "outbox_message": {"pk": "outbox_pk"},
    "checkout:order_detail": {"number": "order_number"},
    "checkout:order_status": {"number": "order_number"},
    "checkout:order_pay": {"number": "order_number"},
    "giftcards:account_revoke": {"card_id": "card_id"},
}

# Parameters that are secrets: a wrong or truncated one must open nothing.
TOKEN_PARAMS = {"token", "key"}


def fill(route: Route, values: Callable[[str], str]) -> str:
    """The URL path of `route` with each parameter from values(attribute name)."""
    mapping = FILLERS[route.name]
    return fill_with(route, lambda param: values(mapping[param]))


def fill_with(route: Route, value_of: Callable[[str], str]) -> str:
    """The URL path of `route` with each parameter's value from value_of(parameter name)."""
    path = route.route
    for param in route.params:
        value = str(value_of(param))
        path = re.sub(rf"<(?:\w+:)?{param}>|\(\?P<{param}>[^)]*\)", lambda _m, v=value: v, path)
    return "/" + path.replace("\\", "")
