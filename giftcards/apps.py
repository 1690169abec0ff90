from django.apps import AppConfig


class GiftcardsConfig(AppConfig):
    """The shop's own gift cards: issue, ledger, redeem, revoke, refund."""

    name = "giftcards"
    verbose_name = "Gift cards"
