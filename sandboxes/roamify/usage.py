"""An eSIM in use (§5.2, §2.14, §2.15): installed, activated by first use, data consumed, expired
by time or data, revoked (control API); what a top-up adds; the usage reads and usage webhooks."""

from __future__ import annotations

from datetime import date
from typing import Any

from .base import DAY
from .catalog import MAX_SAFE_INTEGER
from .errors import ControlError, failed
from .esims import Esim, Esims

USAGE_THRESHOLDS = (25, 50, 75, 90, 100)
ESIM_ACTIONS = ("install", "activate", "consume", "expire", "revoke")


class Usage(Esims):
    # -- the eSIM's life (control API) ----------------------------------------------
    def esim_action(self, key: str, action: str, body: dict[str, Any]) -> Esim:
        e = self.esims.get(key) or self.esims_by_iccid.get(key)
        if e is None:
            raise ControlError(404, f"eSIM {key} not found")
        if action not in ESIM_ACTIONS:
            raise ControlError(404, f"unknown action {action!r}; one of {list(ESIM_ACTIONS)}")
        self.tick()
        getattr(self, f"_do_{action}")(e, body)
        return e

    def _require(self, e: Esim, *statuses: str) -> None:
        if e.status not in statuses:
            raise ControlError(409, f"eSIM {e.id} is {e.status}; needs {' or '.join(statuses)}")

    def _do_install(self, e: Esim, body: dict[str, Any]) -> None:
        self._require(e, "READY")
        e.status, e.installed, e.updated_at = "INSTALLED", True, self.now()
        e.eid = "89049032" + self._digits(24)
        self._event(e, "DOWNLOADED")
        self._event(e, "INSTALLED")
        self._emit_status(e, "INSTALLED")

    def _do_activate(self, e: Esim, body: dict[str, Any]) -> None:
        if e.status == "READY":
            self._do_install(e, body)
        self._require(e, "INSTALLED")
        if e.started_at:
            raise ControlError(409, f"eSIM {e.id} is already activated")
        now = self.now()
        e.started_at, e.updated_at = now, now
        e.expired_at = now + e.plan_days * DAY
        self._event(e, "ACTIVATED")
        self._emit_status(e, "ACTIVATED")

    def _do_consume(self, e: Esim, body: dict[str, Any]) -> None:
        mb = body.get("mb")
        if not isinstance(mb, int | float) or isinstance(mb, bool) or mb <= 0:
            raise ControlError(400, '"mb" must be a positive number')
        day = body.get("date", self.today())
        try:
            date.fromisoformat(day)
        except (TypeError, ValueError):
            raise ControlError(400, '"date" must be YYYY-MM-DD') from None
        if e.status in ("READY", "INSTALLED") and not e.started_at:
            self._do_activate(e, body)  # first use is activation
        self._require(e, "INSTALLED")
        kb = round(mb * 1024)
        if not e.is_unlimited:
            kb = min(kb, e.allowed_kb - e.used_kb)
        e.used_kb += kb
        e.daily[day] = e.daily.get(day, 0) + kb
        if isinstance(body.get("location"), str):
            e.location = body["location"]
        e.updated_at = self.now()
        if e.is_unlimited:
            return
        pct = self._used_pct(e)
        crossed = [t for t in USAGE_THRESHOLDS if t <= pct and t not in e.thresholds_sent]
        for t in crossed:
            e.thresholds_sent.add(t)
            self._emit_usage(e)
        if e.used_kb >= e.allowed_kb:
            self._set_expired(e)

    def _used_pct(self, e: Esim) -> float:
        return 0.0 if e.is_unlimited else e.used_kb * 100 / max(e.allowed_kb, 1)

    def _do_expire(self, e: Esim, body: dict[str, Any]) -> None:
        self._require(e, "READY", "INSTALLED")
        e.expired_at = self.now()
        self._set_expired(e)

    def _set_expired(self, e: Esim) -> None:
        e.status, e.updated_at = "EXPIRED", self.now()
        self._emit_status(e, "EXPIRED")

    def _do_revoke(self, e: Esim, body: dict[str, Any]) -> None:
        if e.status == "REVOKED":
            raise ControlError(409, f"eSIM {e.id} is already REVOKED")
        e.status, e.updated_at = "REVOKED", self.now()
        self._emit_status(e, "REVOKED")

    def _add_topup(self, e: Esim, p: dict[str, Any], now: int) -> None:
        """Allowance and validity grow; an eSIM expired by time or data comes back."""
        if p["isUnlimited"]:
            e.is_unlimited, e.allowed_mb = True, MAX_SAFE_INTEGER
        elif not e.is_unlimited:
            e.allowed_mb += p["dataAmount"]
        if e.started_at:
            e.expired_at = max(e.expired_at, now) + p["day"] * DAY
        else:
            e.plan_days += p["day"]
        if e.status == "EXPIRED":
            e.status = "INSTALLED" if e.installed else "READY"
            if not e.started_at:
                e.expired_at = now + 365 * DAY
        pct = self._used_pct(e)
        e.thresholds_sent = {t for t in e.thresholds_sent if t <= pct}
        e.updated_at = now

    # -- reads and webhooks ---------------------------------------------------------
    def usage_json(self, e: Esim, details: bool) -> dict[str, Any]:
        p = e.package
        if not p["withUsageCheck"]:
            raise failed(
                400,
                "Usage check is not supported for this eSIM, please make sure "
                "your have read the notes of the eSIM",
            )
        per_mb = 1024 if self.knobs.usage_unit == "KB" else 1
        if e.is_unlimited:
            allowed = MAX_SAFE_INTEGER
            remaining = _num(MAX_SAFE_INTEGER - e.used_kb * per_mb / 1024)
        else:
            allowed = e.allowed_mb * per_mb
            remaining = _num((e.allowed_kb - e.used_kb) * per_mb / 1024)
        sms = p["smsAmount"] if p["withSMS"] else 0
        voice = p["callAmount"] if p["withCall"] else 0
        out: dict[str, Any] = {
            "id": e.id,
            "iccid": e.iccid,
            "status": e.status,
            "startedAt": e.started_at,
            "expiredAt": e.expired_at if e.started_at else 0,
            "allowedData": allowed,
            "remainingData": remaining,
            "allowedSms": sms,
            "remainingSms": sms,
            "allowedVoice": voice,
            "remainingVoice": voice,
        }
        if details:
            out["dataUsages"] = [
                {"date": d, "usage": kb, "location": e.location} for d, kb in sorted(e.daily.items())
            ]
        return out

    def _emit_usage(self, e: Esim) -> None:
        p = e.package
        data = self._status_data(e, e.status)
        data.update(
            {
                "package_id": p["packageId"],
                "package_name": p["package"],
                "data_units": "MB",
                "voice_units": "minutes",
                "sms_units": "sms",
                "usage_data": {
                    "isUnlimited": e.is_unlimited,
                    "allowed_data": e.allowed_mb,
                    "remaining_data": _num(e.allowed_mb - e.used_kb / 1024),
                    "allowed_sms": 0,
                    "remaining_sms": 0,
                    "allowed_voice": 0,
                    "remaining_voice": 0,
                },
                "usage_list": [
                    {"date": d, "data_used": _num(kb / 1024), "location": e.location}
                    for d, kb in sorted(e.daily.items())
                ],
            }
        )
        self._emit("esim", "usage", data)


def _num(x: float) -> int | float:
    """Whole numbers as ints, the rest to 2 decimals (MB figures can be fractional)."""
    r = round(x, 2)
    return int(r) if r == int(r) else r
