"""The customer-facing URL patterns, read from the URL resolver, and how to fill each one.

Shared by the privacy sweep (tests/test_url_privacy.py) and the accessibility sweep
(tests/e2e/test_accessibility.py): a pattern added later is found by both, and a pattern
neither knows how to fill fails them until it is added to FILLERS or PUBLIC below.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import translation

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
    """Every customer-facing pattern (with or without parameters), in resolver order, as English
    URLs (the language prefix of i18n_patterns is the active language's: none for English)."""
    seen: set[str] = set()
    routes = []
    with translation.override(settings.LANGUAGE_CODE):
        walked = list(_walk(get_resolver().url_patterns))
    for route in walked:
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
    # A share link is meant to be public; an unknown code lands on the home page.
    "discounts:share_link": {"code": "NOSUCHCODE"},
}

# How to fill each private pattern from one customer's data (see World in the tests): the
# name of the World attribute that holds each parameter's value.
FILLERS: dict[str, dict[str, str]] = {
    "account_confirm_email": {"key": "email_key"},
    "account_reset_password_from_key": {"uidb36": "uidb36", "key": "reset_key"},
    "accounts:esim_detail": {"pk": "esim_pk"},
    "accounts:esim_usage": {"pk": "esim_pk"},
    "accounts:esim_refresh": {"pk": "esim_pk"},
    "accounts:esim_topup": {"pk": "esim_pk"},
    "accounts:esim_share": {"pk": "esim_pk"},
    "accounts:auto_topup_on": {"pk": "esim_pk"},
    "accounts:auto_topup_off": {"pk": "esim_pk"},
    "accounts:order_receipt": {"number": "order_number"},
    "accounts:order_open": {"number": "order_number"},
    "accounts:signed_topups": {"token": "topup_token"},
    "accounts:shared_install": {"token": "install_token"},
    "outbox_message": {"pk": "outbox_pk"},
    "checkout:order_detail": {"number": "order_number"},
    "checkout:order_status": {"number": "order_number"},
    "checkout:order_pay": {"number": "order_number"},
    "giftcards:account_revoke": {"card_id": "card_id"},
    "checkout:cart_from_email": {"token": "cart_token"},
    "checkout:unsubscribe": {"token": "unsubscribe_token"},
}

# Parameters that are secrets: a wrong or truncated one must open nothing.
TOKEN_PARAMS = {"token", "key"}


# Not pages: the staff's outbox (a tool of the demo), health and metrics.
NOT_PAGES = {"outbox", "outbox_message", "healthz", "metrics"}


def customer_page_paths(package, world: Callable[[str], str]) -> list[str]:
    """Every customer page's path (English URLs): public patterns filled with `package`, private
    ones with the customer `world`'s values (machine answers are left to the caller to skip)."""
    public = {"<destination>": package.destination.slug, "<package>": package.package_id}
    paths = []
    for route in customer_routes():
        if route.name in NOT_PAGES:
            continue
        if not route.params:
            paths.append("/" + route.route.replace("\\", ""))
        elif route.name in PUBLIC:
            values = PUBLIC[route.name]
            paths.append(fill_with(route, lambda p, v=values: public.get(v[p], v[p])))
        else:
            paths.append(fill(route, world))
    return paths


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


# --- The staff side: every admin pattern, and odd values to fill them with -------------------------

ADMIN_PREFIX = "admin/"

# Ids no row has, or that are no id at all: text, negative, 64-bit overflow, a NUL byte (%00), a
# unicode digit that str.isdigit() accepts and int() refuses.
ODD_IDS = ("abc", "-1", "99999999999999999999", "%00", "²")

# Values for list filters, search and query strings. SHARP ones are tried in each parameter alone:
# NUL, a number past 64 bits (alone and in an __in list). The others (a control character, unicode,
# SQL-ish text, an out-of-range date...) in every parameter of a page at once.
SHARP_VALUES = ("\x00", "99999999999999999999", "1,99999999999999999999")
ODD_VALUES = (
    *SHARP_VALUES,
    "\x1b[31m",
    "-99999999999999999999",
    "²",
    "🇯🇵\u202e\ufeff",
    "' OR 1=1--",
    "9999-12-31",
    "0001-01-01",
    "10000",
    "",
)


def admin_routes() -> list[Route]:
    """Every admin pattern (each registered ModelAdmin's, their custom pages, the site's), in resolver
    order."""
    seen: set[str] = set()
    routes = []
    for route in _walk(get_resolver().url_patterns):
        if route.route.startswith(ADMIN_PREFIX) and route.route not in seen:
            seen.add(route.route)
            routes.append(route)
    return routes


# Parameters of the site's own patterns, and what to fill them with besides odd ids.
SITE_PARAMS = {"app_label": ["checkout", "nope"], "url": ["nope/", "%00/"]}
STANDARD_ADMIN_PAGES = ("_change", "_history", "_delete", "_add", "_changelist")


def is_custom_admin_page(route: Route) -> bool:
    """A page a ModelAdmin adds of its own (get_urls), or one of the site's."""
    return route.name != "admin:" and not route.name.endswith(STANDARD_ADMIN_PAGES)


def model_admin_of(route: Route):
    """The ModelAdmin whose URLs hold this pattern (admin/<app>/<model>/...), if any."""
    from django.contrib import admin

    for model, model_admin in admin.site._registry.items():
        if route.route.startswith(f"admin/{model._meta.app_label}/{model._meta.model_name}/"):
            return model_admin
    return None


def admin_values(route: Route) -> dict[str, list[str]]:
    """For each parameter of an admin pattern: a real value first (a row of its model, an export's
    slug...), then odd ones."""
    from django.contrib.contenttypes.models import ContentType

    from checkout.models import Order

    model_admin = model_admin_of(route)
    values: dict[str, list[str]] = {}
    for param in route.params:
        if param in SITE_PARAMS:
            values[param] = SITE_PARAMS[param]
        elif param == "slug":
            values[param] = [e.slug for e in getattr(model_admin, "csv_exports", [])] + ["nope"]
        elif param == "content_type_id":
            values[param] = [str(ContentType.objects.get_for_model(Order).pk), *ODD_IDS]
        elif param == "object_id" and model_admin is None:  # the site's view-on-site link
            values[param] = [str(Order.objects.first().pk), *ODD_IDS]
        else:  # an id of the ModelAdmin's model
            row = model_admin.model._default_manager.order_by("pk").first()
            values[param] = ([str(row.pk)] if row else []) + list(ODD_IDS)
    return values


def changelist_params(model_admin, staff) -> list[str]:
    """Every query parameter a change list reads: its filters', `__in` lookups on the pk and on each
    filtered field, the date drill-down, search, ordering and page."""
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.user = staff
    changelist = model_admin.get_changelist_instance(request)
    params = {p for spec in changelist.filter_specs for p in spec.expected_parameters()}
    params |= {"pk__in", "o", "p"}
    for spec in model_admin.get_list_filter(request):
        name = spec[0] if isinstance(spec, tuple) else spec
        if isinstance(name, str):
            params.add(f"{name}__in")
    if model_admin.date_hierarchy:
        params |= {f"{model_admin.date_hierarchy}__{part}" for part in ("year", "month", "day")}
    if model_admin.get_search_fields(request):
        params.add("q")
    return sorted(params)
