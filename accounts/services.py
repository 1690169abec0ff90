"""Domain actions of the customer's account: attach guest purchases, delete the account."""

from __future__ import annotations

import logging

from django.db import transaction

from checkout.models import Order
from esims.models import Esim

logger = logging.getLogger(__name__)


def attach_guest_purchases(user, email: str) -> tuple[int, int]:
    """Orders and eSIMs bought as a guest with `email` become `user`'s.

    Only called once `user` has proven they own `email` (a verified address): whoever can
    read that inbox already received these eSIMs. Purchases of another account stay put.
    Returns (orders, eSIMs) attached.
    """
    if not email or not user.is_authenticated:
        return 0, 0
    with transaction.atomic():
        orders = Order.objects.filter(customer__isnull=True, email__iexact=email).update(customer=user)
        esims = Esim.objects.filter(customer__isnull=True, email__iexact=email).update(customer=user)
    if orders or esims:
        logger.info("attached %d guest order(s) and %d eSIM(s) to user %s", orders, esims, user.pk)
    return orders, esims


def delete_account(user) -> None:
    """Delete the customer. Their orders and eSIMs stay for the shop's books, detached
    (their foreign keys are SET_NULL); sign-in addresses and sessions go with the user."""
    with transaction.atomic():
        Order.objects.filter(customer=user).update(customer=None)
        Esim.objects.filter(customer=user).update(customer=None)
        user.delete()
