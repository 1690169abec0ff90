"""eSIMs (§2.12, §2.13, §2.19) as the API shows them: lookups, the profile made ready (ICCID,
activation code, LPA), device events, status webhooks, top-ups on offer and the shareable link."""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from .config import Config
from .errors import failed, not_found
from .webhook_events import WebhookEvents

ESIM_STATUSES = ("NEW", "READY", "INSTALLED", "REVOKED", "EXPIRED", "UNKNOWN")


@dataclass
class Esim:
    id: str
    order_id: str
    reference_id: str
    package: dict[str, Any]  # snapshot at order time: later catalog edits don't touch it
    group_id: str
    location: str
    with_top_up: bool
    created_at: int
    updated_at: int
    expired_at: int
    plan_days: int
    allowed_mb: int
    is_unlimited: bool
    status: str = "NEW"
    iccid: str = ""
    activation_code: str = ""
    eid: str = ""
    pending_until: float | None = None
    start_date: str | None = None
    installed: bool = False
    started_at: int = 0
    used_kb: int = 0
    daily: dict[str, int] = field(default_factory=dict)
    thresholds_sent: set[int] = field(default_factory=set)
    events: list[dict[str, Any]] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    link: dict[str, Any] | None = None

    @property
    def allowed_kb(self) -> int:
        return self.allowed_mb * 1024


def luhn_digit(digits: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:  # rightmost payload digit gets doubled once the check digit is appended
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return str((10 - total % 10) % 10)


def luhn_ok(number: str) -> bool:
    return number.isdigit() and luhn_digit(number[:-1]) == number[-1]


class Esims(WebhookEvents):
    def __init__(self, config: Config) -> None:
        super().__init__(config)
        self.esims: dict[str, Esim] = {}
        self.esims_by_iccid: dict[str, Esim] = {}
        self.links: dict[str, str] = {}  # link key -> esimId

    # -- lookups ---------------------------------------------------------------
    def esim_by_id(self, esim_id: str) -> Esim:
        e = self.esims.get(esim_id)
        if e is None:
            raise not_found("eSIM", "esimId")
        return e

    def esim_by_iccid(self, iccid: str) -> Esim:
        e = self.esims_by_iccid.get(iccid)
        if e is None:
            raise not_found("eSIM", "iccid")
        return e

    def find_esim(self, iccid: str | None, esim_id: str | None) -> Esim:
        e = self.esims_by_iccid.get(iccid or "") if iccid else self.esims.get(esim_id or "")
        if e is None:
            raise not_found("eSIM", "iccid or esimId")
        return e

    def list_esims(self, status: str | None, limit: int, reference_id: str | None) -> list[Esim]:
        out = [
            e
            for e in reversed(self.esims.values())
            if (status is None or e.status == status)
            and (reference_id is None or e.reference_id == reference_id)
        ]
        return out[:limit]

    # -- the profile -------------------------------------------------------------
    def _make_ready(self, e: Esim) -> None:
        now = self.now()
        e.status = "READY"
        e.iccid = self._new_iccid()
        e.activation_code = self._activation_code()
        e.pending_until = None
        e.updated_at = now
        self.esims_by_iccid[e.iccid] = e
        self._event(e, "NEW")

    def _new_iccid(self) -> str:
        while True:
            body = "8901" + self._digits(14)
            iccid = body + luhn_digit(body)
            if iccid not in self.esims_by_iccid:
                return iccid

    def _activation_code(self) -> str:
        alphabet = string.ascii_uppercase + string.digits
        return "-".join("".join(self.rng.choice(alphabet) for _ in range(4)) for _ in range(5))

    def lpa(self, e: Esim) -> str:
        return f"LPA:1${self.config.smdp_address}${e.activation_code}"

    # -- events and status webhooks -----------------------------------------------
    def _event(self, e: Esim, status: str) -> None:
        ts = self.now()
        e.events.append(
            {
                "iccid": e.iccid,
                "eid": e.eid,
                "status": status,
                "timeStamp": ts,
                "dateTime": datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S"),
            }
        )

    def _status_data(self, e: Esim, status: str) -> dict[str, Any]:
        return {
            "timestamp": self.now(),
            "iccid": e.iccid,
            "esim_id": e.id,
            "reference_id": e.reference_id,
            "start": e.started_at,
            "end": e.expired_at,
            "status": status,
        }

    def _emit_status(self, e: Esim, status: str) -> None:
        self._emit("esim", "status", self._status_data(e, status))

    # -- reads shaped for the API --------------------------------------------------
    def esim_json(self, e: Esim) -> dict[str, Any]:
        p = e.package
        ready = e.status != "NEW"
        smdp = self.config.smdp_address
        lpa = f"LPA:1${smdp}${e.activation_code}" if ready else ""
        auto_apn = bool(p["isAPNAutomatic"])
        return {
            "id": e.id,
            "iccid": e.iccid,
            "status": e.status,
            "activation": p["activation"],
            "withTopUp": e.with_top_up,
            "withHotspot": p["withHotspot"],
            "withDataRoaming": p["withDataRoaming"],
            "withDestinationInstall": p["withDestinationInstall"],
            "withUsageCheck": p["withUsageCheck"],
            "esim": {
                "lpaCode": lpa,
                "smdpAddress": smdp if ready else "",
                "activationCode": e.activation_code,
                "qrCodeUrl": f"{self.base_url}/qr/{e.id}.png" if ready else "",
                "pin": "",
                "puk": "",
                "number": "",
                "iosQuickInstall": (
                    f"https://esimsetup.apple.com/esim_qrcode_provisioning?carddata={lpa}" if ready else ""
                ),
                "androidQuickInstall": (
                    f"https://esimsetup.android.com/esim_qrcode_provisioning?carddata={lpa}" if ready else ""
                ),
            },
            "apn": {
                "apnAutomatic": auto_apn,
                "apnName": "" if auto_apn else p["apn"],
                "apnUsername": "",
                "apnPassword": "",
            },
            "data": {"isUnlimited": e.is_unlimited},
            "call": {"withCall": p["withCall"], "callType": p["callType"]},
            "sms": {"withSMS": p["withSMS"], "smsType": p["smsType"]},
            "notes": p["notes"],
            "createdAt": e.created_at,
            "updatedAt": e.updated_at,
            "expiredAt": e.expired_at,
        }

    def events_json(self, e: Esim) -> dict[str, Any]:
        return {
            "iccid": e.iccid,
            "esimId": e.id,
            "referenceId": e.reference_id,
            "events": list(e.events),
            "locations": [],
        }

    def topup_packages(self, e: Esim) -> list[dict[str, Any]]:
        if not e.with_top_up or e.status == "REVOKED":
            return []
        g = self.catalog.group(e.group_id)
        if g is None:
            return []
        if e.is_unlimited and not self.knobs.unlimited_takes_data:
            return [p for p in g.packages if p["isUnlimited"]]
        return list(g.packages)

    def fits_as_topup(self, e: Esim, package_id: str) -> bool:
        return any(p["packageId"] == package_id for p in self.topup_packages(e))

    def make_link(self, e: Esim) -> dict[str, Any]:
        if e.status == "NEW":
            raise failed(
                400,
                "eSIM profile is not ready yet, please make sure your have "
                "provided the correct iccid or esimId",
            )
        if e.link is None:
            alphabet = string.ascii_letters + string.digits
            key = "".join(self.rng.choice(alphabet) for _ in range(12))
            url = f"{self.base_url}/link/{key}"
            now = self.now()
            e.link = {
                "iccid": e.iccid,
                "esimId": e.id,
                "link": url,
                "whatsappLink": "https://wa.me/?text=" + quote(url, safe=""),
                "key": key,
                "accessCode": self._digits(4),
                "createdAt": now,
                "updatedAt": now,
            }
            self.links[key] = e.id
        return e.link
