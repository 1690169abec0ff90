"""Domain actions of eSIMs: record what upstream delivered; fetch usage, history and
top-ups from upstream into the cache; Roamify webhooks; low-data and low-balance alerts."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

import roamify
from core.money import format_money
from core.queue import after_commit
from core.roamify_client import roamify_client
from core.signals import esim_usage_seen, roamify_refund_event

from . import balance as balance_rule
from . import cached, links, usage
from .models import Esim, LowDataAlert, PartnerBalance, RefundState, RoamifyEvent

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivered:
    """One eSIM upstream delivered, and what the shop knows of why it was bought."""

    esim: roamify.Esim
    upstream_order_id: str
    title: str = ""
    package_id: str = ""


# What a delivery writes on an eSIM row, on a new row or over an old one.
_DELIVERED_FIELDS = [
    "customer",
    "email",
    "title",
    "package_id_upstream",
    "upstream_order_id",
    "iccid",
    "status",
    "lpa_code",
    "smdp_address",
    "activation_code",
    "ios_install_url",
    "android_install_url",
    "apn_automatic",
    "apn_name",
    "apn_username",
    "apn_password",
    "with_top_up",
    "with_usage_check",
    "notes",
    "expires_at",
    "updated_at",
]


def record_delivered(delivered: list[Delivered], *, customer, email: str) -> list[Esim]:
    """Save (or update) eSIM records from upstream's answer, in one statement for them all (an
    eSIM upstream sends again updates its row). Call inside the caller's transaction."""
    records = []
    for item in delivered:
        esim = item.esim
        profile = esim.profile or roamify.EsimProfile()
        apn = esim.apn or roamify.Apn()
        records.append(
            Esim(
                upstream_esim_id=esim.id,
                customer=customer,
                email=email,
                title=item.title[:300],
                package_id_upstream=item.package_id,
                upstream_order_id=item.upstream_order_id,
                iccid=esim.iccid or "",
                status=esim.status,
                lpa_code=profile.lpa_code or "",
                smdp_address=profile.smdp_address or "",
                activation_code=profile.activation_code or "",
                ios_install_url=profile.ios_install_url or "",
                android_install_url=profile.android_install_url or "",
                apn_automatic=apn.automatic,
                apn_name=apn.name or "",
                apn_username=apn.username or "",
                apn_password=apn.password or "",
                with_top_up=esim.with_top_up,
                with_usage_check=esim.with_usage_check,
                notes=list(esim.notes),
                expires_at=esim.expired_at,
            )
        )
    # PostgreSQL returns each row's id, the new and the updated alike.
    return Esim.objects.bulk_create(
        records, update_conflicts=True, unique_fields=["upstream_esim_id"], update_fields=_DELIVERED_FIELDS
    )


def record_topped_up(esim: Esim, upstream: roamify.Esim | None) -> None:
    """After a top-up: upstream's new expiry and status, when it told us."""
    if upstream is None:
        return
    esim.status = upstream.status or esim.status
    esim.expires_at = upstream.expired_at or esim.expires_at
    esim.save(update_fields=["status", "expires_at", "updated_at"])
    # The allowance grew: what the pages show must come from upstream again.
    transaction.on_commit(lambda: forget_upstream_views(esim.pk))


# --- Refunded by the shop (checkout calls these: esims never import checkout) --------------------


def mark_refunded(esim_ids: list[int]) -> int:
    """The shop refunded these eSIMs. Returns how many were newly marked (a second call marks none)."""
    now = timezone.now()
    return Esim.objects.filter(pk__in=esim_ids, refund_state=RefundState.NONE).update(
        refund_state=RefundState.REFUNDED, refunded_at=now, updated_at=now
    )


def mark_cancelled(esim_id: int) -> bool:
    """Roamify accepted the refund request for this eSIM: it took it back, so it is cancelled."""
    now = timezone.now()
    return bool(
        Esim.objects.filter(pk=esim_id)
        .exclude(refund_state=RefundState.CANCELLED)
        .update(refund_state=RefundState.CANCELLED, refunded_at=Coalesce("refunded_at", now), updated_at=now)
    )


# --- Upstream views of an eSIM (usage, packages history, top-ups), kept in the cache -------------


def fetch(esim: Esim, kind: str) -> Any:
    """Ask upstream now and keep the answer. Never called with a row lock held."""
    now = timezone.now()
    client = roamify_client()
    if kind == cached.USAGE:
        value = _fetch_usage(client, esim, now)
    elif kind == cached.HISTORY:
        value = tuple(
            cached.HistoryRow(h.package_name or h.package_id, h.type or "", h.created_at)
            for h in client.history(esim.iccid)
        )
    elif kind == cached.TOPUPS:
        value = tuple(p.package_id for p in client.topup_packages(esim.iccid))
    else:
        raise ValueError(f"unknown kind {kind!r}")
    cached.store(esim.pk, kind, value, now)
    return value


def _fetch_usage(client: roamify.RoamifyClient, esim: Esim, now: dt.datetime) -> usage.UsageSnapshot:
    try:
        snapshot = usage.from_api(client.usage_details(esim.iccid), now)
    except roamify.ValidationError as exc:  # the package has no usage check
        return usage.unsupported(now, esim.notes, str(exc) if "usage" in str(exc).lower() else "")
    _follow_upstream(esim, snapshot)
    check_low_data(esim, snapshot)
    esim_usage_seen.send("esims", esim=esim, snapshot=snapshot)
    return snapshot


def _follow_upstream(esim: Esim, snapshot: usage.UsageSnapshot) -> None:
    """Keep the eSIM row's status and expiry in line with what upstream just said (when it changed)."""
    changes: dict[str, Any] = {}
    if snapshot.status and snapshot.status != esim.status:
        changes["status"] = snapshot.status
    if snapshot.started_at and snapshot.expires_at and snapshot.expires_at != esim.expires_at:
        changes["expires_at"] = snapshot.expires_at
    _keep(esim, changes)


def _keep(esim: Esim, changes: dict[str, Any]) -> bool:
    """What upstream said differently, on the eSIM's row and on the object in hand; whether any."""
    if not changes:
        return False
    Esim.objects.filter(pk=esim.pk).update(**changes, updated_at=timezone.now())
    for name, value in changes.items():
        setattr(esim, name, value)
    return True


def confirm_status(esim: Esim) -> Esim:
    """What upstream says of the eSIM now (its status; whether it takes top-ups), kept on its row:
    asked right before the shop takes money for something delivered to it. Raises
    roamify.RoamifyError when upstream can't say."""
    upstream = roamify_client().get_esim(iccid=esim.iccid)
    changes: dict[str, Any] = {}
    if upstream.status and upstream.status != esim.status:
        changes["status"] = upstream.status
    if esim.with_top_up and not upstream.with_top_up:  # never granted here: only taken away
        changes["with_top_up"] = False
    if upstream.expired_at and upstream.expired_at != esim.expires_at:  # an expired eSIM takes no top-up
        changes["expires_at"] = upstream.expired_at
    if _keep(esim, changes):
        # What the pages keep of upstream's views (usage with its status, top-ups) is out of date.
        transaction.on_commit(lambda: forget_upstream_views(esim.pk))
    return esim


def refresh_now(esim: Esim) -> bool:
    """The refresh button: a new fetch of the usage, at most once a minute per eSIM.

    False when the last press was under a minute ago (nothing is fetched then).
    """
    if not cache.add(f"esims:refresh-button:{esim.pk}", 1, settings.ESIM_REFRESH_MIN_SECONDS):
        return False
    fetch(esim, cached.USAGE)
    return True


def refresh_in_background(esim_id: int, kind: str) -> None:
    """The task's work: fetch one view of one eSIM (queued when a page served it stale)."""
    esim = Esim.objects.filter(pk=esim_id).exclude(iccid="").first()
    try:
        if esim is not None:
            fetch(esim, kind)
    finally:
        cached.release_refresh(esim_id, kind)


def forget_upstream_views(esim_id: int) -> None:
    cached.forget(esim_id)


# --- Roamify webhooks ---------------------------------------------------------------------------

ESIM_STATUS_FROM_EVENT = {
    # Events use a wider set than the eSIM resource (spec §5.2): map to what the resource says.
    "DOWNLOADED": "INSTALLED",
    "INSTALLED": "INSTALLED",
    "ACTIVATED": "INSTALLED",
    "INACTIVE": "INSTALLED",
    "DELETED": "INSTALLED",
    "NEW": "NEW",
    "READY": "READY",
    "EXPIRED": "EXPIRED",
    "REVOKED": "REVOKED",
}


def store_event(body: bytes, payload: dict[str, Any]) -> tuple[RoamifyEvent, bool]:
    """Keep a verified webhook once (a redelivery has the same body), and queue its work."""
    data = payload.get("data") if isinstance(payload.get("data"), dict) else {}
    digest = hashlib.sha256(body).hexdigest()
    try:
        with transaction.atomic():
            event, created = RoamifyEvent.objects.get_or_create(
                digest=digest,
                defaults={
                    "category": str(payload.get("event_category") or "")[:30],
                    "event_type": str(payload.get("event_type") or "")[:40],
                    "iccid": str(data.get("iccid") or "")[:32],
                    "payload": payload,
                },
            )
            if created:
                after_commit("esims.process_roamify_event", event.pk)
    except IntegrityError:  # the same delivery, concurrently
        return RoamifyEvent.objects.get(digest=digest), False
    return event, created


def process_event(event_id: int) -> str:
    """Act on a stored webhook once: eSIM status and usage, low data, partner balance."""
    with transaction.atomic():
        event = RoamifyEvent.objects.select_for_update().get(pk=event_id)
        if event.processed_at:
            return "already processed"
        data = event.payload.get("data") if isinstance(event.payload.get("data"), dict) else {}
        kind = f"{event.category}/{event.event_type}"
        if event.category == "esim":
            outcome = _esim_event(event.event_type, data)
        elif event.category == "refund":
            # A refund request the shop filed was decided: checkout closes or flags it.
            roamify_refund_event.send(
                "esims",
                refund_id=str(data.get("refund_id") or ""),
                status=str(data.get("status") or event.event_type),
                reason=str(data.get("rejection_reason") or ""),
                event_id=str(event.payload.get("event_id") or event.pk),
                data=data,
            )
            outcome = f"refund {event.event_type}"
        elif event.category == "partner" and "balance" in data:
            outcome = record_balance(
                _cents(data.get("balance")), str(data.get("currency") or "USD"), f"webhook {kind}"
            )
        else:
            outcome = f"ignored {kind}"
        event.processed_at = timezone.now()
        event.error = ""
        event.save(update_fields=["processed_at", "error"])
    return outcome


def _cents(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return 0
    try:
        return round(float(value) * 100)
    except ValueError:
        return 0


def _esim_event(event_type: str, data: dict[str, Any]) -> str:
    iccid, esim_id = str(data.get("iccid") or ""), str(data.get("esim_id") or "")
    esim = (Esim.objects.select_for_update().filter(iccid=iccid).first() if iccid else None) or (
        Esim.objects.select_for_update().filter(upstream_esim_id=esim_id).first() if esim_id else None
    )
    if esim is None:
        return "not one of our eSIMs"
    now = timezone.now()
    previous = cached.peek(esim.pk, cached.USAGE)
    if event_type == "status":
        status = ESIM_STATUS_FROM_EVENT.get(str(data.get("status") or "").upper())
        end = usage._time(data.get("end"))
        changes = {}
        if status and status != esim.status:
            changes["status"] = status
        if end and data.get("start") and end != esim.expires_at:
            changes["expires_at"] = end
        if changes:
            for name, value in changes.items():
                setattr(esim, name, value)
            esim.save(update_fields=[*changes, "updated_at"])
        if previous is not None and previous.supported and status:
            # The figures are as old as they were: a status is not a reading of the data used, so
            # the page must not say "just now" of them (and an activation makes them stale soon).
            cached.store(esim.pk, cached.USAGE, _with_status(previous, status, esim), previous.fetched_at)
        return f"status {status or 'unchanged'}"
    if event_type == "usage":
        snapshot = usage.from_webhook(data, now, previous)
        cached.store(esim.pk, cached.USAGE, snapshot, now)
        check_low_data(esim, snapshot)
        esim_usage_seen.send("esims", esim=esim, snapshot=snapshot)  # automatic top-ups (checkout)
        return f"usage {snapshot.percent_used}%"
    return f"ignored esim/{event_type}"


def _with_status(snapshot: usage.UsageSnapshot, status: str, esim: Esim) -> usage.UsageSnapshot:
    from dataclasses import replace

    return replace(snapshot, status=status, expires_at=esim.expires_at or snapshot.expires_at)


# --- Low data ------------------------------------------------------------------------------------


def check_low_data(esim: Esim, snapshot: usage.UsageSnapshot) -> list[LowDataAlert]:
    """Record each threshold the allowance has passed, once; email the highest one new.

    Keyed by the allowance (allowed MB): a top-up makes a new allowance, with thresholds anew.
    """
    used = snapshot.percent_used
    if used is None or snapshot.allowed_mb is None:
        return []
    if snapshot.remaining_mb is not None and snapshot.remaining_mb <= 0:
        used = 100
    passed = [t for t in settings.ESIM_LOW_DATA_THRESHOLDS if used >= t]
    if not passed:
        return []
    key = f"{round(snapshot.allowed_mb)}MB"
    new = []
    with transaction.atomic():
        known = set(
            LowDataAlert.objects.filter(esim=esim, allowance_key=key).values_list("threshold", flat=True)
        )
        for threshold in passed:
            if threshold in known:
                continue
            try:
                with transaction.atomic():
                    new.append(
                        LowDataAlert.objects.create(
                            esim=esim,
                            allowance_key=key,
                            threshold=threshold,
                            percent_used=used,
                            skipped=threshold != max(passed),
                        )
                    )
            except IntegrityError:  # recorded by a concurrent run
                continue
        for alert in new:
            if not alert.skipped:
                after_commit("esims.send_low_data_email", alert.pk)
    return new


def send_low_data_email(alert_id: int) -> bool:
    """The low-data email of one alert, once, in the language of the eSIM's last order."""
    with translation.override(_order_language(alert_id)):
        return _send_low_data_email(alert_id)


def _order_language(alert_id: int) -> str:
    """The language of the last order about the alert's eSIM (a top-up, else the purchase), read
    through the order lines that point at the eSIM (data, not an import of checkout)."""
    esim = Esim.objects.filter(low_data_alerts__pk=alert_id).first()
    for lines in (esim.topup_lines, esim.order_lines) if esim else ():
        language = lines.order_by("-order__created_at").values_list("order__language", flat=True).first()
        if language:
            return language
    return settings.LANGUAGE_CODE


def _send_low_data_email(alert_id: int) -> bool:
    """The low-data email of one alert, once (a claim in the cache keeps two workers apart)."""
    claim = f"esims:low-data-email:{alert_id}"
    if not cache.add(claim, 1, settings.EMAIL_CLAIM_SECONDS):
        raise OSError(f"low-data email {alert_id} is being sent")  # the task retries
    try:
        alert = LowDataAlert.objects.select_related("esim", "esim__customer").get(pk=alert_id)
        if alert.email_sent_at or alert.skipped:
            return False
        esim = alert.esim
        to = esim.customer.email if esim.customer and esim.customer.email else esim.email
        if not to:
            return False
        snapshot = cached.peek(esim.pk, cached.USAGE)
        context = {
            "SHOP_NAME": settings.SHOP_NAME,
            "SUPPORT_EMAIL": settings.SUPPORT_EMAIL,
            "esim": esim,
            "alert": alert,
            "snapshot": snapshot,
            "run_out": alert.threshold >= 100,
            "remaining": usage.format_mb(snapshot.remaining_mb) if snapshot else "",
            "topup_url": settings.SITE_URL + topup_link_path(esim),
            "link_days": settings.ESIM_TOPUP_LINK_DAYS,
        }
        title = esim.title or "eSIM"
        subject = (
            _("Your %(esim)s is out of data") % {"esim": title}
            if alert.threshold >= 100
            else _("You've used %(percent)s%% of your %(esim)s data")
            % {"percent": alert.threshold, "esim": title}
        )
        message = EmailMultiAlternatives(
            subject, render_to_string("emails/low_data.txt", context), settings.DEFAULT_FROM_EMAIL, [to]
        )
        message.attach_alternative(render_to_string("emails/low_data.html", context), "text/html")
        message.send()
        LowDataAlert.objects.filter(pk=alert_id).update(email_sent_at=timezone.now())
        return True
    finally:
        cache.delete(claim)


def topup_link_path(esim: Esim) -> str:
    from django.urls import reverse

    return reverse("accounts:signed_topups", args=[links.make_token(esim, links.TOPUP)])


# --- Partner balance -----------------------------------------------------------------------------


def record_balance(balance_cents: int, currency: str, source: str) -> str:
    """Keep the partner balance upstream reported, with the pace of cost it is measured against;
    alert staff once each time it becomes low (`esims.balance`: under the threshold or too few days
    of sales). The alert stands until the balance is comfortable again, so one drop sends one email."""
    now = timezone.now()
    daily_cost = balance_rule.daily_cost_cents()
    with transaction.atomic():
        row, _ = PartnerBalance.objects.select_for_update().get_or_create(
            pk=1,
            defaults={
                "balance_cents": balance_cents,
                "currency": currency,
                "source": source,
                "checked_at": now,
            },
        )
        row.balance_cents, row.currency = balance_cents, currency[:3]
        row.source, row.checked_at = source[:40], now
        row.daily_cost_cents = daily_cost
        low = balance_rule.is_low(balance_cents, daily_cost)
        alert = low and row.alerted_at is None
        if alert:
            row.alerted_at = now
        elif not low:
            row.alerted_at = row.alert_sent_at = None
        row.save()
        if alert:
            after_commit("esims.send_low_balance_alert")
    return f"balance {balance_cents / 100:.2f} {currency}" + (" (alert)" if alert else "")


def check_balance() -> str:
    """The periodic check, in case a webhook was lost."""
    money = roamify_client().balance()
    return record_balance(money.amount_cents, money.currency, "check")


def send_low_balance_alert() -> bool:
    """Email staff (`ALERT_EMAILS`) about the standing low-balance alert, once."""
    claim = "esims:low-balance-email"
    if not cache.add(claim, 1, settings.EMAIL_CLAIM_SECONDS):
        raise OSError("the low-balance email is being sent")  # the task retries
    try:
        row = PartnerBalance.objects.filter(pk=1).first()
        if row is None or row.alerted_at is None or row.alert_sent_at is not None:
            return False
        to = list(settings.ALERT_EMAILS)
        if not to:
            logger.warning("low partner balance (%s) but ALERT_EMAILS is empty", row)
            return False
        context = {
            "SHOP_NAME": settings.SHOP_NAME,
            "row": row,
            "reasons": row.low_reasons,
            "admin_url": settings.SITE_URL + "/admin/",
        }
        EmailMultiAlternatives(
            _("[%(shop)s] Roamify balance is low: %(amount)s")
            % {"shop": settings.SHOP_NAME, "amount": format_money(row.balance_cents, row.currency)},
            render_to_string("emails/low_balance.txt", context),
            settings.DEFAULT_FROM_EMAIL,
            to,
        ).send()
        PartnerBalance.objects.filter(pk=1, alerted_at=row.alerted_at).update(alert_sent_at=timezone.now())
        return True
    finally:
        cache.delete(claim)
