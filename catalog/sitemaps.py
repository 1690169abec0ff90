from django.contrib.sitemaps import Sitemap

from .models import Destination, Package


class DestinationSitemap(Sitemap):
    changefreq = "daily"
    priority = 0.8

    def items(self):
        return Destination.objects.active().only("slug", "updated_at").order_by("id")

    def lastmod(self, obj: Destination):
        return obj.updated_at


class PackageSitemap(Sitemap):
    changefreq = "weekly"
    priority = 0.5
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
