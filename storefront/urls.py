from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path

from core.javascript_catalog import javascript_catalog
from core.metrics.views import metrics
from core.views import favicon

from .health import healthz

# Machine-facing and staff URLs: one address whatever the language (webhooks, the JSON API,
# health and metrics, robots and sitemaps, admin, the language switcher itself).
urlpatterns = [
    path("healthz", healthz, name="healthz"),
    # Browsers ask for /favicon.ico on pages that name no icon (the admin's): the shop's SVG.
    path("favicon.ico", favicon),
    path("metrics", metrics, name="metrics"),
    path("", include("catalog.seo_urls")),
    path("admin/", admin.site.urls),
    path("i18n/", include("accounts.language_urls")),
    path("", include("esims.urls")),  # the Roamify webhook
    path("", include("payments.urls")),  # the Stripe webhook
    path("", include("core.urls")),  # the staff's outbox
    path("api/v1/", include("giftcards.api_urls")),
]

# The customer's pages, in every language: English at /, the others under /es/, /fr/, /pt-br/…
urlpatterns += i18n_patterns(
    path("accounts/", include("allauth.urls")),
    path("jsi18n/", javascript_catalog, name="javascript_catalog"),  # the JS's strings, per language
    path("", include("accounts.urls")),
    path("", include("checkout.urls")),
    path("", include("giftcards.urls")),
    path("", include("discounts.urls")),  # the share link /r/<CODE>/
    path("", include("catalog.urls")),
    prefix_default_language=False,
)

handler404 = "core.views.not_found"
handler500 = "core.views.server_error"
