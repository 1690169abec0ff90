from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST, require_safe

from core.money import format_money
from core.security import same_origin_post

from . import content, devices, planner, selectors
from . import search as catalog_search
from .cache import cache_anonymous_page
from .currency import COOKIE, base_price_in, display_currency, offered_currencies, package_price
from .forms import TripForm
from .models import ContentPage, Destination, Package


@require_safe
@cache_anonymous_page
def home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "catalog/home.html",
        {
            "popular": selectors.popular_destinations(8),
            "regions": selectors.multi_country_destinations(),
        },
    )


@require_safe
@cache_anonymous_page
def all_destinations(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "catalog/all_destinations.html",
        {
            "letters": selectors.destinations_by_letter(),
        },
    )


@require_safe
def search(request: HttpRequest) -> HttpResponse:
    query = selectors.clean_query(request.GET.get("q", ""), 100)
    found = catalog_search.search(query, limit=12)
    if found.how == "exact" or (found.how == "prefix" and len(found.destinations) == 1):
        return redirect(found.destinations[0].get_absolute_url())
    return render(request, "catalog/search.html", {"search_query": query, "found": found})


@require_safe
def suggest(request: HttpRequest) -> JsonResponse:
    query = selectors.clean_query(request.GET.get("q", ""), 100)
    found = catalog_search.search(query) if len(query) >= 2 else catalog_search.Match("none", [])
    return JsonResponse({"how": found.how, "results": [suggestion(d, found) for d in found.destinations]})


def suggestion(d: catalog_search.Entry, found: catalog_search.Match) -> dict:
    """One line of the search box's suggestions: the name in the page's language and what it is."""
    if d.is_country:
        kind = _("Country")
        if alias := found.terms.get(d.id):
            kind = f"{alias.title() if alias.islower() else alias} · {kind}"
    else:
        countries = ngettext("%(count)s country", "%(count)s countries", d.country_count) % {
            "count": d.country_count
        }
        kind = f"{d.get_geography_display()} · {countries}"
        if found.how == "multi":
            # Translators: a region that covers every country the visitor typed, e.g. "Covers all 3".
            kind = _("Covers all %(count)s") % {"count": len(found.countries)} + f" · {countries}"
    currency = display_currency()
    return {
        "name": d.local_name,
        "url": d.get_absolute_url(),
        "kind": kind,
        "flag": d.flag,
        "from": format_money(base_price_in(d.from_price_cents, currency), currency),
    }


@require_safe
@cache_anonymous_page
def destination(request: HttpRequest, slug: str) -> HttpResponse:
    dest = get_object_or_404(Destination.objects.active(), slug=slug)
    form = TripForm(request.GET or None)
    trip = form.trip()
    cards = planner.collapse(selectors.destination_packages(dest))
    advice = planner.recommend(cards, trip) if trip and trip.complete else None
    shown = [p for p in cards if planner.fits(p, trip)] if trip else cards
    if trip and advice and advice.best:
        shown.sort(key=lambda p: (p.retail_cents, p.days))
    regions = selectors.regions_covering(dest)
    return render(
        request,
        "catalog/destination.html",
        {
            "destination": dest,
            "form": form,
            "trip": trip,
            "advice": advice,
            "packages": shown,
            "plan_count": len(cards),
            "usage": planner.USAGE,
            "region_offers": region_offers(dest, regions, trip, advice),
            "countries": selectors.covered_countries(dest),
        },
    )


def region_offers(dest: Destination, regions: list, trip, advice) -> list[dict]:
    """Each region covering a country, with its price against the country's own, in the currency
    the page shows (the difference of the two shown prices, so the sums on the page add up)."""
    currency = display_currency()
    trip_prices = selectors.region_prices_for(regions, trip)
    if advice and advice.best:
        here = package_price(advice.best, currency)
    else:
        here = base_price_in(dest.from_price_cents, currency) if dest.from_price_cents is not None else None
    offers = []
    for region in regions:
        price = trip_prices.get(region.id) if trip_prices else region.from_price_cents
        if price is None:
            continue
        price = base_price_in(price, currency)
        offers.append(
            {
                "region": region,
                "price": price,
                "currency": currency,
                "difference": price - here if here is not None else None,
                "url": region.get_absolute_url() + (f"?{trip.query()}" if trip else ""),
            }
        )
    return offers


@require_safe
@cache_anonymous_page
def package(request: HttpRequest, slug: str, package_id: str) -> HttpResponse:
    pkg = get_object_or_404(Package.objects.active().select_related("destination"), package_id=package_id)
    if pkg.destination.slug != slug:
        if not pkg.destination.active:
            raise Http404
        return redirect(pkg, permanent=True)
    return render(
        request,
        "catalog/package.html",
        {
            "package": pkg,
            "destination": pkg.destination,
            "countries": selectors.covered_countries(pkg.destination),
        },
    )


@require_safe
@cache_anonymous_page
def device_check(request: HttpRequest) -> HttpResponse:
    query = selectors.clean_query(request.GET.get("q", ""), 100)
    models = selectors.device_models()
    answer = devices.check(query, models) if query else None
    return render(
        request,
        "catalog/device_check.html",
        {
            "query": query,
            "answer": answer,
            "brands": devices.brands(models),
            "plan": selectors.plan_path(request.GET.get("plan", "")),
            "looks_apple": bool(answer and answer.brand == "Apple"),
            "looks_android": bool(answer and answer.brand and answer.brand != "Apple"),
        },
    )


@require_safe
@cache_anonymous_page
def device_brand(request: HttpRequest, brand: str) -> HttpResponse:
    models = selectors.device_models()
    listed = [m for m in models if slugify(m.brand) == brand]
    if not listed:
        raise Http404
    return render(
        request,
        "catalog/device_brand.html",
        {
            "brand": listed[0].brand,
            "models": listed,
            "brands": devices.brands(models),
            "notes": devices.brand_notes(listed[0].brand),
        },
    )


@require_safe
@cache_anonymous_page
def how_it_works(request: HttpRequest) -> HttpResponse:
    return render(request, "catalog/how_it_works.html")


@require_safe
def robots_txt(request: HttpRequest) -> HttpResponse:
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "Disallow: /cart/",
        "Disallow: /checkout/",
        "Disallow: /account/",
        "Disallow: /accounts/",
        f"Sitemap: {request.build_absolute_uri('/sitemap.xml')}",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain")


@require_safe
@cache_anonymous_page
def page(request: HttpRequest, slug: str) -> HttpResponse:
    page = get_object_or_404(ContentPage, slug=slug)
    return render(request, "catalog/page.html", {"page": page, "text": content.shown(page)})


@require_POST
@same_origin_post
def set_currency(request: HttpRequest) -> HttpResponse:
    """The currency picker's form: keep the choice in a cookie and go back to the page.

    Same-origin check instead of a CSRF token: the picker sits on cached pages, which carry none.
    """
    chosen = (request.POST.get("currency") or "").upper()
    back = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}, require_https=request.is_secure()):
        back = "/"
    response = redirect(back)
    if chosen in offered_currencies():
        response.set_cookie(
            COOKIE,
            chosen,
            max_age=365 * 24 * 3600,
            samesite="Lax",
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=True,
        )
    return response
