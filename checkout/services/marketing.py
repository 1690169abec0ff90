"""Marketing emails: consent ("tell me about offers"), and the one "you left something in your cart"
email an hour after a checkout that was never paid.

- Consent is one `MarketingConsent` row per address (lower case). A tick at checkout gives it, the
  account's toggle gives or withdraws it, an unsubscribe link withdraws it. An unticked box at
  checkout changes nothing: it does not withdraw an earlier yes.
- No marketing email goes to an address without consent at the moment it is sent.
- The abandoned-cart email goes once per order: the `AbandonedCartEmail` row is the claim, made
  under the address's consent row lock (which also keeps to one such email per address per
  `ABANDONED_CART_MIN_GAP_HOURS`), before the mail server is called; a failed send gives the claim
  back for the next run. A worker killed between the send and recording it leaves a claim without
  `sent_at`: it counts as sent (a missed reminder is better than a second one).
- Links are signed, not stored: the cart link names the order (`ABANDONED_CART_LINK_DAYS`), the
  unsubscribe link names the consent row and a fingerprint of its address
  (`MARKETING_UNSUBSCRIBE_LINK_DAYS`). Each kind has its own salt.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.db.models.functions import Lower
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from catalog.models import Package
from payments.models import Payment

from ..events import OrderEventKind
from ..models import AbandonedCartEmail, LineKind, MarketingConsent, Order, OrderLine, OrderStatus
from .one_tap import ONE_TAP_KEY_PREFIX
from .order_state import log_event

logger = logging.getLogger(__name__)

CART_LINK = "checkout.marketing.cart"
UNSUBSCRIBE_LINK = "checkout.marketing.unsubscribe"
ABANDONED_CART = "abandoned-cart"  # the timeline's name of the email
BATCH = 200  # orders looked at per run; the rest wait ten minutes


class LinkError(ValueError):
    """A link from a marketing email is broken, tampered with or too old (the message says which)."""


# --- Consent -------------------------------------------------------------------------------------------


def _address(email: str) -> str:
    return email.strip().lower()


def has_consent(email: str) -> bool:
    consent = MarketingConsent.objects.filter(email=_address(email)).first()
    return consent is not None and consent.active


def give_consent(email: str, source: str) -> MarketingConsent:
    """A yes (a tick at checkout, the account's toggle): kept from now until withdrawn."""
    now = timezone.now()
    with transaction.atomic():
        consent, created = MarketingConsent.objects.select_for_update().get_or_create(
            email=_address(email), defaults={"consented_at": now, "source": source}
        )
        if not created and not consent.active:
            consent.consented_at, consent.withdrawn_at, consent.source = now, None, source
            consent.save(update_fields=["consented_at", "withdrawn_at", "source", "updated_at"])
    return consent


def withdraw_consent(email: str, source: str) -> MarketingConsent | None:
    """A no (the account's toggle, an unsubscribe link): no marketing email from now on. Saying it
    twice keeps the first time it was said."""
    with transaction.atomic():
        consent = MarketingConsent.objects.select_for_update().filter(email=_address(email)).first()
        if consent is not None and consent.withdrawn_at is None:
            consent.withdrawn_at, consent.source = timezone.now(), source
            consent.save(update_fields=["withdrawn_at", "source", "updated_at"])
    return consent


def record_checkout_choice(email: str, ticked: bool) -> None:
    """The checkout form's "tell me about offers" box: a tick gives consent; an empty box (the
    default) is no answer, and leaves an earlier yes as it was."""
    if ticked:
        give_consent(email, MarketingConsent.Source.CHECKOUT)


def set_from_account(email: str, wanted: bool) -> None:
    if wanted:
        give_consent(email, MarketingConsent.Source.ACCOUNT)
    else:
        withdraw_consent(email, MarketingConsent.Source.ACCOUNT)


# --- Signed links --------------------------------------------------------------------------------------


def _fingerprint(email: str) -> str:
    return hashlib.sha256(_address(email).encode()).hexdigest()[:12]


def _read(token: str, salt: str, max_age: dt.timedelta) -> dict:
    try:
        data = signing.loads(token[:500], salt=salt, max_age=max_age)
    except signing.SignatureExpired:
        raise LinkError(_("This link has expired.")) from None
    except signing.BadSignature:
        raise LinkError(_("This link is not valid.")) from None
    return data if isinstance(data, dict) else {}


def _valid_id(value: object) -> int:
    # Signed by us, yet read as untrusted: only an id we could have written reaches a query.
    if type(value) is not int or not 0 < value < 2**63:
        raise LinkError(_("This link is not valid."))
    return value


def unsubscribe_token(consent: MarketingConsent) -> str:
    return signing.dumps({"c": consent.pk, "f": _fingerprint(consent.email)}, salt=UNSUBSCRIBE_LINK)


def consent_of_unsubscribe_link(token: str) -> MarketingConsent:
    data = _read(token, UNSUBSCRIBE_LINK, dt.timedelta(days=settings.MARKETING_UNSUBSCRIBE_LINK_DAYS))
    consent = MarketingConsent.objects.filter(pk=_valid_id(data.get("c"))).first()
    if consent is None or data.get("f") != _fingerprint(consent.email):
        raise LinkError(_("This link is not valid."))
    return consent


def unsubscribe(token: str) -> MarketingConsent:
    """The unsubscribe link's POST (the page's button, or a mail app's one-click): LinkError, and
    nothing changed, when the token is bad or too old."""
    consent = consent_of_unsubscribe_link(token)
    return withdraw_consent(consent.email, MarketingConsent.Source.UNSUBSCRIBE) or consent


def cart_link_token(order: Order) -> str:
    return signing.dumps({"o": order.pk, "n": order.number}, salt=CART_LINK)


def order_of_cart_link(token: str) -> Order:
    data = _read(token, CART_LINK, dt.timedelta(days=settings.ABANDONED_CART_LINK_DAYS))
    order = Order.objects.filter(pk=_valid_id(data.get("o"))).first()
    if order is None or data.get("n") != order.number:
        raise LinkError(_("This link is not valid."))
    return order


# --- The abandoned-cart email --------------------------------------------------------------------------


def _same_address(field: str = "email"):
    return Lower(OuterRef(field))


def abandoned_orders(now: dt.datetime | None = None) -> QuerySet[Order]:
    """Orders placed from a cart (not one-tap or automatic top-ups) at least the delay and at most
    the max age ago, never paid, whose address has consent now, with no paid or newer order of that
    address since (the newest cart is the one to bring back), and no abandoned-cart email yet."""
    now = now or timezone.now()
    by_address = Order.objects.annotate(address=Lower("email")).filter(address=_same_address())
    return (
        Order.objects.filter(
            status__in=[OrderStatus.PENDING_PAYMENT, OrderStatus.CANCELLED],
            paid_at__isnull=True,
            created_at__lte=now - dt.timedelta(minutes=settings.ABANDONED_CART_DELAY_MINUTES),
            created_at__gte=now - dt.timedelta(hours=settings.ABANDONED_CART_MAX_AGE_HOURS),
            abandoned_cart_email__isnull=True,
        )
        .exclude(checkout_key__startswith=ONE_TAP_KEY_PREFIX)
        .filter(Exists(OrderLine.objects.filter(order=OuterRef("pk"))))
        .exclude(Exists(Payment.objects.filter(order=OuterRef("pk"), status__in=Payment.CAPTURED_STATES)))
        .filter(
            Exists(
                MarketingConsent.objects.filter(
                    email=_same_address(), consented_at__isnull=False, withdrawn_at__isnull=True
                )
            )
        )
        .exclude(Exists(by_address.filter(paid_at__gte=OuterRef("created_at"))))
        .exclude(
            Exists(
                by_address.filter(created_at__gt=OuterRef("created_at")).exclude(
                    checkout_key__startswith=ONE_TAP_KEY_PREFIX
                )
            )
        )
    )


def send_abandoned_cart_emails() -> dict[str, int]:
    """The beat task's run: each order due gets its email (newest first); a mail server down leaves
    the order for the next run."""
    counts = {"sent": 0, "skipped": 0, "failed": 0}
    for order_id in abandoned_orders().order_by("-created_at").values_list("pk", flat=True)[:BATCH]:
        try:
            sent = send_abandoned_cart_email(order_id)
        except OSError:
            logger.warning("abandoned cart email of order %s not sent", order_id, exc_info=True)
            counts["failed"] += 1
        else:
            counts["sent" if sent else "skipped"] += 1
    return counts


def _claim(order_id: int, now: dt.datetime) -> AbandonedCartEmail | None:
    """The order's email to send, claimed; None when it is not due (any more), or its address had
    one within the gap. Under the consent row's lock: two workers, or two orders of one address,
    decide one after the other."""
    with transaction.atomic():
        order = Order.objects.filter(pk=order_id).first()
        if order is None:
            return None
        address = _address(order.email)
        consent = MarketingConsent.objects.select_for_update().filter(email=address).first()
        if consent is None or not consent.active or not abandoned_orders(now).filter(pk=order_id).exists():
            return None
        gap = now - dt.timedelta(hours=settings.ABANDONED_CART_MIN_GAP_HOURS)
        if AbandonedCartEmail.objects.filter(email=address, claimed_at__gte=gap).exists():
            return None
        try:
            with transaction.atomic():
                return AbandonedCartEmail.objects.create(order=order, email=address)
        except IntegrityError:  # claimed meanwhile (the unique order): it is someone else's to send
            return None


def send_abandoned_cart_email(order_id: int, now: dt.datetime | None = None) -> bool:
    """The order's one abandoned-cart email, if it is due: True when it was sent now."""
    claim = _claim(order_id, now or timezone.now())
    if claim is None:
        return False
    try:
        order = claim.order
        with translation.override(order.language):  # its words and its links (/es/…)
            message = _abandoned_cart_email(order, claim.email)
        if message is None:  # nothing in it is sold any more: nothing to bring back
            claim.delete()
            return False
        message.send()  # OSError when the mail server is down: the claim is given back below
    except BaseException:
        claim.delete()
        raise
    with transaction.atomic():
        AbandonedCartEmail.objects.filter(pk=claim.pk).update(sent_at=timezone.now())
        log_event(
            order,
            OrderEventKind.EMAIL,
            f"Sent the abandoned cart email to {order.email}",
            email=ABANDONED_CART,
        )
    return True


def _absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def unsubscribe_url(consent: MarketingConsent) -> str:
    return _absolute(reverse("checkout:unsubscribe", args=[unsubscribe_token(consent)]))


def _abandoned_cart_email(order: Order, address: str) -> EmailMultiAlternatives | None:
    lines = list(order.lines.all())
    sold = set(
        Package.objects.active()
        .filter(pk__in=[line.package_id for line in lines if line.package_id])
        .values_list("pk", flat=True)
    )
    kept = [line for line in lines if line.kind == LineKind.GIFTCARD or line.package_id in sold]
    if not kept:
        return None
    consent = MarketingConsent.objects.get(email=address)
    leave = unsubscribe_url(consent)
    context = {
        "order": order,
        "lines": kept,
        "left_out": len(lines) - len(kept),
        "cart_url": _absolute(reverse("checkout:cart_from_email", args=[cart_link_token(order)])),
        "unsubscribe_url": leave,
        "link_days": settings.ABANDONED_CART_LINK_DAYS,
        "SHOP_NAME": settings.SHOP_NAME,
        "SUPPORT_EMAIL": settings.SUPPORT_EMAIL,
    }
    subject = ngettext("You left something in your cart", "You left some things in your cart", len(kept))
    message = EmailMultiAlternatives(
        subject,
        render_to_string("emails/abandoned_cart.txt", context),
        settings.DEFAULT_FROM_EMAIL,
        [order.email],
        # RFC 2369 and RFC 8058: mail apps show their own unsubscribe button, which POSTs
        # "List-Unsubscribe=One-Click" to the link (no cookies, no CSRF token).
        headers={"List-Unsubscribe": f"<{leave}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
    )
    message.attach_alternative(render_to_string("emails/abandoned_cart.html", context), "text/html")
    return message
