from django.apps import AppConfig


class EsimsConfig(AppConfig):
    name = "esims"
    verbose_name = "eSIMs"
