from django.contrib import admin
from django.urls import include, path

from core.javascript_catalog import javascript_catalog
from core.metrics.views import metrics
from core.views import favicon

from .health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    # Browsers ask for /favicon.ico on pages that name no icon (the admin's): the shop's SVG.
    path("favicon.ico", favicon),
    path("metrics", metrics, name="metrics"),
    path("", include("catalog.seo_urls")),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("jsi18n/", javascript_catalog, name="javascript_catalog"),  # the JS's strings, per language
    path("", include("accounts.urls")),
    path("", include("esims.urls")),
    path("", include("core.urls")),
    path("", include("payments.urls")),
    path("", include("checkout.urls")),
    path("", include("giftcards.urls")),
    path("api/v1/", include("giftcards.api_urls")),
    path("", include("catalog.urls")),
]

handler404 = "core.views.not_found"
handler500 = "core.views.server_error"
