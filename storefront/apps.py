from django.apps import AppConfig


class StorefrontConfig(AppConfig):
    """Site-wide pieces: health check, the mail outbox, base pages."""

    name = "storefront"
    verbose_name = "Shop"
