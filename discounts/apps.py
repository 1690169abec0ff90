from django.apps import AppConfig


class DiscountsConfig(AppConfig):
    """Discount codes (promotions and customers' referral codes): applied in the cart, used once per order."""

    name = "discounts"
    verbose_name = "Discounts"
