from django.contrib.sitemaps import Sitemap

from .models import Destination, Package


class ShopSitemap(Sitemap):
    """Every page in every language (settings.LANGUAGES), each entry with its hreflang alternates
    and x-default (English), as search engines want them (storefront/urls.py: i18n_patterns)."""

    i18n = True
    alternates = True
    x_default = True


class DestinationSitemap(ShopSitemap):
    changefreq = "daily"
    priority = 0.8

    def items(self):
        return Destination.objects.active().only("slug", "updated_at").order_by("id")

    def lastmod(self, obj: Destination):
        return obj.updated_at


class PackageSitemap(ShopSitemap):
    changefreq = "weekly"
    priority = 0.5
    # Entries per file: each package is one per language, so 5,000 entries are 625 packages.
    limit = 5000

    def items(self):
        return (
            Package.objects.active()
            .filter(destination__active=True)
            .select_related("destination")
            .only("package_id", "updated_at", "destination__slug")
            .order_by("id")
        )

    def lastmod(self, obj: Package):
        return obj.updated_at


SITEMAPS = {"destinations": DestinationSitemap, "packages": PackageSitemap}
