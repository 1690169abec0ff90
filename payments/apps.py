from django.apps import AppConfig
from django.conf import settings
from django.utils.module_loading import import_string


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = "Payments"

    def ready(self) -> None:
        from .providers import register

        for path in settings.PAYMENT_PROVIDERS:
            register(import_string(path)())
