"""robots.txt and the sitemaps, at the site's root."""

from django.contrib.sitemaps import views as sitemap_views
from django.urls import path

from .sitemaps import SITEMAPS
from .views import robots_txt

urlpatterns = [
    path("robots.txt", robots_txt, name="robots_txt"),
    path("sitemap.xml", sitemap_views.index, {"sitemaps": SITEMAPS, "sitemap_url_name": "sitemap"}),
    path("sitemap-<section>.xml", sitemap_views.sitemap, {"sitemaps": SITEMAPS}, name="sitemap"),
]
