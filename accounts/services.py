"""Domain actions of the customer's account: open one for a sign-in code, attach guest purchases,
delete the account."""

from __future__ import annotations

import logging

from allauth.account.adapter import get_adapter
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.http import HttpRequest

from checkout.models import Customer, MarketingConsent, Order
from checkout.services import marketing
from discounts.models import DiscountCode
from esims.models import Esim
from giftcards.models import GiftCard
from storecredit.services import expiry as store_credit_expiry

logger = logging.getLogger(__name__)


def open_account(request: HttpRequest, email: str):
    """The account of `email`, made now if there is none: no password, the email not verified.

    For a sign-in code asked for an email with no account (accounts.forms.RequestCodeForm): the
    code then proves the email. Two requests at once for the same new email make one account
    (a lock per email on PostgreSQL; the demo's SQLite runs one writer at a time anyway).
    """
    email = email.strip().lower()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", ["open_account:" + email])
        existing = get_user_model().objects.filter(email__iexact=email).order_by("pk").first()
        if existing is not None:
            return existing
        adapter = get_adapter(request)
        user = adapter.new_user(request)
        user.email = email
        adapter.populate_username(request, user)  # internal; never shown (ACCOUNT_USER_DISPLAY)
        user.set_unusable_password()
        user.save()
        EmailAddress.objects.create(user=user, email=email, primary=True, verified=False)
    logger.info("opened account %s for a sign-in code", user.pk)
    return user


def attach_guest_purchases(user, email: str) -> tuple[int, int, int]:
    """Orders (eSIMs, top-ups, gift cards), eSIMs and gift cards bought as a guest with `email`
    become `user`'s.

    Only called once `user` has proven they own `email` (a verified address): whoever can
    read that inbox already received these eSIMs. Purchases of another account stay put.
    A gift card follows the order that bought it (its buyer), so it shows among the buyer's
    cards and can be revoked from there; the shop's customer record of the email points at the
    account too. Returns (orders, eSIMs, gift cards) attached.
    """
    if not email or not user.is_authenticated:
        return 0, 0, 0
    with transaction.atomic():
        orders = Order.objects.filter(customer__isnull=True, email__iexact=email).update(customer=user)
        esims = Esim.objects.filter(customer__isnull=True, email__iexact=email).update(customer=user)
        cards = GiftCard.objects.filter(customer__isnull=True, order__customer=user).update(customer=user)
        Customer.objects.filter(user__isnull=True, email=email.strip().lower()).update(user=user)
    if orders or esims or cards:
        attached = "attached %d guest order(s), %d eSIM(s), %d gift card(s) to user %s"
        logger.info(attached, orders, esims, cards, user.pk)
    return orders, esims, cards


def delete_account(user) -> None:
    """Delete the customer. Their orders and eSIMs stay for the shop's books, detached
    (their foreign keys are SET_NULL), and so does their store credit's ledger, what was left of it
    forfeited, and their referral code, switched off; sign-in addresses and sessions go with the user,
    and so does any yes to offers by email."""
    addresses = {user.email, *verified_emails(user)} - {""}
    with transaction.atomic():
        for address in addresses:
            marketing.withdraw_consent(address, MarketingConsent.Source.ACCOUNT)
        Order.objects.filter(customer=user).update(customer=None)
        Esim.objects.filter(customer=user).update(customer=None)
        store_credit_expiry.close_account(user)  # what is left is forfeited; the ledger stays
        # Their referral code stops working; kept, detached, for the orders that used it.
        DiscountCode.objects.filter(referrer=user).update(active=False, referrer=None)
        user.delete()


def verified_emails(user) -> list[str]:
    return list(EmailAddress.objects.filter(user=user, verified=True).values_list("email", flat=True))
