from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Shared helpers of every app, and the mail outbox of the demo and tests."""

    name = "core"
    verbose_name = "Shop"
