from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Sign-in (allauth) and the customer's area: eSIMs, usage, top-ups, orders."""

    name = "accounts"

    def ready(self) -> None:
        from . import language, receivers  # noqa: F401  (connects the signal receivers)
