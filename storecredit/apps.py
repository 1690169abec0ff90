from django.apps import AppConfig


class StorecreditConfig(AppConfig):
    """Store credit: a ledger per customer, paid out by referrals and staff, spent at checkout."""

    name = "storecredit"
    verbose_name = "Store credit"
