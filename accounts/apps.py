from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Sign-in (allauth) and the customer's area: eSIMs, usage, top-ups, orders."""

    name = "accounts"
