"""Domain actions of the customer's account: attach guest purchases, delete the account."""

from __future__ import annotations

import logging

from django.db import transaction

from checkout.models import Order
from esims.models import Esim
from giftcards.models import GiftCard

logger = logging.getLogger(__name__)


def attach_guest_purchases(user, email: str) -> tuple[int, int, int]:
    """Orders, eSIMs and gift cards bought as a guest with `email` become `user`'s.

    Only called once `user` has proven they own `email` (a verified address): whoever can
    read that inbox already received these eSIMs. Purchases of another account stay put.
    A gift card follows the order that bought it, so it shows among the buyer's cards.
    Returns (orders, eSIMs, gift cards) attached.
    """
    if not email or not user.is_authenticated:
        return 0, 0, 0
    with transaction.atomic():
        orders = Order.objects.filter(customer__isnull=True, email__iexact=email).update(customer=user)
        esims = Esim.objects.filter(customer__isnull=True, email__iexact=email).update(customer=user)
        cards = GiftCard.objects.filter(customer__isnull=True, order__customer=user).update(customer=user)
    if orders or esims or cards:
        attached = "attached %d guest order(s), %d eSIM(s), %d gift card(s) to user %s"
        logger.info(attached, orders, esims, cards, user.pk)
    return orders, esims, cards


def delete_account(user) -> None:
    """Delete the customer. Their orders and eSIMs stay for the shop's books, detached
    (their foreign keys are SET_NULL); sign-in addresses and sessions go with the user."""
    with transaction.atomic():
        Order.objects.filter(customer=user).update(customer=None)
        Esim.objects.filter(customer=user).update(customer=None)
        user.delete()
