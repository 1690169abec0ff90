"""Domain actions of eSIMs: record what upstream delivered, send install details."""

from __future__ import annotations

from dataclasses import dataclass

import roamify

from .models import Esim


@dataclass(frozen=True)
class Delivered:
    """One eSIM upstream delivered, and what the shop knows of why it was bought."""

    esim: roamify.Esim
    upstream_order_id: str
    title: str = ""
    package_id: str = ""


def record_delivered(delivered: list[Delivered], *, customer, email: str) -> list[Esim]:
    """Save (or update) eSIM records from upstream's answer. Call inside the caller's transaction."""
    saved = []
    for item in delivered:
        esim = item.esim
        profile = esim.profile or roamify.EsimProfile()
        apn = esim.apn or roamify.Apn()
        record, _ = Esim.objects.update_or_create(upstream_esim_id=esim.id, defaults={
            "customer": customer, "email": email, "title": item.title[:300],
            "package_id_upstream": item.package_id, "upstream_order_id": item.upstream_order_id,
            "iccid": esim.iccid or "", "status": esim.status,
            "lpa_code": profile.lpa_code or "", "smdp_address": profile.smdp_address or "",
            "activation_code": profile.activation_code or "",
            "ios_install_url": profile.ios_install_url or "",
            "android_install_url": profile.android_install_url or "",
            "apn_automatic": apn.automatic, "apn_name": apn.name or "",
            "apn_username": apn.username or "", "apn_password": apn.password or "",
            "with_top_up": esim.with_top_up, "expires_at": esim.expired_at,
        })
        saved.append(record)
    return saved


def record_topped_up(esim: Esim, upstream: roamify.Esim | None) -> None:
    """After a top-up: upstream's new expiry and status, when it told us."""
    if upstream is None:
        return
    esim.status = upstream.status or esim.status
    esim.expires_at = upstream.expired_at or esim.expires_at
    esim.save(update_fields=["status", "expires_at", "updated_at"])
