from django.apps import AppConfig


class StorefrontConfig(AppConfig):
    """The project package: wiring only (settings, URLs, the Celery app, /healthz).

    Installed for its migration history: the outbox table was created here.
    """

    name = "storefront"
    verbose_name = "Project"
