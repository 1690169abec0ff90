from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET

from . import selectors
from .cache import cache_anonymous_page
from .forms import PackageFilterForm
from .models import Destination, Geography, Package
from .pricing import format_money

TABS = [(Geography.LOCAL, "Countries"), (Geography.REGIONAL, "Regions"), (Geography.GLOBAL, "Global")]


@require_GET
@cache_anonymous_page
def home(request: HttpRequest) -> HttpResponse:
    tab = request.GET.get("tab", Geography.LOCAL)
    if tab not in Geography.values:
        tab = Geography.LOCAL
    return render(request, "catalog/home.html", {
        "popular": selectors.popular_destinations(),
        "tabs": TABS,
        "tab": tab,
        "destinations": selectors.destinations_in(tab),
    })


@require_GET
def search(request: HttpRequest) -> HttpResponse:
    query = selectors.clean_query(request.GET.get("q", ""), 100)
    results = selectors.search_destinations(query)
    if len(results) == 1 or (results and results[0].name.lower() == query.lower()):
        return redirect(results[0])
    return render(request, "catalog/search.html", {"search_query": query, "results": results})


@require_GET
def suggest(request: HttpRequest) -> JsonResponse:
    query = selectors.clean_query(request.GET.get("q", ""), 100)
    results = selectors.search_destinations(query, limit=8) if len(query) >= 2 else []
    return JsonResponse({"results": [
        {"name": d.name, "url": d.get_absolute_url(), "kind": d.get_geography_display(),
         "flag": d.flag, "from": format_money(d.from_price_cents)}
        for d in results
    ]})


@require_GET
@cache_anonymous_page
def destination(request: HttpRequest, slug: str) -> HttpResponse:
    dest = get_object_or_404(Destination.objects.active(), slug=slug)
    form = PackageFilterForm(request.GET or None)
    filters = form.cleaned_or_defaults() if request.GET else {}
    packages = list(selectors.package_list(dest, filters))
    return render(request, "catalog/destination.html", {
        "destination": dest,
        "form": form,
        "packages": packages,
        "filtered": any(filters.values()),
        "regions": selectors.regions_covering(dest),
        "countries": selectors.covered_countries(dest),
    })


@require_GET
@cache_anonymous_page
def package(request: HttpRequest, slug: str, package_id: str) -> HttpResponse:
    pkg = get_object_or_404(
        Package.objects.active().select_related("destination"), package_id=package_id
    )
    if pkg.destination.slug != slug:
        if not pkg.destination.active:
            raise Http404
        return redirect(pkg, permanent=True)
    return render(request, "catalog/package.html", {
        "package": pkg,
        "destination": pkg.destination,
        "countries": selectors.covered_countries(pkg.destination),
    })


@require_GET
def device_check(request: HttpRequest) -> HttpResponse:
    query = selectors.clean_query(request.GET.get("q", ""), 100)
    devices = selectors.find_devices(query) if query else []
    return render(request, "catalog/device_check.html", {
        "query": query, "devices": devices, "asked": bool(query),
        "looks_apple": "iphone" in query.lower() or "ipad" in query.lower(),
    })


@require_GET
@cache_anonymous_page
def how_it_works(request: HttpRequest) -> HttpResponse:
    return render(request, "catalog/how_it_works.html")


@require_GET
def robots_txt(request: HttpRequest) -> HttpResponse:
    lines = ["User-agent: *", "Disallow: /admin/", "Disallow: /cart/", "Disallow: /checkout/",
             "Disallow: /account/", "Disallow: /accounts/",
             f"Sitemap: {request.build_absolute_uri('/sitemap.xml')}"]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain")
