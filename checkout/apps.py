from django.apps import AppConfig


class CheckoutConfig(AppConfig):
    """Cart, orders, Stripe payments and webhooks, fulfilment, eSIM records and emails."""

    name = "checkout"
