from django.apps import AppConfig


class CatalogConfig(AppConfig):
    """Destinations, packages, retail pricing, device compatibility and catalog sync."""

    name = "catalog"
