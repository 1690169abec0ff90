"""Automatic top-up: "when data left is below X (or N days left), buy this top-up", opt-in per eSIM.

esims tells checkout each time it learns an eSIM's usage (`core.signals.esim_usage_seen`, from a
Roamify usage webhook or a usage fetch). The receiver records a crossing of the threshold once per
allowance (`AutoTopupCrossing`, unique on eSIM + allowance: a storm of webhooks makes one row) and
queues one task after commit. The task (`run`) decides under the crossing's lock (turned off,
eSIM dead or expired, no card, monthly cap), charges outside any lock with an idempotency key made
from the crossing (`one_tap.buy_topup_with_saved_card`), then records the outcome: a bought top-up
is emailed as a receipt; a declined card, a bank asking to confirm, the cap or an undeliverable
top-up pauses the rule and emails why (with the link to finish the payment when there is one).
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from catalog import currency as currencies
from catalog.models import Package
from esims.models import Esim
from esims.usage import UsageSnapshot, format_mb
from payments.models import SavedCard

from ..models import AutoTopup, AutoTopupCrossing
from . import one_tap

logger = logging.getLogger(__name__)

Pause = AutoTopup.Pause
Status = AutoTopupCrossing.Status

# Upstream's word for an eSIM whose validity (or data) ended: nothing is bought for it.
ENDED_STATUSES = frozenset({"EXPIRED", "REVOKED"})


# --- Set up and turn off (the eSIM's account page) -------------------------------------------------


def set_up(
    *,
    customer,
    esim: Esim,
    package: Package,
    card: SavedCard,
    below_mb: int | None,
    below_days: int | None,
    max_per_month: int,
    max_cents_per_month: int,
    currency: str,
    language: str,
) -> AutoTopup:
    """Turn automatic top-up on for the customer's eSIM (or change it): running again, unpaused."""
    now = timezone.now()
    rule, _created = AutoTopup.objects.update_or_create(
        esim=esim,
        defaults={
            "customer": customer,
            "package": package,
            "card": card,
            "below_mb": below_mb,
            "below_days": below_days,
            "max_per_month": max_per_month,
            "max_cents_per_month": max_cents_per_month,
            "currency": currency,
            "language": language,
            "enabled": True,
            "paused": Pause.NONE,
            "paused_message": "",
            "paused_at": None,
            "finish_url": "",
            "armed_at": now,
        },
    )
    return rule


def turn_off(*, customer, esim: Esim) -> bool:
    """One tap: no more automatic top-ups for this eSIM (a crossing already queued stops too)."""
    return bool(AutoTopup.objects.filter(esim=esim, customer=customer, enabled=True).update(enabled=False))


# --- The trigger (receiver of esims' usage signal) ------------------------------------------------


def allowance_key(snapshot: UsageSnapshot) -> str:
    """One allowance of an eSIM: its data and its end date. A top-up changes one or both."""
    data = "unlimited" if snapshot.unlimited else f"{round(snapshot.allowed_mb or 0)}MB"
    end = snapshot.expires_at.date().isoformat() if snapshot.expires_at else "-"
    return f"{data}:{end}"


def crossed(rule: AutoTopup, snapshot: UsageSnapshot, now: dt.datetime) -> bool:
    """Whether the snapshot is past the rule's threshold: data left below X, or fewer than N days."""
    if not snapshot.supported:
        return False
    low_data = (
        rule.below_mb is not None
        and snapshot.remaining_mb is not None
        and not snapshot.unlimited
        and snapshot.remaining_mb < rule.below_mb
    )
    few_days = (
        rule.below_days is not None
        and snapshot.expires_at is not None
        and snapshot.started_at is not None
        and snapshot.expires_at - now < dt.timedelta(days=rule.below_days)
    )
    return low_data or few_days


def on_usage_seen(sender, esim: Esim, snapshot: UsageSnapshot, **kwargs) -> AutoTopupCrossing | None:
    """Record a crossing of the eSIM's running rule once per allowance and queue its task."""
    rule = AutoTopup.objects.filter(esim_id=esim.pk, enabled=True, paused="").first()
    if rule is None or not crossed(rule, snapshot, timezone.now()):
        return None
    key = allowance_key(snapshot)
    try:
        with transaction.atomic():
            crossing, created = AutoTopupCrossing.objects.get_or_create(
                esim_id=esim.pk, allowance_key=key, defaults={"rule": rule}
            )
    except IntegrityError:  # a concurrent copy of the webhook recorded it first
        return None
    if not created:
        # Stopped before the customer turned it on again (a new card, a higher cap): try once more,
        # with a new key. The conditional update lets exactly one concurrent copy do it.
        rearmed = AutoTopupCrossing.objects.filter(
            pk=crossing.pk, status=Status.STOPPED, decided_at__lt=rule.armed_at
        ).update(status=Status.PENDING, attempt=crossing.attempt + 1, reason="", message="", emailed_at=None)
        if not rearmed:
            return None
    transaction.on_commit(lambda: _queue(crossing.pk))
    return crossing


def _queue(crossing_id: int) -> None:
    from core.queue import send

    send("checkout.run_auto_topup", crossing_id)


# --- The task's work ------------------------------------------------------------------------------


def month_start(now: dt.datetime) -> dt.datetime:
    local = timezone.localtime(now)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _ended(esim: Esim, now: dt.datetime) -> str:
    """Why nothing may be bought for the eSIM ('' when it may): refunded, revoked, expired."""
    if esim.topup_refusal_key:
        return _("This eSIM can't be topped up: %(reason)s.") % {"reason": esim.topup_refusal}
    if esim.status.upper() in ENDED_STATUSES or (esim.expires_at and esim.expires_at <= now):
        return _("This eSIM has expired, so nothing was bought for it.")
    return ""


def _stop(
    crossing: AutoTopupCrossing, reason: str, message: str, *, pause: bool, finish_url: str = ""
) -> None:
    """Record (under the crossing's lock) that nothing was bought, pause the rule and email why."""
    now = timezone.now()
    crossing.status, crossing.reason, crossing.message, crossing.decided_at = (
        Status.STOPPED,
        reason,
        message,
        now,
    )
    crossing.save(update_fields=["status", "reason", "message", "decided_at"])
    if pause:
        AutoTopup.objects.filter(pk=crossing.rule_id).update(
            paused=reason, paused_message=message, paused_at=now, finish_url=finish_url, updated_at=now
        )
        transaction.on_commit(lambda: _queue_email(crossing.pk))


def _queue_email(crossing_id: int) -> None:
    from core.queue import send

    send("checkout.send_auto_topup_email", crossing_id)


def spent_this_month(rule: AutoTopup, now: dt.datetime) -> tuple[int, int]:
    """Top-ups bought by the rule this calendar month, and what they cost in its currency."""
    bought = rule.crossings.filter(status=Status.BOUGHT, decided_at__gte=month_start(now))
    return bought.count(), bought.aggregate(s=Sum("amount_cents"))["s"] or 0


def run(crossing_id: int) -> str:
    """Buy the top-up of one crossing, once, or say why not. Safe to run twice: a crossing bought or
    stopped is left alone, and one left charging is charged again with the same key (idempotent).

    In the customer's language: the reasons it stores are shown on their page and in their email,
    and the order it places remembers the language its emails go out in."""
    language = AutoTopup.objects.filter(crossings__pk=crossing_id).values_list("language", flat=True).first()
    with translation.override(language or settings.LANGUAGE_CODE):
        return _run(crossing_id)


def settle(order_id: int, result: one_tap.OneTapResult) -> str:
    """Record the outcome of a charge confirmed after its answer was lost, on the crossing that
    placed the order (if one did), as `run` would have recorded the first answer."""
    crossing = AutoTopupCrossing.objects.select_related("rule").filter(
        order_id=order_id, status=Status.CHARGING
    )
    crossing = crossing.first()
    if crossing is None:
        return "no crossing"
    with translation.override(crossing.rule.language or settings.LANGUAGE_CODE):
        return _record(crossing.pk, result)


def _run(crossing_id: int) -> str:
    now = timezone.now()
    with transaction.atomic():
        crossing = (
            AutoTopupCrossing.objects.select_for_update(of=("self",))
            .select_related("rule__package", "rule__card", "esim")
            .get(pk=crossing_id)
        )
        rule = AutoTopup.objects.select_for_update().get(pk=crossing.rule_id)
        if crossing.status not in (Status.PENDING, Status.CHARGING):
            return f"already {crossing.status}"
        if not rule.enabled:
            _stop(crossing, "off", "Turned off before it was bought", pause=False)
            return "off"
        if rule.paused:
            _stop(crossing, rule.paused, "Paused before it was bought", pause=False)
            return "paused"
        ended = _ended(crossing.esim, now)
        if ended:
            _stop(crossing, Pause.UNDELIVERABLE, ended, pause=True)
            return "eSIM ended"
        if rule.card is None:
            _stop(crossing, Pause.NO_CARD, _("The saved card for it was removed."), pause=True)
            return "no card"
        if crossing.status == Status.PENDING:
            try:
                price = currencies.package_price(rule.package, rule.currency)
            except currencies.RateUnavailable as exc:
                _stop(crossing, Pause.UNDELIVERABLE, str(exc), pause=True)
                return "no rate"
            count, spent = spent_this_month(rule, now)
            if count >= rule.max_per_month or spent + price > rule.max_cents_per_month:
                _stop(
                    crossing,
                    Pause.CAP,
                    _("This month's limit for automatic top-ups was reached."),
                    pause=True,
                )
                return "cap"
            crossing.status, crossing.amount_cents = Status.CHARGING, price
            crossing.save(update_fields=["status", "amount_cents"])
        card, package, esim, customer = rule.card, rule.package, crossing.esim, rule.customer
        key, language, currency = crossing.idempotency_key, rule.language, rule.currency
    # Outside any lock: the charge calls Stripe (and upstream, to check the top-up fits).
    with translation.override(language), currencies.override(currency):
        result = one_tap.buy_topup_with_saved_card(
            customer=customer, esim=esim, package=package, card=card, idempotency_key=key, source="auto_topup"
        )
    return _record(crossing_id, result)


def _record(crossing_id: int, result: one_tap.OneTapResult) -> str:
    with transaction.atomic():
        crossing = AutoTopupCrossing.objects.select_for_update().get(pk=crossing_id)
        if crossing.status != Status.CHARGING:
            return f"already {crossing.status}"
        crossing.order = result.order
        if result.status == "paid":
            order = result.order
            if order is not None and order.currency == AutoTopup.objects.get(pk=crossing.rule_id).currency:
                crossing.amount_cents = order.total_cents
            crossing.status, crossing.reason, crossing.decided_at = Status.BOUGHT, "bought", timezone.now()
            crossing.save(update_fields=["order", "status", "reason", "amount_cents", "decided_at"])
            transaction.on_commit(lambda: _queue_email(crossing_id))
            return "bought"
        crossing.save(update_fields=["order"])
        if result.status == "pending":  # Stripe's answer was lost: `settle` records it once known
            return "pending"
        reason = {
            "declined": Pause.DECLINED,
            "needs_authentication": Pause.AUTHENTICATION,
        }.get(result.status, Pause.UNDELIVERABLE)
        _stop(crossing, reason, result.message, pause=True, finish_url=result.redirect_url or "")
        return result.status


# --- The email (a receipt, or why it paused) ------------------------------------------------------


def send_email(crossing_id: int) -> bool:
    """The crossing's email, once, in the order's language (else the rule's)."""
    claim = f"auto-topup-email:{crossing_id}"
    if not cache.add(claim, 1, settings.EMAIL_CLAIM_SECONDS):
        raise OSError(f"auto top-up email {crossing_id} is being sent")  # the task retries
    try:
        crossing = AutoTopupCrossing.objects.select_related(
            "rule__package", "rule__card", "esim", "order"
        ).get(pk=crossing_id)
        if crossing.emailed_at or crossing.status not in (Status.BOUGHT, Status.STOPPED):
            return False
        language = crossing.order.language if crossing.order else crossing.rule.language
        with translation.override(language):
            message = _build_email(crossing)
        if message is None:
            return False
        message.send()
        AutoTopupCrossing.objects.filter(pk=crossing_id).update(emailed_at=timezone.now())
        return True
    finally:
        cache.delete(claim)


def _build_email(crossing: AutoTopupCrossing) -> EmailMultiAlternatives | None:
    rule, esim, order = crossing.rule, crossing.esim, crossing.order
    to = order.email if order else (rule.customer.email or esim.email)
    if not to:
        return None
    bought = crossing.status == Status.BOUGHT
    count, spent = spent_this_month(rule, crossing.decided_at or timezone.now())
    context = {
        "SHOP_NAME": settings.SHOP_NAME,
        "SUPPORT_EMAIL": settings.SUPPORT_EMAIL,
        "crossing": crossing,
        "rule": rule,
        "esim": esim,
        "order": order,
        "bought": bought,
        "below": format_mb(rule.below_mb) if rule.below_mb is not None else "",
        "count": count,
        "spent": spent,
        "order_url": settings.SITE_URL + order.access_url() if order else "",
        "finish_url": rule.finish_url if not bought else "",
        "esim_url": settings.SITE_URL + reverse("accounts:esim_detail", args=[esim.pk]) + "#auto-topup",
    }
    title = esim.title or "eSIM"
    subject = (
        _("Your %(esim)s was topped up automatically") % {"esim": title}
        if bought
        else _("Automatic top-up of your %(esim)s is paused") % {"esim": title}
    )
    message = EmailMultiAlternatives(
        subject, render_to_string("emails/auto_topup.txt", context), settings.DEFAULT_FROM_EMAIL, [to]
    )
    message.attach_alternative(render_to_string("emails/auto_topup.html", context), "text/html")
    return message
